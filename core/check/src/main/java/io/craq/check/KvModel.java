package io.craq.check;

/**
 * The model of the kv reference histories: get ({@link OpKind#READ}), put ({@link OpKind#WRITE})
 * and {@link OpKind#APPEND} on string values, where an absent key reads as the empty string; with
 * {@link OpKind#DELETE} (the key reads as empty again) and {@link OpKind#INCREMENT} (CRAQ §4.1
 * read-modify-write). An increment adds its delta to the value read as a 64-bit decimal integer, an
 * empty (absent) value counting as 0, and returns the sum; an increment of a value that is not such
 * an integer, or whose sum overflows, cannot have succeeded. The model does not tell an empty value
 * from an absent key, so a history with increments should not write empty values. Versions are not
 * modelled.
 */
public final class KvModel implements Model<String> {
  @Override
  public String init() {
    return "";
  }

  @Override
  public String step(String state, Input input, Output output) {
    return switch (input.kind()) {
      case READ -> {
        if (output == null) {
          yield state;
        }
        String read = output.value() == null ? "" : output.value();
        yield read.equals(state) ? state : null;
      }
      case WRITE -> input.value();
      case APPEND -> state + input.value();
      case DELETE -> "";
      case INCREMENT -> increment(state, input.delta(), output);
      case CAS, WRITE_IF_VERSION ->
          throw new IllegalArgumentException("the kv model has no " + input.kind());
    };
  }

  /**
   * The state after an increment by {@code delta} that returned {@code output}, or null if it
   * cannot have: the value is not an integer, the sum overflows, or the returned sum differs. With
   * an unknown outcome ({@code output} null) an increment that would have failed changed nothing.
   */
  private static String increment(String state, long delta, Output output) {
    long sum;
    try {
      long current = state.isEmpty() ? 0 : canonicalLong(state);
      sum = Math.addExact(current, delta);
    } catch (NumberFormatException | ArithmeticException e) {
      return output == null ? state : null;
    }
    String next = Long.toString(sum);
    if (output != null && output.value() != null && !output.value().equals(next)) {
      return null;
    }
    return next;
  }

  /**
   * The integer {@code text} is the canonical decimal form of: exactly what {@link Long#toString}
   * gives for it (no '+', no leading zeros, no "-0", no spaces), which is the set of texts Redis
   * increments. Stated independently of the store's parser, on purpose.
   *
   * @throws NumberFormatException otherwise
   */
  static long canonicalLong(String text) {
    long value = Long.parseLong(text);
    if (!Long.toString(value).equals(text)) {
      throw new NumberFormatException("not canonical: " + text);
    }
    return value;
  }

  @Override
  public String describe(String state) {
    return '"' + state + '"';
  }
}

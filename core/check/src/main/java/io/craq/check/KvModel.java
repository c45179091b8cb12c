package io.craq.check;

/**
 * The model of the kv reference histories: get ({@link OpKind#READ}), put ({@link OpKind#WRITE})
 * and {@link OpKind#APPEND} on string values, where an absent key reads as the empty string.
 * Versions are not modelled.
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
      case DELETE, CAS, WRITE_IF_VERSION ->
          throw new IllegalArgumentException("the kv model has no " + input.kind());
    };
  }

  @Override
  public String describe(String state) {
    return '"' + state + '"';
  }
}

package io.craq.check;

import java.util.Objects;

/**
 * One operation of a history: who did what to which key, when, and how it ended.
 *
 * @param process the client (process) id; one process has at most one operation in flight
 * @param key the key
 * @param input what was asked
 * @param invokeNanos when the client sent it (the recorder's clock)
 * @param completeNanos when the client got the answer; {@link #INFINITY} for {@link Outcome#INFO}
 * @param outcome how it ended
 * @param output what it returned when {@link Outcome#OK}, else {@code null}
 */
public record Operation(
    long process,
    String key,
    Input input,
    long invokeNanos,
    long completeNanos,
    Outcome outcome,
    Output output) {
  /** The completion time of an operation with unknown outcome. */
  public static final long INFINITY = Long.MAX_VALUE;

  public Operation {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(outcome, "outcome");
    if ((outcome == Outcome.OK) != (output != null)) {
      throw new IllegalArgumentException(
          "an output is required for OK and only for OK: " + outcome);
    }
    if ((outcome == Outcome.INFO) != (completeNanos == INFINITY)) {
      throw new IllegalArgumentException("completion time is INFINITY for INFO and only for INFO");
    }
    if (completeNanos < invokeNanos) {
      throw new IllegalArgumentException(
          "completes before it is invoked: " + invokeNanos + " > " + completeNanos);
    }
    if (output != null
        && !output.applied()
        && input.kind() != OpKind.CAS
        && input.kind() != OpKind.WRITE_IF_VERSION) {
      throw new IllegalArgumentException("only conditional writes can be not applied");
    }
    if (output != null && output.value() != null && input.kind() != OpKind.READ) {
      throw new IllegalArgumentException("only reads return a value");
    }
  }

  public static Operation ok(
      long process, String key, Input input, long invokeNanos, long completeNanos, Output output) {
    return new Operation(process, key, input, invokeNanos, completeNanos, Outcome.OK, output);
  }

  public static Operation fail(
      long process, String key, Input input, long invokeNanos, long completeNanos) {
    return new Operation(process, key, input, invokeNanos, completeNanos, Outcome.FAIL, null);
  }

  public static Operation info(long process, String key, Input input, long invokeNanos) {
    return new Operation(process, key, input, invokeNanos, INFINITY, Outcome.INFO, null);
  }

  /** Short form for messages: {@code p3 READ -> "7" [120..180]}. */
  public String describe() {
    String result =
        switch (outcome) {
          case OK -> " -> " + output.describe(input.kind());
          case FAIL -> " failed";
          case INFO -> " unknown";
        };
    String end = completeNanos == INFINITY ? "inf" : Long.toString(completeNanos);
    return "p" + process + " " + input.describe() + result + " [" + invokeNanos + ".." + end + "]";
  }
}

package io.craq.check;

import java.util.Objects;

/**
 * One operation of a history: who did what to which key, when, and how it ended.
 *
 * @param process the client (process) id; one process has at most one operation in flight, except
 *     the members of one multi-key write, which are in flight together
 * @param key the key
 * @param input what was asked
 * @param invokeNanos when the client sent it (the recorder's clock)
 * @param completeNanos when the client got the answer; {@link #INFINITY} for {@link Outcome#INFO}
 * @param outcome how it ended
 * @param output what it returned when {@link Outcome#OK}, else {@code null}
 * @param transaction {@link #NO_TRANSACTION}, or the id of the multi-key write this operation is a
 *     member of: one {@link OpKind#WRITE} or {@link OpKind#DELETE} per key of that write, all with
 *     the same process, times and outcome (see {@link History#transactions()})
 */
public record Operation(
    long process,
    String key,
    Input input,
    long invokeNanos,
    long completeNanos,
    Outcome outcome,
    Output output,
    long transaction) {
  /** The completion time of an operation with unknown outcome. */
  public static final long INFINITY = Long.MAX_VALUE;

  /** Marks an operation that is not part of a multi-key write; transaction ids are positive. */
  public static final long NO_TRANSACTION = 0;

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
    if (output != null
        && output.value() != null
        && input.kind() != OpKind.READ
        && input.kind() != OpKind.INCREMENT) {
      throw new IllegalArgumentException("only reads and increments return a value");
    }
    if (output != null && output.value() != null && input.kind() == OpKind.INCREMENT) {
      try {
        Long.parseLong(output.value());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "an increment returns a 64-bit integer, not " + Input.quote(output.value()));
      }
    }
    if (transaction < NO_TRANSACTION) {
      throw new IllegalArgumentException("a transaction id is positive: " + transaction);
    }
    if (transaction != NO_TRANSACTION
        && input.kind() != OpKind.WRITE
        && input.kind() != OpKind.DELETE) {
      throw new IllegalArgumentException(
          "a member of a multi-key write is a WRITE or a DELETE, not " + input.kind());
    }
  }

  /** An operation that is not part of a multi-key write. */
  public Operation(
      long process,
      String key,
      Input input,
      long invokeNanos,
      long completeNanos,
      Outcome outcome,
      Output output) {
    this(process, key, input, invokeNanos, completeNanos, outcome, output, NO_TRANSACTION);
  }

  /** True when this operation is a member of a multi-key write. */
  public boolean inTransaction() {
    return transaction != NO_TRANSACTION;
  }

  /** This operation as the member of multi-key write {@code transaction}. */
  public Operation inTransaction(long transaction) {
    return new Operation(
        process, key, input, invokeNanos, completeNanos, outcome, output, transaction);
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
    String member = inTransaction() ? " (of transaction " + transaction + ")" : "";
    return "p"
        + process
        + " "
        + input.describe()
        + member
        + result
        + " ["
        + invokeNanos
        + ".."
        + end
        + "]";
  }
}

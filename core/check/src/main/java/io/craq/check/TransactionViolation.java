package io.craq.check;

import java.util.Objects;

/**
 * A multi-key write that was not all or nothing, with the two operations that show it.
 *
 * @param transaction the transaction id
 * @param kind what was seen
 * @param first for {@link Kind#TORN_READS} and {@link Kind#TORN_FINAL_READS}: the read that saw the
 *     transaction's write (or a later one); for {@link Kind#ORDER}: the other transaction's member
 *     on the first key; for {@link Kind#FAILED_VISIBLE}: the read that saw the failed write
 * @param second for the torn kinds: the read (of another key) that saw a value older than the
 *     transaction's write; for {@link Kind#ORDER}: the other transaction's member on the second
 *     key; for {@link Kind#FAILED_VISIBLE}: the transaction's member that failed
 * @param explanation one line naming the transaction and both operations
 */
public record TransactionViolation(
    long transaction, Kind kind, Operation first, Operation second, String explanation) {
  /** The kinds of violation. */
  public enum Kind {
    /**
     * A read saw the transaction's write of one key (or a later write), and a read of another key
     * invoked after the first completed saw a value older than the transaction's write of it.
     */
    TORN_READS,
    /** The final reads of a quiet store see the transaction on one key and not on another. */
    TORN_FINAL_READS,
    /**
     * Two transactions that share two keys are ordered one way on one key, the other on another.
     */
    ORDER,
    /** A read saw the write of a transaction that certainly failed. */
    FAILED_VISIBLE
  }

  public TransactionViolation {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(second, "second");
    Objects.requireNonNull(explanation, "explanation");
  }
}

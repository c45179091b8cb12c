package io.craq.store;

import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Operations applied together by {@link Storer#apply(Batch)} in one storage transaction: one fsync
 * for all of them (group commit). Operations apply in the order they were added, and each sees the
 * effect of the ones before it.
 *
 * <p>Keys, versions and the tombstone rule (a tombstone has an empty value) are checked when an
 * operation is added, and value sizes against the store's limit when the batch is applied, so a bad
 * operation is refused with {@link Limits.InvalidInputException} before anything is changed.
 *
 * <p>Not thread-safe: one thread builds a batch and hands it over. Value arrays are not copied; do
 * not modify them until {@code apply} has returned.
 */
public final class Batch {

  /** One operation of a batch. */
  public sealed interface Op {}

  /**
   * Store {@code record} as a dirty version. Outcomes: {@link Outcome#APPLIED}; {@link
   * Outcome#DUPLICATE} or {@link Outcome#CONFLICT} if that version is already stored; {@link
   * Outcome#STALE} if it is older than the committed version.
   */
  public record PutDirty(VersionRecord record) implements Op {}

  /**
   * Store {@code record} as the committed version (catch-up from a neighbour) and drop every older
   * version of the key; newer dirty versions stay. Outcomes: {@link Outcome#APPLIED}; {@link
   * Outcome#DUPLICATE} if it is the committed version already; {@link Outcome#STALE} if older than
   * the committed version; {@link Outcome#CONFLICT} if that version is stored with different
   * content.
   */
  public record PutCommitted(VersionRecord record) implements Op {}

  /**
   * Commit {@code version} of {@code key}: it becomes the clean version and every older version of
   * the key is dropped (CRAQ §2.3). Outcomes: {@link Outcome#APPLIED}; {@link Outcome#DUPLICATE} if
   * already committed; {@link Outcome#STALE} if older than the committed version; {@link
   * Outcome#UNKNOWN_VERSION} if the store does not hold that version, in which case nothing is
   * deleted.
   */
  public record Commit(String key, long version) implements Op {}

  /**
   * Drop every dirty version of every key of {@code slice} (one chain's keys; {@link
   * ChainSlice#ALL} is every key); committed versions stay, and keys left without any version
   * disappear. A node (re-)joining a chain does this for that chain before it catches up. Outcome:
   * always {@link Outcome#APPLIED}; the count is in {@link BatchResult#dirtyVersionsDiscarded()}.
   */
  public record DiscardAllDirty(ChainSlice slice) implements Op {
    public DiscardAllDirty {
      java.util.Objects.requireNonNull(slice, "slice");
    }

    /** Every dirty version of every key. */
    public DiscardAllDirty() {
      this(ChainSlice.ALL);
    }
  }

  /** {@link #logSequence()} of a batch that carries none. */
  public static final long NO_LOG_SEQUENCE = 0;

  private final List<Op> ops = new ArrayList<>();
  private long logSequence = NO_LOG_SEQUENCE;

  /** Adds a dirty value version. */
  public Batch putDirty(String key, long version, byte[] value) {
    return add(new PutDirty(record(key, version, false, value)));
  }

  /** Adds a dirty tombstone (delete) version. */
  public Batch putDirtyTombstone(String key, long version) {
    return add(new PutDirty(record(key, version, true, new byte[0])));
  }

  /** Adds a dirty version given as a record. */
  public Batch putDirty(VersionRecord record) {
    return add(new PutDirty(checked(record)));
  }

  /** Adds a version that is already committed elsewhere (catch-up). */
  public Batch putCommitted(VersionRecord record) {
    return add(new PutCommitted(checked(record)));
  }

  /** Adds a commit of {@code version} of {@code key}. */
  public Batch commit(String key, long version) {
    Limits.checkKey(key);
    checkVersion(version);
    return add(new Commit(key, version));
  }

  /** Adds a discard of all dirty versions (see {@link DiscardAllDirty}). */
  public Batch discardAllDirty() {
    return add(new DiscardAllDirty());
  }

  /** Adds a discard of the dirty versions of {@code slice}'s keys (see {@link DiscardAllDirty}). */
  public Batch discardDirty(ChainSlice slice) {
    return add(new DiscardAllDirty(slice));
  }

  /**
   * Marks this batch as bringing a write-ahead log's records up to sequence number {@code sequence}
   * into the store: the store keeps the number with the batch, atomically, and reports it with
   * {@link Storer#logSequence()}. A log in front of the store replays only the records after it
   * (see {@link LoggedStorer}).
   *
   * @throws IllegalArgumentException if {@code sequence < 1}
   */
  public Batch logSequence(long sequence) {
    if (sequence < 1) {
      throw new IllegalArgumentException("log sequence must be >= 1, got " + sequence);
    }
    logSequence = sequence;
    return this;
  }

  /** The log sequence number this batch carries, or {@link #NO_LOG_SEQUENCE}. */
  public long logSequence() {
    return logSequence;
  }

  /** The operations in order (read-only view). */
  public List<Op> ops() {
    return Collections.unmodifiableList(ops);
  }

  /** Number of operations. */
  public int size() {
    return ops.size();
  }

  /** True if the batch has no operation. */
  public boolean isEmpty() {
    return ops.isEmpty();
  }

  /** Removes all operations and the log sequence number so the batch can be reused. */
  public void clear() {
    ops.clear();
    logSequence = NO_LOG_SEQUENCE;
  }

  /**
   * Checks every value against {@code valueBytesMax}; stores call this before they change anything.
   *
   * @throws Limits.InvalidInputException naming the first operation that is too large
   */
  public void checkValues(int valueBytesMax) {
    for (int i = 0; i < ops.size(); i++) {
      VersionRecord record =
          switch (ops.get(i)) {
            case PutDirty put -> put.record();
            case PutCommitted put -> put.record();
            case Commit commit -> null;
            case DiscardAllDirty discard -> null;
          };
      if (record != null && record.value().length > valueBytesMax) {
        throw new Limits.InvalidInputException(
            "operation "
                + i
                + " ("
                + record.key()
                + "@"
                + record.version()
                + "): value is "
                + record.value().length
                + " bytes, the limit is "
                + valueBytesMax);
      }
    }
  }

  private Batch add(Op op) {
    ops.add(op);
    return this;
  }

  private static VersionRecord record(String key, long version, boolean tombstone, byte[] value) {
    Limits.checkKey(key);
    checkVersion(version);
    Limits.checkValue(value, Integer.MAX_VALUE);
    return checked(new VersionRecord(key, version, tombstone, value));
  }

  private static VersionRecord checked(VersionRecord record) {
    Objects.requireNonNull(record, "record");
    Limits.checkKey(record.key());
    checkVersion(record.version());
    if (record.tombstone() && record.value().length != 0) {
      throw new Limits.InvalidInputException(
          "tombstone "
              + record.key()
              + "@"
              + record.version()
              + " must have an empty value, it has "
              + record.value().length
              + " bytes");
    }
    return record;
  }

  private static void checkVersion(long version) {
    if (version < 1) {
      throw new Limits.InvalidInputException("version must be >= 1, got " + version);
    }
  }
}

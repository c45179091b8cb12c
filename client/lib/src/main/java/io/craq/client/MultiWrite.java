package io.craq.client;

import io.craq.core.message.Message;
import io.craq.core.message.Message.WriteRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The writes of one multi-key write ({@link CraqClient#multiWrite(MultiWrite)}): puts and deletes
 * of distinct keys of one chain, each possibly conditional on its key's committed version (CRAQ
 * §4.2 single-chain mini-transaction). All of them apply or none does. Keys share a chain when they
 * share a hash tag: {@code user:{42}:name} and {@code user:{42}:mail} do.
 *
 * <pre>{@code
 * Map<String, Long> versions =
 *     client.multiWrite(
 *         new MultiWrite()
 *             .put("user:{42}:name", name)
 *             .putIfVersion("user:{42}:mail", mail, 3)
 *             .delete("user:{42}:phone"));
 * }</pre>
 *
 * <p>A builder: not thread-safe. The client checks the keys and values when the write is submitted
 * (distinct keys, at most {@link io.craq.core.Limits#MULTI_WRITE_KEYS_MAX}, one chain, values
 * within the value limit together). Value arrays are not copied: do not modify them until the write
 * returns.
 */
public final class MultiWrite {
  private final List<WriteRequest> writes = new ArrayList<>();

  /** Writes {@code value} under {@code key}. */
  public MultiWrite put(String key, byte[] value) {
    return add(key, value, false, Message.ANY_VERSION);
  }

  /**
   * Writes {@code value} under {@code key} only if the key's committed version is {@code
   * expectedVersion} (0 = absent or deleted); if it is not, no write of this multi-key write
   * applies.
   */
  public MultiWrite putIfVersion(String key, byte[] value, long expectedVersion) {
    return add(key, value, false, checkExpected(expectedVersion));
  }

  /** Deletes {@code key} (a tombstone version). */
  public MultiWrite delete(String key) {
    return add(key, new byte[0], true, Message.ANY_VERSION);
  }

  /** Deletes {@code key} only if its committed version is {@code expectedVersion}. */
  public MultiWrite deleteIfVersion(String key, long expectedVersion) {
    return add(key, new byte[0], true, checkExpected(expectedVersion));
  }

  /** The number of writes added so far. */
  public int size() {
    return writes.size();
  }

  /** The writes in the order they were added (the order of the versions the write returns). */
  List<WriteRequest> writes() {
    return List.copyOf(writes);
  }

  private MultiWrite add(String key, byte[] value, boolean delete, long expectedVersion) {
    writes.add(
        new WriteRequest(
            Objects.requireNonNull(key, "key"),
            Objects.requireNonNull(value, "value"),
            delete,
            expectedVersion));
    return this;
  }

  /** {@code version} if it is a version a conditional write can expect. */
  static long checkExpected(long version) {
    if (version < 0) {
      throw new InvalidRequestException(
          "expected version must be >= 0 (0 = key absent): " + version);
    }
    return version;
  }

  @Override
  public String toString() {
    return "MultiWrite" + writes;
  }
}

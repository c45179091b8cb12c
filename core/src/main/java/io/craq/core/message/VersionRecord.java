package io.craq.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One version of a key as it travels down the chain: a value, or a tombstone for a delete. A
 * tombstone carries an empty value.
 *
 * <p>{@code group} is empty for a single-key write. A version written by a multi-key write (a
 * single-chain mini-transaction) lists every version of that write, its own included, in key order:
 * the tail commits them in one step, and only once all of them are durable, so a reader sees all of
 * the write or none of it. The group travels with the version between nodes (propagation,
 * retransmits, catch-up pages); stores do not keep it.
 */
public record VersionRecord(
    String key, long version, boolean tombstone, byte[] value, List<KeyVersion> group) {
  public VersionRecord {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    group = List.copyOf(group);
  }

  /** A version of a single-key write. */
  public VersionRecord(String key, long version, boolean tombstone, byte[] value) {
    this(key, version, tombstone, value, List.of());
  }

  /** True if this version was written by a multi-key write. */
  public boolean grouped() {
    return !group.isEmpty();
  }

  /**
   * Bytes this version adds to a message beyond its fixed fields, for splitting batches: its value
   * and, if grouped, the group's keys (their UTF-16 length bounds a third of their UTF-8 bytes, so
   * this is an estimate) and versions.
   */
  public long payloadBytes() {
    long bytes = value.length;
    for (KeyVersion member : group) {
      bytes += 3L * member.key().length() + 12;
    }
    return bytes;
  }

  /** The same version without its group (as a store keeps it). */
  public VersionRecord ungrouped() {
    return group.isEmpty() ? this : new VersionRecord(key, version, tombstone, value);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof VersionRecord that
        && version == that.version
        && tombstone == that.tombstone
        && key.equals(that.key)
        && Arrays.equals(value, that.value)
        && group.equals(that.group);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, version, tombstone) * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "VersionRecord["
        + key
        + "@"
        + version
        + (tombstone ? " tombstone" : "")
        + " "
        + value.length
        + " bytes"
        + (group.isEmpty() ? "" : " of a write of " + group.size() + " keys")
        + "]";
  }
}

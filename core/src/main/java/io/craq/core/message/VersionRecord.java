package io.craq.core.message;

import java.util.Arrays;
import java.util.Objects;

/**
 * One version of a key as it travels down the chain: a value, or a tombstone for a delete. A
 * tombstone carries an empty value.
 */
public record VersionRecord(String key, long version, boolean tombstone, byte[] value) {
  public VersionRecord {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof VersionRecord that
        && version == that.version
        && tombstone == that.tombstone
        && key.equals(that.key)
        && Arrays.equals(value, that.value);
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
        + " bytes]";
  }
}

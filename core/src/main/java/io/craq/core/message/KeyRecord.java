package io.craq.core.message;

import java.util.List;
import java.util.Objects;

/**
 * Everything a node holds for one key, for catch-up: the newest committed version (absent when
 * {@code committed} is null) and every newer dirty version in increasing order.
 */
public record KeyRecord(String key, VersionRecord committed, List<VersionRecord> dirty) {
  public KeyRecord {
    Objects.requireNonNull(key, "key");
    dirty = List.copyOf(dirty);
  }
}

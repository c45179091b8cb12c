package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a node holds in memory for one key while it has something in flight: the newest clean
 * version and every newer dirty one. Keys without such state live in the store only.
 */
final class KeyState {
  final String key;

  /** Newest committed version, or null if none is known. */
  VersionRecord committed;

  /**
   * The sequence number of the last store change asked for this key (see {@code
   * NodeMachine.persist}); until the driver reports it done, the store may not show it, so the key
   * stays in memory.
   */
  long lastPersistSeq;

  KeyState(String key, VersionRecord committed) {
    this.key = key;
    this.committed = committed;
  }

  /** Dirty versions newer than {@link #committed}, by version. */
  final TreeMap<Long, VersionRecord> dirty = new TreeMap<>();

  long committedVersion() {
    return committed == null ? 0 : committed.version();
  }

  /** The highest version held, clean or dirty (CRAQ §2.3: the head numbers from here). */
  long highestVersion() {
    return dirty.isEmpty() ? committedVersion() : dirty.lastKey();
  }

  /** The newest version held, clean or dirty, or null. */
  VersionRecord newest() {
    return dirty.isEmpty() ? committed : dirty.lastEntry().getValue();
  }

  /** The held version {@code version}, clean or dirty, or null. */
  VersionRecord get(long version) {
    if (committed != null && committed.version() == version) {
      return committed;
    }
    return dirty.get(version);
  }

  /** Makes {@code record} the clean version and drops every older version. */
  void commit(VersionRecord record) {
    check(
        record.version() > committedVersion(),
        "commit must move forward: %s after %s",
        record,
        committed);
    committed = record;
    dirty.headMap(record.version(), true).clear();
  }

  boolean isEmpty() {
    return committed == null && dirty.isEmpty();
  }

  KeyRecord toRecord() {
    return new KeyRecord(key, committed, new ArrayList<>(dirty.values()));
  }

  /** Checks the per-key invariants: all dirty versions newer than the clean one. */
  void checkInvariants() {
    for (Map.Entry<Long, VersionRecord> e : dirty.entrySet()) {
      check(
          e.getKey() > committedVersion(),
          "key %s: dirty %d not above clean %d",
          key,
          e.getKey(),
          committedVersion());
      check(
          e.getValue().version() == e.getKey() && e.getValue().key().equals(key),
          "key %s: dirty entry %d holds %s",
          key,
          e.getKey(),
          e.getValue());
    }
  }
}

package io.craq.store;

import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The versions one key holds, as an immutable value, and what each {@link Batch} operation does to
 * them: the meaning every store gives the operations, written once for the stores that keep keys in
 * memory ({@link MemoryStorer}, and the changes {@link LoggedStorer} holds since its last
 * checkpoint).
 *
 * @param committed the newest committed version, or null
 * @param dirty the dirty versions, ascending, all newer than {@code committed}
 */
record KeyVersions(VersionRecord committed, List<VersionRecord> dirty) {

  /** A key holding nothing: it does not exist. */
  static final KeyVersions NONE = new KeyVersions(null, List.of());

  KeyVersions {
    dirty = List.copyOf(dirty);
  }

  /** The versions of {@code record}, or {@link #NONE} for null. */
  static KeyVersions of(KeyRecord record) {
    return record == null ? NONE : new KeyVersions(record.committed(), record.dirty());
  }

  /** The state after one operation, and its outcome. */
  record Change(KeyVersions after, Outcome outcome) {}

  boolean isEmpty() {
    return committed == null && dirty.isEmpty();
  }

  long committedVersion() {
    return committed == null ? Storer.NO_VERSION : committed.version();
  }

  long newestVersion() {
    return dirty.isEmpty() ? committedVersion() : dirty.get(dirty.size() - 1).version();
  }

  /** Version {@code version}, clean or dirty, or null. */
  VersionRecord find(long version) {
    if (committed != null && committed.version() == version) {
      return committed;
    }
    for (VersionRecord record : dirty) {
      if (record.version() == version) {
        return record;
      }
    }
    return null;
  }

  KeyRecord toRecord(String key) {
    return new KeyRecord(key, committed, dirty);
  }

  /** {@link Batch.PutDirty}. */
  Change putDirty(VersionRecord record) {
    if (isEmpty()) {
      return new Change(new KeyVersions(null, List.of(record)), Outcome.APPLIED);
    }
    if (record.version() < committedVersion()) {
      return new Change(this, Outcome.STALE);
    }
    VersionRecord existing = find(record.version());
    if (existing != null) {
      return new Change(this, existing.equals(record) ? Outcome.DUPLICATE : Outcome.CONFLICT);
    }
    if (dirty.isEmpty()) {
      return new Change(new KeyVersions(committed, List.of(record)), Outcome.APPLIED);
    }
    List<VersionRecord> newer = new ArrayList<>(dirty);
    int at = 0;
    while (at < newer.size() && newer.get(at).version() < record.version()) {
      at++;
    }
    newer.add(at, record);
    return new Change(new KeyVersions(committed, newer), Outcome.APPLIED);
  }

  /** {@link Batch.PutCommitted}. */
  Change putCommitted(VersionRecord record) {
    if (isEmpty()) {
      return new Change(new KeyVersions(record, List.of()), Outcome.APPLIED);
    }
    if (record.version() < committedVersion()) {
      return new Change(this, Outcome.STALE);
    }
    VersionRecord existing = find(record.version());
    if (existing != null && !existing.equals(record)) {
      return new Change(this, Outcome.CONFLICT);
    }
    if (record.version() == committedVersion()) {
      return new Change(this, Outcome.DUPLICATE);
    }
    return new Change(new KeyVersions(record, newerThan(record.version())), Outcome.APPLIED);
  }

  /** {@link Batch.Commit}. */
  Change commit(long version) {
    if (isEmpty()) {
      return new Change(this, Outcome.UNKNOWN_VERSION);
    }
    if (version < committedVersion()) {
      return new Change(this, Outcome.STALE);
    }
    if (version == committedVersion()) {
      return new Change(this, Outcome.DUPLICATE);
    }
    VersionRecord record = find(version);
    if (record == null) {
      return new Change(this, Outcome.UNKNOWN_VERSION);
    }
    return new Change(new KeyVersions(record, newerThan(version)), Outcome.APPLIED);
  }

  /** {@link Batch.DiscardAllDirty}, for this key: the committed version stays, if any. */
  KeyVersions withoutDirty() {
    return dirty.isEmpty() ? this : new KeyVersions(committed, List.of());
  }

  private List<VersionRecord> newerThan(long version) {
    int from = 0;
    while (from < dirty.size() && dirty.get(from).version() <= version) {
      from++; // ascending: the newer ones are a suffix
    }
    // The common commit takes the only dirty version: no copy of an empty rest.
    return from == dirty.size() ? List.of() : dirty.subList(from, dirty.size());
  }
}

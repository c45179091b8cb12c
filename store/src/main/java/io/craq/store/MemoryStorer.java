package io.craq.store;

import io.craq.core.Limits;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reference store: everything in memory, nothing durable. Reads are lock-free (each key's
 * state is an immutable snapshot swapped atomically); writers are serialized by one lock. Values
 * are copied in and out, so callers can never change stored data through an array.
 */
public final class MemoryStorer implements Storer {

  /**
   * Immutable state of one key: the committed version (null if none) and the dirty versions,
   * ascending, all newer than the committed one.
   */
  private record KeyState(VersionRecord committed, List<VersionRecord> dirty) {
    long committedVersion() {
      return committed == null ? NO_VERSION : committed.version();
    }

    long newestVersion() {
      return dirty.isEmpty() ? committedVersion() : dirty.get(dirty.size() - 1).version();
    }

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
  }

  private final ConcurrentNavigableMap<String, KeyState> keys =
      new ConcurrentSkipListMap<>(KeyOrder.INSTANCE);
  private final ReentrantLock writeLock = new ReentrantLock();
  private final int valueBytesMax;
  private volatile boolean closed;

  /** A store with the default value limit ({@link Limits#VALUE_BYTES_MAX_DEFAULT}). */
  public MemoryStorer() {
    this(Limits.VALUE_BYTES_MAX_DEFAULT);
  }

  /** A store that refuses values over {@code valueBytesMax} bytes. */
  public MemoryStorer(int valueBytesMax) {
    if (valueBytesMax < 0) {
      throw new IllegalArgumentException("valueBytesMax must be >= 0, got " + valueBytesMax);
    }
    this.valueBytesMax = valueBytesMax;
  }

  @Override
  public Newest readNewest(String key) {
    KeyState state = state(key);
    if (state == null) {
      return Newest.ABSENT;
    }
    if (state.dirty().isEmpty()) {
      return new Newest.Clean(copy(state.committed()));
    }
    return new Newest.Dirty(copy(state.dirty().get(state.dirty().size() - 1)),
        state.committedVersion());
  }

  @Override
  public Optional<VersionRecord> readVersion(String key, long version) {
    KeyState state = state(key);
    return state == null ? Optional.empty() : Optional.ofNullable(copy(state.find(version)));
  }

  @Override
  public long committedVersion(String key) {
    KeyState state = state(key);
    return state == null ? NO_VERSION : state.committedVersion();
  }

  @Override
  public long newestVersion(String key) {
    KeyState state = state(key);
    return state == null ? NO_VERSION : state.newestVersion();
  }

  @Override
  public BatchResult apply(Batch batch) {
    checkOpen();
    batch.checkValues(valueBytesMax);
    writeLock.lock();
    try {
      checkOpen();
      List<Outcome> outcomes = new ArrayList<>(batch.size());
      long discarded = 0;
      for (Batch.Op op : batch.ops()) {
        switch (op) {
          case Batch.PutDirty put -> outcomes.add(putDirty(copy(put.record())));
          case Batch.PutCommitted put -> outcomes.add(putCommitted(copy(put.record())));
          case Batch.Commit commit -> outcomes.add(commitLocked(commit.key(), commit.version()));
          case Batch.DiscardAllDirty discard -> {
            discarded += discardAllDirty();
            outcomes.add(Outcome.APPLIED);
          }
        }
      }
      return new BatchResult(outcomes, discarded);
    } finally {
      writeLock.unlock();
    }
  }

  private Outcome putDirty(VersionRecord record) {
    KeyState state = keys.get(record.key());
    if (state == null) {
      keys.put(record.key(), new KeyState(null, List.of(record)));
      return Outcome.APPLIED;
    }
    if (record.version() < state.committedVersion()) {
      return Outcome.STALE;
    }
    VersionRecord existing = state.find(record.version());
    if (existing != null) {
      return existing.equals(record) ? Outcome.DUPLICATE : Outcome.CONFLICT;
    }
    List<VersionRecord> dirty = new ArrayList<>(state.dirty());
    int at = 0;
    while (at < dirty.size() && dirty.get(at).version() < record.version()) {
      at++;
    }
    dirty.add(at, record);
    keys.put(record.key(), new KeyState(state.committed(), List.copyOf(dirty)));
    return Outcome.APPLIED;
  }

  private Outcome putCommitted(VersionRecord record) {
    KeyState state = keys.get(record.key());
    if (state == null) {
      keys.put(record.key(), new KeyState(record, List.of()));
      return Outcome.APPLIED;
    }
    if (record.version() < state.committedVersion()) {
      return Outcome.STALE;
    }
    VersionRecord existing = state.find(record.version());
    if (existing != null && !existing.equals(record)) {
      return Outcome.CONFLICT;
    }
    if (record.version() == state.committedVersion()) {
      return Outcome.DUPLICATE;
    }
    keys.put(record.key(), new KeyState(record, newerThan(state.dirty(), record.version())));
    return Outcome.APPLIED;
  }

  private Outcome commitLocked(String key, long version) {
    KeyState state = keys.get(key);
    if (state == null) {
      return Outcome.UNKNOWN_VERSION;
    }
    if (version < state.committedVersion()) {
      return Outcome.STALE;
    }
    if (version == state.committedVersion()) {
      return Outcome.DUPLICATE;
    }
    VersionRecord record = state.find(version);
    if (record == null) {
      return Outcome.UNKNOWN_VERSION;
    }
    keys.put(key, new KeyState(record, newerThan(state.dirty(), version)));
    return Outcome.APPLIED;
  }

  private long discardAllDirty() {
    long discarded = 0;
    for (Map.Entry<String, KeyState> entry : keys.entrySet()) {
      KeyState state = entry.getValue();
      if (state.dirty().isEmpty()) {
        continue;
      }
      discarded += state.dirty().size();
      if (state.committed() == null) {
        keys.remove(entry.getKey());
      } else {
        keys.put(entry.getKey(), new KeyState(state.committed(), List.of()));
      }
    }
    return discarded;
  }

  private static List<VersionRecord> newerThan(List<VersionRecord> dirty, long version) {
    return dirty.stream().filter(r -> r.version() > version).toList();
  }

  @Override
  public void sync() {
    checkOpen();
  }

  @Override
  public KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax) {
    checkOpen();
    checkPageBounds(keysMax, bytesSoftMax);
    if (afterKey != null) {
      Limits.checkKey(afterKey);
    }
    Map<String, KeyState> tail = afterKey == null ? keys : keys.tailMap(afterKey, false);
    List<KeyRecord> records = new ArrayList<>(Math.min(keysMax, 1024));
    long bytes = 0;
    String last = afterKey;
    for (Map.Entry<String, KeyState> entry : tail.entrySet()) {
      if (records.size() >= keysMax || bytes >= bytesSoftMax) {
        return new KeyPage(records, last, false);
      }
      KeyState state = entry.getValue();
      List<VersionRecord> dirty = state.dirty().stream().map(MemoryStorer::copy).toList();
      records.add(new KeyRecord(entry.getKey(), copy(state.committed()), dirty));
      bytes += state.committed() == null ? 0 : state.committed().value().length;
      for (VersionRecord record : dirty) {
        bytes += record.value().length;
      }
      last = entry.getKey();
    }
    return new KeyPage(records, last, true);
  }

  static void checkPageBounds(int keysMax, long bytesSoftMax) {
    if (keysMax < 1 || bytesSoftMax < 1) {
      throw new IllegalArgumentException(
          "keysMax and bytesSoftMax must be >= 1, got " + keysMax + " and " + bytesSoftMax);
    }
  }

  @Override
  public int valueBytesMax() {
    return valueBytesMax;
  }

  @Override
  public boolean durable() {
    return false;
  }

  @Override
  public void close() {
    writeLock.lock();
    try {
      closed = true;
      keys.clear();
    } finally {
      writeLock.unlock();
    }
  }

  private KeyState state(String key) {
    checkOpen();
    Limits.checkKey(key);
    return keys.get(key);
  }

  private void checkOpen() {
    if (closed) {
      throw new StoreException("store is closed");
    }
  }

  private static VersionRecord copy(VersionRecord record) {
    if (record == null) {
      return null;
    }
    return new VersionRecord(record.key(), record.version(), record.tombstone(),
        Arrays.copyOf(record.value(), record.value().length));
  }
}

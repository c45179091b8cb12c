package io.craq.store;

import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyOrder;
import io.craq.core.store.KeyPage;
import io.craq.core.store.KeyPages;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The reference store: everything in memory, nothing durable. Reads are lock-free (each key's state
 * is an immutable snapshot swapped atomically); writers are serialized by one lock. Values are
 * copied in and out, so callers can never change stored data through an array.
 */
public final class MemoryStorer implements Storer {

  private final ConcurrentNavigableMap<String, KeyVersions> keys =
      new ConcurrentSkipListMap<>(KeyOrder.INSTANCE);
  private final ReentrantLock writeLock = new ReentrantLock();
  private final int valueBytesMax;
  private volatile boolean closed;
  private volatile long logSequence;

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
    KeyVersions state = state(key);
    if (state == null) {
      return Newest.ABSENT;
    }
    if (state.dirty().isEmpty()) {
      return new Newest.Clean(copy(state.committed()));
    }
    return new Newest.Dirty(
        copy(state.dirty().get(state.dirty().size() - 1)), state.committedVersion());
  }

  @Override
  public Optional<VersionRecord> readVersion(String key, long version) {
    KeyVersions state = state(key);
    return state == null ? Optional.empty() : Optional.ofNullable(copy(state.find(version)));
  }

  @Override
  public long committedVersion(String key) {
    KeyVersions state = state(key);
    return state == null ? NO_VERSION : state.committedVersion();
  }

  @Override
  public long newestVersion(String key) {
    KeyVersions state = state(key);
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
          case Batch.PutDirty put ->
              outcomes.add(change(put.record().key(), state -> state.putDirty(copy(put.record()))));
          case Batch.PutCommitted put ->
              outcomes.add(
                  change(put.record().key(), state -> state.putCommitted(copy(put.record()))));
          case Batch.Commit commit ->
              outcomes.add(change(commit.key(), state -> state.commit(commit.version())));
          case Batch.DiscardAllDirty discard -> {
            discarded += discardDirty(discard.slice());
            outcomes.add(Outcome.APPLIED);
          }
        }
      }
      if (batch.logSequence() != Batch.NO_LOG_SEQUENCE) {
        logSequence = batch.logSequence();
      }
      return new BatchResult(outcomes, discarded);
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public long logSequence() {
    checkOpen();
    return logSequence;
  }

  /** Applies one key's operation, keeping the key only while it holds a version. */
  private Outcome change(String key, Function<KeyVersions, KeyVersions.Change> operation) {
    KeyVersions.Change change = operation.apply(keys.getOrDefault(key, KeyVersions.NONE));
    if (change.outcome() == Outcome.APPLIED) {
      keys.put(key, change.after());
    }
    return change.outcome();
  }

  /** Drops the dirty versions of the keys of {@code slice}; returns how many. */
  private long discardDirty(ChainSlice slice) {
    long discarded = 0;
    for (Map.Entry<String, KeyVersions> entry : keys.entrySet()) {
      KeyVersions state = entry.getValue();
      if (state.dirty().isEmpty() || !slice.contains(entry.getKey())) {
        continue;
      }
      discarded += state.dirty().size();
      if (state.committed() == null) {
        keys.remove(entry.getKey());
      } else {
        keys.put(entry.getKey(), state.withoutDirty());
      }
    }
    return discarded;
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
    Map<String, KeyVersions> tail = afterKey == null ? keys : keys.tailMap(afterKey, false);
    List<KeyRecord> records = new ArrayList<>(Math.min(keysMax, 1024));
    long bytes = 0;
    String last = afterKey;
    for (Map.Entry<String, KeyVersions> entry : tail.entrySet()) {
      if (records.size() >= keysMax || bytes >= bytesSoftMax) {
        return new KeyPage(records, last, false);
      }
      KeyVersions state = entry.getValue();
      List<VersionRecord> dirty = state.dirty().stream().map(MemoryStorer::copy).toList();
      KeyRecord record = new KeyRecord(entry.getKey(), copy(state.committed()), dirty);
      records.add(record);
      bytes += KeyPages.valueBytes(record);
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

  private KeyVersions state(String key) {
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
    return new VersionRecord(
        record.key(),
        record.version(),
        record.tombstone(),
        Arrays.copyOf(record.value(), record.value().length));
  }
}

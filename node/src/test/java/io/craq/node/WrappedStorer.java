package io.craq.node;

import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyPage;
import io.craq.store.Batch;
import io.craq.store.BatchResult;
import io.craq.store.Newest;
import io.craq.store.Storer;
import java.util.Optional;

/**
 * A store that delegates everything; tests override {@link #apply} to watch or break it (writes
 * without sync go through it too).
 */
class WrappedStorer implements Storer {
  final Storer delegate;

  WrappedStorer(Storer delegate) {
    this.delegate = delegate;
  }

  @Override
  public Newest readNewest(String key) {
    return delegate.readNewest(key);
  }

  @Override
  public Optional<VersionRecord> readVersion(String key, long version) {
    return delegate.readVersion(key, version);
  }

  @Override
  public long committedVersion(String key) {
    return delegate.committedVersion(key);
  }

  @Override
  public long newestVersion(String key) {
    return delegate.newestVersion(key);
  }

  @Override
  public BatchResult apply(Batch batch) {
    return delegate.apply(batch);
  }

  @Override
  public void sync() {
    delegate.sync();
  }

  @Override
  public long logSequence() {
    return delegate.logSequence();
  }

  @Override
  public VersionRecord committedRecord(String key) {
    return delegate.committedRecord(key);
  }

  @Override
  public java.util.stream.Stream<VersionRecord> allDirty() {
    return delegate.allDirty();
  }

  @Override
  public KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax) {
    return delegate.readKeys(afterKey, keysMax, bytesSoftMax);
  }

  @Override
  public int valueBytesMax() {
    return delegate.valueBytesMax();
  }

  @Override
  public boolean durable() {
    return delegate.durable();
  }

  @Override
  public void close() {
    delegate.close();
  }
}

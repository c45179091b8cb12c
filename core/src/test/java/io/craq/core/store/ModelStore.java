package io.craq.core.store;

import io.craq.core.Effects;
import io.craq.core.Effects.CommitVersion;
import io.craq.core.Effects.DiscardAllDirty;
import io.craq.core.Effects.PersistConfig;
import io.craq.core.Effects.PersistMap;
import io.craq.core.Effects.PutVersion;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A node's store as a plain model for tests and the simulation: the state machine's store changes
 * applied with the meaning every {@code Storer} gives them (a dirty put never overwrites, a commit
 * of an unknown version deletes nothing, a commit drops older versions). Not thread-safe.
 */
public final class ModelStore implements StoreView {
  private final TreeMap<String, VersionRecord> committed = new TreeMap<>(KeyOrder.INSTANCE);
  private final TreeMap<String, TreeMap<Long, VersionRecord>> dirty =
      new TreeMap<>(KeyOrder.INSTANCE);

  /** An independent copy (a snapshot of what is on disk, say). */
  public ModelStore copy() {
    ModelStore copy = new ModelStore();
    copy.committed.putAll(committed);
    dirty.forEach((key, versions) -> copy.dirty.put(key, new TreeMap<>(versions)));
    return copy;
  }

  /** Applies one store change. */
  public void apply(Effects.StoreOp op) {
    switch (op) {
      case PutVersion put when put.committed() -> commit(put.version());
      case PutVersion put -> {
        VersionRecord r = put.version();
        if (r.version() > committedVersion(r.key())) {
          dirty.computeIfAbsent(r.key(), k -> new TreeMap<>()).putIfAbsent(r.version(), r);
        }
      }
      case CommitVersion commit -> {
        TreeMap<Long, VersionRecord> versions = dirty.get(commit.key());
        VersionRecord r = versions == null ? null : versions.get(commit.version());
        if (r != null) {
          commit(r);
        }
      }
      case DiscardAllDirty discard -> dirty.keySet().removeIf(key -> discard.slice().contains(key));
      case PersistConfig ignored -> throw new IllegalArgumentException("nodes persist no config");
      case PersistMap ignored -> throw new IllegalArgumentException("nodes persist no map");
    }
  }

  /** Applies store changes in order. */
  public void applyAll(List<Effects.StoreOp> ops) {
    ops.forEach(this::apply);
  }

  private void commit(VersionRecord r) {
    if (r.version() <= committedVersion(r.key())) {
      return;
    }
    committed.put(r.key(), r);
    TreeMap<Long, VersionRecord> versions = dirty.get(r.key());
    if (versions != null) {
      versions.headMap(r.version(), true).clear();
      if (versions.isEmpty()) {
        dirty.remove(r.key());
      }
    }
  }

  /** Every dirty version, in key then version order (what a restart recovers). */
  public List<VersionRecord> allDirty() {
    List<VersionRecord> out = new ArrayList<>();
    dirty.values().forEach(versions -> out.addAll(versions.values()));
    return out;
  }

  @Override
  public long committedVersion(String key) {
    VersionRecord r = committed.get(key);
    return r == null ? NO_VERSION : r.version();
  }

  @Override
  public VersionRecord committedRecord(String key) {
    return committed.get(key);
  }

  @Override
  public KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax) {
    if (keysMax < 1 || bytesSoftMax < 1) {
      throw new IllegalArgumentException("keysMax and bytesSoftMax must be >= 1");
    }
    TreeMap<String, Boolean> keys = new TreeMap<>(KeyOrder.INSTANCE);
    (afterKey == null ? committed : committed.tailMap(afterKey, false))
        .keySet()
        .forEach(k -> keys.put(k, true));
    (afterKey == null ? dirty : dirty.tailMap(afterKey, false))
        .keySet()
        .forEach(k -> keys.put(k, true));
    List<KeyRecord> records = new ArrayList<>();
    long bytes = 0;
    String last = afterKey;
    for (String key : keys.keySet()) {
      if (records.size() == keysMax || bytes >= bytesSoftMax) {
        return new KeyPage(records, last, false);
      }
      VersionRecord clean = committed.get(key);
      List<VersionRecord> versions =
          new ArrayList<>(dirty.getOrDefault(key, new TreeMap<>()).values());
      records.add(new KeyRecord(key, clean, versions));
      bytes += clean == null ? 0 : clean.value().length;
      for (VersionRecord v : versions) {
        bytes += v.value().length;
      }
      last = key;
    }
    return new KeyPage(records, last, true);
  }

  /** Every committed version, in key order. */
  public Map<String, VersionRecord> committed() {
    return new TreeMap<>(committed);
  }
}

package io.craq.node;

import io.craq.core.Effects.CommitVersion;
import io.craq.core.Effects.DiscardAllDirty;
import io.craq.core.Effects.PersistConfig;
import io.craq.core.Effects.PersistMap;
import io.craq.core.Effects.PutVersion;
import io.craq.core.Effects.StoreOp;
import io.craq.core.message.VersionRecord;
import io.craq.store.Batch;
import java.util.List;

/** Translates the state machine's durable-state changes into one storage batch (group commit). */
final class StoreOps {
  private StoreOps() {}

  /** One batch holding {@code ops} in order, so one {@code Storer.apply} makes them all durable. */
  static Batch toBatch(List<StoreOp> ops) {
    Batch batch = new Batch();
    for (StoreOp op : ops) {
      add(batch, op);
    }
    return batch;
  }

  private static void add(Batch batch, StoreOp op) {
    switch (op) {
      case PutVersion put when put.committed() -> batch.putCommitted(put.version());
      case PutVersion put -> putDirty(batch, put.version());
      case CommitVersion commit -> batch.commit(commit.key(), commit.version());
      // A node joining one of its chains drops that chain's dirty versions only.
      case DiscardAllDirty discard when discard.slice().isAll() -> batch.discardAllDirty();
      case DiscardAllDirty discard -> batch.discardDirty(discard.slice());
      // Only the coordinator's machines emit these; a node emitting one is a bug in the core.
      case PersistConfig ignored ->
          throw new IllegalStateException(
              "a node state machine asked to persist a chain configuration");
      case PersistMap ignored ->
          throw new IllegalStateException("a node state machine asked to persist a chain map");
    }
  }

  private static void putDirty(Batch batch, VersionRecord record) {
    if (record.tombstone()) {
      batch.putDirtyTombstone(record.key(), record.version());
    } else {
      batch.putDirty(record.key(), record.version(), record.value());
    }
  }
}

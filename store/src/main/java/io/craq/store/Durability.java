package io.craq.store;

/**
 * What a durable store guarantees when {@link Storer#apply(Batch)} returns. Only {@link #SYNC}
 * keeps acknowledged versions across a power loss or kernel crash; the weaker modes trade that for
 * speed (useful for tests and benchmarks).
 */
public enum Durability {
  /** Data and metadata are flushed to disk (fsync) before {@code apply} returns. The default. */
  SYNC,
  /**
   * Data is flushed, the metadata page is not: a system crash may undo the last storage
   * transaction, but never corrupts the store (LMDB {@code MDB_NOMETASYNC}).
   */
  NO_META_SYNC,
  /**
   * Nothing is flushed by {@code apply}; the OS writes back when it likes or when {@link
   * Storer#sync()} is called. Survives a process crash, not a system crash (LMDB {@code
   * MDB_NOSYNC}).
   */
  NO_SYNC
}

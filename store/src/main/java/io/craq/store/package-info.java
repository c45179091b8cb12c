/**
 * Storage of versioned keys for a CRAQ node (CRAQ §2.3): the {@link io.craq.store.Storer} contract,
 * an in-memory reference store ({@link io.craq.store.MemoryStorer}) and a durable LMDB store
 * ({@link io.craq.store.LmdbStorer}).
 *
 * <p>Words: a <em>version</em> is one numbered value (or tombstone) of a key; it is <em>clean</em>
 * (committed) once the tail has it, <em>dirty</em> before. <em>Commit</em> always means the CRAQ
 * commit; the storage-level unit of atomicity and durability is called a <em>storage
 * transaction</em> (one {@link io.craq.store.Storer#apply(Batch)} call).
 */
package io.craq.store;

/**
 * A write-ahead log for the node's storage ({@link io.craq.store.wal.WriteAheadLog}): storage
 * batches appended as numbered records, made durable in groups by one disk sync, replayed after a
 * crash from the last checkpoint of the store they protect.
 */
package io.craq.store.wal;

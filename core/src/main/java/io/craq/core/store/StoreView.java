package io.craq.core.store;

import io.craq.core.message.VersionRecord;

/**
 * The read side of a node's store, as its state machine sees it. The store holds the data; the
 * machine keeps in memory only the keys it has something in flight for (dirty versions, store
 * changes it asked for that are not done yet) and reads every other key here: clean reads, the
 * version the tail answers a query with, the committed version a write is numbered after, and the
 * pages of a catch-up or a read-all.
 *
 * <p><b>What the view must show.</b> Every store change the machine asked for ({@code
 * Effects.persist()}) that its driver has reported done ({@code NodeMachine.onPersisted}), in the
 * order asked, and nothing the machine did not ask for. Changes not yet reported may or may not be
 * visible: the machine reads this view only for keys that have no such change pending, and
 * overrides what a page shows for the other keys with what it holds itself. So a store that applies
 * changes in the background is fine, as long as a change is visible by the time it is reported
 * done.
 *
 * <p><b>Calls</b> come from the machine's thread, synchronously, so they should be cheap: one
 * lookup for a key, one bounded scan for a page. They must not block on the store's writer.
 * Failures throw unchecked exceptions, which stop the node (it must not serve data it cannot read).
 */
public interface StoreView {

  /** Returned by version lookups when the key has no such version; versions start at 1. */
  long NO_VERSION = 0;

  /**
   * The newest committed version number of {@code key}, or {@link #NO_VERSION}. Cheap: no value is
   * read. A committed tombstone counts.
   */
  long committedVersion(String key);

  /** The newest committed version of {@code key} with its value, or null if none. */
  VersionRecord committedRecord(String key);

  /**
   * Reads up to {@code keysMax} keys that sort after {@code afterKey} (from the first key when
   * null) in {@link KeyOrder}, each with its committed version and its dirty versions. The page
   * stops early, after at least one key, once its values reach {@code bytesSoftMax}.
   *
   * @throws IllegalArgumentException if {@code keysMax < 1} or {@code bytesSoftMax < 1}
   */
  KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax);
}

package io.craq.core.store;

import static io.craq.core.Check.check;

import io.craq.core.chain.ChainSlice;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@link StoreView} of one chain's keys over a node's whole store: its pages hold only the keys
 * of {@code slice}, so a chain's catch-up and read-all copy that chain's keys and nothing else.
 * Lookups of one key pass through (the machine asks only for keys of its chain).
 *
 * <p>A page scans the store's pages in order and skips the keys of other chains; it reads as many
 * of them as it takes to find up to {@code keysMax} keys of the slice, and it holds at least one
 * unless the scan reached the end of the store (an empty page that is not the last would stall a
 * reader that resumes after the last key it received). Its {@link KeyPage#resumeAfterKey()} is the
 * last key scanned, which may be a key of another chain after the page's last record: no key of the
 * slice lies between them.
 */
public final class SliceView implements StoreView {
  /** Keys read from the store per scanned page at most, whatever the slice's share. */
  static final int SCAN_KEYS_MAX = 4096;

  private final StoreView store;
  private final ChainSlice slice;

  private SliceView(StoreView store, ChainSlice slice) {
    this.store = Objects.requireNonNull(store, "store");
    this.slice = Objects.requireNonNull(slice, "slice");
  }

  /**
   * The view of {@code slice}'s keys of {@code store}: {@code store} itself for {@link
   * ChainSlice#ALL}, or when it already is a view of that slice.
   */
  public static StoreView of(StoreView store, ChainSlice slice) {
    Objects.requireNonNull(slice, "slice");
    if (slice.isAll() || (store instanceof SliceView view && view.slice.equals(slice))) {
      return store;
    }
    if (store instanceof SliceView view) {
      throw new IllegalArgumentException("a view of " + view.slice + " cannot show " + slice);
    }
    return new SliceView(store, slice);
  }

  public ChainSlice slice() {
    return slice;
  }

  @Override
  public long committedVersion(String key) {
    return store.committedVersion(key);
  }

  @Override
  public VersionRecord committedRecord(String key) {
    return store.committedRecord(key);
  }

  @Override
  public KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax) {
    if (keysMax < 1 || bytesSoftMax < 1) {
      throw new IllegalArgumentException(
          "keysMax and bytesSoftMax must be >= 1: " + keysMax + ", " + bytesSoftMax);
    }
    // About one key in `chains` is of the slice: read that many more per scanned page, bounded.
    int scanKeys =
        (int) Math.max(keysMax, Math.min((long) keysMax * slice.chains(), (long) SCAN_KEYS_MAX));
    List<KeyRecord> records = new ArrayList<>();
    long bytes = 0;
    String scanned = afterKey;
    while (true) {
      KeyPage page = store.readKeys(scanned, scanKeys, bytesSoftMax);
      for (KeyRecord record : page.records()) {
        if (slice.contains(record.key())) {
          if (full(records, keysMax, bytes, bytesSoftMax)) {
            return new KeyPage(records, scanned, false);
          }
          records.add(record);
          bytes += KeyPages.valueBytes(record);
        }
        scanned = record.key();
      }
      if (page.done()) {
        return new KeyPage(records, scanned, true);
      }
      check(
          !page.records().isEmpty() || !Objects.equals(page.resumeAfterKey(), scanned),
          "the store returned an empty page after %s that is not the last",
          scanned);
      scanned = page.resumeAfterKey();
      if (full(records, keysMax, bytes, bytesSoftMax)) {
        return new KeyPage(records, scanned, false);
      }
    }
  }

  /** True if the page may not take another record: it has its keys, or its bytes and one key. */
  private static boolean full(List<KeyRecord> records, int keysMax, long bytes, long bytesSoftMax) {
    return records.size() >= keysMax || (!records.isEmpty() && bytes >= bytesSoftMax);
  }

  @Override
  public String toString() {
    return "SliceView[" + slice + " of " + store + "]";
  }
}

package io.craq.core.store;

import io.craq.core.message.KeyRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.function.Function;

/** Pages of a key-ordered scan laid over one another. */
public final class KeyPages {
  private KeyPages() {}

  /**
   * The page {@code below} (read after {@code afterKey}) with newer state laid over it: each key of
   * {@code above} replaces the key of the same name below, or is added in its place in the order,
   * or, where {@code record} maps it to null, hides the key below (it no longer exists). Keys of
   * {@code above} past the reach of {@code below} (after its resume key when it is not done) are
   * left for the next page, so that every page covers a range of keys completely and successive
   * pages never skip a key.
   *
   * <p>The result holds at most {@code keysMax} records and stops early, after at least one, once
   * their values reach {@code bytesSoftMax}; it may hold fewer, even none, without being done, when
   * keys below were hidden: read on from its {@link KeyPage#resumeAfterKey()}.
   *
   * @param above the keys that have newer state, ordered by {@link KeyOrder}
   * @param record the newer record of one key of {@code above}, or null if it does not exist
   */
  public static KeyPage overlay(
      KeyPage below,
      String afterKey,
      NavigableSet<String> above,
      Function<String, KeyRecord> record,
      int keysMax,
      long bytesSoftMax) {
    NavigableSet<String> within = afterKey == null ? above : above.tailSet(afterKey, false);
    if (!below.done()) {
      within = within.headSet(below.resumeAfterKey(), true);
    }
    Iterator<String> upper = within.iterator();
    if (!upper.hasNext()) {
      return below;
    }
    List<KeyRecord> records = new ArrayList<>(below.records().size() + 16);
    Iterator<KeyRecord> lower = below.records().iterator();
    KeyRecord nextLower = lower.hasNext() ? lower.next() : null;
    String nextUpper = upper.next();
    long bytes = 0;
    while (nextLower != null || nextUpper != null) {
      if (records.size() == keysMax || bytes >= bytesSoftMax) {
        return new KeyPage(records, records.get(records.size() - 1).key(), false);
      }
      int order =
          nextLower == null
              ? 1
              : nextUpper == null ? -1 : KeyOrder.INSTANCE.compare(nextLower.key(), nextUpper);
      KeyRecord taken = order < 0 ? nextLower : record.apply(nextUpper);
      if (taken != null) {
        records.add(taken);
        bytes += valueBytes(taken);
      }
      if (order <= 0) {
        nextLower = lower.hasNext() ? lower.next() : null;
      }
      if (order >= 0) {
        nextUpper = upper.hasNext() ? upper.next() : null;
      }
    }
    String resume =
        !below.done()
            ? below.resumeAfterKey()
            : records.isEmpty() ? afterKey : records.get(records.size() - 1).key();
    return new KeyPage(records, resume, below.done());
  }

  /**
   * The bytes of the values a record holds, committed and dirty (with the groups of dirty versions
   * of multi-key writes, see {@link io.craq.core.message.VersionRecord#payloadBytes()}).
   */
  public static long valueBytes(KeyRecord record) {
    long bytes = record.committed() == null ? 0 : record.committed().payloadBytes();
    for (var version : record.dirty()) {
      bytes += version.payloadBytes();
    }
    return bytes;
  }
}

package io.craq.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects.PutVersion;
import io.craq.core.chain.ChainSlice;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SliceViewTest {

  private static VersionRecord version(String key, long version, int valueBytes) {
    return new VersionRecord(key, version, false, new byte[valueBytes]);
  }

  /** A store that gives at most {@code pageKeys} keys per page, and counts the pages read. */
  private static final class NarrowStore implements StoreView {
    final StoreView store;
    final int pageKeys;
    int pagesRead;

    NarrowStore(StoreView store, int pageKeys) {
      this.store = store;
      this.pageKeys = pageKeys;
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
      pagesRead++;
      return store.readKeys(afterKey, Math.min(keysMax, pageKeys), bytesSoftMax);
    }
  }

  /** The slice keys of {@code store}, in key order, read in one page of the whole store. */
  private static List<String> sliceKeys(ModelStore store, ChainSlice slice) {
    List<String> keys = new ArrayList<>();
    for (KeyRecord record : store.readKeys(null, Integer.MAX_VALUE, Long.MAX_VALUE).records()) {
      if (slice.contains(record.key())) {
        keys.add(record.key());
      }
    }
    return keys;
  }

  @Test
  @DisplayName(
      "paging a slice of a store gives exactly the slice's keys in order, each page only"
          + " slice keys, at most keysMax, within the byte bound, and never empty unless it is the"
          + " last (seed printed, -Dcraq.seed)")
  void pagesHoldOnlySliceKeysAndAreNeverEmptyUnlessDone() {
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println("SliceViewTest seed=" + seed + " (replay: -Dcraq.seed=" + seed + ")");
    Random random = new Random(seed);
    for (int round = 0; round < 300; round++) {
      ModelStore model = new ModelStore();
      int keys = random.nextInt(120);
      for (int i = 0; i < keys; i++) {
        String key = "k" + random.nextInt(400);
        if (random.nextInt(4) == 0) {
          model.apply(new PutVersion(version(key, 5, random.nextInt(50)), false));
        } else {
          model.apply(
              new PutVersion(version(key, 1 + random.nextInt(3), random.nextInt(50)), true));
        }
      }
      int chains = 1 + random.nextInt(8);
      ChainSlice slice = new ChainSlice(random.nextInt(chains), chains);
      NarrowStore narrow = new NarrowStore(model, 1 + random.nextInt(5));
      StoreView view = SliceView.of(narrow, slice);
      int keysMax = 1 + random.nextInt(6);
      long bytesSoftMax = 1 + random.nextInt(150);
      String context = "round " + round + ", " + slice + ", keysMax " + keysMax;

      List<String> paged = new ArrayList<>();
      String after = null;
      for (int pages = 0; ; pages++) {
        assertTrue(pages <= keys + 1, "paging ends: " + context);
        KeyPage page = view.readKeys(after, keysMax, bytesSoftMax);
        assertTrue(page.records().size() <= keysMax, "at most keysMax: " + context);
        assertTrue(page.done() || !page.records().isEmpty(), "empty only when done: " + context);
        long bytes = 0;
        for (int i = 0; i < page.records().size(); i++) {
          KeyRecord record = page.records().get(i);
          assertTrue(slice.contains(record.key()), record.key() + " is of the slice: " + context);
          assertTrue(
              i == 0 || bytes < bytesSoftMax,
              "a page stops once its values reach the bound: " + context);
          bytes += KeyPages.valueBytes(record);
          paged.add(record.key());
        }
        if (!page.records().isEmpty()) {
          String last = page.records().get(page.records().size() - 1).key();
          assertTrue(
              KeyOrder.INSTANCE.compare(last, page.resumeAfterKey()) <= 0,
              "resumes at or after its last record: " + context);
        }
        if (page.done()) {
          break;
        }
        after = page.resumeAfterKey();
      }
      assertEquals(sliceKeys(model, slice), paged, "every slice key once, in order: " + context);
    }
  }

  @Test
  @DisplayName(
      "a slice whose keys lie behind many keys of other chains is found in one call, scanning"
          + " as many store pages as it takes, and the page resumes after the last key scanned")
  void scansPastOtherChainsInOneCall() {
    ModelStore model = new ModelStore();
    ChainSlice slice = new ChainSlice(1, 2);
    List<String> others = new ArrayList<>();
    String mine = null;
    for (int i = 0; mine == null || others.size() < 50; i++) {
      String key = String.format("k%04d", i);
      if (slice.contains(key)) {
        if (others.size() >= 50) {
          mine = key;
        }
      } else if (mine == null) {
        others.add(key);
      }
    }
    for (String key : others) {
      model.apply(new PutVersion(version(key, 1, 3), true));
    }
    model.apply(new PutVersion(version(mine, 1, 3), true));
    NarrowStore narrow = new NarrowStore(model, 4);
    StoreView view = SliceView.of(narrow, slice);

    KeyPage page = view.readKeys(null, 10, Long.MAX_VALUE);
    assertEquals(List.of(mine), page.records().stream().map(KeyRecord::key).toList());
    assertTrue(page.done());
    assertTrue(narrow.pagesRead > 10, "it read on past one store page: " + narrow.pagesRead);

    KeyPage none =
        SliceView.of(model, new ChainSlice(0, 2)).readKeys(others.get(others.size() - 1), 10, 100);
    assertTrue(none.records().isEmpty() && none.done(), "nothing of chain 0 after the last one");
    assertEquals(mine, none.resumeAfterKey(), "resumes after the last key scanned");
  }

  @Test
  @DisplayName(
      "a page full of keys stops at the last key it took: the next page starts right after it")
  void fullPageResumesAtItsLastRecord() {
    ModelStore model = new ModelStore();
    ChainSlice slice = new ChainSlice(0, 3);
    List<String> mine = new ArrayList<>();
    for (int i = 0; mine.size() < 5; i++) {
      String key = "key" + i;
      model.apply(new PutVersion(version(key, 1, 1), true));
      if (slice.contains(key)) {
        mine.add(key);
      }
    }
    StoreView view = SliceView.of(model, slice);
    List<String> expected = sliceKeys(model, slice);
    KeyPage first = view.readKeys(null, 2, Long.MAX_VALUE);
    assertEquals(expected.subList(0, 2), first.records().stream().map(KeyRecord::key).toList());
    assertFalse(first.done());
    assertEquals(expected.get(1), first.resumeAfterKey());
    KeyPage second = view.readKeys(first.resumeAfterKey(), 2, Long.MAX_VALUE);
    assertEquals(expected.subList(2, 4), second.records().stream().map(KeyRecord::key).toList());
  }

  @Test
  @DisplayName(
      "lookups of one key pass through; the view of every key is the store itself; bad bounds"
          + " are refused")
  void lookupsPassThrough() {
    ModelStore model = new ModelStore();
    String key = "a";
    int chainOfKey = KeySlots.chainOf(key, 4);
    ChainSlice other = new ChainSlice((chainOfKey + 1) % 4, 4);
    model.apply(new PutVersion(version(key, 3, 2), true));
    StoreView view = SliceView.of(model, other);
    assertEquals(3, view.committedVersion(key));
    assertEquals(3, view.committedRecord(key).version());
    assertNull(view.committedRecord("absent"));
    assertSame(model, SliceView.of(model, ChainSlice.ALL));
    assertSame(view, SliceView.of(view, other));
    assertThrows(
        IllegalArgumentException.class,
        () -> SliceView.of(view, new ChainSlice(chainOfKey, 4)),
        "a view of one chain cannot show another");
    assertThrows(IllegalArgumentException.class, () -> view.readKeys(null, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> view.readKeys(null, 1, 0));
  }
}

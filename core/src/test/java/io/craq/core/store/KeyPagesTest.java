package io.craq.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class KeyPagesTest {
  private static KeyRecord record(String key, long version) {
    return new KeyRecord(
        key,
        new VersionRecord(key, version, false, key.getBytes(StandardCharsets.UTF_8)),
        List.of());
  }

  @Test
  @DisplayName(
      "paging a store with newer state laid over it, page by page, gives exactly the "
          + "merged key set: newer state wins, hidden keys vanish, nothing is skipped or repeated "
          + "(seed printed, -Dcraq.seed)")
  void pagesOfAnOverlayEqualTheMergedSet() {
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println("KeyPagesTest seed=" + seed + " (replay: -Dcraq.seed=" + seed + ")");
    Random random = new Random(seed);
    for (int round = 0; round < 500; round++) {
      ModelStore below = new ModelStore();
      TreeMap<String, Long> above = new TreeMap<>(KeyOrder.INSTANCE); // 0 = hidden
      TreeMap<String, KeyRecord> expected = new TreeMap<>(KeyOrder.INSTANCE);
      for (int i = 0; i < random.nextInt(30); i++) {
        String key = "k" + random.nextInt(40);
        below.apply(new io.craq.core.Effects.PutVersion(record(key, 1).committed(), true));
        expected.put(key, record(key, 1));
      }
      for (int i = 0; i < random.nextInt(20); i++) {
        String key = "k" + random.nextInt(40);
        long version = random.nextInt(3) == 0 ? 0 : 2;
        above.put(key, version);
        if (version == 0) {
          expected.remove(key);
        } else {
          expected.put(key, record(key, version));
        }
      }
      int keysMax = 1 + random.nextInt(7);
      List<KeyRecord> paged = new ArrayList<>();
      String after = null;
      for (int pages = 0; ; pages++) {
        KeyPage page =
            KeyPages.overlay(
                below.readKeys(after, keysMax, Long.MAX_VALUE),
                after,
                above.navigableKeySet(),
                key -> above.get(key) == 0 ? null : record(key, above.get(key)),
                keysMax,
                Long.MAX_VALUE);
        assertEquals(true, page.records().size() <= keysMax, "seed " + seed);
        paged.addAll(page.records());
        if (page.done()) {
          break;
        }
        after = page.resumeAfterKey();
        assertEquals(true, pages < 100, "seed " + seed + ": paging does not end");
      }
      assertEquals(new ArrayList<>(expected.values()), paged, "seed " + seed + " round " + round);
    }
  }
}

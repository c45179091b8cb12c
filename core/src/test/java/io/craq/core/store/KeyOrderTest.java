package io.craq.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class KeyOrderTest {
  @Test
  @DisplayName("KeyOrder equals unsigned UTF-8 byte order (LMDB's order); seed printed")
  void matchesUtf8ByteOrder() {
    long seed = Long.getLong("craq.store.seed", System.nanoTime());
    System.out.println("KeyOrderTest seed=" + seed + " (replay: -Dcraq.store.seed=" + seed + ")");
    Random random = new Random(seed);
    int[] alphabet = {
      'a', 'b', 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x1f600, 0x10ffff
    };
    for (int i = 0; i < 20_000; i++) {
      String a = randomKey(random, alphabet);
      String b = randomKey(random, alphabet);
      int expected =
          Integer.signum(
              Arrays.compareUnsigned(
                  a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
      assertEquals(
          expected,
          Integer.signum(KeyOrder.INSTANCE.compare(a, b)),
          "seed " + seed + ": " + a + " vs " + b);
    }
  }

  private static String randomKey(Random random, int[] alphabet) {
    StringBuilder key = new StringBuilder();
    int length = random.nextInt(4);
    for (int i = 0; i < length; i++) {
      key.appendCodePoint(alphabet[random.nextInt(alphabet.length)]);
    }
    return key.toString();
  }
}

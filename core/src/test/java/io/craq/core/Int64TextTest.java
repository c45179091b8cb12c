package io.craq.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Integers as Redis reads them for INCR: the exact set of texts accepted. */
class Int64TextTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0",
        "1",
        "-1",
        "10",
        "123456789",
        "9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775807"
      })
  @DisplayName("canonical decimal integers of the 64-bit range are read")
  void accepted(String text) {
    assertEquals(Long.parseLong(text), Int64Text.parse(text));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "-",
        "+1",
        " 1",
        "1 ",
        "01",
        "00",
        "-0",
        "-01",
        "1.0",
        "1e3",
        "0x1",
        "--1",
        "1-",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
        "00000000000000000001",
        "123456789012345678901",
        "\u0661",
        "1\u0000"
      })
  @DisplayName(
      "empty, signs other than one leading '-', spaces, leading zeros, '-0', non-digits and"
          + " values outside the 64-bit range are refused with Redis's wording")
  void refused(String text) {
    NumberFormatException e =
        assertThrows(NumberFormatException.class, () -> Int64Text.parse(text));
    assertEquals("value is not an integer or out of range", e.getMessage());
  }

  @Test
  @DisplayName("an offset and length read only that part of the bytes")
  void slice() {
    byte[] bytes = "x-42y".getBytes(StandardCharsets.US_ASCII);
    assertEquals(-42, Int64Text.parse(bytes, 1, 3));
    assertThrows(NumberFormatException.class, () -> Int64Text.parse(bytes, 1, 4));
  }

  @Test
  @DisplayName("every long's text reads back as itself (random longs; seed printed)")
  void roundTrip() {
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println(
        "Int64TextTest.roundTrip seed=" + seed + " (replay: -Dcraq.seed=" + seed + ")");
    Random random = new Random(seed);
    for (int i = 0; i < 10_000; i++) {
      long value = random.nextLong() >> random.nextInt(64);
      byte[] text = Int64Text.format(value);
      assertArrayEquals(Long.toString(value).getBytes(StandardCharsets.US_ASCII), text);
      assertEquals(value, Int64Text.parse(text), "seed " + seed);
    }
  }
}

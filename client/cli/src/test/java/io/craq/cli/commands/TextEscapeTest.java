package io.craq.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The escaping of {@code craq readall}'s text lines. */
class TextEscapeTest {
  @Test
  @DisplayName("UTF-8 text stays; \\, tab, newline, CR, control characters and bad bytes escape")
  void cases() {
    assertEquals("plain é ü 日本 😀", TextEscape.escape("plain é ü 日本 😀"));
    assertEquals("a\\tb\\nc\\rd\\\\e", TextEscape.escape("a\tb\nc\rd\\e"));
    assertEquals("\\x00\\x1b\\x7f", TextEscape.escape(new byte[] {0, 0x1b, 0x7f}));
    assertEquals("\\xff\\xc3x", TextEscape.escape(new byte[] {(byte) 0xff, (byte) 0xc3, 'x'}));
    assertEquals("", TextEscape.escape(new byte[0]));
  }

  @Test
  @DisplayName("random bytes: one line, no replacement characters, and reversible")
  void randomBytes() {
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println(
        "TextEscapeTest.randomBytes seed=" + seed + " (replay: -Dcraq.seed=" + seed + ")");
    Random random = new Random(seed);
    for (int i = 0; i < 2_000; i++) {
      byte[] bytes = new byte[random.nextInt(40)];
      random.nextBytes(bytes);
      String escaped = TextEscape.escape(bytes);
      assertFalse(
          escaped.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == 0xfffd),
          "seed " + seed + ": " + escaped);
      assertEquals(
          new String(bytes, StandardCharsets.ISO_8859_1),
          new String(unescape(escaped), StandardCharsets.ISO_8859_1),
          "seed " + seed);
    }
  }

  /** The inverse, to show nothing is lost. */
  private static byte[] unescape(String escaped) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < escaped.length(); i++) {
      char c = escaped.charAt(i);
      if (c != '\\') {
        int end = Character.isHighSurrogate(c) ? i + 2 : i + 1;
        out.writeBytes(escaped.substring(i, end).getBytes(StandardCharsets.UTF_8));
        i = end - 1;
        continue;
      }
      char kind = escaped.charAt(++i);
      switch (kind) {
        case 't' -> out.write('\t');
        case 'n' -> out.write('\n');
        case 'r' -> out.write('\r');
        case '\\' -> out.write('\\');
        case 'x' -> {
          out.write(Integer.parseInt(escaped.substring(i + 1, i + 3), 16));
          i += 2;
        }
        default -> throw new AssertionError("bad escape \\" + kind);
      }
    }
    return out.toByteArray();
  }
}

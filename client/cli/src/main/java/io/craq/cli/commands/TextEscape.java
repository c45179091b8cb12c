package io.craq.cli.commands;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Keys and values as one line of text, for {@code craq readall}: UTF-8 text stays as it is, except
 * {@code \} as {@code \\}, tab, newline and carriage return as {@code \t}, {@code \n}, {@code \r},
 * other control characters and every byte that is not part of valid UTF-8 as {@code \xHH}. Nothing
 * is lost: the original bytes can be read back from the escaped form.
 */
final class TextEscape {
  private TextEscape() {}

  static String escape(String text) {
    return escape(text.getBytes(StandardCharsets.UTF_8));
  }

  static String escape(byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer chars = CharBuffer.allocate(Math.max(16, bytes.length));
    StringBuilder out = new StringBuilder(bytes.length + 8);
    while (true) {
      CoderResult result = decoder.decode(in, chars, true);
      chars.flip();
      while (chars.hasRemaining()) {
        appendChar(out, chars.get());
      }
      chars.clear();
      if (result.isError()) {
        for (int i = 0; i < result.length(); i++) {
          appendByte(out, in.get());
        }
      } else if (result.isUnderflow()) {
        return out.toString();
      }
    }
  }

  private static void appendChar(StringBuilder out, char c) {
    switch (c) {
      case '\\' -> out.append("\\\\");
      case '\t' -> out.append("\\t");
      case '\n' -> out.append("\\n");
      case '\r' -> out.append("\\r");
      default -> {
        if (c < 0x20 || c == 0x7f) {
          appendByte(out, (byte) c);
        } else {
          out.append(c);
        }
      }
    }
  }

  private static void appendByte(StringBuilder out, byte b) {
    out.append(String.format("\\x%02x", b & 0xff));
  }
}

package io.craq.transport;

import io.craq.core.Limits;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Bounds-checked big-endian reader over one frame body. Every length and count is checked against
 * the bytes that remain before anything is allocated; violations throw a non-fatal {@link
 * ProtocolException}. Not thread-safe.
 */
final class ByteReader {
  private final byte[] bytes;
  private int position;
  private final int limit;

  ByteReader(byte[] bytes, int offset, int length) {
    this.bytes = bytes;
    this.position = offset;
    this.limit = offset + length;
  }

  int remaining() {
    return limit - position;
  }

  private void need(int count, String what) {
    if (count > limit - position) {
      throw ProtocolException.invalid(
          "truncated body: " + what + " needs " + count + " bytes, " + remaining() + " remain");
    }
  }

  int u8(String what) {
    need(1, what);
    return bytes[position++] & 0xff;
  }

  boolean bool(String what) {
    int v = u8(what);
    if (v > 1) {
      throw ProtocolException.invalid(what + ": boolean byte must be 0 or 1, got " + v);
    }
    return v == 1;
  }

  int u16(String what) {
    need(2, what);
    int v = ((bytes[position] & 0xff) << 8) | (bytes[position + 1] & 0xff);
    position += 2;
    return v;
  }

  int i32(String what) {
    need(4, what);
    int v = Frames.readInt(bytes, position);
    position += 4;
    return v;
  }

  long i64(String what) {
    need(8, what);
    long v = Frames.readLong(bytes, position);
    position += 8;
    return v;
  }

  /** A length prefix in 0..min(remaining, max). */
  private int length(String what, int max) {
    int n = i32(what + " length");
    if (n < 0) {
      throw ProtocolException.invalid(what + ": negative length " + n);
    }
    if (n > max) {
      throw ProtocolException.invalid(what + " is " + n + " bytes, the limit is " + max);
    }
    need(n, what);
    return n;
  }

  byte[] bytes(String what, int max) {
    int n = length(what, max);
    byte[] v = Arrays.copyOfRange(bytes, position, position + n);
    position += n;
    return v;
  }

  String string(String what, int max) {
    int n = length(what, max);
    String s = utf8(position, n, what);
    position += n;
    return s;
  }

  /** A key: checked with {@link Limits#checkKey}. */
  String key(String what) {
    String key = string(what, Limits.KEY_BYTES_MAX);
    try {
      Limits.checkKey(key);
    } catch (Limits.InvalidInputException e) {
      throw ProtocolException.invalid(what + ": " + e.getMessage());
    }
    return key;
  }

  /** A list count whose elements take at least {@code elementBytesMin} bytes each. */
  int count(String what, int elementBytesMin) {
    int n = i32(what + " count");
    if (n < 0) {
      throw ProtocolException.invalid(what + ": negative count " + n);
    }
    if ((long) n * elementBytesMin > remaining()) {
      throw ProtocolException.invalid(
          what + ": count " + n + " cannot fit in the " + remaining() + " bytes that remain");
    }
    return n;
  }

  void end() {
    if (position != limit) {
      throw ProtocolException.invalid(remaining() + " unexpected bytes after the message");
    }
  }

  private String utf8(int offset, int length, String what) {
    boolean ascii = true;
    for (int i = offset; i < offset + length; i++) {
      if (bytes[i] < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, offset, length))
          .toString();
    } catch (CharacterCodingException e) {
      throw ProtocolException.invalid(what + " is not valid UTF-8");
    }
  }
}

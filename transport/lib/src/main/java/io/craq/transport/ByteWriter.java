package io.craq.transport;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable big-endian byte buffer for encoding. Not thread-safe. */
final class ByteWriter {
  private byte[] bytes;
  private int length;
  private final int bytesMax;

  ByteWriter(int initialBytes, int bytesMax) {
    this.bytes = new byte[Math.min(initialBytes, bytesMax)];
    this.bytesMax = bytesMax;
  }

  int length() {
    return length;
  }

  byte[] array() {
    return bytes;
  }

  /** Empties the buffer for the next message, keeping its capacity. */
  void reset() {
    length = 0;
  }

  int capacity() {
    return bytes.length;
  }

  /** A copy of the bytes written, at their exact length. */
  byte[] copy() {
    return Arrays.copyOf(bytes, length);
  }

  byte[] toByteArray() {
    return length == bytes.length ? bytes : Arrays.copyOf(bytes, length);
  }

  void skip(int count) {
    ensure(count);
    length += count;
  }

  private void ensure(int extra) {
    long needed = (long) length + extra;
    if (needed > bytesMax) {
      throw new MessageTooLargeException(
          "message needs more than " + bytesMax + " bytes (frameBytesMax)");
    }
    if (needed > bytes.length) {
      long grown = Math.max(needed, Math.min((long) bytes.length * 2, bytesMax));
      bytes = Arrays.copyOf(bytes, (int) Math.max(grown, 16));
    }
  }

  void u8(int v) {
    ensure(1);
    bytes[length++] = (byte) v;
  }

  void bool(boolean v) {
    u8(v ? 1 : 0);
  }

  void u16(int v) {
    ensure(2);
    bytes[length++] = (byte) (v >>> 8);
    bytes[length++] = (byte) v;
  }

  void i32(int v) {
    ensure(4);
    Frames.writeInt(bytes, length, v);
    length += 4;
  }

  void i64(long v) {
    ensure(8);
    Frames.writeLong(bytes, length, v);
    length += 8;
  }

  void bytes(byte[] v) {
    i32(v.length);
    ensure(v.length);
    System.arraycopy(v, 0, bytes, length, v.length);
    length += v.length;
  }

  void string(String s) {
    bytes(s.getBytes(StandardCharsets.UTF_8));
  }
}

package io.craq.core;

import java.nio.charset.StandardCharsets;

/**
 * Size limits on keys and values, shared by every module so a request that one layer accepts is
 * never refused by another.
 */
public final class Limits {
  private Limits() {}

  /** LMDB's maximum key size; every store enforces it so stores stay interchangeable. */
  public static final int KEY_BYTES_MAX = 511;

  /**
   * Most keys in one multi-key write. Every version of such a write carries the list of all of
   * them, so the bound keeps a write's versions within a frame.
   */
  public static final int MULTI_WRITE_KEYS_MAX = 16;

  /** Default largest value (1 MiB); configurable per process. */
  public static final int VALUE_BYTES_MAX_DEFAULT = 1 << 20;

  /**
   * Checks a key from outside: non-empty and at most {@link #KEY_BYTES_MAX} bytes of UTF-8.
   *
   * @throws InvalidInputException with a message that says what is wrong
   */
  public static void checkKey(String key) {
    if (key == null) {
      throw new InvalidInputException("key must not be null");
    }
    if (key.isEmpty()) {
      throw new InvalidInputException("key must not be empty");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < key.length()
          && Character.isLowSurrogate(key.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        // UTF-8 cannot encode it: it would become '?' and collide with other keys.
        throw new InvalidInputException(
            "key has an unpaired surrogate at index " + i + " and is not valid UTF-8");
      }
    }
    int bytes = utf8Length(key);
    if (bytes > KEY_BYTES_MAX) {
      throw new InvalidInputException(
          "key is " + bytes + " bytes of UTF-8, the limit is " + KEY_BYTES_MAX);
    }
  }

  /**
   * Checks a value from outside against {@code valueBytesMax}.
   *
   * @throws InvalidInputException if null or too large
   */
  public static void checkValue(byte[] value, int valueBytesMax) {
    if (value == null) {
      throw new InvalidInputException("value must not be null (use a delete to remove a key)");
    }
    if (value.length > valueBytesMax) {
      throw new InvalidInputException(
          "value is " + value.length + " bytes, the limit is " + valueBytesMax);
    }
  }

  /** UTF-8 length of {@code s} without allocating. */
  public static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** Key bytes as stored and sent on the wire. */
  public static byte[] keyBytes(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  /** Bad input from a user or peer: refused with a clear message, never fatal. */
  public static final class InvalidInputException extends IllegalArgumentException {
    public InvalidInputException(String message) {
      super(message);
    }
  }
}

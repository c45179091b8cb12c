package io.craq.core;

import java.nio.charset.StandardCharsets;

/**
 * Signed 64-bit integers as decimal text, the way Redis reads a value it increments: an optional
 * {@code '-'} then digits, the first of them not {@code '0'} unless the text is exactly {@code
 * "0"}; no spaces, no {@code '+'}, no {@code "-0"}, at most {@link #BYTES_MAX} bytes, and within
 * {@code [Long.MIN_VALUE, Long.MAX_VALUE]}. Every such text is what {@link Long#toString(long)}
 * gives for its value, so a value reads back exactly as it was written.
 */
public final class Int64Text {
  private Int64Text() {}

  /** The longest valid text: {@code "-9223372036854775808"}. */
  public static final int BYTES_MAX = 20;

  /** The refusal of a value that is not such an integer (Redis's wording). */
  public static final String NOT_AN_INTEGER = "value is not an integer or out of range";

  /** The refusal of an increment whose result does not fit (Redis's wording). */
  public static final String OVERFLOW = "increment or decrement would overflow";

  /**
   * The integer {@code bytes} spells.
   *
   * @throws NumberFormatException if it is not a valid integer text (see the class comment)
   */
  public static long parse(byte[] bytes) {
    return parse(bytes, 0, bytes.length);
  }

  /** As {@link #parse(byte[])}, for {@code bytes[offset, offset + length)}. */
  public static long parse(byte[] bytes, int offset, int length) {
    if (length == 0 || length > BYTES_MAX) {
      throw new NumberFormatException(NOT_AN_INTEGER);
    }
    int i = offset;
    int end = offset + length;
    boolean negative = bytes[i] == '-';
    if (negative) {
      i++;
    }
    if (i == end) {
      throw new NumberFormatException(NOT_AN_INTEGER);
    }
    if (bytes[i] == '0') {
      if (length == 1) {
        return 0;
      }
      throw new NumberFormatException(NOT_AN_INTEGER); // a leading zero, or "-0"
    }
    // Accumulate negatively: the range of negative longs is the larger one.
    long result = 0;
    for (; i < end; i++) {
      int digit = bytes[i] - '0';
      if (digit < 0 || digit > 9) {
        throw new NumberFormatException(NOT_AN_INTEGER);
      }
      if (result < Long.MIN_VALUE / 10) {
        throw new NumberFormatException(NOT_AN_INTEGER);
      }
      result *= 10;
      if (result < Long.MIN_VALUE + digit) {
        throw new NumberFormatException(NOT_AN_INTEGER);
      }
      result -= digit;
    }
    if (negative) {
      return result;
    }
    if (result == Long.MIN_VALUE) {
      throw new NumberFormatException(NOT_AN_INTEGER);
    }
    return -result;
  }

  /** As {@link #parse(byte[])}, for the UTF-8 bytes of {@code text}. */
  public static long parse(String text) {
    return parse(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The text of {@code value}: ASCII digits with a leading {@code '-'} if negative. */
  public static byte[] format(long value) {
    return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
  }
}

package io.craq.node.redis;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Writes {@link Resp} reply values in RESP2 or RESP3 to a buffer. */
final class RespWriter {
  private static final byte[] CRLF = {'\r', '\n'};
  private final ByteBuf out;
  private final byte[] digits = new byte[20];

  RespWriter(ByteBuf out) {
    this.out = out;
  }

  /** The bytes {@code reply} takes when written, near enough to account for held replies. */
  static long size(Object reply) {
    return switch (reply) {
      case byte[] bytes -> bytes.length + 16L;
      case List<?> list -> {
        long n = 16;
        for (Object element : list) {
          n += size(element);
        }
        yield n;
      }
      case Map<?, ?> map -> {
        long n = 16;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
          n += size(entry.getKey()) + size(entry.getValue());
        }
        yield n;
      }
      case String text -> 16L + 3L * text.length();
      case Resp.Simple s -> 16L + 3L * s.text().length();
      case Resp.Err e -> 16L + 3L * e.text().length();
      case null, default -> 24;
    };
  }

  void write(Object reply, int protocol) {
    switch (reply) {
      case null -> out.writeBytes(protocol >= 3 ? new byte[] {'_', '\r', '\n'} : NULL_BULK);
      case Resp.Simple s -> line('+', s.text());
      case Resp.Err e -> line('-', e.text());
      case Long n -> number(':', n);
      case Integer n -> number(':', n);
      case byte[] bytes -> {
        number('$', bytes.length);
        out.writeBytes(bytes);
        out.writeBytes(CRLF);
      }
      case String text -> write(text.getBytes(StandardCharsets.UTF_8), protocol);
      case List<?> list -> {
        number('*', list.size());
        for (Object element : list) {
          write(element, protocol);
        }
      }
      case Map<?, ?> map -> {
        if (protocol >= 3) {
          number('%', map.size());
        } else {
          number('*', 2L * map.size());
        }
        for (Map.Entry<?, ?> entry : map.entrySet()) {
          write(entry.getKey(), protocol);
          write(entry.getValue(), protocol);
        }
      }
      default -> {
        if (reply == Resp.NULL_ARRAY) {
          out.writeBytes(protocol >= 3 ? new byte[] {'_', '\r', '\n'} : NULL_ARRAY);
        } else {
          throw new IllegalArgumentException("not a reply value: " + reply.getClass());
        }
      }
    }
  }

  private static final byte[] NULL_BULK = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL_ARRAY = "*-1\r\n".getBytes(StandardCharsets.US_ASCII);

  /** A status or error line; CR and LF, which would end it early, become spaces. */
  private void line(char type, String text) {
    out.writeByte(type);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\r' || bytes[i] == '\n') {
        bytes[i] = ' ';
      }
    }
    out.writeBytes(bytes);
    out.writeBytes(CRLF);
  }

  private void number(char type, long value) {
    out.writeByte(type);
    if (value == Long.MIN_VALUE) {
      out.writeBytes(Long.toString(value).getBytes(StandardCharsets.US_ASCII));
    } else {
      long v = value;
      if (v < 0) {
        out.writeByte('-');
        v = -v;
      }
      int i = digits.length;
      do {
        digits[--i] = (byte) ('0' + v % 10);
        v /= 10;
      } while (v != 0);
      out.writeBytes(digits, i, digits.length - i);
    }
    out.writeBytes(CRLF);
  }
}

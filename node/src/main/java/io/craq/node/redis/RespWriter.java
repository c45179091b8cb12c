package io.craq.node.redis;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Writes {@link Resp} reply values in RESP2 or RESP3 to a (buffered) stream. */
final class RespWriter {
  private static final byte[] CRLF = {'\r', '\n'};
  private final OutputStream out;
  private final byte[] digits = new byte[20];

  RespWriter(OutputStream out) {
    this.out = out;
  }

  void write(Object reply, int protocol) throws IOException {
    switch (reply) {
      case null -> out.write(protocol >= 3 ? new byte[] {'_', '\r', '\n'} : NULL_BULK);
      case Resp.Simple s -> line('+', s.text());
      case Resp.Err e -> line('-', e.text());
      case Long n -> number(':', n);
      case Integer n -> number(':', n);
      case byte[] bytes -> {
        number('$', bytes.length);
        out.write(bytes);
        out.write(CRLF);
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
          out.write(protocol >= 3 ? new byte[] {'_', '\r', '\n'} : NULL_ARRAY);
        } else {
          throw new IllegalArgumentException("not a reply value: " + reply.getClass());
        }
      }
    }
  }

  void flush() throws IOException {
    out.flush();
  }

  private static final byte[] NULL_BULK = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL_ARRAY = "*-1\r\n".getBytes(StandardCharsets.US_ASCII);

  /** A status or error line; CR and LF, which would end it early, become spaces. */
  private void line(char type, String text) throws IOException {
    out.write(type);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\r' || bytes[i] == '\n') {
        bytes[i] = ' ';
      }
    }
    out.write(bytes);
    out.write(CRLF);
  }

  private void number(char type, long value) throws IOException {
    out.write(type);
    if (value == Long.MIN_VALUE) {
      out.write(Long.toString(value).getBytes(StandardCharsets.US_ASCII));
    } else {
      long v = value;
      if (v < 0) {
        out.write('-');
        v = -v;
      }
      int i = digits.length;
      do {
        digits[--i] = (byte) ('0' + v % 10);
        v /= 10;
      } while (v != 0);
      out.write(digits, i, digits.length - i);
    }
    out.write(CRLF);
  }
}

package io.craq.node.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The RESP parser and writer, and the glob patterns, without a network. */
class RespReaderTest {
  private static RespReader reader(String input) {
    return reader(input.getBytes(UTF_8), false);
  }

  /** {@code trickle}: the stream hands out one byte per read, as a slow network might. */
  private static RespReader reader(byte[] input, boolean trickle) {
    InputStream in = new ByteArrayInputStream(input);
    if (trickle) {
      InputStream whole = in;
      in =
          new InputStream() {
            @Override
            public int read() throws IOException {
              return whole.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              return whole.read(b, off, Math.min(len, 1));
            }
          };
    }
    return new RespReader(in, 1024, 8, 2048);
  }

  private static List<String> words(List<byte[]> args) {
    List<String> out = new ArrayList<>();
    args.forEach(a -> out.add(new String(a, UTF_8)));
    return out;
  }

  private static List<List<String>> readAll(RespReader reader) throws IOException {
    List<List<String>> commands = new ArrayList<>();
    List<byte[]> args;
    while ((args = reader.read(() -> {})) != null) {
      commands.add(words(args));
    }
    return commands;
  }

  @Test
  @DisplayName("arrays of bulk strings, pipelined, whole or a byte at a time; inline commands")
  void parses() throws Exception {
    String input =
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\nb\0\r\n"
            + "*2\r\n$3\r\nGET\r\n$0\r\n\r\n"
            + "PING\r\n"
            + "set \"a b\" 'c\\'d' \"\\x41\\n\"\n"
            + "\r\n"
            + "*0\r\n";
    List<List<String>> expected =
        List.of(
            List.of("SET", "k", "a\r\nb\0"),
            List.of("GET", ""),
            List.of("PING"),
            List.of("set", "a b", "c'd", "A\n"),
            List.of(),
            List.of());
    assertEquals(expected, readAll(reader(input)));
    assertEquals(expected, readAll(reader(input.getBytes(UTF_8), true)));
  }

  @Test
  @DisplayName("the reader asks to flush replies only before it would block")
  void flushesBeforeBlocking() throws Exception {
    int[] flushes = {0};
    RespReader reader = reader("PING\r\nPING\r\n");
    assertEquals(List.of("PING"), words(reader.read(() -> flushes[0]++)));
    assertEquals(List.of("PING"), words(reader.read(() -> flushes[0]++)));
    assertEquals(0, flushes[0], "input was available: the reader did not wait");
    assertNull(reader.read(() -> flushes[0]++));
    assertEquals(1, flushes[0], "the stream had nothing more: the reader flushed, then waited");
  }

  @Test
  @DisplayName("malformed input and input over the limits are refused with a reason")
  void refuses() {
    Map<String, String> cases =
        Map.of(
            "*1\r\n$-5\r\n",
            "invalid bulk length -5",
            "*1\r\n$1073741824\r\n",
            "bulk string of 1073741824 bytes, the limit is 1024",
            "*9\r\n",
            "array of 9 elements, the limit is 8",
            "*1\r\n:1\r\n",
            "expected '$'",
            "*x\r\n",
            "invalid multibulk length",
            "*1\r\n$1\r\nab\r\n",
            "not followed by CRLF",
            "*1\r\n$99999999999999999999999\r\n",
            "invalid bulk length",
            "*3\r\n$1000\r\n"
                + "a".repeat(1000)
                + "\r\n$1000\r\n"
                + "b".repeat(1000)
                + "\r\n$1000\r\n",
            "more than 2048 bytes",
            "set \"a\r\n",
            "unbalanced quotes");
    cases.forEach((input, reason) -> {
      RespProtocolException e =
          assertThrows(RespProtocolException.class, () -> readAll(reader(input)), input);
      assertTrue(e.getMessage().contains(reason), input + " -> " + e.getMessage());
    });
    RespProtocolException inline =
        assertThrows(
            RespProtocolException.class,
            () -> readAll(reader("x".repeat(RespReader.INLINE_BYTES_MAX + 1))));
    assertTrue(inline.getMessage().contains("too big inline"), inline.getMessage());
  }

  @Test
  @DisplayName(
      "a bulk string larger than the read buffer arrives whole; one announced but not sent ends"
          + " the stream inside it")
  void largeBulkStrings() throws Exception {
    byte[] value = new byte[100_000];
    new java.util.Random(7).nextBytes(value);
    byte[] header = ("*2\r\n$3\r\nSET\r\n$" + value.length + "\r\n").getBytes(UTF_8);
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    frame.write(header);
    frame.write(value);
    frame.write("\r\n".getBytes(UTF_8));
    RespReader reader =
        new RespReader(new ByteArrayInputStream(frame.toByteArray()), 200_000, 8, 400_000);
    List<byte[]> args = reader.read(() -> {});
    assertEquals("SET", new String(args.get(0), UTF_8));
    assertArrayEquals(value, args.get(1));

    RespReader announcedOnly =
        new RespReader(new ByteArrayInputStream(header), 200_000, 8, 400_000);
    assertThrows(EOFException.class, () -> announcedOnly.read(() -> {}));
  }

  @Test
  @DisplayName("a stream that ends inside a command is an EOF, not a command")
  void halfFrames() {
    for (String half : List.of("*2\r\n$3\r\nGET\r\n", "*1\r\n$5\r\nab", "*1\r", "PIN")) {
      assertThrows(EOFException.class, () -> readAll(reader(half)), half);
    }
  }

  @Test
  @DisplayName("replies in RESP2 and RESP3; CR and LF never end an error line early")
  void writes() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RespWriter writer = new RespWriter(out);
    writer.write(Resp.OK, 2);
    writer.write(new Resp.Err("ERR a\r\nb"), 2);
    writer.write(-42L, 2);
    writer.write(Resp.bulk("hé"), 2);
    writer.write(null, 2);
    writer.write(null, 3);
    writer.write(Resp.array(Resp.bulk("a"), null), 2);
    writer.write(Resp.map(Resp.bulk("k"), 1L), 2);
    writer.write(Resp.map(Resp.bulk("k"), 1L), 3);
    writer.write(Resp.NULL_ARRAY, 2);
    writer.flush();
    assertEquals(
        "+OK\r\n-ERR a  b\r\n:-42\r\n$3\r\nhé\r\n$-1\r\n_\r\n*2\r\n$1\r\na\r\n$-1\r\n"
            + "*2\r\n$1\r\nk\r\n:1\r\n%1\r\n$1\r\nk\r\n:1\r\n*-1\r\n",
        out.toString(UTF_8));
  }

  @Test
  @DisplayName("glob patterns as Redis matches them")
  void globs() {
    assertTrue(Glob.matches("*", "anything"));
    assertTrue(Glob.matches("user:*:name", "user:42:name"));
    assertFalse(Glob.matches("user:*:name", "user:42:mail"));
    assertTrue(Glob.matches("h?llo", "hello"));
    assertTrue(Glob.matches("h[ae]llo", "hallo"));
    assertFalse(Glob.matches("h[^e]llo", "hello"));
    assertTrue(Glob.matches("h[a-c]llo", "hbllo"));
    assertTrue(Glob.matches("a\\*b", "a*b"));
    assertFalse(Glob.matches("a\\*b", "axb"));
    assertFalse(Glob.matches("*a*a*a*a*a*a*a*a*b", "a".repeat(5000)), "no blow-up");
  }
}

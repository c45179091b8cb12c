package io.craq.node.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The RESP parser and writer, and the glob patterns, without a network. */
class RespReaderTest {
  /** A stream of bytes fed to a reader in chunks, as reads of a connection bring them. */
  private static final class Feed {
    final RespReader reader;
    final ByteBuf buffer = Unpooled.buffer();

    Feed(RespReader reader) {
      this.reader = reader;
    }

    /** Feeds {@code input} whole, or a byte at a time ({@code trickle}); the commands it held. */
    List<List<String>> feed(byte[] input, boolean trickle) throws RespProtocolException {
      List<List<String>> commands = new ArrayList<>();
      int step = trickle ? 1 : Math.max(1, input.length);
      for (int i = 0; i < input.length; i += step) {
        buffer.writeBytes(input, i, Math.min(step, input.length - i));
        List<byte[]> args;
        while ((args = reader.next(buffer)) != null) {
          commands.add(words(args));
        }
        buffer.discardReadBytes();
      }
      return commands;
    }

    boolean inCommand() {
      return reader.inCommand(buffer);
    }
  }

  private static Feed feed() {
    return new Feed(new RespReader(1024, 8, 2048));
  }

  private static List<String> words(List<byte[]> args) {
    List<String> out = new ArrayList<>();
    args.forEach(a -> out.add(new String(a, UTF_8)));
    return out;
  }

  private static List<List<String>> readAll(String input) throws RespProtocolException {
    return feed().feed(input.getBytes(UTF_8), false);
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
    Feed whole = feed();
    assertEquals(expected, whole.feed(input.getBytes(UTF_8), false));
    assertFalse(whole.inCommand());
    Feed trickled = feed();
    assertEquals(expected, trickled.feed(input.getBytes(UTF_8), true));
    assertFalse(trickled.inCommand());
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
          assertThrows(RespProtocolException.class, () -> readAll(input), input);
      assertTrue(e.getMessage().contains(reason), input + " -> " + e.getMessage());
    });
    RespProtocolException inline =
        assertThrows(
            RespProtocolException.class,
            () -> readAll("x".repeat(RespReader.INLINE_BYTES_MAX + 1)));
    assertTrue(inline.getMessage().contains("too big inline"), inline.getMessage());
  }

  @Test
  @DisplayName(
      "a bulk string larger than one read arrives whole, taken as it comes; one announced but not"
          + " sent leaves the reader waiting inside the command")
  void largeBulkStrings() throws Exception {
    byte[] value = new byte[100_000];
    new java.util.Random(7).nextBytes(value);
    byte[] header = ("*2\r\n$3\r\nSET\r\n$" + value.length + "\r\n").getBytes(UTF_8);
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    frame.write(header);
    frame.write(value);
    frame.write("\r\n".getBytes(UTF_8));
    for (boolean trickle : new boolean[] {false, true}) {
      Feed feed = new Feed(new RespReader(200_000, 8, 400_000));
      ByteBuf buffer = feed.buffer;
      byte[] bytes = frame.toByteArray();
      List<byte[]> args = null;
      for (int i = 0; i < bytes.length && args == null; i += trickle ? 1000 : bytes.length) {
        buffer.writeBytes(bytes, i, Math.min(trickle ? 1000 : bytes.length, bytes.length - i));
        args = feed.reader.next(buffer);
        assertTrue(buffer.readableBytes() < 1000, "the bulk string's bytes are taken as they come");
        buffer.discardReadBytes();
      }
      assertEquals("SET", new String(args.get(0), UTF_8));
      assertArrayEquals(value, args.get(1));
    }

    Feed announcedOnly = new Feed(new RespReader(200_000, 8, 400_000));
    assertEquals(List.of(), announcedOnly.feed(header, false));
    assertTrue(announcedOnly.inCommand(), "waits inside the command, holding nothing more");
  }

  @Test
  @DisplayName("bytes that end inside a command are no command: the reader waits for the rest")
  void halfFrames() throws Exception {
    for (String half : List.of("*2\r\n$3\r\nGET\r\n", "*1\r\n$5\r\nab", "*1\r", "PIN")) {
      Feed feed = feed();
      assertEquals(List.of(), feed.feed(half.getBytes(UTF_8), false), half);
      assertTrue(feed.inCommand(), half);
    }
  }

  @Test
  @DisplayName("replies in RESP2 and RESP3; CR and LF never end an error line early")
  void writes() throws Exception {
    ByteBuf out = Unpooled.buffer();
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
    assertEquals(
        "+OK\r\n-ERR a  b\r\n:-42\r\n$3\r\nhé\r\n$-1\r\n_\r\n*2\r\n$1\r\na\r\n$-1\r\n"
            + "*2\r\n$1\r\nk\r\n:1\r\n%1\r\n$1\r\nk\r\n:1\r\n*-1\r\n",
        out.toString(UTF_8));
    assertTrue(RespWriter.size(Resp.array(new byte[1000], null)) >= 1000);
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

package io.craq.node.redis;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads Redis commands from a byte stream: RESP arrays of bulk strings, as every client library
 * sends them, and inline commands (one line of words, as typed into {@code redis-cli} or telnet).
 *
 * <p>Memory stays bounded whatever the peer sends: the read buffer has a fixed size, a bulk string
 * is refused if it announces more than {@code bulkBytesMax} bytes, an array if it announces more
 * than {@code argsMax} elements, and a command if its bulk strings announce more than {@code
 * commandBytesMax} bytes together; a bulk string's array grows as its bytes arrive (see {@link
 * #readBulk}), so an announced length alone allocates nothing beyond the read buffer's size.
 * Malformed input throws {@link RespProtocolException}; the caller answers with an error and closes
 * the connection, as Redis does.
 *
 * <p>Not thread-safe: one connection's thread reads.
 */
final class RespReader {
  /** The longest header line ({@code *N} or {@code $N}) accepted. */
  static final int HEADER_BYTES_MAX = 32;

  /** The longest inline command accepted, as Redis's default. */
  static final int INLINE_BYTES_MAX = 64 << 10;

  static final int BUFFER_BYTES = 16 << 10;

  /** Called before the reader would block on the stream: the connection flushes its replies. */
  interface BeforeBlock {
    void run() throws IOException;
  }

  private final InputStream in;
  private final int bulkBytesMax;
  private final int argsMax;
  private final long commandBytesMax;
  private final byte[] buffer = new byte[BUFFER_BYTES];
  private int start;
  private int end;
  private BeforeBlock beforeBlock = () -> {};

  RespReader(InputStream in, int bulkBytesMax, int argsMax, long commandBytesMax) {
    this.in = in;
    this.bulkBytesMax = bulkBytesMax;
    this.argsMax = argsMax;
    this.commandBytesMax = commandBytesMax;
  }

  /**
   * The next command's arguments (empty for an empty inline line or an empty array), or null if the
   * stream ended between commands.
   *
   * @throws RespProtocolException for malformed input or input over a limit
   * @throws EOFException if the stream ended inside a command
   */
  List<byte[]> read(BeforeBlock beforeBlock) throws IOException {
    this.beforeBlock = beforeBlock;
    if (start == end && !fill()) {
      return null;
    }
    if (buffer[start] == '*') {
      start++;
      return readArray();
    }
    return readInline();
  }

  /** True if bytes of a next command are buffered here (not counting the socket's buffer). */
  boolean hasBuffered() {
    return start < end;
  }

  private List<byte[]> readArray() throws IOException {
    long count = readNumber('*');
    if (count <= 0) {
      return List.of(); // *0 and *-1 are no command; Redis ignores them too
    }
    if (count > argsMax) {
      throw new RespProtocolException(
          "array of " + count + " elements, the limit is " + argsMax + " arguments");
    }
    List<byte[]> args = new ArrayList<>((int) count);
    long commandBytes = 0;
    for (int i = 0; i < count; i++) {
      byte type = nextByte();
      if (type != '$') {
        throw new RespProtocolException(
            "expected '$', got " + describe(type) + " (commands are arrays of bulk strings)");
      }
      long length = readNumber('$');
      if (length < 0) {
        throw new RespProtocolException("invalid bulk length " + length);
      }
      if (length > bulkBytesMax) {
        throw new RespProtocolException(
            "bulk string of " + length + " bytes, the limit is " + bulkBytesMax);
      }
      commandBytes += length;
      if (commandBytes > commandBytesMax) {
        throw new RespProtocolException(
            "command of more than " + commandBytesMax + " bytes of arguments");
      }
      byte[] arg = readBulk((int) length);
      if (nextByte() != '\r' || nextByte() != '\n') {
        throw new RespProtocolException("bulk string not followed by CRLF");
      }
      args.add(arg);
    }
    return args;
  }

  /** Reads {@code \d+\r\n} (or {@code -1}) after a type byte; at most {@link #HEADER_BYTES_MAX}. */
  private long readNumber(char type) throws IOException {
    long value = 0;
    boolean negative = false;
    int digits = 0;
    for (int i = 0; ; i++) {
      if (i > HEADER_BYTES_MAX) {
        throw new RespProtocolException("'" + type + "' header longer than " + HEADER_BYTES_MAX);
      }
      byte b = nextByte();
      if (b == '\r') {
        if (nextByte() != '\n') {
          throw new RespProtocolException("'" + type + "' header: CR not followed by LF");
        }
        break;
      }
      if (b == '-' && i == 0) {
        negative = true;
      } else if (b >= '0' && b <= '9' && digits < 18) {
        value = value * 10 + (b - '0');
        digits++;
      } else {
        throw new RespProtocolException(
            "invalid " + (type == '*' ? "multibulk" : "bulk") + " length: " + describe(b));
      }
    }
    if (digits == 0) {
      throw new RespProtocolException("'" + type + "' header without a length");
    }
    return negative ? -value : value;
  }

  /** One line of words separated by blanks; quotes are taken as in redis-cli. */
  private List<byte[]> readInline() throws IOException {
    byte[] line = readLine();
    return InlineSplitter.split(line);
  }

  private byte[] readLine() throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while (true) {
      byte b = nextByte();
      if (b == '\n') {
        byte[] bytes = out.toByteArray();
        int n = bytes.length;
        return n > 0 && bytes[n - 1] == '\r' ? java.util.Arrays.copyOf(bytes, n - 1) : bytes;
      }
      if (out.size() >= INLINE_BYTES_MAX) {
        throw new RespProtocolException("too big inline request (over " + INLINE_BYTES_MAX + ")");
      }
      out.write(b);
    }
  }

  private byte nextByte() throws IOException {
    if (start == end && !fill()) {
      throw new EOFException("the stream ended inside a command");
    }
    return buffer[start++];
  }

  /**
   * A bulk string of {@code length} bytes. Its array starts at {@link #BUFFER_BYTES} at most and
   * doubles as bytes arrive, so a length that is announced but not sent costs no memory: what a
   * connection holds is at most twice what it sent.
   */
  private byte[] readBulk(int length) throws IOException {
    byte[] into = new byte[Math.min(length, BUFFER_BYTES)];
    int done = 0;
    while (done < length) {
      if (start == end && !fill()) {
        throw new EOFException("the stream ended inside a bulk string");
      }
      if (done == into.length) {
        into = java.util.Arrays.copyOf(into, (int) Math.min(length, 2L * into.length));
      }
      int n = Math.min(end - start, into.length - done);
      System.arraycopy(buffer, start, into, done, n);
      start += n;
      done += n;
    }
    return into;
  }

  /** Refills the empty buffer; false at the end of the stream. */
  private boolean fill() throws IOException {
    start = 0;
    end = 0;
    if (in.available() == 0) {
      beforeBlock.run();
    }
    int n = in.read(buffer, 0, buffer.length);
    if (n < 0) {
      return false;
    }
    end = n;
    return true;
  }

  private static String describe(byte b) {
    return b >= 0x20 && b < 0x7f ? "'" + (char) b + "'" : String.format("byte 0x%02x", b & 0xff);
  }
}

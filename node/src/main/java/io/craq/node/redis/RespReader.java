package io.craq.node.redis;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads Redis commands from the bytes of a connection as they arrive: RESP arrays of bulk strings,
 * as every client library sends them, and inline commands (one line of words, as typed into {@code
 * redis-cli} or telnet). It never waits: {@link #next} takes what the buffer holds and keeps the
 * state of a command that is not whole yet for the next call.
 *
 * <p>Memory stays bounded whatever the peer sends: a header or inline line is refused past a fixed
 * length, a bulk string if it announces more than {@code bulkBytesMax} bytes, an array if it
 * announces more than {@code argsMax} elements, and a command if its bulk strings announce more
 * than {@code commandBytesMax} bytes together; a bulk string's array grows as its bytes arrive (see
 * {@link #readBulk}), so an announced length alone allocates nothing, and what the caller's buffer
 * holds is at most a header, an inline line, or one read's bytes. Malformed input throws {@link
 * RespProtocolException}; the caller answers with an error and closes the connection, as Redis
 * does.
 *
 * <p>Not thread-safe: one connection's event loop reads.
 */
final class RespReader {
  /** The longest header line ({@code *N} or {@code $N}) accepted. */
  static final int HEADER_BYTES_MAX = 32;

  /** The longest inline command accepted, as Redis's default. */
  static final int INLINE_BYTES_MAX = 64 << 10;

  /** The first size of a bulk string's array; it doubles as bytes arrive. */
  static final int BULK_CHUNK_BYTES = 16 << 10;

  private final int bulkBytesMax;
  private final int argsMax;
  private final long commandBytesMax;

  /** The array being read, or null between commands. */
  private List<byte[]> args;

  private int argsLeft;
  private long commandBytes;

  /** The bulk string being read, or null when a {@code $N} header comes next. */
  private byte[] bulk;

  private int bulkLength;
  private int bulkDone;

  RespReader(int bulkBytesMax, int argsMax, long commandBytesMax) {
    this.bulkBytesMax = bulkBytesMax;
    this.argsMax = argsMax;
    this.commandBytesMax = commandBytesMax;
  }

  /**
   * The next command's arguments (empty for an empty inline line or an empty array), or null if
   * {@code in} holds no whole command (what it held is taken, or left in {@code in} for the next
   * call when too little of a line came).
   *
   * @throws RespProtocolException for malformed input or input over a limit
   */
  List<byte[]> next(ByteBuf in) throws RespProtocolException {
    if (args == null) {
      if (!in.isReadable()) {
        return null;
      }
      if (in.getByte(in.readerIndex()) != '*') {
        return readInline(in);
      }
      int mark = in.readerIndex();
      in.skipBytes(1);
      long count = readNumber(in, '*');
      if (count == Long.MIN_VALUE) {
        in.readerIndex(mark); // the header's line is not whole yet
        return null;
      }
      if (count <= 0) {
        return List.of(); // *0 and *-1 are no command; Redis ignores them too
      }
      if (count > argsMax) {
        throw new RespProtocolException(
            "array of " + count + " elements, the limit is " + argsMax + " arguments");
      }
      args = new ArrayList<>((int) count);
      argsLeft = (int) count;
      commandBytes = 0;
    }
    while (argsLeft > 0) {
      if (bulk == null && !readBulkHeader(in)) {
        return null;
      }
      if (!readBulk(in)) {
        return null;
      }
    }
    List<byte[]> command = args;
    args = null;
    return command;
  }

  /** True if bytes of a command that is not whole yet were taken or are left in {@code in}. */
  boolean inCommand(ByteBuf in) {
    return args != null || in.isReadable();
  }

  /** Reads a {@code $N} header; false if its line is not whole yet (nothing taken). */
  private boolean readBulkHeader(ByteBuf in) throws RespProtocolException {
    if (!in.isReadable()) {
      return false;
    }
    int mark = in.readerIndex();
    byte type = in.readByte();
    if (type != '$') {
      throw new RespProtocolException(
          "expected '$', got " + describe(type) + " (commands are arrays of bulk strings)");
    }
    long length = readNumber(in, '$');
    if (length == Long.MIN_VALUE) {
      in.readerIndex(mark);
      return false;
    }
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
    bulkLength = (int) length;
    bulkDone = 0;
    bulk = new byte[Math.min(bulkLength, BULK_CHUNK_BYTES)];
    return true;
  }

  /**
   * Takes the bulk string's bytes that arrived, then its CRLF; true once it is whole. Its array
   * starts at {@link #BULK_CHUNK_BYTES} at most and doubles as bytes arrive, so a length that is
   * announced but not sent costs no memory: what a connection holds is at most twice what it sent.
   */
  private boolean readBulk(ByteBuf in) throws RespProtocolException {
    while (bulkDone < bulkLength) {
      if (!in.isReadable()) {
        return false;
      }
      if (bulkDone == bulk.length) {
        bulk = Arrays.copyOf(bulk, (int) Math.min(bulkLength, 2L * bulk.length));
      }
      int n = Math.min(in.readableBytes(), bulk.length - bulkDone);
      in.readBytes(bulk, bulkDone, n);
      bulkDone += n;
    }
    if (in.readableBytes() < 2) {
      return false;
    }
    if (in.readByte() != '\r' || in.readByte() != '\n') {
      throw new RespProtocolException("bulk string not followed by CRLF");
    }
    args.add(bulk);
    bulk = null;
    argsLeft--;
    return true;
  }

  /**
   * Reads {@code \d+\r\n} (or {@code -1}) after a type byte, at most {@link #HEADER_BYTES_MAX}
   * bytes; {@link Long#MIN_VALUE} if the line is not whole yet (the caller puts back what it took).
   */
  private static long readNumber(ByteBuf in, char type) throws RespProtocolException {
    long value = 0;
    boolean negative = false;
    int digits = 0;
    for (int i = 0; ; i++) {
      if (i > HEADER_BYTES_MAX) {
        throw new RespProtocolException("'" + type + "' header longer than " + HEADER_BYTES_MAX);
      }
      if (!in.isReadable()) {
        return Long.MIN_VALUE;
      }
      byte b = in.readByte();
      if (b == '\r') {
        if (!in.isReadable()) {
          return Long.MIN_VALUE;
        }
        if (in.readByte() != '\n') {
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
  private static List<byte[]> readInline(ByteBuf in) throws RespProtocolException {
    int start = in.readerIndex();
    int searched = Math.min(in.readableBytes(), INLINE_BYTES_MAX + 1);
    int lf = in.forEachByte(start, searched, ByteProcessor.FIND_LF);
    if (lf < 0) {
      if (in.readableBytes() > INLINE_BYTES_MAX) {
        throw new RespProtocolException("too big inline request (over " + INLINE_BYTES_MAX + ")");
      }
      return null; // the line is not whole yet
    }
    int end = lf > start && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
    byte[] line = new byte[end - start];
    in.getBytes(start, line);
    in.readerIndex(lf + 1);
    return InlineSplitter.split(line);
  }

  private static String describe(byte b) {
    return b >= 0x20 && b < 0x7f ? "'" + (char) b + "'" : String.format("byte 0x%02x", b & 0xff);
  }
}

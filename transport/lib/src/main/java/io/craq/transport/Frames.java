package io.craq.transport;

import io.craq.core.message.ErrorCode;

/**
 * The frame header (docs/PROTOCOL.md §2): 20 bytes, big-endian.
 *
 * <pre>
 * offset size field
 *  0      4   magic 0x43524151 ("CRAQ")
 *  4      1   protocol version (1)
 *  5      1   kind: 0 one-way, 1 request, 2 reply
 *  6      2   message type (the message's wire tag), unsigned
 *  8      8   request id (0 for one-way)
 * 16      4   body length in bytes, signed; 0 .. frameBytesMax - 20
 * </pre>
 */
public final class Frames {
  private Frames() {}

  public static final int MAGIC = 0x43524151;
  public static final int PROTOCOL_VERSION = 1;
  public static final int HEADER_BYTES = 20;

  public static final int KIND_ONE_WAY = 0;
  public static final int KIND_REQUEST = 1;
  public static final int KIND_REPLY = 2;

  /** A parsed header. */
  public record Header(int version, int kind, int type, long requestId, int bodyLength) {}

  /**
   * Parses and checks a header from {@code bytes[offset .. offset + 20)}. Checks, in order: magic,
   * version, kind, length (against {@code frameBytesMax}). The type is not checked here, so an
   * unknown type can be skipped without losing the frame boundary.
   *
   * @throws ProtocolException fatal for every violation; for a bad version or length the exception
   *     carries the request id in its message only, callers that want to answer use {@link
   *     #requestIdOf}
   */
  public static Header parseHeader(byte[] bytes, int offset, int frameBytesMax) {
    int magic = readInt(bytes, offset);
    if (magic != MAGIC) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          true,
          String.format("bad magic 0x%08x, expected 0x%08x", magic, MAGIC));
    }
    int version = bytes[offset + 4] & 0xff;
    if (version != PROTOCOL_VERSION) {
      throw new ProtocolException(
          ErrorCode.UNSUPPORTED,
          true,
          "unsupported protocol version " + version + ", this side speaks " + PROTOCOL_VERSION);
    }
    int kind = bytes[offset + 5] & 0xff;
    if (kind > KIND_REPLY) {
      throw new ProtocolException(ErrorCode.INVALID_REQUEST, true, "unknown frame kind " + kind);
    }
    int type = ((bytes[offset + 6] & 0xff) << 8) | (bytes[offset + 7] & 0xff);
    long requestId = readLong(bytes, offset + 8);
    int length = readInt(bytes, offset + 16);
    if (length < 0 || length > frameBytesMax - HEADER_BYTES) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          true,
          "frame body length " + length + " outside 0.." + (frameBytesMax - HEADER_BYTES));
    }
    return new Header(version, kind, type, requestId, length);
  }

  /** The kind byte of a header that may be otherwise invalid. */
  public static int kindOf(byte[] header) {
    return header[5] & 0xff;
  }

  /** The request id of a header that may be otherwise invalid. */
  public static long requestIdOf(byte[] header) {
    return readLong(header, 8);
  }

  /** Writes a header into {@code bytes[0..20)}. */
  public static void writeHeader(byte[] bytes, int kind, int type, long requestId, int bodyLength) {
    writeInt(bytes, 0, MAGIC);
    bytes[4] = (byte) PROTOCOL_VERSION;
    bytes[5] = (byte) kind;
    bytes[6] = (byte) (type >>> 8);
    bytes[7] = (byte) type;
    writeLong(bytes, 8, requestId);
    writeInt(bytes, 16, bodyLength);
  }

  static int readInt(byte[] b, int i) {
    return ((b[i] & 0xff) << 24)
        | ((b[i + 1] & 0xff) << 16)
        | ((b[i + 2] & 0xff) << 8)
        | (b[i + 3] & 0xff);
  }

  static long readLong(byte[] b, int i) {
    return ((long) readInt(b, i) << 32) | (readInt(b, i + 4) & 0xffffffffL);
  }

  static void writeInt(byte[] b, int i, int v) {
    b[i] = (byte) (v >>> 24);
    b[i + 1] = (byte) (v >>> 16);
    b[i + 2] = (byte) (v >>> 8);
    b[i + 3] = (byte) v;
  }

  static void writeLong(byte[] b, int i, long v) {
    writeInt(b, i, (int) (v >>> 32));
    writeInt(b, i + 4, (int) v);
  }
}

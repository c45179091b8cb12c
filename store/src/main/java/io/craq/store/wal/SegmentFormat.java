package io.craq.store.wal;

import io.craq.store.StoreException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The bytes of a log segment (format 1); see {@link WriteAheadLog} for the picture. Big-endian
 * throughout, like the LMDB store's keys.
 *
 * <p>Segment header, {@value #SEGMENT_HEADER_BYTES} bytes: magic {@code "CQWL"} (4), format version
 * (4), sequence number of the segment's first record (8), salt (8), zero (4), CRC32C of the 28
 * bytes before it (4).
 *
 * <p>Record, {@value #RECORD_HEADER_BYTES} bytes + payload: payload length (4), CRC32C (4),
 * sequence number (8), payload. The CRC covers the segment's salt, the length, the sequence number
 * and the payload. The salt is random per segment, so bytes copied from another segment, or a
 * payload that itself contains a well-formed record, never check out as a record of this segment.
 */
final class SegmentFormat {
  /** {@code "CQWL"}: CRAQ write-ahead log. */
  static final int MAGIC = 0x4351574C;

  /** The format this code reads and writes; another one is refused at open, never cut. */
  static final int FORMAT = 1;

  static final int SEGMENT_HEADER_BYTES = 32;
  static final int RECORD_HEADER_BYTES = 16;

  private static final String PREFIX = "wal-";
  private static final String SUFFIX = ".log";

  /** 20 digits hold any non-negative long, so names sort like the numbers they carry. */
  private static final Pattern SEGMENT_NAME = Pattern.compile("wal-(\\d{20})\\.log");

  /** A file being prepared; never a segment, removed at open. */
  static final String TEMPORARY_SUFFIX = ".tmp";

  private SegmentFormat() {}

  /** The file name of the segment whose first record has {@code firstSequence}. */
  static String segmentName(long firstSequence) {
    return PREFIX + String.format(Locale.ROOT, "%020d", firstSequence) + SUFFIX;
  }

  /** The first sequence number a segment file name carries, or -1 if it is not a segment. */
  static long firstSequenceOf(Path file) {
    Matcher matcher = SEGMENT_NAME.matcher(file.getFileName().toString());
    if (!matcher.matches()) {
      return -1;
    }
    try {
      return Long.parseLong(matcher.group(1));
    } catch (NumberFormatException e) {
      return -1; // 20 digits above Long.MAX_VALUE: not one of ours
    }
  }

  static boolean isTemporary(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith(PREFIX) && name.endsWith(TEMPORARY_SUFFIX);
  }

  /** A segment header's fields. */
  record Header(long firstSequence, long salt) {}

  /**
   * What a segment's first bytes hold: its header, or (header null) why they are not one that was
   * completely written.
   */
  record DecodedHeader(Header header, String tornReason) {
    static DecodedHeader torn(String reason) {
      return new DecodedHeader(null, reason);
    }
  }

  /** Writes {@code header} into a new {@link #SEGMENT_HEADER_BYTES}-byte buffer, flipped. */
  static ByteBuffer encodeHeader(Header header) {
    ByteBuffer bytes = ByteBuffer.allocate(SEGMENT_HEADER_BYTES);
    bytes
        .putInt(MAGIC)
        .putInt(FORMAT)
        .putLong(header.firstSequence())
        .putLong(header.salt())
        .putInt(0);
    CRC32C crc = new CRC32C();
    crc.update(bytes.array(), 0, SEGMENT_HEADER_BYTES - 4);
    bytes.putInt((int) crc.getValue());
    return bytes.flip();
  }

  /**
   * Reads a header from {@code bytes} (its remaining bytes, fewer than a header if the file is
   * short): the header, or why the bytes look like a header that was never completely written
   * (short, zeros, bad CRC).
   *
   * @throws StoreException if the header is intact but not one this code writes (another magic or
   *     format version): such a file must not be cut as if it were torn
   */
  static DecodedHeader decodeHeader(ByteBuffer bytes, Path file) {
    if (bytes.remaining() < SEGMENT_HEADER_BYTES) {
      return DecodedHeader.torn(
          "the file has " + bytes.remaining() + " bytes, a header needs " + SEGMENT_HEADER_BYTES);
    }
    ByteBuffer header = bytes.slice(bytes.position(), SEGMENT_HEADER_BYTES);
    boolean ours = header.getInt(0) == MAGIC;
    if (ours && header.getInt(4) != FORMAT) {
      // Checked before the CRC: another version may lay its header out differently, and its
      // files must be refused, never cut as torn.
      throw new StoreException(
          "write-ahead log segment "
              + file
              + " has format "
              + header.getInt(4)
              + "; this code reads format "
              + FORMAT);
    }
    CRC32C crc = new CRC32C();
    crc.update(header.slice(0, SEGMENT_HEADER_BYTES - 4));
    if ((int) crc.getValue() != header.getInt(SEGMENT_HEADER_BYTES - 4)) {
      return DecodedHeader.torn(
          allZeros(header) ? "the header is zeros" : "the header's CRC does not match");
    }
    if (!ours || header.getInt(24) != 0) {
      throw new StoreException(
          "file "
              + file
              + " is named like a write-ahead log segment but"
              + " its intact header has magic 0x"
              + Integer.toHexString(header.getInt(0))
              + " (expected 0x"
              + Integer.toHexString(MAGIC)
              + ")");
    }
    return new DecodedHeader(new Header(header.getLong(8), header.getLong(16)), null);
  }

  /**
   * The CRC32C of a record: the segment's {@code salt}, then the record's length field, then its
   * sequence number and payload. {@code head} holds the record's {@value #RECORD_HEADER_BYTES}
   * header bytes from its position, {@code payload} the payload between position and limit; neither
   * buffer's position or limit changes.
   */
  static int recordCrc(CRC32C crc, long salt, ByteBuffer head, ByteBuffer payload) {
    int start = head.position();
    crc.reset();
    for (int shift = 56; shift >= 0; shift -= 8) {
      crc.update((int) (salt >>> shift));
    }
    crc.update(head.slice(start, 4));
    crc.update(head.slice(start + 8, 8));
    crc.update(payload.duplicate());
    return (int) crc.getValue();
  }

  /** Writes the record header (with its CRC) for {@code payload} into {@code head}. */
  static void putRecordHeader(
      ByteBuffer head, CRC32C crc, long salt, long sequence, ByteBuffer payload) {
    int start = head.position();
    head.putInt(start, payload.remaining()).putInt(start + 4, 0).putLong(start + 8, sequence);
    head.putInt(start + 4, recordCrc(crc, salt, head, payload));
  }

  static boolean allZeros(ByteBuffer bytes) {
    for (int i = bytes.position(); i < bytes.limit(); i++) {
      if (bytes.get(i) != 0) {
        return false;
      }
    }
    return true;
  }
}

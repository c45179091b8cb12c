package io.craq.store.wal;

import static io.craq.store.wal.SegmentFormat.RECORD_HEADER_BYTES;
import static io.craq.store.wal.SegmentFormat.SEGMENT_HEADER_BYTES;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads the records of one segment in order and stops at the first one that is not intact: zeros, a
 * header or record cut short by the end of the file, a bad CRC, or a sequence number other than the
 * next one. Reads through a window of at most {@link #WINDOW_BYTES}, so a segment of small records
 * costs one {@code read} per window, not one per record. Not thread-safe: one reader per scan.
 */
final class SegmentReader {
  /** Bytes read from the file at a time. */
  static final int WINDOW_BYTES = 1 << 20;

  /**
   * Where and why a scan stopped. {@code reason} is null when the segment simply ends there (end of
   * file right after a record).
   */
  record Stop(long offset, String reason) {
    boolean atEndOfFile() {
      return reason == null;
    }
  }

  private final FileChannel channel;
  private final Path file;
  private final long fileBytes;
  private final long salt;
  private final CRC32C crc = new CRC32C();
  private final ByteBuffer window;

  /** File offset of the window's first byte; the window holds {@code window.limit()} bytes. */
  private long windowStart;

  private long offset = SEGMENT_HEADER_BYTES;
  private long expectedSequence;
  private Stop stop;

  /**
   * @param fileBytes the file's size, read once: the scan never reads past it
   * @param header the segment's header, already checked
   */
  SegmentReader(FileChannel channel, Path file, long fileBytes, SegmentFormat.Header header) {
    this.channel = channel;
    this.file = file;
    this.fileBytes = fileBytes;
    this.salt = header.salt();
    this.expectedSequence = header.firstSequence();
    this.window = ByteBuffer.allocate((int) Math.min(WINDOW_BYTES, fileBytes)).limit(0);
  }

  /**
   * The next intact record, or null once the scan has stopped ({@link #stop()} says where and why).
   * The record's payload is its own copy, the caller's to keep.
   *
   * @throws IOException if reading fails (not if the bytes are bad: that stops the scan)
   */
  WriteAheadLog.Record next() throws IOException {
    if (stop != null) {
      return null;
    }
    long remaining = fileBytes - offset;
    if (remaining == 0) {
      return stopHere(null);
    }
    ByteBuffer head = read(offset, (int) Math.min(RECORD_HEADER_BYTES, remaining));
    if (SegmentFormat.allZeros(head)) {
      return stopHere("zeros instead of a record header");
    }
    if (remaining < RECORD_HEADER_BYTES) {
      return stopHere(
          "a record header cut short by the end of the file ("
              + remaining
              + " of "
              + RECORD_HEADER_BYTES
              + " bytes)");
    }
    int length = head.getInt(head.position());
    long sequence = head.getLong(head.position() + 8);
    if (length < 0 || length > remaining - RECORD_HEADER_BYTES) {
      // Checked before anything is read or allocated for the payload: garbage lengths must not
      // make recovery read or allocate beyond the file.
      return stopHere(
          "a record length of "
              + length
              + " bytes where only "
              + (remaining - RECORD_HEADER_BYTES)
              + " remain in the file");
    }
    ByteBuffer framed = read(offset, RECORD_HEADER_BYTES + length);
    ByteBuffer payloadBytes = framed.slice(framed.position() + RECORD_HEADER_BYTES, length);
    if (SegmentFormat.recordCrc(crc, salt, framed, payloadBytes)
        != framed.getInt(framed.position() + 4)) {
      return stopHere(
          "a CRC mismatch (length field " + length + ", sequence field " + sequence + ")");
    }
    if (sequence != expectedSequence) {
      return stopHere("sequence " + sequence + " where " + expectedSequence + " was expected");
    }
    ByteBuffer payload = copyPayload(framed, length);
    offset += RECORD_HEADER_BYTES + length;
    expectedSequence++;
    return new WriteAheadLog.Record(sequence, payload);
  }

  /** Where and why the scan stopped; null while it goes on. */
  Stop stop() {
    return stop;
  }

  /** True if every byte from {@code from} to the end of the file is zero. */
  boolean zerosFrom(long from) throws IOException {
    for (long at = from; at < fileBytes; ) {
      int count = (int) Math.min(window.capacity(), fileBytes - at);
      if (!SegmentFormat.allZeros(read(at, count))) {
        return false;
      }
      at += count;
    }
    return true;
  }

  private WriteAheadLog.Record stopHere(String reason) {
    stop = new Stop(offset, reason);
    return null;
  }

  private ByteBuffer copyPayload(ByteBuffer framed, int length) {
    int start = framed.position() + RECORD_HEADER_BYTES;
    if (RECORD_HEADER_BYTES + length > window.capacity()) {
      // read() gave this record a buffer of its own: hand it out, no second copy.
      return framed.slice(start, length).asReadOnlyBuffer();
    }
    byte[] payload = new byte[length];
    framed.get(start, payload);
    return ByteBuffer.wrap(payload).asReadOnlyBuffer();
  }

  /**
   * {@code count} bytes at file offset {@code position} (which the caller has checked lie in the
   * file), as a buffer whose position..limit are exactly those bytes. Valid until the next call.
   */
  private ByteBuffer read(long position, int count) throws IOException {
    long windowEnd = windowStart + window.limit();
    if (position >= windowStart && position + count <= windowEnd) {
      return window.slice((int) (position - windowStart), count);
    }
    if (count > window.capacity()) {
      ByteBuffer own = ByteBuffer.allocate(count);
      FileIo.readFully(channel, own, position, file);
      return own.flip();
    }
    window.clear();
    window.limit((int) Math.min(window.capacity(), fileBytes - position));
    FileIo.readFully(channel, window, position, file);
    window.flip();
    windowStart = position;
    return window.slice(0, count);
  }
}

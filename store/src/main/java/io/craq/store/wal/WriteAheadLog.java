package io.craq.store.wal;

import static io.craq.core.Check.check;
import static io.craq.store.wal.SegmentFormat.SEGMENT_HEADER_BYTES;

import io.craq.store.StoreException;
import io.craq.store.StoreFullException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A write-ahead log of numbered records (sequence numbers 1, 2, 3, ...) with group commit: many
 * {@link #append appends} are made durable by one {@link #force()}, that is one {@code
 * FileChannel.force(false)} ({@code fdatasync}). Meant to stand in front of the LMDB store: one
 * storage batch per record, LMDB synced only at checkpoints, the log's older segments deleted after
 * each checkpoint ({@link #deleteBefore}), and recovery replaying the records after the checkpoint
 * ({@link #open}).
 *
 * <p><b>Files.</b> The log is a directory of segment files named for the sequence number of their
 * first record ({@code wal-00000000000000000001.log}, twenty digits, so names sort like the
 * numbers), plus {@code wal.lock}, which keeps a second process out while the log is open. Each
 * segment starts with a 32-byte header (magic {@code "CQWL"}, format 1, first sequence number, a
 * random salt, CRC32C) followed by records. A record is its payload length (4 bytes), a CRC32C (4)
 * over the segment's salt, the length, the sequence number and the payload, the sequence number (8)
 * and the payload, big-endian; a record never spans two segments. See {@link SegmentFormat}.
 *
 * <p><b>Preallocation.</b> A new segment is a file already filled with zeros over its whole size
 * ({@link Config#segmentBytes()}), forced to disk before it is used, then renamed into place, so
 * appending to it never changes the file's size or block map and {@code force(false)} has no
 * metadata to flush. The next one is prepared on a background thread while the current one fills,
 * so appends do not wait for it. A record larger than a segment gets a segment of its own, sized
 * for it and not preallocated.
 *
 * <p>Why zero-filled: one write + {@code force(false)} at a time, measured 2026-12-04 on this
 * project's machines (2 cores, ext4 on a virtual disk shared with other work, JDK 25; three
 * interleaved 5 s rounds per record size, rounds disturbed by other load left out):
 *
 * <ul>
 *   <li>128-byte records: zero-filled 6,000-9,400/s (median 98-147 us), sparse file made with
 *       {@code setLength} 6,700-10,100/s (90-138 us), growing file 4,800-7,100/s (131-176 us);
 *   <li>4 KiB records: zero-filled 4,500-5,400/s (186-187 us), sparse 4,000-4,600/s (195-206 us),
 *       growing 3,800-4,300/s (196-219 us).
 * </ul>
 *
 * <p>With 128-byte records a sparse file keeps up (it allocates a block every 32 records); once
 * each write reaches a new block, as batches of a few KiB do, it trails the zero-filled file, and a
 * growing file is slowest at both sizes. Zero-filling also moves running out of space from the
 * middle of a segment (allocating a block during a write) to the preparation of the next one, where
 * nothing is half written. It costs 53-72 ms per 64 MiB, off the append path. Through this class:
 * one 128-byte record per force 6,100-6,400/s (median 143-147 us); 32 per force 170,000-186,000
 * records/s. Reproduce from the repository root with {@code bin/test -q -pl store -am -DskipTests},
 * then {@code java -cp
 * store/target/test-classes:store/target/classes:core/target/classes:<slf4j-api jar>
 * [-Dcraq.wal.bench.recordBytes=4096] io.craq.store.wal.WalPreallocationBenchmark} (see that class
 * for the options).
 *
 * <p><b>Durability.</b> {@link #append} only copies the record into a write buffer; {@link
 * #flush()} writes the buffer to the file (survives a crash of the process, not of the machine);
 * {@link #force()} writes and forces it (survives both). A segment is forced completely before the
 * next one is created, so records are lost only from the end of the log, never from the middle.
 *
 * <p><b>Threading.</b> Appending is for one thread at a time (the node's store thread): {@link
 * #append}, {@link #flush()}, {@link #force()} and {@link #close()} are serialized by a lock, so a
 * force holds out appends while the disk syncs. {@link #deleteBefore}, {@link #sizeBytes()}, {@link
 * #lastSequence()}, {@link #durableSequence()} and {@link #counters()} may be called from any
 * thread at any time and do not wait for a force; {@link #close()} may be called from any thread.
 * Do not interrupt a thread inside a call: an interrupted file operation closes the file, which
 * fails the log.
 *
 * <p><b>Failures.</b> A full disk throws {@link StoreFullException}; the call appended nothing and
 * the log stays usable: a later call retries and succeeds once there is room, without losing or
 * repeating a record. A failed {@code force} (fsync) fails the log: the kernel may have dropped the
 * unwritten pages, so retrying could report durable what is not; every later call then throws
 * {@link StoreException} and the log must be reopened, which recovers what is on disk. Other I/O
 * errors throw {@link StoreException}.
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);

  /** Bytes a record takes on disk besides its payload. */
  public static final int RECORD_HEADER_BYTES = SegmentFormat.RECORD_HEADER_BYTES;

  /** Records of up to this many bytes with their header are copied into the write buffer. */
  static final int WRITE_BUFFER_BYTES = 1 << 20;

  /**
   * Settings of a log; immutable. Start from {@link #defaults(Path)}.
   *
   * @param directory where the segments live (created if missing); the log's own
   * @param segmentBytes the size of a segment file, preallocated in full
   * @param recordBytesMax the largest payload {@link #append} accepts
   */
  public record Config(Path directory, long segmentBytes, int recordBytesMax) {
    public static final long SEGMENT_BYTES_DEFAULT = 64L << 20;

    /** Small segments are for tests; a segment holds at least its header and one record. */
    public static final long SEGMENT_BYTES_MIN = 1L << 10;

    /** 1 TiB: far above any sensible segment, low enough to catch a unit mistake. */
    public static final long SEGMENT_BYTES_MAX = 1L << 40;

    public static final int RECORD_BYTES_MAX_DEFAULT = 64 << 20;

    /** 1 GiB: keeps a record and its header within an int and a byte array. */
    public static final int RECORD_BYTES_MAX_LIMIT = 1 << 30;

    public Config {
      Objects.requireNonNull(directory, "directory");
      if (segmentBytes < SEGMENT_BYTES_MIN || segmentBytes > SEGMENT_BYTES_MAX) {
        throw new IllegalArgumentException(
            "segmentBytes must be in ["
                + SEGMENT_BYTES_MIN
                + ", "
                + SEGMENT_BYTES_MAX
                + "], got "
                + segmentBytes);
      }
      if (recordBytesMax < 0 || recordBytesMax > RECORD_BYTES_MAX_LIMIT) {
        throw new IllegalArgumentException(
            "recordBytesMax must be in [0, " + RECORD_BYTES_MAX_LIMIT + "], got " + recordBytesMax);
      }
    }

    /** 64 MiB segments, payloads up to 64 MiB. */
    public static Config defaults(Path directory) {
      return new Config(directory, SEGMENT_BYTES_DEFAULT, RECORD_BYTES_MAX_DEFAULT);
    }

    public Config withSegmentBytes(long bytes) {
      return new Config(directory, bytes, recordBytesMax);
    }

    public Config withRecordBytesMax(int bytes) {
      return new Config(directory, segmentBytes, bytes);
    }
  }

  /**
   * One record read back at {@link #open}: its sequence number and its payload (read-only, the
   * receiver's to keep).
   */
  public record Record(long sequence, ByteBuffer payload) {
    /** A copy of the payload. */
    public byte[] payloadBytes() {
      byte[] bytes = new byte[payload.remaining()];
      payload.duplicate().get(bytes);
      return bytes;
    }
  }

  /**
   * What the log has done since it was opened. Each counter is exact; the four are not read at one
   * instant.
   *
   * @param records records appended
   * @param bytes bytes appended, record headers included
   * @param forces {@code force(false)} calls made (by {@link #force()} and when a segment fills)
   * @param forceNanos time spent in them
   */
  public record Counters(long records, long bytes, long forces, long forceNanos) {}

  /** A segment that is not the active one: its records, all durable, and its size. */
  record Segment(Path file, long firstSequence, long lastSequence, long bytes) {}

  private final Config config;
  private final Path directory;
  private final FileChannel lockChannel;
  private final SegmentFiles segmentFiles;
  private final CRC32C crc = new CRC32C();
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
  private final ByteBuffer straightHeader = ByteBuffer.allocate(RECORD_HEADER_BYTES);

  /** Serializes append, flush, force and close; guards the fields down to {@code failure}. */
  private final ReentrantLock writeLock = new ReentrantLock();

  private FileChannel channel;
  private Path activeFile;
  private long activeFirstSequence;
  private long activeSalt;

  /** Bytes records may fill in the active segment (an empty segment takes any record). */
  private long activeCapacity;

  private long activeFileEnd;

  /** Bytes of the active segment in the file; the buffer holds what follows them. */
  private long writtenOffset;

  /** Bytes of the active segment forced to disk. */
  private long durableOffset;

  private long nextSequence;

  /** The last record wholly in the file (written, maybe not forced). */
  private long flushedSequence;

  private boolean closed;

  /** Set when a force failed: the log is unusable until reopened. */
  private StoreException failure;

  private volatile long lastSequence;
  private volatile long durableSequence;
  private volatile long appendedRecords;
  private volatile long appendedBytes;
  private volatile long forces;
  private volatile long forceNanos;

  /** Guards the segments list and sizes, shared with {@link #deleteBefore} and sizeBytes. */
  private final ReentrantLock segmentsLock = new ReentrantLock();

  private final ArrayDeque<Segment> sealed = new ArrayDeque<>();
  private long sealedBytes;
  private long activeFileBytes;
  private boolean segmentsClosed;

  private WriteAheadLog(
      Config config,
      FileOpener opener,
      FileChannel lockChannel,
      Recovery.Result recovered,
      long nextSequence) {
    this.config = config;
    this.directory = config.directory();
    this.lockChannel = lockChannel;
    this.segmentFiles = new SegmentFiles(directory, config.segmentBytes(), opener);
    for (Segment segment : recovered.segments()) {
      sealed.addLast(segment);
      sealedBytes += segment.bytes();
    }
    this.nextSequence = nextSequence;
    this.flushedSequence = nextSequence - 1;
    this.lastSequence = nextSequence - 1;
    this.durableSequence = nextSequence - 1; // recovery forced what it replayed
  }

  /**
   * Opens the log in {@code config.directory()} (creating it if needed), recovers it, and readies
   * it for appends. Blocks for the whole recovery.
   *
   * <p>Calls {@code replay} on the calling thread, in order, for every intact record with a
   * sequence number above {@code afterSequence} (the last one the caller's checkpoint covers). A
   * torn or damaged tail of the last segment (a short header or record, zeros, a bad CRC, a
   * sequence number out of order) ends the replay at the last intact record and is cut off, so
   * nothing after that point can ever be read as a record; one line is logged naming the file, the
   * offset and the reason (a warning, or info when the cut part is only the zeros of a preallocated
   * segment). Records replayed are forced to disk before this returns.
   *
   * <p>New appends go to a fresh segment and continue from {@code max(last intact sequence,
   * afterSequence) + 1}.
   *
   * @throws StoreException if the log is damaged in a way no crash explains: records after {@code
   *     afterSequence} missing (between segments, or because the oldest segment starts later), a
   *     segment other than the last with a bad header, a segment whose name and header disagree, a
   *     file of another format; or the directory is in use by another log; or I/O fails ({@link
   *     StoreFullException} when the disk is full). If it throws after {@code replay} was called,
   *     what was replayed must be discarded.
   * @throws IllegalArgumentException if {@code afterSequence < 0}
   */
  public static WriteAheadLog open(Config config, long afterSequence, Consumer<Record> replay) {
    return open(config, afterSequence, replay, FileOpener.DEFAULT);
  }

  /** As {@link #open(Config, long, Consumer)}, with files opened by {@code opener} (tests). */
  static WriteAheadLog open(
      Config config, long afterSequence, Consumer<Record> replay, FileOpener opener) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(replay, "replay");
    if (afterSequence < 0) {
      throw new IllegalArgumentException("afterSequence must be >= 0, got " + afterSequence);
    }
    long startNanos = System.nanoTime();
    FileChannel lock = FileIo.lockDirectory(config.directory());
    WriteAheadLog log = null;
    try {
      Recovery.Result recovered = Recovery.run(config.directory(), opener, afterSequence, replay);
      log =
          new WriteAheadLog(
              config,
              opener,
              lock,
              recovered,
              Math.max(recovered.lastSequence(), afterSequence) + 1);
      log.install(log.createSegment(0));
      log.segmentFiles.prepareNext();
      LOG.info(
          "wal {}: opened in {} ms: {} records replayed after sequence {}, {} older"
              + " segments, next sequence {}",
          config.directory(),
          (System.nanoTime() - startNanos) / 1_000_000,
          recovered.replayed(),
          afterSequence,
          recovered.segments().size(),
          log.nextSequence);
      return log;
    } catch (IOException e) {
      closeAfterFailedOpen(log, lock);
      throw FileIo.translate(config.directory(), "recovery", e, config.segmentBytes());
    } catch (RuntimeException | Error e) {
      closeAfterFailedOpen(log, lock);
      throw e;
    }
  }

  private static void closeAfterFailedOpen(WriteAheadLog log, FileChannel lock) {
    if (log != null) {
      log.release(true);
    } else {
      FileIo.closeQuietly(lock);
    }
  }

  // ---------------------------------------------------------------- appending

  /**
   * Appends one record and returns its sequence number (one more than the previous). Does not make
   * it durable: see {@link #flush()} and {@link #force()}. Copies the payload's remaining bytes
   * (its position and limit do not change). Usually returns without I/O; it writes when the buffer
   * is full or the record is large, and when the segment is full it forces the segment and switches
   * to the next one (waiting for its preparation if it is not ready).
   *
   * @throws IllegalArgumentException if the payload is over {@link Config#recordBytesMax()} bytes;
   *     nothing is written
   * @throws StoreFullException if the disk is full; nothing was appended, retry later
   * @throws StoreException if the log is closed or failed, or I/O fails
   */
  public long append(ByteBuffer payload) {
    Objects.requireNonNull(payload, "payload");
    int length = payload.remaining();
    if (length > config.recordBytesMax()) {
      throw new IllegalArgumentException(
          "a record of "
              + length
              + " bytes is over recordBytesMax ("
              + config.recordBytesMax()
              + " bytes)");
    }
    writeLock.lock();
    try {
      checkWritable();
      int framed = RECORD_HEADER_BYTES + length;
      if (!fits(framed)) {
        roll(framed);
      }
      long sequence = nextSequence;
      if (framed > buffer.capacity()) {
        writeBuffered();
        writeStraight(sequence, payload);
      } else {
        if (buffer.remaining() < framed) {
          writeBuffered();
        }
        bufferRecord(sequence, payload);
      }
      nextSequence = sequence + 1;
      lastSequence = sequence;
      appendedRecords++;
      appendedBytes += framed;
      return sequence;
    } finally {
      writeLock.unlock();
    }
  }

  /** As {@link #append(ByteBuffer)} for the whole array. */
  public long append(byte[] payload) {
    return append(ByteBuffer.wrap(payload));
  }

  /**
   * Writes every appended record to the file without forcing it: when this returns, they survive a
   * crash of the process (kill -9) but not of the machine. Blocks for the write.
   *
   * @throws StoreFullException if the disk is full; the records stay buffered, retry later
   * @throws StoreException if the log is closed or failed, or I/O fails
   */
  public void flush() {
    writeLock.lock();
    try {
      checkWritable();
      writeBuffered();
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Makes every appended record durable: writes the buffer (one {@code write} as a rule) and calls
   * {@code force(false)} once. When this returns, every record appended so far survives a crash of
   * the process or the machine, and {@link #durableSequence()} equals {@link #lastSequence()}.
   * Returns at once if nothing was appended since the last force. Blocks for the write and the disk
   * sync; appends from other threads wait meanwhile.
   *
   * @throws StoreFullException if writing failed for want of space; nothing became durable that was
   *     not before, retry later
   * @throws StoreException if the log is closed or failed, or I/O fails; a failed sync fails the
   *     log (see the class comment)
   */
  public void force() {
    writeLock.lock();
    try {
      checkWritable();
      writeBuffered();
      forceActive();
    } finally {
      writeLock.unlock();
    }
  }

  private boolean fits(int framed) {
    return nextSequence == activeFirstSequence
        || writtenOffset + buffer.position() + framed <= activeCapacity;
  }

  private void bufferRecord(long sequence, ByteBuffer payload) {
    int start = buffer.position();
    buffer.position(start + RECORD_HEADER_BYTES);
    buffer.put(payload.duplicate());
    SegmentFormat.putRecordHeader(
        buffer.slice(start, RECORD_HEADER_BYTES),
        crc,
        activeSalt,
        sequence,
        buffer.slice(start + RECORD_HEADER_BYTES, payload.remaining()));
  }

  /** Writes a record too large for the buffer straight to the file (the buffer is empty). */
  private void writeStraight(long sequence, ByteBuffer payload) {
    ByteBuffer data = payload.duplicate();
    int framed = RECORD_HEADER_BYTES + data.remaining();
    straightHeader.clear();
    SegmentFormat.putRecordHeader(straightHeader, crc, activeSalt, sequence, data);
    try {
      // The payload first: if writing it fails part way, no header names those bytes, so they
      // can never be read as a record, even where the unwritten part happens to match the disk.
      FileIo.writeFully(channel, data, writtenOffset + RECORD_HEADER_BYTES);
      FileIo.writeFully(channel, straightHeader, writtenOffset);
    } catch (IOException e) {
      throw writeFailure("writing record " + sequence, e, framed);
    }
    writtenOffset += framed;
    flushedSequence = sequence;
    noteFileEnd();
  }

  /**
   * Writes the buffer at the end of the file. If that fails the buffer is kept as it was, so a
   * retry writes the same bytes at the same offset: nothing is lost or written twice.
   */
  private void writeBuffered() {
    int bytes = buffer.position();
    if (bytes == 0) {
      return;
    }
    try {
      FileIo.writeFully(channel, buffer.duplicate().flip(), writtenOffset);
    } catch (IOException e) {
      throw writeFailure("writing " + bytes + " buffered bytes", e, bytes);
    }
    writtenOffset += bytes;
    buffer.clear();
    flushedSequence = nextSequence - 1;
    noteFileEnd();
  }

  /** Forces the active segment, unless everything written is forced already. */
  private void forceActive() {
    check(buffer.position() == 0, "force with %d bytes still buffered", buffer.position());
    if (durableOffset == writtenOffset) {
      return;
    }
    long start = System.nanoTime();
    try {
      channel.force(false);
    } catch (IOException e) {
      throw fail("force (fdatasync) of " + activeFile.getFileName(), e);
    }
    forceNanos += System.nanoTime() - start;
    forces++;
    durableOffset = writtenOffset;
    durableSequence = flushedSequence;
  }

  // ---------------------------------------------------------------- segments

  /**
   * Switches to a new segment for a record of {@code framed} bytes. The old segment is forced
   * completely first: recovery takes records missing before a later segment for corruption, so a
   * newer segment must never hold records while an older one may still lose some.
   */
  private void roll(int framed) {
    writeBuffered();
    forceActive();
    boolean oversized = framed > config.segmentBytes() - SEGMENT_HEADER_BYTES;
    install(createSegment(oversized ? framed : 0));
    segmentFiles.prepareNext();
  }

  /** Creates the segment for the next record and makes its name durable. */
  private SegmentFiles.NewSegment createSegment(int oversizedFramed) {
    SegmentFiles.NewSegment next = segmentFiles.create(nextSequence, oversizedFramed);
    try {
      FileIo.syncDirectory(directory);
    } catch (IOException e) {
      FileIo.closeQuietly(next.channel());
      throw fail("syncing the directory after creating " + next.file().getFileName(), e);
    }
    return next;
  }

  /** Makes {@code next} the active segment; the active one, if any, joins the sealed ones. */
  private void install(SegmentFiles.NewSegment next) {
    FileChannel previous = channel;
    segmentsLock.lock();
    try {
      if (previous != null) {
        Segment old =
            new Segment(activeFile, activeFirstSequence, nextSequence - 1, activeFileBytes);
        sealed.addLast(old);
        sealedBytes += old.bytes();
      }
      activeFileBytes = next.fileBytes();
    } finally {
      segmentsLock.unlock();
    }
    channel = next.channel();
    activeFile = next.file();
    activeFirstSequence = next.firstSequence();
    activeSalt = next.salt();
    activeCapacity = next.capacity();
    activeFileEnd = next.fileBytes();
    writtenOffset = SEGMENT_HEADER_BYTES;
    durableOffset = SEGMENT_HEADER_BYTES;
    FileIo.closeQuietly(previous);
  }

  /** Keeps {@link #sizeBytes()} right when a record made the active file grow. */
  private void noteFileEnd() {
    if (writtenOffset > activeFileEnd) {
      activeFileEnd = writtenOffset;
      setActiveFileBytes(writtenOffset);
    }
  }

  private void setActiveFileBytes(long bytes) {
    segmentsLock.lock();
    try {
      activeFileBytes = bytes;
    } finally {
      segmentsLock.unlock();
    }
  }

  /**
   * Deletes, oldest first, every segment whose records all have sequence numbers below {@code
   * sequence}; never the segment appends go to. Call it once a checkpoint covers {@code sequence -
   * 1}. Blocks for the deletions (a roll-over waits meanwhile, appends and forces do not). Any
   * thread.
   *
   * @return how many segments were deleted
   * @throws StoreException if the log is closed or a file cannot be deleted (the segments before it
   *     are gone, it and the later ones stay)
   */
  public int deleteBefore(long sequence) {
    segmentsLock.lock();
    try {
      if (segmentsClosed) {
        throw new StoreException("write-ahead log " + directory + " is closed");
      }
      int deleted = 0;
      while (!sealed.isEmpty() && sealed.peekFirst().lastSequence() < sequence) {
        Segment oldest = sealed.peekFirst();
        try {
          Files.deleteIfExists(oldest.file());
        } catch (IOException e) {
          throw new StoreException(
              "write-ahead log "
                  + directory
                  + ": cannot delete "
                  + oldest.file().getFileName()
                  + ": "
                  + e,
              e);
        }
        sealed.removeFirst();
        sealedBytes -= oldest.bytes();
        deleted++;
        LOG.debug(
            "wal {}: deleted {} (sequence {}..{})",
            directory,
            oldest.file().getFileName(),
            oldest.firstSequence(),
            oldest.lastSequence());
      }
      return deleted;
    } finally {
      segmentsLock.unlock();
    }
  }

  // ---------------------------------------------------------------- state

  /** The settings this log was opened with. */
  public Config config() {
    return config;
  }

  /** The sequence number of the last record appended (or recovered); 0 if none. Any thread. */
  public long lastSequence() {
    return lastSequence;
  }

  /**
   * The sequence number up to which every record is durable (forced, or recovered at open). Any
   * thread.
   */
  public long durableSequence() {
    return durableSequence;
  }

  /**
   * Bytes of all segment files on disk, the active one counted at its full preallocated size (not
   * the spare being prepared for the next). For checkpoint triggers and stats. Any thread.
   */
  public long sizeBytes() {
    segmentsLock.lock();
    try {
      return sealedBytes + activeFileBytes;
    } finally {
      segmentsLock.unlock();
    }
  }

  /** Counters since open. Any thread; never blocks. */
  public Counters counters() {
    return new Counters(appendedRecords, appendedBytes, forces, forceNanos);
  }

  /**
   * Writes and forces every appended record, gives back the unused preallocated rest of the active
   * segment, and closes the files; later calls (but this one) throw {@link StoreException}.
   * Idempotent; any thread; waits for a call in progress.
   *
   * @throws StoreException if the last write or force fails (the files are closed anyway; records
   *     appended since the last successful force may be lost)
   */
  @Override
  public void close() {
    writeLock.lock();
    try {
      if (closed) {
        return;
      }
      RuntimeException thrown = null;
      if (failure == null) {
        try {
          writeBuffered();
          forceActive();
          trimActive();
        } catch (RuntimeException e) {
          thrown = e;
        }
      }
      release(true);
      if (thrown != null) {
        throw thrown;
      }
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * For tests: stops like a killed process. What was appended and not written to the file is lost;
   * the files, the spare and the lock are released, nothing is trimmed or deleted.
   */
  void abandon() {
    writeLock.lock();
    try {
      if (!closed) {
        release(false);
      }
    } finally {
      writeLock.unlock();
    }
  }

  private void trimActive() {
    if (activeFileEnd <= writtenOffset) {
      return;
    }
    try {
      channel.truncate(writtenOffset);
      channel.force(true);
    } catch (IOException e) {
      // Only space is at stake: a reopen cuts the zeros as well.
      LOG.warn(
          "wal {}: cannot trim {} to {} bytes: {}",
          directory,
          activeFile.getFileName(),
          writtenOffset,
          e.toString());
      return;
    }
    activeFileEnd = writtenOffset;
    setActiveFileBytes(writtenOffset);
  }

  private void release(boolean deleteSpare) {
    closed = true;
    segmentsLock.lock();
    try {
      segmentsClosed = true;
    } finally {
      segmentsLock.unlock();
    }
    FileIo.closeQuietly(channel);
    segmentFiles.close(!deleteSpare);
    FileIo.closeQuietly(lockChannel);
  }

  private void checkWritable() {
    if (closed) {
      throw new StoreException("write-ahead log " + directory + " is closed");
    }
    if (failure != null) {
      throw new StoreException(
          "write-ahead log "
              + directory
              + " failed earlier and must be"
              + " reopened: "
              + failure.getMessage(),
          failure);
    }
  }

  // ---------------------------------------------------------------- failures and I/O helpers

  /** A write that failed: out of space and most errors leave the log usable, a lost file not. */
  private StoreException writeFailure(String what, IOException e, long bytes) {
    if (e instanceof ClosedChannelException) {
      return fail(what, e);
    }
    return FileIo.translate(directory, what, e, bytes);
  }

  /** Fails the log for good (until reopened) and returns the exception to throw. */
  private StoreException fail(String what, IOException e) {
    failure =
        new StoreException(
            "write-ahead log "
                + directory
                + ": "
                + what
                + " failed; the"
                + " log must be reopened, and records appended since the last successful force may be"
                + " lost: "
                + e,
            e);
    LOG.error("wal {}: {} failed; the log is unusable until reopened", directory, what, e);
    return failure;
  }
}

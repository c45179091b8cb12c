package io.craq.store.wal;

import static io.craq.core.Check.check;
import static io.craq.store.wal.SegmentFormat.SEGMENT_HEADER_BYTES;

import io.craq.store.StoreException;
import io.craq.store.StoreFullException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Brings new segment files into being. A segment is prepared under a temporary name, gets its
 * header, is forced, and only then renamed into place: a file with a segment's name always has an
 * intact header, so a bad header can only mean damage. Used by the log's writer, under its lock.
 */
final class SegmentFiles {
  private static final String OVERSIZED_NAME = "wal-oversized" + SegmentFormat.TEMPORARY_SUFFIX;

  /**
   * A segment just created, renamed into place but with the directory not yet forced.
   *
   * @param capacity bytes its records may fill (an empty segment takes any one record)
   * @param fileBytes the file's size now
   */
  record NewSegment(
      FileChannel channel,
      Path file,
      long firstSequence,
      long salt,
      long capacity,
      long fileBytes) {}

  private final Path directory;
  private final long segmentBytes;
  private final FileOpener opener;
  private final Preallocator preallocator;
  private final SecureRandom random = new SecureRandom();

  SegmentFiles(Path directory, long segmentBytes, FileOpener opener) {
    this.directory = directory;
    this.segmentBytes = segmentBytes;
    this.opener = opener;
    this.preallocator = new Preallocator(directory, segmentBytes, opener);
  }

  /** Starts preparing the next segment in the background, unless that is done or under way. */
  void prepareNext() {
    preallocator.start();
  }

  /**
   * Creates the segment starting at {@code firstSequence}: from the preallocated spare, or, when
   * {@code oversizedFramed > 0}, an empty file for one record of that many bytes (not preallocated:
   * the record is its only content). The caller forces the directory.
   *
   * @throws StoreFullException if the disk is full; nothing changed
   * @throws StoreException if I/O fails; nothing changed
   */
  NewSegment create(long firstSequence, int oversizedFramed) {
    boolean oversized = oversizedFramed > 0;
    Path target = directory.resolve(SegmentFormat.segmentName(firstSequence));
    check(!Files.exists(target), "segment %s exists already", target);
    Path temporary;
    try {
      temporary = oversized ? directory.resolve(OVERSIZED_NAME) : preallocator.take();
    } catch (IOException e) {
      throw FileIo.translate(
          directory, "preparing segment " + target.getFileName(), e, segmentBytes);
    }
    long salt = random.nextLong();
    FileChannel created = null;
    try {
      created =
          oversized
              ? opener.open(
                  temporary,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  StandardOpenOption.READ,
                  StandardOpenOption.WRITE)
              : opener.open(temporary, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileIo.writeFully(
          created, SegmentFormat.encodeHeader(new SegmentFormat.Header(firstSequence, salt)), 0);
      created.force(false);
      Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      FileIo.closeQuietly(created);
      FileIo.deleteQuietly(temporary);
      throw FileIo.translate(
          directory, "creating segment " + target.getFileName(), e, SEGMENT_HEADER_BYTES);
    }
    long fileBytes = oversized ? SEGMENT_HEADER_BYTES : segmentBytes;
    long capacity = oversized ? SEGMENT_HEADER_BYTES + (long) oversizedFramed : fileBytes;
    return new NewSegment(created, target, firstSequence, salt, capacity, fileBytes);
  }

  /** Stops preparing segments; removes the spare unless {@code keepSpare} (a simulated crash). */
  void close(boolean keepSpare) {
    if (keepSpare) {
      preallocator.stop();
    } else {
      preallocator.close();
    }
  }
}

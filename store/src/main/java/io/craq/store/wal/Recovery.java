package io.craq.store.wal;

import static io.craq.store.wal.SegmentFormat.SEGMENT_HEADER_BYTES;

import io.craq.store.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link WriteAheadLog#open} does before the log takes appends: checks the segments, replays
 * the records after the caller's checkpoint, and cuts a torn tail off the last segment.
 *
 * <p>The rule that separates a crash artefact from corruption: the log only ever writes at the end
 * of its last segment, and forces a segment completely before the next one exists. So damage after
 * the last intact record of the last segment is what a crash leaves (a record being written, pages
 * the disk had not stored yet) and is cut; anything else (a segment that is not the last with a bad
 * header, records missing between segments or before the first one) cannot come from a crash and
 * stops the open with a {@link StoreException}.
 */
final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);

  /** A segment file found at open: its name's first sequence number and its header. */
  private record Found(
      Path file, long firstSequence, long bytes, SegmentFormat.Header header, String tornReason) {}

  /**
   * What recovery leaves: the segments kept, oldest first, and the highest sequence number the log
   * has used (0 if none).
   */
  record Result(List<WriteAheadLog.Segment> segments, long lastSequence, long replayed) {}

  private final Path directory;
  private final FileOpener opener;
  private final long afterSequence;
  private final Consumer<WriteAheadLog.Record> replay;
  private final List<WriteAheadLog.Segment> kept = new ArrayList<>();
  private long lastSequence;
  private int segmentsSeen;
  private long replayed;
  private boolean removedFiles;

  private Recovery(
      Path directory,
      FileOpener opener,
      long afterSequence,
      Consumer<WriteAheadLog.Record> replay) {
    this.directory = directory;
    this.opener = opener;
    this.afterSequence = afterSequence;
    this.replay = replay;
  }

  /** Runs recovery in {@code directory}; see {@link WriteAheadLog#open} for the contract. */
  static Result run(
      Path directory, FileOpener opener, long afterSequence, Consumer<WriteAheadLog.Record> replay)
      throws IOException {
    Recovery recovery = new Recovery(directory, opener, afterSequence, replay);
    List<Found> segments = recovery.readHeaders(recovery.listSegments());
    for (int i = 0; i < segments.size(); i++) {
      Found next = i + 1 < segments.size() ? segments.get(i + 1) : null;
      recovery.recover(segments.get(i), next);
    }
    if (recovery.removedFiles) {
      FileIo.syncDirectory(directory);
    }
    return new Result(List.copyOf(recovery.kept), recovery.lastSequence, recovery.replayed);
  }

  /** The segment files, oldest first; leftovers of a segment being prepared are removed. */
  private List<Path> listSegments() throws IOException {
    List<Path> segments = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.toList()) {
        if (SegmentFormat.isTemporary(file)) {
          Files.delete(file);
          removedFiles = true;
        } else if (SegmentFormat.firstSequenceOf(file) >= 0) {
          segments.add(file);
        }
      }
    }
    segments.sort(Comparator.comparingLong(SegmentFormat::firstSequenceOf));
    return segments;
  }

  /**
   * Reads every header before any record is replayed, so that the damage headers and names can show
   * is reported before the caller has applied anything.
   */
  private List<Found> readHeaders(List<Path> files) throws IOException {
    List<Found> found = new ArrayList<>(files.size());
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      long first = SegmentFormat.firstSequenceOf(file);
      boolean last = i == files.size() - 1;
      try (FileChannel channel = opener.open(file, StandardOpenOption.READ)) {
        long bytes = channel.size();
        ByteBuffer header = ByteBuffer.allocate((int) Math.min(SEGMENT_HEADER_BYTES, bytes));
        FileIo.readFully(channel, header, 0, file);
        SegmentFormat.DecodedHeader decoded = SegmentFormat.decodeHeader(header.flip(), file);
        if (decoded.header() == null && !last) {
          throw corrupt(
              file
                  + " is not the last segment but its header is unreadable ("
                  + decoded.tornReason()
                  + ")");
        }
        if (decoded.header() != null && decoded.header().firstSequence() != first) {
          throw corrupt(
              file
                  + " is named for sequence "
                  + first
                  + " but its header says "
                  + decoded.header().firstSequence());
        }
        found.add(new Found(file, first, bytes, decoded.header(), decoded.tornReason()));
      }
    }
    if (!found.isEmpty() && found.get(0).firstSequence() > afterSequence + 1) {
      throw corrupt(
          "records "
              + (afterSequence + 1)
              + ".."
              + (found.get(0).firstSequence() - 1)
              + " are missing: they are after the checkpoint ("
              + afterSequence
              + ") but the oldest segment, "
              + found.get(0).file()
              + ", starts at "
              + found.get(0).firstSequence());
    }
    return found;
  }

  /** Recovers one segment; {@code next} is the one after it, null for the last. */
  private void recover(Found segment, Found next) throws IOException {
    checkFollows(segment);
    segmentsSeen++;
    lastSequence = Math.max(lastSequence, segment.firstSequence() - 1);
    if (segment.header() == null) {
      LOG.warn(
          "wal {}: torn header in the last segment {} at offset 0: {}; it held no records"
              + " and was removed",
          directory,
          segment.file().getFileName(),
          segment.tornReason());
      remove(segment.file());
      return;
    }
    if (next != null && next.firstSequence() - 1 <= afterSequence) {
      // Every record it holds is in the checkpoint: nothing to replay, nothing to read.
      kept.add(
          new WriteAheadLog.Segment(
              segment.file(), segment.firstSequence(), next.firstSequence() - 1, segment.bytes()));
      lastSequence = next.firstSequence() - 1;
      return;
    }
    boolean last = next == null;
    try (FileChannel channel =
        opener.open(
            segment.file(),
            last
                ? new StandardOpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE}
                : new StandardOpenOption[] {StandardOpenOption.READ})) {
      SegmentReader reader =
          new SegmentReader(channel, segment.file(), segment.bytes(), segment.header());
      long lastInSegment = segment.firstSequence() - 1;
      for (WriteAheadLog.Record record = reader.next(); record != null; record = reader.next()) {
        lastInSegment = record.sequence();
        if (record.sequence() > afterSequence) {
          replay.accept(record);
          replayed++;
        }
      }
      lastSequence = Math.max(lastSequence, lastInSegment);
      if (last) {
        cutTail(segment, channel, reader, lastInSegment);
      } else {
        kept.add(
            new WriteAheadLog.Segment(
                segment.file(), segment.firstSequence(), lastInSegment, segment.bytes()));
      }
    }
  }

  /**
   * Checks that {@code segment} starts right after the records before it. A gap only matters when
   * it holds records after the checkpoint: older ones are not needed (opening with a checkpoint
   * beyond the end of the log starts the next segment past a gap on purpose).
   */
  private void checkFollows(Found segment) {
    if (segmentsSeen == 0) {
      return; // the first segment: readHeaders checked it against the checkpoint
    }
    long expected = lastSequence + 1;
    long first = segment.firstSequence();
    if (first > expected && first - 1 > afterSequence) {
      throw corrupt(
          "records "
              + Math.max(expected, afterSequence + 1)
              + ".."
              + (first - 1)
              + " are missing: the segments before "
              + segment.file().getFileName()
              + " end at sequence "
              + lastSequence
              + " and it starts at "
              + first);
    }
    if (first < expected) {
      throw corrupt(
          "segment "
              + segment.file().getFileName()
              + " starts at sequence "
              + first
              + " but the segments before it hold records up to "
              + lastSequence);
    }
  }

  /**
   * Cuts the last segment after its last intact record, so that nothing after that point can ever
   * be read as a record, and forces it: records that outlived a process crash in the page cache are
   * replayed now and must outlive a power loss too. A segment left without records is removed (the
   * log starts a fresh one anyway).
   */
  private void cutTail(Found segment, FileChannel channel, SegmentReader reader, long lastInSegment)
      throws IOException {
    SegmentReader.Stop stop = reader.stop();
    boolean empty = lastInSegment < segment.firstSequence();
    String name = segment.file().getFileName().toString();
    if (!stop.atEndOfFile() && !reader.zerosFrom(stop.offset())) {
      LOG.warn(
          "wal {}: torn tail in {} at offset {}: {}; cut there, {}",
          directory,
          name,
          stop.offset(),
          stop.reason(),
          empty
              ? "the segment held no intact record and was" + " removed"
              : "the last record kept is sequence " + lastInSegment);
    } else if (!stop.atEndOfFile()) {
      // Zeros to the end: the unused rest of a preallocated segment. A crash leaves that, but
      // it is not damage, so it is no warning.
      LOG.info(
          "wal {}: {} was not closed cleanly; {}",
          directory,
          name,
          empty
              ? "it held no records and was removed"
              : "its records end at offset "
                  + stop.offset()
                  + " (sequence "
                  + lastInSegment
                  + ") and the zeros after them were cut");
    }
    if (empty) {
      channel.close();
      remove(segment.file());
      return;
    }
    if (!stop.atEndOfFile()) {
      channel.truncate(stop.offset());
    }
    channel.force(true);
    kept.add(
        new WriteAheadLog.Segment(
            segment.file(), segment.firstSequence(), lastInSegment, stop.offset()));
  }

  private void remove(Path file) throws IOException {
    Files.delete(file);
    removedFiles = true;
  }

  private StoreException corrupt(String what) {
    return new StoreException(
        "write-ahead log "
            + directory
            + " is corrupt (not a torn tail a"
            + " crash could leave): "
            + what);
  }
}

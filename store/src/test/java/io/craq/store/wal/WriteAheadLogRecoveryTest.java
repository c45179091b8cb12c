package io.craq.store.wal;

import static io.craq.store.wal.WalFixture.assertRecords;
import static io.craq.store.wal.WalFixture.open;
import static io.craq.store.wal.WalFixture.overwrite;
import static io.craq.store.wal.WalFixture.payload;
import static io.craq.store.wal.WalFixture.segments;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.craq.store.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery: what a crash leaves at the end of the log is cut with one log line and the log goes on;
 * damage a crash cannot explain stops the open.
 */
class WriteAheadLogRecoveryTest {
  /** Payload sizes of the records the torn-tail tests start from; one is empty. */
  private static final int[] SIZES = {50, 20, 0, 33};

  @TempDir Path directory;
  private LogCapture capture;

  @BeforeEach
  void captureLog() {
    capture = new LogCapture();
  }

  @AfterEach
  void releaseLog() {
    capture.close();
  }

  /** Writes records 1..{@link #SIZES}.length into one segment and closes the log cleanly. */
  private static SortedMap<Long, byte[]> writeSizes(Path dir) {
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    try (WriteAheadLog log = open(WalFixture.smallSegments(dir), 0).log()) {
      for (int i = 0; i < SIZES.length; i++) {
        long sequence = i + 1;
        appended.put(sequence, payload(sequence, SIZES[i]));
        log.append(appended.get(sequence));
      }
    }
    return appended;
  }

  /** {@code ends[i]}: the offset where record {@code i + 1} starts (and record i ends). */
  private static long[] recordEnds() {
    long[] ends = new long[SIZES.length + 1];
    ends[0] = SegmentFormat.SEGMENT_HEADER_BYTES;
    for (int i = 0; i < SIZES.length; i++) {
      ends[i + 1] = ends[i] + WriteAheadLog.RECORD_HEADER_BYTES + SIZES[i];
    }
    return ends;
  }

  /**
   * Opens {@code dir} expecting {@code expected}, with exactly one warning naming {@code file} and
   * {@code offset} (none if {@code offset < 0}); then appends two records, reopens, and expects
   * those too, without a warning.
   */
  private void expectRecoveredAndGoingOn(
      Path dir, SortedMap<Long, byte[]> expected, Path file, long offset) {
    capture.clear();
    WriteAheadLog.Config config = WalFixture.smallSegments(dir);
    WalFixture.Opened opened = open(config, 0);
    SortedMap<Long, byte[]> all = new TreeMap<>(expected);
    try (WriteAheadLog log = opened.log()) {
      assertRecords(expected, opened.replay().records);
      List<String> warnings = capture.warnings();
      if (offset < 0) {
        assertEquals(List.of(), warnings);
      } else {
        assertEquals(1, warnings.size(), "one warning: " + warnings);
        String warning = warnings.get(0);
        assertTrue(
            warning.contains(file.getFileName().toString())
                && warning.contains("offset " + offset + ":"),
            warning);
      }
      for (int i = 0; i < 2; i++) {
        long sequence = log.lastSequence() + 1;
        all.put(sequence, payload(sequence, 7 + i, 99)); // not what stood there before
        assertEquals(sequence, log.append(all.get(sequence)));
      }
    }
    capture.clear();
    WalFixture.Opened again = open(config, 0);
    again.log().close();
    assertRecords(all, again.replay().records);
    assertEquals(List.of(), capture.warnings());
  }

  @Test
  @DisplayName(
      "a segment cut at every byte offset of its last three records: the whole records"
          + " before the cut come back, nothing after, one warning, and the log goes on")
  void tornAtEveryOffset() throws Exception {
    Path source = directory.resolve("source");
    SortedMap<Long, byte[]> appended = writeSizes(source);
    long[] ends = recordEnds();
    Path segment = WalFixture.lastSegment(source);
    assertEquals(ends[SIZES.length], Files.size(segment), "close trims the segment");
    for (long cut = ends[1]; cut <= ends[SIZES.length]; cut++) {
      Path dir = directory.resolve("cut-" + cut);
      WalFixture.copyDirectory(source, dir);
      WalFixture.truncate(dir.resolve(segment.getFileName()), cut);
      int whole = 0;
      while (whole < SIZES.length && ends[whole + 1] <= cut) {
        whole++;
      }
      // A cut between records is clean; so is one that leaves only zeros of the next record
      // (the start of an empty record's length): they read as unused preallocated space.
      byte[] left = Arrays.copyOfRange(Files.readAllBytes(segment), (int) ends[whole], (int) cut);
      boolean clean = SegmentFormat.allZeros(ByteBuffer.wrap(left));
      long offset = clean ? -1 : ends[whole];
      expectRecoveredAndGoingOn(dir, appended.headMap(whole + 1L), segment, offset);
    }
  }

  @Test
  @DisplayName("any byte of the last record changed: that record is cut with a warning")
  void corruptLastRecord() throws Exception {
    Path source = directory.resolve("source");
    SortedMap<Long, byte[]> appended = writeSizes(source);
    long[] ends = recordEnds();
    Path segment = WalFixture.lastSegment(source);
    byte[] original = Files.readAllBytes(segment);
    for (long at = ends[SIZES.length - 1]; at < ends[SIZES.length]; at++) {
      Path dir = directory.resolve("flip-" + at);
      WalFixture.copyDirectory(source, dir);
      overwrite(
          dir.resolve(segment.getFileName()), at, new byte[] {(byte) (original[(int) at] ^ 0x5A)});
      expectRecoveredAndGoingOn(
          dir, appended.headMap((long) SIZES.length), segment, ends[SIZES.length - 1]);
    }
  }

  @Test
  @DisplayName(
      "zeros after the last record, as a crash leaves in a preallocated segment: cut"
          + " without a warning; zeros followed by other bytes: a warning")
  void zerosAfterLastRecord() throws Exception {
    Path crashed = directory.resolve("crashed");
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    WriteAheadLog log = open(WalFixture.smallSegments(crashed), 0).log();
    for (long sequence = 1; sequence <= 5; sequence++) {
      appended.put(sequence, payload(sequence, 30));
      log.append(appended.get(sequence));
    }
    log.force();
    log.abandon();
    Path segment = WalFixture.lastSegment(crashed);
    assertEquals(4096, Files.size(segment), "the preallocated zeros are still there");
    capture.clear();
    WalFixture.Opened reopened = open(WalFixture.smallSegments(crashed), 0);
    reopened.log().close();
    assertRecords(appended, reopened.replay().records);
    assertEquals(List.of(), capture.warnings());
    assertTrue(
        capture.at(Level.INFO).stream().anyMatch(line -> line.contains("zeros")),
        capture.at(Level.INFO).toString());

    Path padded = directory.resolve("padded");
    SortedMap<Long, byte[]> written = writeSizes(padded);
    Path last = WalFixture.lastSegment(padded);
    long end = Files.size(last);
    overwrite(last, end, new byte[100]);
    capture.clear();
    WalFixture.Opened opened = open(WalFixture.smallSegments(padded), 0);
    opened.log().close();
    assertRecords(written, opened.replay().records);
    assertEquals(List.of(), capture.warnings());
    assertTrue(
        capture.at(Level.INFO).stream().anyMatch(line -> line.contains("zeros")),
        capture.at(Level.INFO).toString());
    assertEquals(end, Files.size(last), "the zeros were cut");

    Path stray = directory.resolve("stray");
    SortedMap<Long, byte[]> strayWritten = writeSizes(stray);
    Path straySegment = WalFixture.lastSegment(stray);
    long strayEnd = Files.size(straySegment);
    byte[] tail = new byte[100];
    tail[70] = 1;
    overwrite(straySegment, strayEnd, tail);
    expectRecoveredAndGoingOn(stray, strayWritten, straySegment, strayEnd);
  }

  @Test
  @DisplayName(
      "bytes after the last record that look like a record (plausible header, a record"
          + " of another log with the right number, a repeated record) are cut, never replayed")
  void garbageThatLooksLikeARecord() throws Exception {
    long[] ends = recordEnds();
    long next = SIZES.length + 1;

    Path badCrc = directory.resolve("bad-crc");
    SortedMap<Long, byte[]> appended = writeSizes(badCrc);
    Path segment = WalFixture.lastSegment(badCrc);
    ByteBuffer fake = ByteBuffer.allocate(16 + 10).putInt(10).putInt(0x12345678).putLong(next);
    overwrite(segment, ends[SIZES.length], fake.array());
    expectRecoveredAndGoingOn(badCrc, appended, segment, ends[SIZES.length]);

    // The same records and one more in another log: the extra record is well formed and has
    // the next number, but another segment's salt.
    Path other = directory.resolve("other");
    try (WriteAheadLog log = open(WalFixture.smallSegments(other), 0).log()) {
      for (long sequence = 1; sequence <= next; sequence++) {
        log.append(sequence == next ? payload(next, 12) : appended.get(sequence));
      }
    }
    byte[] foreign =
        Arrays.copyOfRange(
            Files.readAllBytes(WalFixture.lastSegment(other)),
            (int) ends[SIZES.length],
            (int) ends[SIZES.length] + 16 + 12);
    Path copied = directory.resolve("copied");
    writeSizes(copied);
    Path copiedSegment = WalFixture.lastSegment(copied);
    overwrite(copiedSegment, ends[SIZES.length], foreign);
    expectRecoveredAndGoingOn(copied, appended, copiedSegment, ends[SIZES.length]);

    // The log's own last record once more: intact, but its number is not the next one.
    Path repeated = directory.resolve("repeated");
    writeSizes(repeated);
    Path repeatedSegment = WalFixture.lastSegment(repeated);
    byte[] bytes = Files.readAllBytes(repeatedSegment);
    overwrite(
        repeatedSegment,
        ends[SIZES.length],
        Arrays.copyOfRange(bytes, (int) ends[SIZES.length - 1], (int) ends[SIZES.length]));
    capture.clear();
    WalFixture.Opened opened = open(WalFixture.smallSegments(repeated), 0);
    opened.log().close();
    assertRecords(appended, opened.replay().records);
    assertTrue(
        capture.warnings().get(0).contains("sequence 4 where 5 was expected"),
        capture.warnings().toString());
  }

  @Test
  @DisplayName(
      "a torn tail, new appends, another crash: the stale bytes after the cut never" + " come back")
  void tornTailThenAppendsThenCrash() throws Exception {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> expected = new TreeMap<>();
    WriteAheadLog log = open(config, 0).log();
    for (long sequence = 1; sequence <= 12; sequence++) {
      byte[] payload = payload(sequence, 40);
      if (sequence <= 10) {
        expected.put(sequence, payload);
      }
      log.append(payload);
      if (sequence == 10) {
        log.force();
      }
    }
    log.flush();
    log.abandon();
    Path segment = WalFixture.lastSegment(directory);
    // Record 11's payload lost (a page the disk never stored); record 12 intact behind it.
    long record11 = 32 + 10 * (16 + 40);
    overwrite(segment, record11 + 16 + 5, new byte[] {0x11, 0x22});

    WalFixture.Opened first = open(config, 0);
    WriteAheadLog second = first.log();
    assertRecords(expected, first.replay().records);
    assertEquals(1, capture.warnings().size(), capture.warnings().toString());
    assertEquals(record11, Files.size(segment), "the tail is physically cut");
    for (long sequence = 11; sequence <= 13; sequence++) {
      expected.put(sequence, payload(sequence, 25, 7));
      assertEquals(sequence, second.append(expected.get(sequence)));
    }
    second.flush();
    second.abandon();

    capture.clear();
    WalFixture.Opened third = open(config, 0);
    third.log().close();
    assertRecords(expected, third.replay().records);
    assertEquals(List.of(), capture.warnings());
  }

  /** Writes 300 records over many segments, closes, and returns the segment files. */
  private List<Path> manySegments() throws IOException {
    try (WriteAheadLog log = open(WalFixture.smallSegments(directory), 0).log()) {
      for (long sequence = 1; sequence <= 300; sequence++) {
        log.append(payload(sequence, 100));
      }
    }
    List<Path> files = segments(directory);
    assertTrue(files.size() >= 6, files.toString());
    return files;
  }

  private StoreException openFails(long afterSequence) {
    return assertThrows(
        StoreException.class, () -> open(WalFixture.smallSegments(directory), afterSequence));
  }

  @Test
  @DisplayName("a segment missing in the middle is corruption, unless the checkpoint covers it")
  void gapInTheMiddle() throws Exception {
    List<Path> files = manySegments();
    Files.delete(files.get(3));
    long missingFrom = SegmentFormat.firstSequenceOf(files.get(3));
    long missingTo = SegmentFormat.firstSequenceOf(files.get(4)) - 1;
    StoreException e = openFails(0);
    assertTrue(
        e.getMessage().contains("corrupt")
            && e.getMessage()
                .contains("records " + missingFrom + ".." + missingTo + " are missing"),
        e.getMessage());
    assertTrue(
        openFails(missingTo - 1)
            .getMessage()
            .contains("records " + missingTo + ".." + missingTo + " are missing"));

    WalFixture.Opened opened = open(WalFixture.smallSegments(directory), missingTo);
    opened.log().close();
    assertEquals(missingTo + 1, opened.replay().sequences().get(0));
    assertEquals(300, opened.replay().records.size() + missingTo);
  }

  @Test
  @DisplayName("the oldest segment starting after the checkpoint's next record is corruption")
  void oldestStartsTooLate() throws Exception {
    List<Path> files = manySegments();
    Files.delete(files.get(0));
    long second = SegmentFormat.firstSequenceOf(files.get(1));
    StoreException e = openFails(second - 2);
    assertTrue(
        e.getMessage().contains("records " + (second - 1) + ".." + (second - 1) + " are missing"),
        e.getMessage());
    open(WalFixture.smallSegments(directory), second - 1).log().close();
  }

  @Test
  @DisplayName("a bad header in a segment that is not the last is corruption")
  void badHeaderInTheMiddle() throws Exception {
    List<Path> files = manySegments();
    overwrite(files.get(2), 9, new byte[] {0x55});
    StoreException e = openFails(0);
    assertTrue(
        e.getMessage().contains(files.get(2).toString())
            && e.getMessage().contains("not the last segment"),
        e.getMessage());
  }

  @Test
  @DisplayName("a torn header in the last segment: the segment goes, with a warning")
  void tornHeaderInTheLastSegment() throws Exception {
    SortedMap<Long, byte[]> appended = writeSizes(directory);
    Path torn = directory.resolve(SegmentFormat.segmentName(SIZES.length + 1));
    Files.write(torn, new byte[] {'C', 'Q', 'W', 'L', 0, 0, 0});
    expectRecoveredAndGoingOn(directory, appended, torn, 0);
  }

  @Test
  @DisplayName(
      "a segment whose name and header disagree, or that overlaps the one before, is"
          + " corruption")
  void nameAndHeaderDisagree() throws Exception {
    writeSizes(directory);
    Path segment = WalFixture.lastSegment(directory);
    Files.write(
        directory.resolve(SegmentFormat.segmentName(3)),
        SegmentFormat.encodeHeader(new SegmentFormat.Header(3, 42)).array());
    assertTrue(openFails(0).getMessage().contains("hold records up to 4"));
    Files.delete(directory.resolve(SegmentFormat.segmentName(3)));

    Files.move(segment, directory.resolve(SegmentFormat.segmentName(2)));
    assertTrue(openFails(1).getMessage().contains("its header says 1"));
  }

  @Test
  @DisplayName("a segment of another format version is refused and left alone, even the last")
  void otherFormat() throws Exception {
    writeSizes(directory);
    Path segment = WalFixture.lastSegment(directory);
    overwrite(segment, 4, new byte[] {0, 0, 0, 2});
    byte[] before = Files.readAllBytes(segment);
    assertTrue(openFails(0).getMessage().contains("format 2"));
    assertTrue(Arrays.equals(before, Files.readAllBytes(segment)), "not cut, not deleted");
  }
}

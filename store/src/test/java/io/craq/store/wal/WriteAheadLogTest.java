package io.craq.store.wal;

import static io.craq.store.wal.WalFixture.assertRecords;
import static io.craq.store.wal.WalFixture.open;
import static io.craq.store.wal.WalFixture.payload;
import static io.craq.store.wal.WalFixture.segments;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.store.StoreException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's contract in normal operation: numbering, replay, segments, limits, lifecycle. */
class WriteAheadLogTest {
  @TempDir Path directory;

  /** Appends {@code count} records of 0..300 bytes, forcing every 10; returns them. */
  private static SortedMap<Long, byte[]> appendMany(WriteAheadLog log, int count, long seed) {
    Random random = new Random(seed);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      long sequence = log.lastSequence() + 1;
      byte[] payload = payload(sequence, random.nextInt(301));
      assertEquals(sequence, log.append(payload));
      appended.put(sequence, payload);
      if (i % 10 == 9) {
        log.force();
      }
    }
    return appended;
  }

  @Test
  @DisplayName("records come back in order with their payloads, across many segments")
  void roundTripAcrossSegments() throws Exception {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> appended;
    try (WriteAheadLog log = open(config, 0).log()) {
      assertEquals(0, log.lastSequence());
      appended = appendMany(log, 1000, 1);
      assertEquals(1000, log.lastSequence());
    }
    List<Path> files = segments(directory);
    assertTrue(files.size() > 20, "expected many segments, got " + files.size());
    WalFixture.Opened reopened = open(config, 0);
    try (WriteAheadLog log = reopened.log()) {
      assertRecords(appended, reopened.replay().records);
      assertEquals(1000, log.lastSequence());
      assertEquals(1000, log.durableSequence());
      assertEquals(1001, log.append(new byte[] {7}));
    }
  }

  @Test
  @DisplayName("reopening replays only the records after afterSequence: middle, end, beyond")
  void replayAfterSequence() {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> appended;
    try (WriteAheadLog log = open(config, 0).log()) {
      appended = appendMany(log, 300, 2);
    }
    WalFixture.Opened middle = open(config, 123);
    middle.log().close();
    assertRecords(appended.tailMap(124L), middle.replay().records);

    WalFixture.Opened end = open(config, 300);
    try (WriteAheadLog log = end.log()) {
      assertEquals(List.of(), end.replay().sequences());
      assertEquals(301, log.append(payload(301, 5)));
    }
    appended.put(301L, payload(301, 5));

    WalFixture.Opened beyond = open(config, 500);
    try (WriteAheadLog log = beyond.log()) {
      assertEquals(List.of(), beyond.replay().sequences());
      assertEquals(500, log.lastSequence());
      assertEquals(501, log.append(payload(501, 9)));
    }
    WalFixture.Opened after = open(config, 500);
    after.log().close();
    assertRecords(new TreeMap<>(java.util.Map.of(501L, payload(501, 9))), after.replay().records);
  }

  @Test
  @DisplayName("flush survives a process crash, records only appended do not")
  void flushSurvivesProcessCrash() {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    WriteAheadLog log = open(config, 0).log();
    for (long sequence = 1; sequence <= 5; sequence++) {
      log.append(payload(sequence, 40));
    }
    log.flush();
    assertEquals(5, log.lastSequence());
    assertEquals(0, log.durableSequence(), "flush does not force");
    log.append(payload(6, 40));
    log.append(payload(7, 40));
    log.abandon();

    WalFixture.Opened reopened = open(config, 0);
    try (WriteAheadLog again = reopened.log()) {
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L), reopened.replay().sequences());
      assertEquals(5, again.durableSequence(), "recovery forces what it replayed");
      assertEquals(6, again.append(payload(6, 41, 1)), "numbering continues after the last kept");
    }
  }

  @Test
  @DisplayName("force makes everything appended durable with one sync; counters add up")
  void forceAndCounters() {
    try (WriteAheadLog log =
        open(WalFixture.smallSegments(directory).withSegmentBytes(1 << 20), 0).log()) {
      for (int i = 0; i < 10; i++) {
        log.append(new byte[100]);
      }
      assertEquals(0, log.durableSequence());
      log.force();
      assertEquals(10, log.durableSequence());
      WriteAheadLog.Counters counters = log.counters();
      assertEquals(10, counters.records());
      assertEquals(10 * (100 + WriteAheadLog.RECORD_HEADER_BYTES), counters.bytes());
      assertEquals(1, counters.forces(), "one force for the group");
      assertTrue(counters.forceNanos() > 0);
      log.force();
      assertEquals(1, log.counters().forces(), "nothing new: no sync");
    }
  }

  @Test
  @DisplayName("a payload over recordBytesMax is refused before anything is written")
  void recordBytesMax() {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory).withRecordBytesMax(100);
    try (WriteAheadLog log = open(config, 0).log()) {
      log.append(new byte[100]);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> log.append(new byte[101]));
      assertTrue(e.getMessage().contains("recordBytesMax"), e.getMessage());
      assertEquals(1, log.lastSequence());
      assertEquals(2, log.append(ByteBuffer.allocate(0)), "an empty payload is a record");
    }
    WalFixture.Opened reopened = open(config, 0);
    reopened.log().close();
    assertEquals(List.of(1L, 2L), reopened.replay().sequences());
    assertEquals(100, reopened.replay().records.get(0).payload().remaining());
    assertEquals(0, reopened.replay().records.get(1).payload().remaining());
  }

  @Test
  @DisplayName(
      "a record larger than a segment gets a segment of its own; large ones skip the" + " buffer")
  void largeRecords() throws Exception {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory).withRecordBytesMax(3 << 20);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    try (WriteAheadLog log = open(config, 0).log()) {
      int[] sizes = {10, 10_000, 20, 3 << 20, 4000, 4096 - 32 - 16, 5};
      for (int size : sizes) {
        long sequence = log.lastSequence() + 1;
        appended.put(sequence, payload(sequence, size));
        log.append(appended.get(sequence));
      }
      log.force();
    }
    Path own = directory.resolve(SegmentFormat.segmentName(2));
    assertEquals(32 + 16 + 10_000, Files.size(own), "the 10,000-byte record's own segment");
    Path huge = directory.resolve(SegmentFormat.segmentName(4));
    assertEquals(32 + 16 + (3 << 20), Files.size(huge));
    WalFixture.Opened reopened = open(config, 0);
    reopened.log().close();
    assertRecords(appended, reopened.replay().records);
  }

  @Test
  @DisplayName(
      "deleteBefore removes only whole segments below the sequence, never the active" + " one")
  void deleteBefore() throws Exception {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> appended;
    try (WriteAheadLog log = open(config, 0).log()) {
      appended = appendMany(log, 400, 3);
      log.force();
      List<Path> before = segments(directory);
      assertEquals(sizeOnDisk(before), log.sizeBytes());

      long firstOfThird = SegmentFormat.firstSequenceOf(before.get(2));
      assertEquals(2, log.deleteBefore(firstOfThird), "the first two end below it");
      assertEquals(before.subList(2, before.size()), segments(directory));
      assertEquals(0, log.deleteBefore(firstOfThird + 1), "the third still holds it");
      assertEquals(sizeOnDisk(segments(directory)), log.sizeBytes());

      log.deleteBefore(Long.MAX_VALUE);
      List<Path> left = segments(directory);
      assertEquals(List.of(before.get(before.size() - 1)), left, "the active segment stays");
      assertEquals(sizeOnDisk(left), log.sizeBytes());
      log.append(payload(401, 3));
      appended.put(401L, payload(401, 3));
    }
    long firstKept = SegmentFormat.firstSequenceOf(segments(directory).get(0));
    WalFixture.Opened reopened = open(config, firstKept - 1);
    reopened.log().close();
    assertRecords(appended.tailMap(firstKept), reopened.replay().records);
  }

  private static long sizeOnDisk(List<Path> files) throws Exception {
    long bytes = 0;
    for (Path file : files) {
      bytes += Files.size(file);
    }
    return bytes;
  }

  @Test
  @DisplayName("deleteBefore and sizeBytes run on another thread while records are appended")
  void deleteBeforeConcurrently() throws Exception {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    ExecutorService other = Executors.newSingleThreadExecutor();
    try (WriteAheadLog log = open(config, 0).log()) {
      AtomicBoolean done = new AtomicBoolean();
      CountDownLatch started = new CountDownLatch(1);
      Future<Integer> deleter =
          other.submit(() -> {
            started.countDown();
            int deleted = 0;
            while (!done.get()) {
              // A checkpoint that trails the durable records by 50.
              deleted += log.deleteBefore(Math.max(0, log.durableSequence() - 50));
              assertTrue(log.sizeBytes() >= config.segmentBytes());
            }
            return deleted;
          });
      assertTrue(started.await(10, TimeUnit.SECONDS));
      for (long sequence = 1; sequence <= 2000; sequence++) {
        appended.put(sequence, payload(sequence, 60));
        log.append(appended.get(sequence));
        if (sequence % 7 == 0) {
          log.force();
        }
      }
      log.force();
      done.set(true);
      assertTrue(deleter.get(10, TimeUnit.SECONDS) > 0, "segments were deleted meanwhile");
    } finally {
      other.shutdownNow();
    }
    long checkpoint = 2000 - 50;
    WalFixture.Opened reopened = open(config, checkpoint);
    reopened.log().close();
    assertRecords(appended.tailMap(checkpoint + 1), reopened.replay().records);
  }

  @Test
  @DisplayName("a closed log refuses calls; close is idempotent; a second open is refused")
  void lifecycle() {
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    WriteAheadLog log = open(config, 0).log();
    StoreException inUse = assertThrows(StoreException.class, () -> open(config, 0));
    assertTrue(inUse.getMessage().contains("in use"), inUse.getMessage());
    log.append(new byte[] {1});
    log.close();
    log.close();
    assertThrows(StoreException.class, () -> log.append(new byte[] {2}));
    assertThrows(StoreException.class, log::force);
    assertThrows(StoreException.class, log::flush);
    assertThrows(StoreException.class, () -> log.deleteBefore(1));
    WalFixture.Opened reopened = open(config, 0);
    reopened.log().close();
    assertEquals(List.of(1L), reopened.replay().sequences());
  }

  @Test
  @DisplayName("bad settings are refused when the config is built")
  void badConfig() {
    WriteAheadLog.Config config = WriteAheadLog.Config.defaults(directory);
    assertThrows(IllegalArgumentException.class, () -> config.withSegmentBytes(100));
    assertThrows(IllegalArgumentException.class, () -> config.withSegmentBytes(1L << 41));
    assertThrows(IllegalArgumentException.class, () -> config.withRecordBytesMax(-1));
    assertThrows(IllegalArgumentException.class, () -> config.withRecordBytesMax((1 << 30) + 1));
    assertThrows(IllegalArgumentException.class, () -> WriteAheadLog.open(config, -1, r -> {}));
  }
}

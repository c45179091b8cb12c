package io.craq.store.wal;

import static io.craq.store.wal.WalFixture.assertRecords;
import static io.craq.store.wal.WalFixture.open;
import static io.craq.store.wal.WalFixture.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.craq.store.StoreException;
import io.craq.store.StoreFullException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk throws StoreFullException, appends nothing, and leaves the log usable: once space
 * returns, the log goes on without a record lost or repeated. A failed sync fails the log.
 */
class WriteAheadLogSpaceTest {
  @TempDir Path directory;

  /** Appends one record of {@code bytes} bytes and notes it in {@code appended}. */
  private static void append(WriteAheadLog log, SortedMap<Long, byte[]> appended, int bytes) {
    long sequence = log.lastSequence() + 1;
    byte[] payload = payload(sequence, bytes);
    assertEquals(sequence, log.append(payload));
    appended.put(sequence, payload);
  }

  /** Appends until the disk is full (at most {@code attempts}); returns the exception. */
  private static StoreFullException appendUntilFull(
      WriteAheadLog log, SortedMap<Long, byte[]> appended, int bytes, int attempts) {
    for (int i = 0; i < attempts; i++) {
      long before = log.lastSequence();
      try {
        append(log, appended, bytes);
        if (i % 8 == 7) {
          log.force();
        }
      } catch (StoreFullException e) {
        assertEquals(before, log.lastSequence(), "a failed append appends nothing");
        return e;
      }
    }
    throw new AssertionError("the disk never filled up in " + attempts + " appends");
  }

  private static void assertFullMessage(StoreFullException e, Path directory) {
    assertTrue(
        e.getMessage().contains(directory.toString())
            && e.getMessage().contains("resume when space returns"),
        e.getMessage());
  }

  private static void reopenAndExpect(
      WriteAheadLog.Config config, SortedMap<Long, byte[]> appended) {
    WalFixture.Opened reopened = open(config, 0);
    reopened.log().close();
    assertRecords(appended, reopened.replay().records);
  }

  @Test
  @DisplayName(
      "no room for the next segment: StoreFullException, then the log goes on once" + " there is")
  void noRoomForNextSegment() {
    FaultyDisk disk = new FaultyDisk();
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    try (WriteAheadLog log = open(config, 0, disk).log()) {
      disk.setSpace(0);
      StoreFullException full = appendUntilFull(log, appended, 100, 200);
      assertFullMessage(full, directory);
      assertEquals(
          log.lastSequence(),
          log.durableSequence(),
          "the full segment was forced before the next was needed");
      long last = log.lastSequence();
      assertThrows(StoreFullException.class, () -> log.append(payload(last + 1, 100)));
      assertEquals(last, log.lastSequence());
      disk.setSpace(Long.MAX_VALUE);
      for (int i = 0; i < 100; i++) {
        append(log, appended, 100);
      }
      log.force();
    }
    reopenAndExpect(config, appended);
  }

  @Test
  @DisplayName(
      "the next segment's preparation failed in the background while the disk was"
          + " full: once there is room, the roll-over tries again instead of reporting it")
  void backgroundPreparationFailedEarlier() throws Exception {
    FaultyDisk disk = new FaultyDisk();
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    disk.setSpace(config.segmentBytes()); // the first segment, not the spare prepared after it
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    try (WriteAheadLog log = open(config, 0, disk).log()) {
      assertTrue(disk.awaitFailedWrite(30_000), "the spare's preparation failed");
      disk.setSpace(Long.MAX_VALUE);
      for (int i = 0; i < 100; i++) { // several roll-overs
        append(log, appended, 100);
      }
    }
    reopenAndExpect(config, appended);
  }

  @Test
  @DisplayName(
      "writes failing part way for want of space: retried at the same place, nothing"
          + " lost or repeated")
  void writesFailPartWay() {
    FaultyDisk disk = new FaultyDisk();
    WriteAheadLog.Config config = WalFixture.smallSegments(directory).withSegmentBytes(1 << 20);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    try (WriteAheadLog log = open(config, 0, disk).log()) {
      for (int i = 0; i < 20; i++) {
        append(log, appended, 100);
      }
      log.force();
      disk.setWritesFail(true);
      for (int i = 0; i < 10; i++) {
        append(log, appended, 100); // buffered: no I/O yet
      }
      assertFullMessage(assertThrows(StoreFullException.class, log::force), directory);
      assertThrows(StoreFullException.class, log::flush);
      assertTrue(disk.failedWrites() >= 2);
      assertEquals(20, log.durableSequence());
      disk.setWritesFail(false);
      log.force();
      assertEquals(30, log.durableSequence());
    }
    reopenAndExpect(config, appended);
  }

  @Test
  @DisplayName(
      "a crash after a write failed part way: a prefix of the records comes back,"
          + " each once, and the log goes on")
  void crashAfterPartialWrite() {
    FaultyDisk disk = new FaultyDisk();
    WriteAheadLog.Config config = WalFixture.smallSegments(directory).withSegmentBytes(1 << 20);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    WriteAheadLog log = open(config, 0, disk).log();
    for (int i = 0; i < 20; i++) {
      append(log, appended, 100);
    }
    log.force();
    disk.setWritesFail(true);
    for (int i = 0; i < 10; i++) {
      append(log, appended, 90 + i);
    }
    assertThrows(StoreFullException.class, log::flush);
    log.abandon();

    WalFixture.Opened reopened = open(config, 0);
    List<Long> sequences = reopened.replay().sequences();
    long kept = sequences.size();
    assertTrue(kept >= 20 && kept < 30, "forced records all back, the rest a prefix: " + kept);
    assertRecords(appended.headMap(kept + 1), reopened.replay().records);
    try (WriteAheadLog again = reopened.log()) {
      assertEquals(kept + 1, again.append(payload(kept + 1, 5, 3)));
    }
  }

  @Test
  @DisplayName(
      "a record too large for the buffer whose write fails part way is never read back"
          + " as a record, after a retry or after a crash")
  void largeRecordFailsPartWay() {
    FaultyDisk disk = new FaultyDisk();
    WriteAheadLog.Config config = WalFixture.smallSegments(directory).withRecordBytesMax(3 << 20);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    try (WriteAheadLog log = open(config, 0, disk).log()) {
      append(log, appended, 10);
      disk.setSpace(1 << 20); // the segment of its own can be created, the record not written
      assertThrows(StoreFullException.class, () -> log.append(payload(2, 2 << 20)));
      assertEquals(1, log.lastSequence());
      disk.setSpace(Long.MAX_VALUE);
      append(log, appended, (2 << 20) - 7); // another record under the same number
      append(log, appended, 10);
    }
    reopenAndExpect(config, appended);

    Path crashed = directory.resolve("crashed");
    WriteAheadLog.Config crashConfig = new WriteAheadLog.Config(crashed, 4096, 3 << 20);
    WriteAheadLog log = open(crashConfig, 0, disk).log();
    log.append(payload(1, 10));
    disk.setSpace(1 << 20);
    assertThrows(StoreFullException.class, () -> log.append(payload(2, 2 << 20)));
    log.abandon();
    disk.setSpace(Long.MAX_VALUE);
    WalFixture.Opened reopened = open(crashConfig, 0);
    reopened.log().close();
    assertEquals(List.of(1L), reopened.replay().sequences());
  }

  @Test
  @DisplayName("a failed sync fails the log: later calls throw until it is reopened")
  void failedForceIsFatal() {
    FaultyDisk disk = new FaultyDisk();
    WriteAheadLog.Config config = WalFixture.smallSegments(directory);
    SortedMap<Long, byte[]> appended = new TreeMap<>();
    WriteAheadLog log = open(config, 0, disk).log();
    for (int i = 0; i < 5; i++) {
      append(log, appended, 50);
    }
    log.flush();
    disk.setForcesFail(true);
    StoreException e;
    try (LogCapture capture = new LogCapture()) {
      e = assertThrows(StoreException.class, log::force);
      assertTrue(capture.at(Level.ERROR).get(0).contains("unusable until reopened"));
    }
    assertFalse(e instanceof StoreFullException, e.toString());
    assertEquals(0, log.durableSequence());
    disk.setForcesFail(false);
    StoreException later = assertThrows(StoreException.class, () -> log.append(new byte[1]));
    assertTrue(later.getMessage().contains("reopened"), later.getMessage());
    assertThrows(StoreException.class, log::force);
    log.close();
    reopenAndExpect(config, appended);
  }

  @Test
  @DisplayName(
      "a real full disk (a 2 MiB tmpfs): StoreFullException, and the log goes on when"
          + " space returns; skipped where mounting is not permitted")
  void realFullDisk() throws Exception {
    Path mount = Files.createDirectory(directory.resolve("tmpfs"));
    String mounted = run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount.toString());
    if (mounted != null) {
      System.out.println(
          "WriteAheadLogSpaceTest.realFullDisk skipped: cannot mount a tmpfs (" + mounted + ")");
      Assumptions.abort("cannot mount a tmpfs: " + mounted);
    }
    try {
      Path ballast = mount.resolve("ballast");
      Files.write(ballast, new byte[1 << 20]);
      WriteAheadLog.Config config =
          new WriteAheadLog.Config(mount.resolve("wal"), 256 << 10, 1 << 20);
      SortedMap<Long, byte[]> appended = new TreeMap<>();
      try (WriteAheadLog log = open(config, 0).log()) {
        StoreFullException full = appendUntilFull(log, appended, 1000, 4000);
        assertFullMessage(full, config.directory());
        assertInstanceOf(IOException.class, full.getCause());
        assertThrows(StoreFullException.class, () -> log.append(new byte[1000]));
        Files.delete(ballast);
        for (int i = 0; i < 300; i++) {
          append(log, appended, 1000);
        }
        log.force();
      }
      reopenAndExpect(config, appended);
      assertNotNull(appended.get(1L));
      assertArrayEquals(payload(1, 1000), appended.get(1L));
    } finally {
      if (run("umount", mount.toString()) != null) {
        run("umount", "-l", mount.toString());
      }
    }
  }

  /** Runs a command; returns null if it succeeded, else what went wrong. */
  private static String run(String... command) throws InterruptedException {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return String.join(" ", command) + " did not finish in 30 s";
      }
      String output = new String(process.getInputStream().readAllBytes()).trim();
      return process.exitValue() == 0
          ? null
          : String.join(" ", command) + " exited " + process.exitValue() + ": " + output;
    } catch (IOException e) {
      return e.toString();
    }
  }
}

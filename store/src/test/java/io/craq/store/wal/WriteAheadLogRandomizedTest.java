package io.craq.store.wal;

import static io.craq.store.wal.WalFixture.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.store.StoreFullException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded random history of appends, forces, flushes, checkpoints (with deleteBefore), full disks,
 * clean reopens, process crashes and power losses. After every reopen: the records replayed are
 * consecutive from the checkpoint on, each was appended with exactly that payload, every record the
 * log called durable is there, and after a process crash so is every record flushed. The seed is
 * printed; {@code -Dcraq.wal.seed=N} replays it, {@code -Dcraq.wal.crashes=N} makes the history
 * longer (default 40 crashes). The seed fixes every call and every fault; the log's preallocation
 * thread keeps its own timing, so a failure that hangs on when a segment was prepared may show some
 * steps earlier or later in a replay.
 */
class WriteAheadLogRandomizedTest {
  @TempDir Path directory;

  @Test
  @DisplayName(
      "a random history of appends, syncs, checkpoints, full disks and crashes never"
          + " loses a durable record nor invents one")
  void randomHistory() throws IOException {
    long seed = Long.getLong("craq.wal.seed", new SecureRandom().nextLong());
    int crashes = Integer.getInteger("craq.wal.crashes", 40);
    System.out.println(
        "WriteAheadLogRandomizedTest seed " + seed + " (replay with -Dcraq.wal.seed=" + seed + ")");
    try (LogCapture quiet = new LogCapture()) { // every power loss logs a torn tail on purpose
      new History(seed, directory).run(crashes);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("seed " + seed + ": " + e, e);
    }
  }

  /** The log under test and what it must hold. */
  private static final class History {
    private final Random random;
    private final FaultyDisk disk = new FaultyDisk();
    private final WriteAheadLog.Config config;

    /** Every record appended and not known lost, by sequence number, after the checkpoint. */
    private final TreeMap<Long, byte[]> appended = new TreeMap<>();

    private WriteAheadLog log;
    private long checkpoint;

    /** Records up to here were written to the file (they survive a process crash). */
    private long flushed;

    private boolean faulty;

    /** Changes with every reopen, so a sequence number used again gets another payload. */
    private int generation;

    private int steps;

    History(long seed, Path directory) {
      this.random = new Random(seed);
      long segmentBytes = 1024L << random.nextInt(4);
      this.config = new WriteAheadLog.Config(directory.resolve("wal"), segmentBytes, 8000);
    }

    void run(int crashes) throws IOException {
      reopen(0, 0);
      for (int crashed = 0; crashed < crashes; ) {
        steps++;
        int choice = random.nextInt(100);
        if (choice < 55) {
          append();
        } else if (choice < 65) {
          force();
        } else if (choice < 73) {
          flush();
        } else if (choice < 77) {
          checkpoint();
        } else if (choice < 83) {
          toggleFaults();
        } else if (choice < 86) {
          heal();
          log.close();
          reopen(log.lastSequence(), log.lastSequence());
        } else if (choice < 92) {
          crash();
          crashed++;
        } else {
          append();
        }
      }
      heal();
      log.close();
      reopen(log.lastSequence(), log.lastSequence());
      log.close();
    }

    private void append() {
      long sequence = log.lastSequence() + 1;
      int choice = random.nextInt(10);
      int bytes =
          choice < 7
              ? random.nextInt(200)
              : choice < 9 ? 200 + random.nextInt(1300) : 1500 + random.nextInt(6500);
      byte[] payload = payload(sequence, bytes, generation);
      try {
        assertEquals(sequence, log.append(payload), "step " + steps);
        appended.put(sequence, payload);
      } catch (StoreFullException e) {
        assertTrue(faulty, "out of space on a healthy disk: " + e);
        assertEquals(sequence - 1, log.lastSequence(), "a failed append appended nothing");
      }
    }

    private void force() {
      try {
        log.force();
        flushed = log.lastSequence();
        assertEquals(flushed, log.durableSequence());
      } catch (StoreFullException e) {
        assertTrue(faulty, "out of space on a healthy disk: " + e);
      }
    }

    private void flush() {
      try {
        log.flush();
        flushed = log.lastSequence();
      } catch (StoreFullException e) {
        assertTrue(faulty, "out of space on a healthy disk: " + e);
      }
    }

    /** A checkpoint of the store covers a random prefix of the durable records. */
    private void checkpoint() {
      long durable = log.durableSequence();
      if (durable > checkpoint) {
        checkpoint += random.nextLong(durable - checkpoint + 1);
        log.deleteBefore(checkpoint + 1);
        appended.headMap(checkpoint, true).clear();
      }
    }

    private void toggleFaults() {
      switch (random.nextInt(3)) {
        case 0 -> {
          disk.setSpace(random.nextInt(3 * (int) config.segmentBytes()));
          faulty = true;
        }
        case 1 -> {
          disk.setWritesFail(true);
          faulty = true;
        }
        default -> heal();
      }
    }

    private void heal() {
      disk.setSpace(Long.MAX_VALUE);
      disk.setWritesFail(false);
      faulty = false;
    }

    /**
     * Stops like a killed process; half the time the machine loses power as well, and the disk
     * damages whatever was written and not forced.
     */
    private void crash() throws IOException {
      long durable = log.durableSequence();
      long mustSurvive = Math.max(durable, flushed);
      log.abandon();
      heal();
      if (random.nextBoolean()) {
        disk.powerLoss(config.directory(), random);
        mustSurvive = durable;
      }
      reopen(mustSurvive, -1);
    }

    /**
     * Opens the log after the checkpoint and checks the replay: at least {@code mustSurvive},
     * exactly {@code exactly} when that is not negative.
     */
    private void reopen(long mustSurvive, long exactly) {
      WalFixture.Opened opened = WalFixture.open(config, checkpoint, disk);
      log = opened.log();
      List<WriteAheadLog.Record> replayed = opened.replay().records;
      for (int i = 0; i < replayed.size(); i++) {
        WriteAheadLog.Record record = replayed.get(i);
        assertEquals(checkpoint + 1 + i, record.sequence(), "replayed in order, none skipped");
        byte[] expected = appended.get(record.sequence());
        assertNotNull(expected, "record " + record.sequence() + " was never appended");
        assertArrayEquals(expected, record.payloadBytes(), "payload of " + record.sequence());
      }
      long recovered = checkpoint + replayed.size();
      assertTrue(
          recovered >= mustSurvive,
          "records "
              + (recovered + 1)
              + ".."
              + mustSurvive
              + " were durable (or flushed before a process crash) but are gone");
      if (exactly >= 0) {
        assertEquals(Math.max(exactly, checkpoint), recovered, "everything after a clean close");
      }
      assertEquals(recovered, log.lastSequence());
      appended.tailMap(recovered, false).clear();
      flushed = recovered;
      generation++;
    }
  }
}

package io.craq.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What is particular to the log in front of LMDB, beyond the conformance suite. */
class LoggedStorerTest {
  @TempDir Path directory;

  private LoggedStorer open(long mapSizeBytes) {
    return open(mapSizeBytes, 256 << 10);
  }

  private LoggedStorer open(long mapSizeBytes, long checkpointBytes) {
    LmdbStorer base =
        LmdbStorer.open(
            LmdbStorer.Config.defaults(directory.resolve("lmdb")).withMapSizeBytes(mapSizeBytes));
    return LoggedStorer.open(
        base,
        LoggedStorer.Config.defaults(directory.resolve("wal"))
            .withCheckpointBytes(checkpointBytes)
            .withSegmentBytes(1 << 20));
  }

  @Test
  @DisplayName(
      "when checkpoints find LMDB full, writes are refused with StoreFullException once "
          + "memory holds twice the checkpoint size, reads go on, and nothing written is lost: a "
          + "reopen with room replays the log")
  void fullBaseRefusesWritesAndLosesNothing() throws Exception {
    byte[] value = new byte[64 << 10];
    int written = 0;
    try (LoggedStorer store = open(1 << 20)) {
      StoreFullException full = null;
      while (full == null && written < 1_000) {
        try {
          store.apply(new Batch().putDirty("k" + written, 1, value).commit("k" + written, 1));
          written++;
        } catch (StoreFullException e) {
          full = e;
        }
      }
      assertTrue(full != null, "LMDB's 1 MiB map never filled up");
      assertTrue(full.getMessage().contains("full"), full.getMessage());
      assertTrue(written * (long) value.length >= 512 << 10, "refused too early: " + written);
      for (int i = 0; i < written; i++) {
        assertEquals(1, store.committedVersion("k" + i), "k" + i);
      }
    }
    try (LoggedStorer store = open(64 << 20)) {
      for (int i = 0; i < written; i++) {
        assertEquals(1, store.committedVersion("k" + i), "k" + i + " lost");
      }
      store.checkpoint();
      assertEquals(written, ((LmdbStorer) store.base()).allCommitted().count());
    }
  }

  @Test
  @DisplayName("a checkpoint deletes the log segments it covers")
  void checkpointDeletesCoveredSegments() throws Exception {
    try (LoggedStorer store = open(64 << 20, 64 << 20)) { // no checkpoint on its own
      byte[] value = new byte[32 << 10];
      for (int i = 0; i < 100; i++) { // about 3 MiB of records: several 1 MiB segments
        store.apply(new Batch().putDirty("k" + i, 1, value));
      }
      long before = segments();
      store.checkpoint();
      assertTrue(segments() < before, before + " segments before, " + segments() + " after");
      assertEquals(100, store.base().allDirty().count());
    }
  }

  private long segments() throws Exception {
    try (Stream<Path> files = Files.list(directory.resolve("wal"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(".log")).count();
    }
  }

  @Test
  @DisplayName(
      "a batch that carries a log sequence number is refused: the logged store keeps " + "its own")
  void refusesForeignLogSequence() {
    try (LoggedStorer store = open(64 << 20)) {
      assertThrows(
          IllegalArgumentException.class,
          () -> store.apply(new Batch().putDirty("k", 1, new byte[1]).logSequence(3)));
      assertEquals(Storer.NO_VERSION, store.newestVersion("k"));
    }
  }
}

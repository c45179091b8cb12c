package io.craq.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.chain.ChainSlice;
import io.craq.core.message.KeyRecord;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite for a store behind the write-ahead log ({@link LoggedStorer}), as the node
 * runs a durable store: every case of {@link StorerConformanceTest}, plus crashes between
 * checkpoints, torn log tails and checkpoints that find the base store full. A store author extends
 * it with the two factory methods of the base store:
 *
 * <pre>{@code
 * class MyLoggedStorerConformanceTest extends LoggedStorerConformanceTest {
 *   protected Storer newBase(Path directory) { return MyStorer.open(directory); }
 *   protected Storer reopenBase(Path directory) { return MyStorer.open(directory); }
 * }
 * }</pre>
 *
 * <p>The base store must be durable and keep {@link Batch#logSequence(long)} (its own conformance
 * test checks both). Randomized cases print their seed; rerun with {@code
 * -Dcraq.store.seed=<seed>}.
 */
public abstract class LoggedStorerConformanceTest extends StorerConformanceTest {

  /** Creates an empty durable base store in {@code directory}. */
  protected abstract Storer newBase(Path directory) throws Exception;

  /** Opens again the base store in {@code directory}. */
  protected abstract Storer reopenBase(Path directory) throws Exception;

  /** Small segments and checkpoints, so tests cross both. */
  protected LoggedStorer.Config config(Path directory) {
    return LoggedStorer.Config.defaults(directory.resolve("wal"))
        .withSegmentBytes(64 << 10)
        .withCheckpointBytes(256 << 10);
  }

  @Override
  protected final Storer newStore(Path directory) throws Exception {
    return LoggedStorer.open(newBase(directory.resolve("base")), config(directory));
  }

  @Override
  protected final Storer reopen(Path directory) throws Exception {
    return LoggedStorer.open(reopenBase(directory.resolve("base")), config(directory));
  }

  @Override
  protected final boolean keepsLogSequence() {
    return false;
  }

  private LoggedStorer logged() {
    return (LoggedStorer) store;
  }

  /** Like a kill -9 after the last apply returned: no checkpoint, files as they are. */
  private void crashAndReopen() throws Exception {
    logged().closeWithoutCheckpoint();
    store = reopen(directory);
  }

  @Test
  @DisplayName(
      "a crash between checkpoints loses nothing whose apply returned: the log is "
          + "replayed over the last checkpoint")
  void crashBetweenCheckpoints() throws Exception {
    store.apply(new Batch().putDirty("a", 1, bytes("1")).commit("a", 1));
    logged().checkpoint();
    store.apply(new Batch().putDirty("a", 2, bytes("2")).putDirty("b", 1, bytes("b1")));
    store.apply(new Batch().commit("a", 2).discardAllDirty());
    List<KeyRecord> before = records();
    crashAndReopen();
    assertEquals(before, records());
    assertEquals(
        0,
        ((LoggedStorer) store).stats().memoryBytes(),
        "the replayed records were checkpointed at open");
  }

  @Test
  @DisplayName(
      "a slice discard replayed from the log after a crash, and one written by a checkpoint, "
          + "drop that chain's dirty versions only, in memory and in the base")
  void sliceDiscardRecoversAfterACrash() throws Exception {
    ChainSlice mine = new ChainSlice(1, 2);
    ChainSlice other = new ChainSlice(0, 2);
    String mineOld = keyOfChain("mine-old-", mine);
    String mineNew = keyOfChain("mine-new-", mine);
    String otherOld = keyOfChain("other-old-", other);
    String otherNew = keyOfChain("other-new-", other);
    // Dirty versions of both chains in the base...
    store.apply(
        new Batch()
            .putDirty(mineOld, 1, bytes("m1"))
            .commit(mineOld, 1)
            .putDirty(mineOld, 2, bytes("m2"))
            .putDirty(otherOld, 1, bytes("o1")));
    logged().checkpoint();
    // ...and in memory, then the discard, then a version of the chain written after it.
    store.apply(
        new Batch()
            .putDirty(mineOld, 3, bytes("m3"))
            .putDirty(mineNew, 1, bytes("n1"))
            .putDirty(otherNew, 1, bytes("p1")));
    BatchResult discard = store.apply(new Batch().discardDirty(mine));
    assertEquals(3, discard.dirtyVersionsDiscarded());
    store.apply(new Batch().putDirty(mineNew, 2, bytes("n2")));
    List<KeyRecord> expected =
        List.of(
            new KeyRecord(mineNew, null, List.of(value(mineNew, 2, "n2"))),
            new KeyRecord(mineOld, value(mineOld, 1, "m1"), List.of()),
            new KeyRecord(otherNew, null, List.of(value(otherNew, 1, "p1"))),
            new KeyRecord(otherOld, null, List.of(value(otherOld, 1, "o1"))));
    assertEquals(expected, records());

    crashAndReopen(); // replays the discard over the base, then checkpoints it
    assertEquals(expected, records());
    crashAndReopen(); // now from the base alone
    assertEquals(expected, records());
    assertEquals(0, logged().stats().memoryBytes());

    // A checkpoint that carries two slice discards and versions written between them.
    store.apply(new Batch().putDirty(mineOld, 2, bytes("m2 again")).discardDirty(other));
    store.apply(new Batch().putDirty(otherOld, 5, bytes("o5")).discardDirty(mine));
    store.apply(new Batch().putDirty(mineNew, 7, bytes("n7")));
    List<KeyRecord> later =
        List.of(
            new KeyRecord(mineNew, null, List.of(value(mineNew, 7, "n7"))),
            new KeyRecord(mineOld, value(mineOld, 1, "m1"), List.of()),
            new KeyRecord(otherOld, null, List.of(value(otherOld, 5, "o5"))));
    assertEquals(later, records());
    logged().checkpoint();
    assertEquals(later, records());
    assertEquals(later, recordsOf(logged().base()), "the checkpoint wrote the discards");
    crashAndReopen();
    assertEquals(later, records());
  }

  @Test
  @DisplayName("a torn log tail loses the torn batch whole and nothing before it")
  void tornTailLosesOnlyTheTornBatch() throws Exception {
    store.apply(new Batch().putDirty("a", 1, bytes("1")).commit("a", 1));
    logged().checkpoint();
    store.apply(new Batch().putDirty("b", 1, bytes("kept")));
    List<KeyRecord> kept = records();
    store.apply(new Batch().putDirty("c", 1, bytes("torn")).putDirty("d", 1, bytes("torn")));
    logged().closeWithoutCheckpoint();
    cutLastSegment(directory.resolve("wal"), 5);
    store = reopen(directory);
    assertEquals(kept, records());
  }

  @Test
  @DisplayName(
      "random batches, checkpoints and crashes (with torn tails of what was not synced) "
          + "always recover a prefix that holds every synced batch (seed printed)")
  void randomCrashesRecoverAPrefix() throws Exception {
    long seed = Long.getLong("craq.store.seed", System.nanoTime());
    System.out.println(
        "LoggedStorerConformanceTest.randomCrashesRecoverAPrefix seed="
            + seed
            + " (replay: -Dcraq.store.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    MemoryStorer model = new MemoryStorer();
    // What a crash may recover: the model after the last synced batch, and after each later one.
    List<List<KeyRecord>> states = new ArrayList<>(List.of(List.of()));
    int lastRecordBytes = 0;
    for (int step = 0; step < 200; step++) {
      Batch batch = randomBatch(random);
      boolean sync = random.nextInt(3) != 0;
      lastRecordBytes = BatchCodec.encode(batch).length;
      model.apply(batch);
      if (sync) {
        store.apply(batch);
        states.clear();
      } else {
        store.applyWithoutSync(batch);
      }
      states.add(recordsOf(model));
      if (random.nextInt(25) == 0) {
        logged().checkpoint();
        states.subList(0, states.size() - 1).clear(); // a checkpoint makes everything durable
      }
      if (random.nextInt(20) == 0) {
        logged().closeWithoutCheckpoint();
        if (states.size() > 1 && random.nextBoolean()) {
          // the last record was never forced: a power loss may tear it
          cutLastSegment(directory.resolve("wal"), 1 + random.nextInt(lastRecordBytes));
        }
        store = reopen(directory);
        List<KeyRecord> recovered = records();
        assertTrue(
            states.contains(recovered),
            "seed "
                + seed
                + " step "
                + step
                + ": recovered a state that no durable prefix gives: "
                + recovered);
        model = modelOf(recovered);
        states.clear();
        states.add(recovered);
      }
    }
  }

  private static Batch randomBatch(Random random) {
    Batch batch = new Batch();
    for (int i = 0, ops = 1 + random.nextInt(4); i < ops; i++) {
      String key = "k" + random.nextInt(8);
      long version = 1 + random.nextInt(12);
      int kind = random.nextInt(100);
      if (kind < 50) {
        batch.putDirty(key, version, bytes("v" + version + "-" + random.nextInt(4)));
      } else if (kind < 58) {
        batch.putCommitted(value(key, version, "c" + version));
      } else if (kind < 95) {
        batch.commit(key, version);
      } else if (kind < 98) {
        batch.discardDirty(new ChainSlice(random.nextInt(2), 2));
      } else {
        batch.discardAllDirty();
      }
    }
    return batch;
  }

  /** Cuts {@code bytes} off the end of the newest segment's written records. */
  static void cutLastSegment(Path logDirectory, int bytes) throws IOException {
    Path last;
    try (Stream<Path> files = Files.list(logDirectory)) {
      last =
          files
              .filter(p -> p.getFileName().toString().endsWith(".log"))
              .sorted()
              .reduce((a, b) -> b)
              .orElseThrow();
    }
    byte[] content = Files.readAllBytes(last);
    int end = content.length;
    while (end > 0 && content[end - 1] == 0) {
      end--; // preallocated zeros after the records
    }
    int cut = Math.max(0, end - bytes);
    try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(new byte[end - cut]), cut);
      channel.force(true);
    }
  }

  private List<KeyRecord> records() {
    return recordsOf(store);
  }

  private static List<KeyRecord> recordsOf(Storer storer) {
    try (Stream<KeyRecord> records = storer.records(null)) {
      return records.toList();
    }
  }

  private static MemoryStorer modelOf(List<KeyRecord> records) {
    MemoryStorer model = new MemoryStorer();
    Batch batch = new Batch();
    for (KeyRecord record : records) {
      if (record.committed() != null) {
        batch.putCommitted(record.committed());
      }
      record.dirty().forEach(batch::putDirty);
    }
    model.apply(batch);
    return model;
  }
}

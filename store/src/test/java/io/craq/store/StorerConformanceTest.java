package io.craq.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyOrder;
import io.craq.core.store.KeyPage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store conformance suite: every {@link Storer} must pass it. The Java form of go-craq's {@code
 * storetest.Run}. To check a new store, extend this class and implement {@link #newStore(Path)}; a
 * durable store also overrides {@link #reopen(Path)}, otherwise the reopen tests are skipped:
 *
 * <pre>{@code
 * class MyStorerConformanceTest extends StorerConformanceTest {
 *   protected Storer newStore(Path directory) { return MyStorer.open(directory); }
 *   protected Storer reopen(Path directory) { return MyStorer.open(directory); }
 * }
 * }</pre>
 *
 * <p>The store must accept values of at least 1 MiB. The randomized test prints its seed; rerun it
 * with {@code -Dcraq.store.seed=<seed>}.
 */
public abstract class StorerConformanceTest {

  /** Creates an empty store; {@code directory} is a fresh empty directory it may use. */
  protected abstract Storer newStore(Path directory) throws Exception;

  /**
   * Opens again the store that {@link #newStore(Path)} created in {@code directory}, after it was
   * closed. Volatile stores keep the default (null), which skips the reopen tests.
   */
  protected Storer reopen(Path directory) throws Exception {
    return null;
  }

  /**
   * Whether the store keeps the log sequence number batches carry ({@link Batch#logSequence}).
   * Every store that a write-ahead log may sit in front of must; a store that is itself a log in
   * front of another returns false.
   */
  protected boolean keepsLogSequence() {
    return true;
  }

  @TempDir protected Path directory;
  protected Storer store;

  @BeforeEach
  void openStore() throws Exception {
    store = newStore(directory);
    assertNotNull(store, "newStore returned null");
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  // ------------------------------------------------------------ the original go-craq cases

  @Test
  @DisplayName("a written and committed version reads back clean (storetest BasicWriteCommitRead)")
  void basicWriteCommitRead() {
    assertEquals(Outcome.APPLIED, store.writeDirty("hello", 1, bytes("world")));
    assertEquals(Outcome.APPLIED, store.commit("hello", 1));
    Newest newest = store.readNewest("hello");
    Newest.Clean clean = assertInstanceOf(Newest.Clean.class, newest);
    assertEquals(value("hello", 1, "world"), clean.record());
    assertEquals(1, store.committedVersion("hello"));
    assertEquals(Optional.of(value("hello", 1, "world")), store.readCommitted("hello"));
  }

  @Test
  @DisplayName("an unknown key is absent (storetest ReadUnknownKey)")
  void readUnknownKey() {
    assertInstanceOf(Newest.Absent.class, store.readNewest("unknown"));
    assertEquals(Storer.NO_VERSION, store.committedVersion("unknown"));
    assertEquals(Storer.NO_VERSION, store.newestVersion("unknown"));
    assertEquals(Optional.empty(), store.readCommitted("unknown"));
  }

  @Test
  @DisplayName("an uncommitted newest version reads dirty (storetest ReadDirty)")
  void readDirty() {
    store.writeDirty("hello", 1, bytes("world"));
    Newest.Dirty dirty = assertInstanceOf(Newest.Dirty.class, store.readNewest("hello"));
    assertEquals(value("hello", 1, "world"), dirty.record());
    assertEquals(Storer.NO_VERSION, dirty.committedVersion());
    assertEquals(Optional.empty(), store.readCommitted("hello"));
  }

  @Test
  @DisplayName("a specific version reads back, dirty or not (storetest ReadVersion)")
  void readVersion() {
    store.writeDirty("hello", 1, bytes("world"));
    assertEquals(Optional.of(value("hello", 1, "world")), store.readVersion("hello", 1));
    assertEquals(Optional.empty(), store.readVersion("hello", 2));
  }

  @Test
  @DisplayName("a version of an unknown key is absent (storetest ReadVersionUnknownKey)")
  void readVersionUnknownKey() {
    assertEquals(Optional.empty(), store.readVersion("wrong", 1));
    assertEquals(Optional.empty(), store.readVersion("wrong", Long.MAX_VALUE));
  }

  @Test
  @DisplayName("allNewerCommitted returns committed versions the peer lacks (storetest)")
  void allNewerCommitted() {
    store.writeDirty("test", 1, bytes("world"));
    store.writeDirty("hello", 2, bytes("another"));
    store.writeDirty("another", 1, bytes("some value"));
    store.commit("hello", 2);
    assertEquals(
        List.of(value("hello", 2, "another")), list(store.allNewerCommitted(Map.of("hello", 0L))));
    store.commit("another", 1);
    assertEquals(
        List.of(value("another", 1, "some value")),
        list(store.allNewerCommitted(Map.of("hello", 2L))));
  }

  @Test
  @DisplayName("allNewerDirty returns dirty versions the peer lacks (storetest)")
  void allNewerDirty() {
    store.writeDirty("hello", 1, bytes("world"));
    store.writeDirty("another", 1, bytes("some value"));
    store.writeDirty("hello", 2, bytes("foo"));
    store.writeDirty("bizz", 1, bytes("bazz"));
    store.commit("another", 1);
    assertEquals(
        List.of(value("bizz", 1, "bazz"), value("hello", 2, "foo")),
        list(store.allNewerDirty(Map.of("hello", 1L))));
  }

  @Test
  @DisplayName("allDirty returns every dirty version (storetest AllDirty)")
  void allDirty() {
    store.writeDirty("hello", 1, bytes("world"));
    store.writeDirty("hello", 2, bytes("foo"));
    store.commit("hello", 1);
    assertEquals(List.of(value("hello", 2, "foo")), list(store.allDirty()));
  }

  @Test
  @DisplayName("allCommitted returns every committed version (storetest AllCommitted)")
  void allCommitted() {
    store.writeDirty("hello", 1, bytes("world"));
    store.writeDirty("foo", 1, bytes("bar"));
    store.commit("hello", 1);
    assertEquals(List.of(value("hello", 1, "world")), list(store.allCommitted()));
  }

  // ------------------------------------------------------------ what the original lacks

  @Test
  @DisplayName("a key with several dirty versions: committing a middle one keeps the newer ones")
  void multiVersionKey() {
    for (long v = 1; v <= 3; v++) {
      store.writeDirty("k", v, bytes("v" + v));
    }
    assertEquals(3, store.newestVersion("k"));
    assertEquals(Outcome.APPLIED, store.commit("k", 2));
    Newest.Dirty dirty = assertInstanceOf(Newest.Dirty.class, store.readNewest("k"));
    assertEquals(value("k", 3, "v3"), dirty.record());
    assertEquals(2, dirty.committedVersion());
    assertEquals(2, store.committedVersion("k"));
    assertEquals(3, store.newestVersion("k"));
    assertEquals(Optional.empty(), store.readVersion("k", 1), "older versions are dropped");
    assertEquals(Optional.of(value("k", 2, "v2")), store.readVersion("k", 2));
    assertEquals(Optional.of(value("k", 3, "v3")), store.readVersion("k", 3));
    assertEquals(
        List.of(new KeyRecord("k", value("k", 2, "v2"), List.of(value("k", 3, "v3")))),
        list(store.records(null)));
    assertEquals(Outcome.APPLIED, store.commit("k", 3));
    assertEquals(new Newest.Clean(value("k", 3, "v3")), store.readNewest("k"));
    assertEquals(Optional.empty(), store.readVersion("k", 2));
  }

  @Test
  @DisplayName("committing an unknown version changes nothing and deletes nothing")
  void commitOfUnknownVersionKeepsData() {
    store.writeDirty("k", 1, bytes("one"));
    store.commit("k", 1);
    store.writeDirty("k", 2, bytes("two"));
    assertEquals(Outcome.UNKNOWN_VERSION, store.commit("k", 5));
    assertEquals(Optional.of(value("k", 1, "one")), store.readVersion("k", 1));
    assertEquals(Optional.of(value("k", 2, "two")), store.readVersion("k", 2));
    assertEquals(1, store.committedVersion("k"));
    assertEquals(new Newest.Dirty(value("k", 2, "two"), 1), store.readNewest("k"));
    assertEquals(Outcome.UNKNOWN_VERSION, store.commit("nobody", 1));
    assertInstanceOf(Newest.Absent.class, store.readNewest("nobody"));
  }

  @Test
  @DisplayName("re-writing an existing version or re-committing changes nothing")
  void idempotentRewriteAndRecommit() {
    assertEquals(Outcome.APPLIED, store.writeDirty("k", 1, bytes("a")));
    assertEquals(Outcome.DUPLICATE, store.writeDirty("k", 1, bytes("a")));
    assertEquals(Outcome.CONFLICT, store.writeDirty("k", 1, bytes("b")));
    assertEquals(Optional.of(value("k", 1, "a")), store.readVersion("k", 1));
    assertEquals(Outcome.APPLIED, store.commit("k", 1));
    assertEquals(Outcome.DUPLICATE, store.commit("k", 1));
    assertEquals(Outcome.DUPLICATE, store.writeDirty("k", 1, bytes("a")));
    assertEquals(new Newest.Clean(value("k", 1, "a")), store.readNewest("k"));
    store.writeDirty("k", 2, bytes("c"));
    store.commit("k", 2);
    assertEquals(Outcome.STALE, store.writeDirty("k", 1, bytes("a")));
    assertEquals(Outcome.STALE, store.commit("k", 1));
    BatchResult again = store.apply(new Batch().putCommitted(value("k", 2, "c")));
    assertEquals(List.of(Outcome.DUPLICATE), again.outcomes());
    assertEquals(new Newest.Clean(value("k", 2, "c")), store.readNewest("k"));
    assertEquals(
        List.of(new KeyRecord("k", value("k", 2, "c"), List.of())), list(store.records(null)));
  }

  @Test
  @DisplayName("binary values round-trip: every byte, empty, and 1 MiB")
  void binaryValues() {
    assumeTrue(
        store.valueBytesMax() >= Limits.VALUE_BYTES_MAX_DEFAULT,
        "the suite needs stores that accept 1 MiB values");
    byte[] allBytes = new byte[256];
    for (int i = 0; i < 256; i++) {
      allBytes[i] = (byte) i;
    }
    byte[] large = new byte[Limits.VALUE_BYTES_MAX_DEFAULT];
    new Random(42).nextBytes(large);
    store.apply(
        new Batch()
            .putDirty("all", 1, allBytes)
            .putDirty("empty", 1, new byte[0])
            .putDirty("large", 1, large)
            .commit("all", 1)
            .commit("empty", 1)
            .commit("large", 1));
    assertArrayEquals(allBytes, store.readCommitted("all").orElseThrow().value());
    assertArrayEquals(new byte[0], store.readCommitted("empty").orElseThrow().value());
    assertFalse(store.readCommitted("empty").orElseThrow().tombstone());
    assertArrayEquals(large, store.readCommitted("large").orElseThrow().value());
    assertEquals(Outcome.DUPLICATE, store.writeDirty("large", 1, large.clone()));
  }

  @Test
  @DisplayName("stored values cannot be changed through the caller's arrays")
  void valuesAreNotShared() {
    byte[] value = bytes("abc");
    store.writeDirty("k", 1, value);
    value[0] = 'X';
    byte[] read = store.readVersion("k", 1).orElseThrow().value();
    read[1] = 'Y';
    assertArrayEquals(bytes("abc"), store.readVersion("k", 1).orElseThrow().value());
  }

  @Test
  @DisplayName("a value over the store's limit is refused and nothing of its batch is applied")
  void valueOverLimit() {
    int max = store.valueBytesMax();
    Batch batch =
        new Batch().putDirty("ok", 1, bytes("fine")).putDirty("big", 1, new byte[max + 1]);
    Limits.InvalidInputException e =
        assertThrows(Limits.InvalidInputException.class, () -> store.apply(batch));
    assertTrue(e.getMessage().contains(String.valueOf(max)), e.getMessage());
    assertInstanceOf(Newest.Absent.class, store.readNewest("ok"));
    assertInstanceOf(Newest.Absent.class, store.readNewest("big"));
    assertEquals(Outcome.APPLIED, store.writeDirty("exact", 1, new byte[max]));
  }

  @Test
  @DisplayName("keys of 511 bytes work, 512 bytes, empty keys and null values are refused")
  void keyAndValueLimits() {
    String ascii511 = "k".repeat(Limits.KEY_BYTES_MAX);
    String utf8Of511 = "é".repeat(255) + "x"; // 255 * 2 + 1 bytes
    for (String key : List.of(ascii511, utf8Of511)) {
      assertEquals(Outcome.APPLIED, store.writeDirty(key, 1, bytes("v")));
      assertEquals(Outcome.APPLIED, store.commit(key, 1));
      assertEquals(new Newest.Clean(value(key, 1, "v")), store.readNewest(key));
    }
    assertEquals(2, list(store.records(null)).size());
    assertEquals(2, store.readKeys(null, 10, Long.MAX_VALUE).records().size());

    String tooLong = "k".repeat(Limits.KEY_BYTES_MAX + 1);
    Limits.InvalidInputException e =
        assertThrows(
            Limits.InvalidInputException.class, () -> store.writeDirty(tooLong, 1, bytes("v")));
    assertTrue(e.getMessage().contains("511"), e.getMessage());
    assertThrows(Limits.InvalidInputException.class, () -> store.readNewest(tooLong));
    assertThrows(
        Limits.InvalidInputException.class, () -> store.writeDirty("é".repeat(256), 1, bytes("v")));
    assertThrows(Limits.InvalidInputException.class, () -> store.writeDirty("", 1, bytes("v")));
    assertThrows(Limits.InvalidInputException.class, () -> store.readNewest(""));
    assertThrows(Limits.InvalidInputException.class, () -> store.writeDirty("k", 1, null));
    assertThrows(Limits.InvalidInputException.class, () -> store.writeDirty("k", 0, bytes("v")));
    assertThrows(Limits.InvalidInputException.class, () -> store.commit("k", -1));
    assertThrows(
        Limits.InvalidInputException.class,
        () -> new Batch().putDirty(new VersionRecord("k", 1, true, bytes("not empty"))));
    assertInstanceOf(Newest.Absent.class, store.readNewest("k"));
  }

  @Test
  @DisplayName("a committed tombstone is reported as such, not as absent, and is kept")
  void tombstones() {
    store.writeDirty("k", 1, bytes("alive"));
    store.commit("k", 1);
    store.apply(new Batch().putDirtyTombstone("k", 2));
    Newest.Dirty dirty = assertInstanceOf(Newest.Dirty.class, store.readNewest("k"));
    assertTrue(dirty.record().tombstone());
    store.commit("k", 2);
    VersionRecord tombstone = new VersionRecord("k", 2, true, new byte[0]);
    assertEquals(new Newest.Clean(tombstone), store.readNewest("k"));
    assertEquals(2, store.committedVersion("k"));
    assertEquals(List.of(tombstone), list(store.allCommitted()));
    assertEquals(
        Outcome.STALE,
        store.apply(new Batch().putCommitted(value("k", 1, "alive"))).outcome(0),
        "catch-up must not resurrect a deleted key");
    assertEquals(new Newest.Clean(tombstone), store.readNewest("k"));
  }

  @Test
  @DisplayName("putCommitted (catch-up) stores a clean version, drops older, keeps newer dirty")
  void putCommitted() {
    store.writeDirty("k", 1, bytes("one"));
    store.writeDirty("k", 3, bytes("three"));
    BatchResult result =
        store.apply(
            new Batch()
                .putCommitted(value("k", 2, "two"))
                .putCommitted(value("fresh", 7, "seven")));
    assertEquals(List.of(Outcome.APPLIED, Outcome.APPLIED), result.outcomes());
    assertEquals(new Newest.Dirty(value("k", 3, "three"), 2), store.readNewest("k"));
    assertEquals(Optional.empty(), store.readVersion("k", 1));
    assertEquals(new Newest.Clean(value("fresh", 7, "seven")), store.readNewest("fresh"));
    assertEquals(
        Outcome.CONFLICT, store.apply(new Batch().putCommitted(value("k", 3, "other"))).outcome(0));
    assertEquals(
        Outcome.APPLIED, store.apply(new Batch().putCommitted(value("k", 3, "three"))).outcome(0));
    assertEquals(new Newest.Clean(value("k", 3, "three")), store.readNewest("k"));
  }

  @Test
  @DisplayName("discardAllDirty keeps committed versions and forgets dirty-only keys")
  void discardAllDirty() {
    store.apply(
        new Batch()
            .putDirty("a", 1, bytes("a1"))
            .commit("a", 1)
            .putDirty("a", 2, bytes("a2"))
            .putDirty("b", 1, bytes("b1"))
            .putDirty("b", 2, bytes("b2"))
            .putDirty("c", 1, bytes("c1"))
            .commit("c", 1));
    BatchResult result = store.apply(new Batch().discardAllDirty());
    assertEquals(3, result.dirtyVersionsDiscarded());
    assertEquals(new Newest.Clean(value("a", 1, "a1")), store.readNewest("a"));
    assertEquals(1, store.newestVersion("a"));
    assertInstanceOf(Newest.Absent.class, store.readNewest("b"));
    assertEquals(new Newest.Clean(value("c", 1, "c1")), store.readNewest("c"));
    assertEquals(List.of(), list(store.allDirty()));
    assertEquals(Outcome.APPLIED, store.writeDirty("a", 2, bytes("a2 again")));
  }

  @Test
  @DisplayName(
      "discarding one chain's dirty versions drops only that chain's, keeps committed versions "
          + "and every other chain's dirty versions, and counts only what it dropped")
  void discardDirtyOfOneSlice() {
    int chains = 4;
    ChainSlice mine = new ChainSlice(1, chains);
    ChainSlice other = new ChainSlice(2, chains);
    String mineCommitted = keyOfChain("mine-committed-", mine);
    String mineMixed = keyOfChain("mine-mixed-", mine);
    String mineDirty = keyOfChain("mine-dirty-", mine);
    String otherMixed = keyOfChain("other-mixed-", other);
    String otherDirty = keyOfChain("other-dirty-", other);
    store.apply(
        new Batch()
            .putDirty(mineCommitted, 1, bytes("c1"))
            .commit(mineCommitted, 1)
            .putDirty(mineMixed, 1, bytes("m1"))
            .commit(mineMixed, 1)
            .putDirty(mineMixed, 2, bytes("m2"))
            .putDirty(mineMixed, 3, bytes("m3"))
            .putDirty(mineDirty, 1, bytes("d1"))
            .putDirtyTombstone(mineDirty, 2)
            .putDirty(otherMixed, 1, bytes("o1"))
            .commit(otherMixed, 1)
            .putDirty(otherMixed, 2, bytes("o2"))
            .putDirty(otherDirty, 4, bytes("x4")));
    List<VersionRecord> otherDirtyBefore =
        list(store.allDirty()).stream().filter(r -> other.contains(r.key())).toList();
    assertEquals(2, otherDirtyBefore.size());

    BatchResult result = store.apply(new Batch().discardDirty(mine));
    assertEquals(List.of(Outcome.APPLIED), result.outcomes());
    assertEquals(
        4, result.dirtyVersionsDiscarded(), "two of " + mineMixed + ", two of " + mineDirty);
    assertEquals(new Newest.Clean(value(mineCommitted, 1, "c1")), store.readNewest(mineCommitted));
    assertEquals(new Newest.Clean(value(mineMixed, 1, "m1")), store.readNewest(mineMixed));
    assertEquals(1, store.newestVersion(mineMixed));
    assertEquals(Optional.empty(), store.readVersion(mineMixed, 2));
    assertInstanceOf(Newest.Absent.class, store.readNewest(mineDirty));
    assertEquals(Storer.NO_VERSION, store.newestVersion(mineDirty));
    assertEquals(new Newest.Dirty(value(otherMixed, 2, "o2"), 1), store.readNewest(otherMixed));
    assertEquals(
        new Newest.Dirty(value(otherDirty, 4, "x4"), Storer.NO_VERSION),
        store.readNewest(otherDirty));
    assertEquals(otherDirtyBefore, list(store.allDirty()));
    assertEquals(
        sorted(List.of(mineCommitted, mineMixed, otherMixed, otherDirty)),
        keys(list(store.records(null))));

    assertEquals(0, store.apply(new Batch().discardDirty(mine)).dirtyVersionsDiscarded());
    assertEquals(
        0,
        store.apply(new Batch().discardDirty(new ChainSlice(0, chains))).dirtyVersionsDiscarded(),
        "a chain without dirty versions");
    assertEquals(otherDirtyBefore, list(store.allDirty()));
    // The chain's keys take new versions again, and a later discard of another chain spares them.
    assertEquals(Outcome.APPLIED, store.writeDirty(mineMixed, 2, bytes("m2 again")));
    assertEquals(Outcome.APPLIED, store.writeDirty(mineDirty, 1, bytes("d1 again")));
    BatchResult otherResult = store.apply(new Batch().discardDirty(other));
    assertEquals(2, otherResult.dirtyVersionsDiscarded());
    assertInstanceOf(Newest.Absent.class, store.readNewest(otherDirty));
    assertEquals(new Newest.Clean(value(otherMixed, 1, "o1")), store.readNewest(otherMixed));
    assertEquals(
        sortedByKey(List.of(value(mineDirty, 1, "d1 again"), value(mineMixed, 2, "m2 again"))),
        list(store.allDirty()));
    assertEquals(2, store.apply(new Batch().discardDirty(ChainSlice.ALL)).dirtyVersionsDiscarded());
    assertEquals(List.of(), list(store.allDirty()));
  }

  @Test
  @DisplayName(
      "a batch's slice discards each see the operations before them: a version written after "
          + "the discard in the same batch stays")
  void sliceDiscardInsideABatch() {
    ChainSlice first = new ChainSlice(0, 2);
    ChainSlice second = new ChainSlice(1, 2);
    String a = keyOfChain("a-", first);
    String b = keyOfChain("b-", second);
    BatchResult result =
        store.apply(
            new Batch()
                .putDirty(a, 1, bytes("a1"))
                .putDirty(b, 1, bytes("b1"))
                .discardDirty(first)
                .putDirty(a, 2, bytes("a2"))
                .discardDirty(second)
                .putDirty(b, 3, bytes("b3")));
    assertEquals(
        List.of(
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.APPLIED),
        result.outcomes());
    assertEquals(2, result.dirtyVersionsDiscarded());
    assertEquals(Optional.empty(), store.readVersion(a, 1));
    assertEquals(new Newest.Dirty(value(a, 2, "a2"), Storer.NO_VERSION), store.readNewest(a));
    assertEquals(Optional.empty(), store.readVersion(b, 1));
    assertEquals(new Newest.Dirty(value(b, 3, "b3"), Storer.NO_VERSION), store.readNewest(b));
  }

  @Test
  @DisplayName("operations of one batch apply in order and each reports its outcome")
  void batchOrderAndOutcomes() {
    BatchResult result =
        store.apply(
            new Batch()
                .putDirty("k", 1, bytes("one"))
                .commit("k", 1)
                .putDirty("k", 1, bytes("one"))
                .commit("k", 9)
                .putDirty("k", 2, bytes("two")));
    assertEquals(
        List.of(
            Outcome.APPLIED,
            Outcome.APPLIED,
            Outcome.DUPLICATE,
            Outcome.UNKNOWN_VERSION,
            Outcome.APPLIED),
        result.outcomes());
    assertEquals(new Newest.Dirty(value("k", 2, "two"), 1), store.readNewest("k"));
    assertEquals(List.of(), store.apply(new Batch()).outcomes());
  }

  @Test
  @DisplayName("readKeys pages are bounded, resumable and in UTF-8 byte order")
  void readKeysPages() {
    // UTF-8 byte order: "a" < "b" < "\uE000" < "\uD83D\uDE00" (U+1F600); String order differs.
    List<String> ordered = List.of("a", "b", "\uE000", "\uD83D\uDE00");
    Batch batch = new Batch();
    for (String key : List.of("\uD83D\uDE00", "b", "\uE000", "a")) {
      batch.putDirty(key, 1, bytes("v-" + key)).commit(key, 1);
    }
    store.apply(batch);
    KeyPage first = store.readKeys(null, 3, Long.MAX_VALUE);
    assertEquals(ordered.subList(0, 3), keys(first.records()));
    assertFalse(first.done());
    KeyPage second = store.readKeys(first.resumeAfterKey(), 3, Long.MAX_VALUE);
    assertEquals(ordered.subList(3, 4), keys(second.records()));
    assertTrue(second.done());
    KeyPage byBytes = store.readKeys(null, 100, 1);
    assertEquals(1, byBytes.records().size(), "stops after the first key once bytes are reached");
    KeyPage fromMissing = store.readKeys("aa", 100, Long.MAX_VALUE);
    assertEquals(ordered.subList(1, 4), keys(fromMissing.records()));
    KeyPage empty = store.readKeys("\uD83D\uDE00", 10, Long.MAX_VALUE);
    assertEquals(List.of(), empty.records());
    assertTrue(empty.done());
    assertEquals(ordered, list(store.records(null).map(KeyRecord::key)));
    assertThrows(IllegalArgumentException.class, () -> store.readKeys(null, 0, 1));
  }

  @Test
  @DisplayName("a closed store refuses every call with StoreException")
  void closedStoreThrows() {
    store.writeDirty("k", 1, bytes("v"));
    store.close();
    assertThrows(StoreException.class, () -> store.readNewest("k"));
    assertThrows(StoreException.class, () -> store.writeDirty("k", 2, bytes("v")));
    assertThrows(StoreException.class, () -> store.readKeys(null, 1, 1));
    store.close(); // idempotent
    store = null;
  }

  // ------------------------------------------------------------ durability

  @Test
  @DisplayName("reopen keeps every committed version, dirty versions and tombstones")
  void reopenKeepsVersions() throws Exception {
    assumeTrue(store.durable(), "volatile store: nothing to reopen");
    byte[] large = new byte[300_000];
    new Random(7).nextBytes(large);
    store.apply(
        new Batch()
            .putDirty("a", 1, bytes("a1"))
            .putDirty("a", 2, bytes("a2"))
            .commit("a", 2)
            .putDirty("b", 1, large)
            .commit("b", 1)
            .putDirty("b", 2, bytes("b2"))
            .putDirty("c", 1, bytes("c1"))
            .commit("c", 1)
            .putDirtyTombstone("c", 2)
            .commit("c", 2)
            .putDirty("d", 1, bytes("d1")));
    List<KeyRecord> before = list(store.records(null));
    store.close();
    store = reopen(directory);
    assertNotNull(store, "a durable store must override reopen(Path)");
    assertEquals(before, list(store.records(null)));
    assertEquals(new Newest.Clean(value("a", 2, "a2")), store.readNewest("a"));
    assertArrayEquals(large, store.readCommitted("b").orElseThrow().value());
    assertTrue(store.readCommitted("c").orElseThrow().tombstone());
    // A restarted node discards dirty versions, then keeps writing new keys and versions.
    assertEquals(2, store.apply(new Batch().discardAllDirty()).dirtyVersionsDiscarded());
    store.apply(
        new Batch()
            .putDirty("e", 1, bytes("e1"))
            .commit("e", 1)
            .putDirty("b", 2, bytes("b2 again")));
    store.close();
    store = reopen(directory);
    assertEquals(new Newest.Clean(value("e", 1, "e1")), store.readNewest("e"));
    assertEquals(new Newest.Clean(value("a", 2, "a2")), store.readNewest("a"));
    assertEquals(new Newest.Dirty(value("b", 2, "b2 again"), 1), store.readNewest("b"));
    assertInstanceOf(Newest.Absent.class, store.readNewest("d"));
    assertEquals(List.of("a", "b", "c", "e"), keys(list(store.records(null))));
  }

  @Test
  @DisplayName("a slice discard survives a reopen, and the dirty versions it spared do too")
  void sliceDiscardSurvivesReopen() throws Exception {
    assumeTrue(store.durable(), "volatile store: nothing to reopen");
    ChainSlice mine = new ChainSlice(0, 3);
    ChainSlice other = new ChainSlice(2, 3);
    String mineMixed = keyOfChain("mine-mixed-", mine);
    String mineDirty = keyOfChain("mine-dirty-", mine);
    String otherMixed = keyOfChain("other-mixed-", other);
    String otherDirty = keyOfChain("other-dirty-", other);
    store.apply(
        new Batch()
            .putDirty(mineMixed, 1, bytes("m1"))
            .commit(mineMixed, 1)
            .putDirty(mineMixed, 2, bytes("m2"))
            .putDirty(mineDirty, 1, bytes("d1"))
            .putDirty(otherMixed, 1, bytes("o1"))
            .commit(otherMixed, 1)
            .putDirty(otherMixed, 2, bytes("o2"))
            .putDirty(otherDirty, 1, bytes("x1")));
    store.close();
    store = reopen(directory);
    assertNotNull(store, "a durable store must override reopen(Path)");
    // A node re-joining one of its chains discards that chain's dirty versions only.
    assertEquals(2, store.apply(new Batch().discardDirty(mine)).dirtyVersionsDiscarded());
    List<KeyRecord> afterDiscard = list(store.records(null));
    store.close();
    store = reopen(directory);
    assertEquals(afterDiscard, list(store.records(null)));
    assertEquals(new Newest.Clean(value(mineMixed, 1, "m1")), store.readNewest(mineMixed));
    assertInstanceOf(Newest.Absent.class, store.readNewest(mineDirty));
    assertEquals(new Newest.Dirty(value(otherMixed, 2, "o2"), 1), store.readNewest(otherMixed));
    assertEquals(
        new Newest.Dirty(value(otherDirty, 1, "x1"), Storer.NO_VERSION),
        store.readNewest(otherDirty));
    // The dirty versions spared are still found (and counted) by a later discard.
    assertEquals(0, store.apply(new Batch().discardDirty(mine)).dirtyVersionsDiscarded());
    assertEquals(2, store.apply(new Batch().discardDirty(other)).dirtyVersionsDiscarded());
    store.close();
    store = reopen(directory);
    assertEquals(List.of(), list(store.allDirty()));
    assertEquals(sorted(List.of(mineMixed, otherMixed)), keys(list(store.records(null))));
  }

  // ------------------------------------------------------------ concurrency and scale

  @Test
  @DisplayName("concurrent writers on different keys lose nothing; readers never see torn values")
  void concurrentWriters() throws Exception {
    int writers = 4;
    int keysPerWriter = 200;
    ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean writing = new AtomicBoolean(true);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        futures.add(
            pool.submit(() -> {
              start.await();
              for (int i = 0; i < keysPerWriter; i += 10) {
                Batch batch = new Batch();
                for (int j = i; j < i + 10; j++) {
                  String key = "w" + writer + "-" + j;
                  batch
                      .putDirty(key, 1, bytes(key + "@1"))
                      .putDirty(key, 2, bytes(key + "@2"))
                      .commit(key, 1);
                }
                store.apply(batch);
              }
              return null;
            }));
      }
      Future<Long> reader =
          pool.submit(() -> {
            start.await();
            long checked = 0;
            while (writing.get()) {
              for (int w = 0; w < writers; w++) {
                String key = "w" + w + "-" + (checked % keysPerWriter);
                Newest newest = store.readNewest(key);
                // The memory store shows a batch key by key, LMDB all at once: accept either,
                // but every version seen must carry exactly the value written for it.
                if (newest instanceof Newest.Dirty dirty) {
                  VersionRecord seen = dirty.record();
                  assertEquals(value(key, seen.version(), key + "@" + seen.version()), seen);
                  assertTrue(dirty.committedVersion() < seen.version());
                } else {
                  assertInstanceOf(Newest.Absent.class, newest);
                }
              }
              checked++;
            }
            return checked;
          });
      start.countDown();
      for (Future<?> future : futures) {
        future.get(60, TimeUnit.SECONDS);
      }
      writing.set(false);
      reader.get(60, TimeUnit.SECONDS);
    } finally {
      writing.set(false);
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
    }
    assertEquals(writers * keysPerWriter, store.allCommitted().count());
    assertEquals(writers * keysPerWriter, store.allDirty().count());
    for (int w = 0; w < writers; w++) {
      for (int i = 0; i < keysPerWriter; i++) {
        String key = "w" + w + "-" + i;
        assertEquals(1, store.committedVersion(key), key);
        assertEquals(2, store.newestVersion(key), key);
      }
    }
  }

  @Test
  @DisplayName("a catch-up over 100k keys streams page by page, not as one list")
  void streamsLargeCatchUp() {
    int total = 100_000;
    byte[] value = new byte[100];
    for (int i = 0; i < total; i += 10_000) {
      Batch batch = new Batch();
      for (int j = i; j < i + 10_000; j++) {
        batch.putCommitted(new VersionRecord(key(j), 1, false, value));
        if (j % 10 == 0) {
          batch.putDirty(key(j), 2, value);
        }
      }
      store.apply(batch);
    }
    Iterator<VersionRecord> committed = store.allCommitted().iterator();
    assertEquals(key(0), committed.next().key());
    // Written after the stream started: only a lazy, paged stream can still see it.
    store.writeDirty("zzz-late", 1, value);
    store.commit("zzz-late", 1);
    long count = 1;
    String previous = key(0);
    while (committed.hasNext()) {
      String key = committed.next().key();
      assertTrue(KeyOrder.INSTANCE.compare(previous, key) < 0, previous + " !< " + key);
      previous = key;
      count++;
    }
    assertEquals(total + 1, count);
    assertEquals("zzz-late", previous, "the stream must read pages lazily");
    assertEquals(total / 10, store.allDirty().count());
    assertEquals(total / 10 - 1, store.allNewerDirty(Map.of(key(0), 2L)).count());
    KeyPage page = store.readKeys(null, 1000, Long.MAX_VALUE);
    assertEquals(1000, page.records().size());
    assertEquals(key(999), page.resumeAfterKey());
  }

  // ------------------------------------------------------------ what a log in front relies on

  @Test
  @DisplayName(
      "the log sequence number a batch carries is kept with it, atomically, and "
          + "survives a reopen")
  void logSequenceKeptWithTheBatch() throws Exception {
    assumeTrue(keepsLogSequence(), "this store keeps its own log position");
    assertEquals(Batch.NO_LOG_SEQUENCE, store.logSequence());
    store.apply(new Batch().putDirty("k", 1, bytes("a")).logSequence(7));
    assertEquals(7, store.logSequence());
    store.apply(new Batch().commit("k", 1));
    assertEquals(7, store.logSequence(), "a batch without a sequence keeps the last one");
    Batch tooLarge =
        new Batch().putDirty("big", 1, new byte[store.valueBytesMax() + 1]).logSequence(9);
    assertThrows(Limits.InvalidInputException.class, () -> store.apply(tooLarge));
    assertEquals(7, store.logSequence(), "a refused batch changes nothing");
    store.apply(new Batch().putDirty("k", 2, bytes("b")).logSequence(12));
    assertEquals(12, store.logSequence());
    if (store.durable()) {
      store.close();
      store = reopen(directory);
      assertNotNull(store, "a durable store must override reopen(Path)");
      assertEquals(12, store.logSequence());
      assertEquals(2, store.newestVersion("k"));
    }
  }

  @Test
  @DisplayName("a batch applied without sync is read at once, and is durable after sync()")
  void applyWithoutSyncThenSync() throws Exception {
    store.applyWithoutSync(
        new Batch().putDirty("k", 1, bytes("a")).commit("k", 1).putDirty("k", 2, bytes("b")));
    assertEquals(1, store.committedVersion("k"));
    assertEquals(2, store.newestVersion("k"));
    store.sync();
    if (store.durable()) {
      store.close();
      store = reopen(directory);
      assertEquals(Optional.of(value("k", 1, "a")), store.readCommitted("k"));
      assertEquals(Optional.of(value("k", 2, "b")), store.readVersion("k", 2));
    }
  }

  @Test
  @DisplayName("committedRecord is readCommitted without the Optional")
  void committedRecord() {
    assertEquals(null, store.committedRecord("k"));
    store.apply(new Batch().putDirty("k", 1, bytes("a")));
    assertEquals(null, store.committedRecord("k"), "a dirty version is not committed");
    store.apply(new Batch().commit("k", 1).putDirty("k", 2, bytes("b")));
    assertEquals(value("k", 1, "a"), store.committedRecord("k"));
    store.apply(new Batch().putDirtyTombstone("k", 3).commit("k", 3));
    assertEquals(new VersionRecord("k", 3, true, new byte[0]), store.committedRecord("k"));
  }

  // ------------------------------------------------------------ randomized against a model

  @Test
  @DisplayName("random batches behave like the reference model (seed printed, -Dcraq.store.seed)")
  void randomBatchesMatchModel() throws Exception {
    long seed = Long.getLong("craq.store.seed", System.nanoTime());
    System.out.println(
        "StorerConformanceTest.randomBatchesMatchModel seed="
            + seed
            + " (replay: -Dcraq.store.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    Model model = new Model();
    assertTrue(
        Stream.of("k0", "k1", "k2", "k3", "k4", "k5")
                .map(key -> KeySlots.chainOf(key, RANDOM_CHAINS))
                .distinct()
                .count()
            > 1,
        "the keys must span several chains for the slice discards to mean something");
    for (int step = 0; step < 300; step++) {
      Batch batch = new Batch();
      int ops = 1 + random.nextInt(5);
      for (int i = 0; i < ops; i++) {
        String key = "k" + random.nextInt(6);
        long version = 1 + random.nextInt(10);
        byte[] value = bytes("v" + version + (random.nextInt(8) == 0 ? "x" : ""));
        boolean tombstone = random.nextInt(6) == 0;
        VersionRecord record =
            new VersionRecord(key, version, tombstone, tombstone ? new byte[0] : value);
        int kind = random.nextInt(100);
        if (kind < 45) {
          batch.putDirty(record);
        } else if (kind < 55) {
          batch.putCommitted(record);
        } else if (kind < 95) {
          batch.commit(key, version);
        } else if (kind < 98) {
          batch.discardDirty(new ChainSlice(random.nextInt(RANDOM_CHAINS), RANDOM_CHAINS));
        } else {
          batch.discardAllDirty();
        }
      }
      BatchResult expected = model.apply(batch);
      BatchResult actual = store.apply(batch);
      if (store.durable() && random.nextInt(40) == 0) {
        store.close(); // the model knows what a reopen must give back
        store = reopen(directory);
      }
      assertEquals(expected, actual, "seed " + seed + " step " + step + " ops " + batch.ops());
      assertEquals(model.records(), list(store.records(null)), "seed " + seed + " step " + step);
      assertEquals(model.dirty(), list(store.allDirty()), "seed " + seed + " step " + step);
      for (int k = 0; k < 6; k++) {
        String key = "k" + k;
        assertEquals(model.newest(key), store.readNewest(key), "seed " + seed + " " + key);
      }
    }
  }

  /** The chain count of the slices the randomized test discards. */
  private static final int RANDOM_CHAINS = 3;

  /** The reference semantics, written as plainly as possible. */
  private static final class Model {
    private final TreeMap<String, TreeMap<Long, VersionRecord>> held =
        new TreeMap<>(KeyOrder.INSTANCE);
    private final Map<String, Long> committed = new TreeMap<>();

    BatchResult apply(Batch batch) {
      List<Outcome> outcomes = new ArrayList<>();
      long discarded = 0;
      for (Batch.Op op : batch.ops()) {
        switch (op) {
          case Batch.PutDirty put -> outcomes.add(put(put.record(), false));
          case Batch.PutCommitted put -> outcomes.add(put(put.record(), true));
          case Batch.Commit commit -> outcomes.add(commit(commit.key(), commit.version()));
          case Batch.DiscardAllDirty discard -> {
            for (String key : List.copyOf(held.keySet())) {
              if (!discard.slice().contains(key)) {
                continue;
              }
              long c = committed.getOrDefault(key, 0L);
              TreeMap<Long, VersionRecord> versions = held.get(key);
              discarded += versions.tailMap(c, false).size();
              versions.tailMap(c, false).clear();
              if (versions.isEmpty()) {
                held.remove(key);
              }
            }
            outcomes.add(Outcome.APPLIED);
          }
        }
      }
      return new BatchResult(outcomes, discarded);
    }

    private Outcome put(VersionRecord record, boolean asCommitted) {
      long c = committed.getOrDefault(record.key(), 0L);
      if (record.version() < c) {
        return Outcome.STALE;
      }
      TreeMap<Long, VersionRecord> versions =
          held.computeIfAbsent(record.key(), k -> new TreeMap<>());
      VersionRecord existing = versions.get(record.version());
      if (existing != null && !existing.equals(record)) {
        return Outcome.CONFLICT;
      }
      if (existing != null && (!asCommitted || record.version() == c)) {
        return Outcome.DUPLICATE;
      }
      versions.put(record.version(), record);
      if (asCommitted) {
        versions.headMap(record.version(), false).clear();
        committed.put(record.key(), record.version());
      }
      return Outcome.APPLIED;
    }

    private Outcome commit(String key, long version) {
      long c = committed.getOrDefault(key, 0L);
      if (version < c) {
        return Outcome.STALE;
      }
      if (version == c) {
        return Outcome.DUPLICATE;
      }
      TreeMap<Long, VersionRecord> versions = held.get(key);
      if (versions == null || !versions.containsKey(version)) {
        return Outcome.UNKNOWN_VERSION;
      }
      versions.headMap(version, false).clear();
      committed.put(key, version);
      return Outcome.APPLIED;
    }

    List<KeyRecord> records() {
      List<KeyRecord> records = new ArrayList<>();
      held.forEach((key, versions) -> {
        long c = committed.getOrDefault(key, 0L);
        records.add(
            new KeyRecord(key, versions.get(c), List.copyOf(versions.tailMap(c, false).values())));
      });
      return records;
    }

    List<VersionRecord> dirty() {
      return records().stream().flatMap(r -> r.dirty().stream()).toList();
    }

    Newest newest(String key) {
      TreeMap<Long, VersionRecord> versions = held.get(key);
      if (versions == null) {
        return Newest.ABSENT;
      }
      long c = committed.getOrDefault(key, 0L);
      VersionRecord last = versions.lastEntry().getValue();
      return last.version() == c ? new Newest.Clean(last) : new Newest.Dirty(last, c);
    }
  }

  // ------------------------------------------------------------ helpers

  protected static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  protected static VersionRecord value(String key, long version, String text) {
    return new VersionRecord(key, version, false, bytes(text));
  }

  /**
   * The first of {@code prefix + 0}, {@code prefix + 1}, ... that lies in {@code slice}: keys of a
   * known chain without relying on what the hash gives for any particular key.
   */
  protected static String keyOfChain(String prefix, ChainSlice slice) {
    for (int i = 0; i < 100_000; i++) {
      String key = prefix + i;
      if (KeySlots.chainOf(key, slice.chains()) == slice.chain()) {
        return key;
      }
    }
    throw new AssertionError("no key " + prefix + "N lies in " + slice);
  }

  private static List<String> sorted(List<String> keys) {
    return keys.stream().sorted(KeyOrder.INSTANCE).toList();
  }

  private static List<VersionRecord> sortedByKey(List<VersionRecord> records) {
    return records.stream()
        .sorted(
            java.util.Comparator.comparing(VersionRecord::key, KeyOrder.INSTANCE)
                .thenComparingLong(VersionRecord::version))
        .toList();
  }

  private static String key(int i) {
    return String.format("key-%07d", i);
  }

  private static List<String> keys(List<KeyRecord> records) {
    return records.stream().map(KeyRecord::key).collect(Collectors.toList());
  }

  private static <T> List<T> list(Stream<T> stream) {
    try (stream) {
      return stream.toList();
    }
  }
}

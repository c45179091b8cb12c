package io.craq.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.chain.ChainSlice;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.VersionRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The write-ahead log's record format for a batch: round trips and refused records. */
class BatchCodecTest {

  @Test
  @DisplayName("every kind of operation round-trips, in order")
  void roundTrip() {
    Batch batch =
        new Batch()
            .putDirty("a", 1, "one".getBytes(StandardCharsets.UTF_8))
            .putDirtyTombstone("a", 2)
            .putCommitted(new VersionRecord("b", 7, false, new byte[] {0, -1, 2}))
            .commit("a", 2)
            .discardAllDirty()
            .discardDirty(new ChainSlice(2, 5))
            .discardDirty(new ChainSlice(KeySlots.CHAINS_MAX - 1, KeySlots.CHAINS_MAX))
            .discardDirty(new ChainSlice(0, 2));
    Batch decoded = decode(BatchCodec.encode(batch));
    assertEquals(batch.ops(), decoded.ops());
    assertEquals(Batch.NO_LOG_SEQUENCE, decoded.logSequence());
  }

  @Test
  @DisplayName(
      "a discard of every key is written as kind 4, as before slices existed, and such "
          + "records still read as a discard of every key")
  void discardOfAllKeepsItsOldForm() {
    byte[] oldRecord = {1, 0, 0, 0, 1, 4};
    assertArrayEquals(oldRecord, BatchCodec.encode(new Batch().discardAllDirty()));
    assertArrayEquals(oldRecord, BatchCodec.encode(new Batch().discardDirty(ChainSlice.ALL)));
    assertEquals(List.of(new Batch.DiscardAllDirty(ChainSlice.ALL)), decode(oldRecord).ops());
  }

  @Test
  @DisplayName("a discard of one chain is kind 5 with the chain and the chain count")
  void sliceDiscardForm() {
    byte[] record = BatchCodec.encode(new Batch().discardDirty(new ChainSlice(3, 300)));
    assertArrayEquals(sliceRecord(3, 300), record);
    assertEquals(List.of(new Batch.DiscardAllDirty(new ChainSlice(3, 300))), decode(record).ops());
  }

  @Test
  @DisplayName(
      "a chain discard naming no chain (count outside 1..CHAINS_MAX, chain outside "
          + "[0, count)) or cut short is refused as corrupt")
  void badSliceDiscardsAreRefused() {
    int[][] bad = {
      {0, 0},
      {0, -1},
      {0, KeySlots.CHAINS_MAX + 1},
      {0, Integer.MIN_VALUE},
      {-1, 4},
      {4, 4},
      {5, 4},
      {Integer.MAX_VALUE, KeySlots.CHAINS_MAX},
      {1, 1}
    };
    for (int[] slice : bad) {
      StoreException e =
          assertThrows(
              StoreException.class,
              () -> decode(sliceRecord(slice[0], slice[1])),
              "chain " + slice[0] + " of " + slice[1]);
      assertTrue(e.getMessage().contains("chain " + slice[0] + " of " + slice[1]), e.getMessage());
    }
    byte[] whole = sliceRecord(1, 4);
    for (int cut = 1; cut <= 8; cut++) {
      byte[] shortRecord = java.util.Arrays.copyOf(whole, whole.length - cut);
      assertThrows(StoreException.class, () -> decode(shortRecord), "cut " + cut);
    }
    byte[] unknownKind = {1, 0, 0, 0, 1, 6};
    StoreException e = assertThrows(StoreException.class, () -> decode(unknownKind));
    assertTrue(e.getMessage().contains("unknown kind 6"), e.getMessage());
  }

  private static byte[] sliceRecord(int chain, int chains) {
    return ByteBuffer.allocate(1 + 4 + 1 + 4 + 4)
        .put((byte) 1)
        .putInt(1)
        .put((byte) 5)
        .putInt(chain)
        .putInt(chains)
        .array();
  }

  private static Batch decode(byte[] record) {
    return BatchCodec.decode(ByteBuffer.wrap(record));
  }
}

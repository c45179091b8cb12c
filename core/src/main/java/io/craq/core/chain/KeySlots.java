package io.craq.core.chain;

import java.nio.charset.StandardCharsets;

/**
 * Where a key lives: every key hashes to one of {@link #SLOTS} slots, and the slots are split into
 * the cluster's chains in contiguous ranges (CRAQ §3.1: keys placed over many chains by a hash).
 *
 * <p>The slot is CRC-16/XMODEM of the key's hash tag modulo 16,384, as Redis Cluster computes it,
 * so that users who know that convention can predict placement: if the key holds a {@code {} that
 * is followed by a {@code }} with at least one character between them, only the text between the
 * first {@code {} and the first {@code }} after it is hashed ({@code user:{42}:name} and {@code
 * user:{42}:mail} share a slot, hence a chain); otherwise the whole key is hashed.
 *
 * <p>A cluster's chain count is fixed when it is created, so this mapping never changes for it: a
 * node, a client and the coordinator all compute the same chain for a key from the key alone.
 */
public final class KeySlots {
  /** Number of hash slots. Fixed forever: changing it would move every key. */
  public static final int SLOTS = 16384;

  /** The most chains a cluster may have (one slot each at most). */
  public static final int CHAINS_MAX = 1024;

  private static final int[] CRC_TABLE = new int[256];

  static {
    for (int i = 0; i < 256; i++) {
      int crc = i << 8;
      for (int bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
      }
      CRC_TABLE[i] = crc & 0xffff;
    }
  }

  private KeySlots() {}

  /** The slot of {@code key}, in {@code [0, SLOTS)}. */
  public static int slot(String key) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    int from = 0;
    int to = bytes.length;
    int open = indexOf(bytes, (byte) '{', 0);
    if (open >= 0) {
      int close = indexOf(bytes, (byte) '}', open + 1);
      if (close > open + 1) {
        from = open + 1;
        to = close;
      }
    }
    return crc16(bytes, from, to) & (SLOTS - 1);
  }

  /** The hash tag of {@code key} (what {@link #slot} hashes): the whole key when it has none. */
  public static String hashTag(String key) {
    int open = key.indexOf('{');
    if (open >= 0) {
      int close = key.indexOf('}', open + 1);
      if (close > open + 1) {
        return key.substring(open + 1, close);
      }
    }
    return key;
  }

  /** The chain that holds {@code key} in a cluster of {@code chains} chains. */
  public static int chainOf(String key, int chains) {
    return chainOfSlot(slot(key), chains);
  }

  /** The chain that holds {@code slot}: chains own contiguous, nearly equal slot ranges. */
  public static int chainOfSlot(int slot, int chains) {
    checkChains(chains);
    if (slot < 0 || slot >= SLOTS) {
      throw new IllegalArgumentException("slot must be in [0, " + SLOTS + "): " + slot);
    }
    return (int) ((long) slot * chains / SLOTS);
  }

  /** The first slot of {@code chain} (inclusive). */
  public static int firstSlot(int chain, int chains) {
    checkChain(chain, chains);
    return (int) (((long) chain * SLOTS + chains - 1) / chains);
  }

  /** The slot after the last slot of {@code chain} (exclusive). */
  public static int endSlot(int chain, int chains) {
    checkChain(chain, chains);
    return chain + 1 == chains ? SLOTS : firstSlot(chain + 1, chains);
  }

  /** Refuses a chain count outside {@code [1, CHAINS_MAX]}. */
  public static void checkChains(int chains) {
    if (chains < 1 || chains > CHAINS_MAX) {
      throw new IllegalArgumentException(
          "the chain count must be between 1 and " + CHAINS_MAX + ": " + chains);
    }
  }

  private static void checkChain(int chain, int chains) {
    checkChains(chains);
    if (chain < 0 || chain >= chains) {
      throw new IllegalArgumentException("chain must be in [0, " + chains + "): " + chain);
    }
  }

  static int crc16(byte[] bytes, int from, int to) {
    int crc = 0;
    for (int i = from; i < to; i++) {
      crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 8) ^ bytes[i]) & 0xff]) & 0xffff;
    }
    return crc;
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}

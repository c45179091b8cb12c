package io.craq.core.chain;

/**
 * The keys of one chain of a cluster with {@code chains} chains ({@link KeySlots#chainOf}). A node
 * keeps the keys of all its chains in one store; each chain's state machine sees, copies and drops
 * only its slice of it. {@link #ALL} (chain 0 of 1) is every key: a cluster of one chain.
 */
public record ChainSlice(int chain, int chains) {
  public static final ChainSlice ALL = new ChainSlice(0, 1);

  public ChainSlice {
    KeySlots.checkChains(chains);
    if (chain < 0 || chain >= chains) {
      throw new IllegalArgumentException("chain must be in [0, " + chains + "): " + chain);
    }
  }

  /** True if {@code key} belongs to this chain. */
  public boolean contains(String key) {
    return chains == 1 || KeySlots.chainOf(key, chains) == chain;
  }

  /** True if this slice is every key. */
  public boolean isAll() {
    return chains == 1;
  }

  @Override
  public String toString() {
    return "chain " + chain + " of " + chains;
  }
}

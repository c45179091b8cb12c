package io.craq.core.message;

import io.craq.core.chain.KeySlots;
import java.util.List;
import java.util.Objects;

/**
 * The cluster's chain map: its chains (chain {@code i} holds the keys {@link KeySlots#chainOf}
 * places in it), each with its own members and epoch, and the pool of nodes they are drawn from.
 * The coordinator owns it and stores it durably; {@code version} grows with every change, so a node
 * or client holding an older map knows to fetch a newer one. Immutable.
 *
 * <p>The number of chains is fixed when the cluster is created: it defines where every key lives.
 * {@code replicas} is how many members each chain gets when the pool has enough nodes.
 */
public record ChainMap(long version, int replicas, List<ChainConfig> chains, List<PoolNode> pool) {

  public ChainMap {
    Objects.requireNonNull(chains, "chains");
    Objects.requireNonNull(pool, "pool");
    chains = List.copyOf(chains);
    pool = List.copyOf(pool);
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0: " + version);
    }
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas must be >= 1: " + replicas);
    }
    KeySlots.checkChains(chains.size());
  }

  /** A new cluster: version 0, {@code chains} empty chains, no nodes. */
  public static ChainMap empty(int chains, int replicas) {
    KeySlots.checkChains(chains);
    return new ChainMap(
        0, replicas, java.util.Collections.nCopies(chains, ChainConfig.EMPTY), List.of());
  }

  public int chainCount() {
    return chains.size();
  }

  public ChainConfig chain(int chain) {
    return chains.get(chain);
  }

  /** The chain that holds {@code key}. */
  public int chainOf(String key) {
    return KeySlots.chainOf(key, chains.size());
  }

  /** The configuration of the chain that holds {@code key}. */
  public ChainConfig chainFor(String key) {
    return chains.get(chainOf(key));
  }

  /** The pool entry of {@code nodeId}, or null. */
  public PoolNode poolNode(String nodeId) {
    for (PoolNode node : pool) {
      if (node.id().equals(nodeId)) {
        return node;
      }
    }
    return null;
  }

  /** This map with chain {@code chain} replaced. The version is unchanged. */
  public ChainMap withChain(int chain, ChainConfig config) {
    java.util.ArrayList<ChainConfig> next = new java.util.ArrayList<>(chains);
    next.set(chain, config);
    return new ChainMap(version, replicas, next, pool);
  }
}

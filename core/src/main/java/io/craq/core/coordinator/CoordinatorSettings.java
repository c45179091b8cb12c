package io.craq.core.coordinator;

import io.craq.core.chain.KeySlots;

/**
 * Tunables of the coordinator's state machine, in ticks.
 *
 * @param failureTimeoutTicks a member not heard from for this long is removed; must exceed every
 *     node's lease ({@code NodeSettings.leaseTicks}) so a cut-off node has stopped serving first
 * @param membersMax the longest chain accepted
 * @param chains how many chains a new cluster gets (fixed once the cluster exists: it decides where
 *     every key lives)
 * @param replicas how many members each chain gets when the pool has that many nodes
 * @param movesMax how many chains may have a membership move in progress at once (a member being
 *     added to copy the chain's keys, or an extra member waiting to be removed)
 * @param expectNodes how many nodes a new cluster of several chains waits for before it is laid out
 *     (0: until no new node has said hello for a quiet period; see {@link MapMachine})
 */
public record CoordinatorSettings(
    int failureTimeoutTicks,
    int membersMax,
    int chains,
    int replicas,
    int movesMax,
    int expectNodes) {
  public CoordinatorSettings {
    if (expectNodes < 0) {
      throw new IllegalArgumentException("expectNodes must not be negative: " + expectNodes);
    }
    if (failureTimeoutTicks <= 0) {
      throw new IllegalArgumentException("failureTimeoutTicks must be positive");
    }
    if (membersMax <= 0) {
      throw new IllegalArgumentException("membersMax must be positive");
    }
    KeySlots.checkChains(chains);
    if (replicas < 1 || replicas > membersMax) {
      throw new IllegalArgumentException(
          "replicas must be between 1 and membersMax (" + membersMax + "): " + replicas);
    }
    if (movesMax < 1) {
      throw new IllegalArgumentException("movesMax must be positive");
    }
  }

  /** Settings that lay a new cluster out once its nodes have stopped arriving. */
  public CoordinatorSettings(
      int failureTimeoutTicks, int membersMax, int chains, int replicas, int movesMax) {
    this(failureTimeoutTicks, membersMax, chains, replicas, movesMax, 0);
  }

  /**
   * One chain that every node joins (up to {@code membersMax}), as a single-chain cluster always
   * did.
   */
  public CoordinatorSettings(int failureTimeoutTicks, int membersMax) {
    this(failureTimeoutTicks, membersMax, 1, membersMax, 1);
  }

  /** Defaults for a 50 ms tick: 2 s failure timeout, chains of up to 64 nodes. */
  public static CoordinatorSettings defaults() {
    return new CoordinatorSettings(40, 64);
  }

  public CoordinatorSettings withChains(int chainCount, int replicaCount) {
    return new CoordinatorSettings(
        failureTimeoutTicks, membersMax, chainCount, replicaCount, movesMax, expectNodes);
  }

  public CoordinatorSettings withMovesMax(int moves) {
    return new CoordinatorSettings(
        failureTimeoutTicks, membersMax, chains, replicas, moves, expectNodes);
  }

  public CoordinatorSettings withExpectNodes(int nodes) {
    return new CoordinatorSettings(
        failureTimeoutTicks, membersMax, chains, replicas, movesMax, nodes);
  }
}

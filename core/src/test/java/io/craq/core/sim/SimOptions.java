package io.craq.core.sim;

import io.craq.core.coordinator.CoordinatorSettings;
import java.util.Random;

/**
 * The shape of one simulated run.
 *
 * @param nodes nodes at the start
 * @param nodesMax joins stop at this many nodes
 * @param clients concurrent clients (at most ~5 per key keeps checking cheap)
 * @param faultTicks ticks of load with faults before healing
 * @param faults whether to inject faults at all
 * @param faultEveryTicks on average one fault decision per this many ticks
 * @param keysPerGeneration keys in use at once
 * @param opsPerKeyGeneration operations before moving to fresh keys (short per-key histories)
 * @param crashLastCaughtUp also crash (and later restart) the last caught-up member, beyond the
 *     fault model (one member with a complete copy stays up): then only its own store holds some of
 *     the data
 * @param zookeeper several coordinators over a simulated ZooKeeper instead of the single file-based
 *     coordinator
 * @param coordinators coordinators in ZooKeeper mode
 * @param sessionTicks the coordinators' ZooKeeper session timeout (ZooKeeper mode)
 * @param leaseTicks the leader lease (ZooKeeper mode); may be shorter or longer than the session
 * @param chains the cluster's fixed number of chains
 * @param replicas members per chain when the pool has that many nodes; 0: one chain that every node
 *     joins (the coordinator's settings of a single-chain cluster)
 */
record SimOptions(
    int nodes,
    int nodesMax,
    int clients,
    int faultTicks,
    boolean faults,
    int faultEveryTicks,
    int keysPerGeneration,
    int opsPerKeyGeneration,
    boolean crashLastCaughtUp,
    boolean zookeeper,
    int coordinators,
    int sessionTicks,
    int leaseTicks,
    int chains,
    int replicas) {

  /** A node's failure timeout at the coordinator, in ticks. */
  static final int FAILURE_TIMEOUT_TICKS = 16;

  /** The longest chain the coordinator accepts. */
  static final int MEMBERS_MAX = 16;

  /** Chains that may have a membership move in progress at once (many-chain runs). */
  static final int MOVES_MAX = 2;

  static SimOptions standard(int nodes) {
    return new SimOptions(nodes, nodes + 2, 5, 1500, true, 40, 3, 150, false, false, 1, 0, 0, 1, 0);
  }

  /** Standard faults plus crashes of the last caught-up member (it always restarts). */
  static SimOptions harsh(int nodes) {
    return new SimOptions(nodes, nodes + 2, 5, 1500, true, 40, 3, 150, true, false, 1, 0, 0, 1, 0);
  }

  static SimOptions faultFree(int nodes) {
    return new SimOptions(nodes, nodes, 5, 800, false, 40, 3, 150, false, false, 1, 0, 0, 1, 0);
  }

  /**
   * Standard faults and the coordinators' own, with {@code coordinators} coordinators over
   * ZooKeeper; the session timeout (12..36 ticks, a node's failure timeout being 16) and the leader
   * lease (from 3/4 of the session up to 3 sessions) are drawn from {@code seed}.
   */
  static SimOptions zookeeper(int nodes, int coordinators, long seed) {
    Random timing = new Random(seed * 31 + 7);
    int session = 12 + timing.nextInt(25);
    int leaseMin = Math.max(10, session * 3 / 4);
    int lease = leaseMin + timing.nextInt(3 * session - leaseMin + 1);
    return new SimOptions(
        nodes,
        nodes + 2,
        5,
        1500,
        true,
        40,
        3,
        150,
        false,
        true,
        coordinators,
        session,
        lease,
        1,
        0);
  }

  /**
   * Many chains over a pool: 2 to 6 chains of 3 members over 5 to 7 nodes at the start (up to two
   * more join), four keys in use at once (two of them sharing a hash tag); the standard faults, and
   * for a third of the seeds 2 or 3 coordinators over ZooKeeper with their faults too. All drawn
   * from {@code seed}.
   */
  static SimOptions manyChains(long seed) {
    Random shape = new Random(seed * 131 + 17);
    int chains = 2 + shape.nextInt(5);
    int nodes = 5 + shape.nextInt(3);
    boolean zookeeper = shape.nextInt(3) == 0;
    int coordinators = zookeeper ? 2 + shape.nextInt(2) : 1;
    int session = 0;
    int lease = 0;
    if (zookeeper) {
      session = 12 + shape.nextInt(25);
      int leaseMin = Math.max(10, session * 3 / 4);
      lease = leaseMin + shape.nextInt(3 * session - leaseMin + 1);
    }
    return new SimOptions(
        nodes,
        nodes + 2,
        5,
        1500,
        true,
        40,
        4,
        150,
        false,
        zookeeper,
        coordinators,
        session,
        lease,
        chains,
        3);
  }

  /** The coordinator's settings for this run. */
  CoordinatorSettings coordinatorSettings() {
    if (replicas == 0) {
      return new CoordinatorSettings(FAILURE_TIMEOUT_TICKS, MEMBERS_MAX);
    }
    return new CoordinatorSettings(FAILURE_TIMEOUT_TICKS, MEMBERS_MAX, chains, replicas, MOVES_MAX);
  }

  /** Members each chain gets when the pool has that many eligible nodes. */
  int replicasWanted() {
    return replicas == 0 ? MEMBERS_MAX : replicas;
  }

  String describe() {
    return (zookeeper ? coordinators + " coordinators over zookeeper, " : "")
        + nodes
        + " nodes, "
        + chains
        + (chains == 1 ? " chain" : " chains")
        + (replicas == 0 ? " of every node" : " of " + replicas);
  }
}

package io.craq.core.sim;

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
    int leaseTicks) {

  static SimOptions standard(int nodes) {
    return new SimOptions(nodes, nodes + 2, 5, 1500, true, 40, 3, 150, false, false, 1, 0, 0);
  }

  /** Standard faults plus crashes of the last caught-up member (it always restarts). */
  static SimOptions harsh(int nodes) {
    return new SimOptions(nodes, nodes + 2, 5, 1500, true, 40, 3, 150, true, false, 1, 0, 0);
  }

  static SimOptions faultFree(int nodes) {
    return new SimOptions(nodes, nodes, 5, 800, false, 40, 3, 150, false, false, 1, 0, 0);
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
        nodes, nodes + 2, 5, 1500, true, 40, 3, 150, false, true, coordinators, session, lease);
  }
}

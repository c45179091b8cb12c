package io.craq.core.sim;

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
    boolean crashLastCaughtUp) {

  static SimOptions standard(int nodes) {
    return new SimOptions(nodes, nodes + 2, 5, 1500, true, 40, 3, 150, false);
  }

  /** Standard faults plus crashes of the last caught-up member (it always restarts). */
  static SimOptions harsh(int nodes) {
    return new SimOptions(nodes, nodes + 2, 5, 1500, true, 40, 3, 150, true);
  }

  static SimOptions faultFree(int nodes) {
    return new SimOptions(nodes, nodes, 5, 800, false, 40, 3, 150, false);
  }
}

package io.craq.core.sim;

import io.craq.check.History;
import java.util.Map;

/**
 * What one simulated run produced; {@code problem} says why it did not settle or converge (empty if
 * it did).
 */
record SimResult(
    long seed,
    History history,
    Map<String, Integer> faults,
    Map<String, Integer> events,
    SimNetwork network,
    boolean settled,
    boolean converged,
    long healToFirstWriteTicks,
    long ticks,
    String problem,
    String trace) {}

package io.craq.core.sim;

import io.craq.check.History;
import java.util.Map;

/** What one simulated run produced. */
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
    String trace) {}

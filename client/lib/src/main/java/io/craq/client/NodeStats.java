package io.craq.client;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One node's event counters as {@link CraqClient#stats} returned them: counted since the node
 * process started, never decreasing while it runs. The names and their meanings are those of {@code
 * io.craq.core.node.NodeCounters} (also in docs/CLIENT.md), e.g. {@code reads_clean}, {@code
 * reads_after_query}, {@code version_queries_served}; the map keeps the node's order.
 *
 * @param nodeId the node's id
 * @param epoch the configuration epoch the node is in
 * @param role {@code head}, {@code middle}, {@code tail}, {@code head+tail}, {@code catching-up} (a
 *     member still catching up) or {@code outside} (not a member)
 * @param counters counter name to value, unmodifiable
 */
public record NodeStats(String nodeId, long epoch, String role, Map<String, Long> counters) {
  public NodeStats {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(role, "role");
    counters = Collections.unmodifiableMap(new LinkedHashMap<>(counters));
  }

  /** The value of counter {@code name}, or 0 if this node does not report it. */
  public long counter(String name) {
    return counters.getOrDefault(name, 0L);
  }

  /**
   * How much each counter grew since {@code earlier} (a snapshot of the same node taken before), in
   * this snapshot's order; a counter {@code earlier} lacks counts from 0. A negative value means
   * the node restarted in between.
   */
  public Map<String, Long> since(NodeStats earlier) {
    Map<String, Long> delta = new LinkedHashMap<>();
    counters.forEach((name, value) -> delta.put(name, value - earlier.counter(name)));
    return Collections.unmodifiableMap(delta);
  }
}

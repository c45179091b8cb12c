package io.craq.coordinator.metrics;

import io.craq.coordinator.CoordinatorServer;
import io.craq.coordinator.CoordinatorServer.Standing;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import io.craq.metrics.Families;
import io.craq.metrics.MetricsSecurity;
import io.craq.metrics.MetricsServer;
import io.craq.metrics.Status;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

/**
 * A coordinator's metrics endpoint ({@code craq-coordinator --metrics-listen}): leadership, the
 * chain map it stored last (version, members per chain, members still catching up, the pool),
 * requests and heartbeats taken, its queue depth, and the JVM's metrics. Read at scrape time from
 * what the loop publishes; the scrape never waits for the loop. Every name is listed in
 * docs/METRICS.md.
 */
public final class CoordinatorMetrics implements MultiCollector {
  private final CoordinatorServer coordinator;

  private CoordinatorMetrics(CoordinatorServer coordinator) {
    this.coordinator = coordinator;
  }

  /**
   * Serves {@code coordinator}'s metrics, health and readiness on {@code address} until closed.
   *
   * @throws java.io.UncheckedIOException if the address cannot be bound
   */
  public static MetricsServer start(String address, CoordinatorServer coordinator) {
    return start(address, coordinator, MetricsSecurity.NONE);
  }

  /**
   * As {@link #start(String, CoordinatorServer)}, secured by {@code security} (HTTPS, users).
   *
   * @throws java.io.UncheckedIOException if the address cannot be bound
   * @throws IllegalArgumentException if the TLS files cannot be used
   */
  public static MetricsServer start(
      String address, CoordinatorServer coordinator, MetricsSecurity security) {
    PrometheusRegistry registry = MetricsServer.newRegistry();
    registry.register(new CoordinatorMetrics(coordinator));
    return MetricsServer.start(
        address, registry, () -> health(coordinator), () -> ready(coordinator), security);
  }

  /**
   * {@code /health}: ok when the coordinator can answer: it leads with a running lease (frozen
   * included: it still answers heartbeats), or stands by and knows the leader to redirect to.
   */
  public static Status health(CoordinatorServer coordinator) {
    if (!coordinator.running()) {
      return Status.failing("stopping");
    }
    Standing standing = coordinator.standing();
    if (standing.leading() && standing.acting()) {
      return Status.ok(
          standing.frozen()
              ? "leader, frozen: its configuration store cannot be reached"
              : "leader");
    }
    if (standing.leading()) {
      return Status.failing("leader whose lease ran out: stepping down");
    }
    if (!standing.leaderAddress().isEmpty()) {
      return Status.ok("standby; the leader is at " + standing.leaderAddress());
    }
    return Status.failing("standby: " + standing.standbyReason());
  }

  /** {@code /ready}: ok once the coordinator has started (its map read, listening) and runs. */
  public static Status ready(CoordinatorServer coordinator) {
    return coordinator.running() ? Status.ok("started") : Status.failing("stopping");
  }

  @Override
  public MetricSnapshots collect() {
    Families out = new Families();
    Standing standing = coordinator.standing();
    out.gauge(
        "craq_coordinator_up",
        "1 while the coordinator runs, 0 once it stops",
        coordinator.running() ? 1 : 0);
    out.gauge(
        "craq_coordinator_leader",
        "1 while this coordinator leads (always in the file mode), 0 while it stands by",
        standing.leading() ? 1 : 0);
    out.gauge(
        "craq_coordinator_acting",
        "1 while it leads with a running lease and answers members",
        standing.acting() ? 1 : 0);
    out.gauge(
        "craq_coordinator_frozen",
        "1 while it leads but cannot reach its configuration store (nothing changes)",
        standing.frozen() ? 1 : 0);
    out.counter(
        "craq_coordinator_requests_received",
        "Requests the coordinator's loop took (every kind)",
        coordinator.requestsReceived());
    out.counter(
        "craq_coordinator_heartbeats_received",
        "Heartbeats of chain members the coordinator's loop took",
        coordinator.heartbeatsReceived());
    out.gauge(
        "craq_coordinator_queue_depth",
        "Requests waiting for the coordinator's loop",
        coordinator.inboxDepth());
    map(out, coordinator.map());
    return out.build();
  }

  private static void map(Families out, ChainMap map) {
    out.gauge(
        "craq_coordinator_map_version",
        "Version of the chain map this coordinator stored or read last",
        map.version());
    out.gauge("craq_coordinator_chains", "Chains in the map", map.chainCount());
    Families.LabelledGauge epoch =
        out.labelledGauge("craq_coordinator_chain_epoch", "Epoch of each chain's configuration");
    Families.LabelledGauge members =
        out.labelledGauge("craq_coordinator_chain_members", "Members of each chain");
    Families.LabelledGauge catchingUp =
        out.labelledGauge(
            "craq_coordinator_chain_members_catching_up",
            "Members of each chain still copying its keys (joining, or a chain moved onto them)");
    long catchUps = 0;
    for (int chain = 0; chain < map.chainCount(); chain++) {
      ChainConfig config = map.chain(chain);
      String id = String.valueOf(chain);
      long behind = config.members().stream().filter(m -> !m.caughtUp()).count();
      catchUps += behind;
      epoch.series(config.epoch(), "chain", id);
      members.series(config.size(), "chain", id);
      catchingUp.series(behind, "chain", id);
    }
    epoch.add();
    members.add();
    catchingUp.add();
    out.gauge(
        "craq_coordinator_catch_ups_in_progress",
        "Members of any chain still catching up: joins and chain moves in progress",
        catchUps);
    out.gauge("craq_coordinator_pool_nodes", "Nodes in the pool", map.pool().size());
    out.gauge(
        "craq_coordinator_pool_nodes_leaving",
        "Nodes of the pool whose chains are being moved off them (craq leave)",
        map.pool().stream().filter(PoolNode::leaving).count());
    Families.LabelledGauge node =
        out.labelledGauge(
            "craq_coordinator_node_chains",
            "Chains each node of the pool is a member of, by node id");
    for (PoolNode poolNode : map.pool()) {
      long chains = 0;
      for (ChainConfig config : map.chains()) {
        for (Member m : config.members()) {
          if (m.id().equals(poolNode.id())) {
            chains++;
          }
        }
      }
      node.series(chains, "node_id", poolNode.id());
    }
    node.add();
  }
}

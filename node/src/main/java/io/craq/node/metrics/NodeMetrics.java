package io.craq.node.metrics;

import io.craq.core.message.Message;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.metrics.Families;
import io.craq.metrics.MetricsSecurity;
import io.craq.metrics.MetricsServer;
import io.craq.metrics.Status;
import io.craq.node.NodeServer;
import io.craq.node.NodeServer.ChainState;
import io.craq.node.NodeServer.Placement;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's metrics endpoint ({@code craq-node --metrics-listen}): the histograms of {@link
 * NodeInstruments}, and at every scrape the counters {@code craq stats} shows (asked of the node as
 * a client would, {@link NodeServer#request}), the queue depths, each chain's role, epoch and
 * membership as the loop last published them, and the JVM's metrics. The scrape thread never
 * touches the state machine. Every name is listed in docs/METRICS.md.
 */
public final class NodeMetrics implements MultiCollector {
  private static final Logger log = LoggerFactory.getLogger(NodeMetrics.class);

  /** How long a scrape waits for the node's counters before it goes on without them. */
  static final long STATS_TIMEOUT_MILLIS = 2_000;

  private static final String MICROS = "_micros";

  private final NodeServer node;

  private NodeMetrics(NodeServer node) {
    this.node = node;
  }

  /**
   * Serves {@code node}'s metrics, health and readiness on {@code address} until closed.
   *
   * @throws java.io.UncheckedIOException if the address cannot be bound
   */
  public static MetricsServer start(String address, NodeServer node) {
    return start(address, node, MetricsSecurity.NONE);
  }

  /**
   * As {@link #start(String, NodeServer)}, secured by {@code security} (HTTPS, users).
   *
   * @throws java.io.UncheckedIOException if the address cannot be bound
   * @throws IllegalArgumentException if the TLS files cannot be used
   */
  public static MetricsServer start(String address, NodeServer node, MetricsSecurity security) {
    PrometheusRegistry registry = MetricsServer.newRegistry();
    node.instruments().registerWith(registry);
    node.instruments().enable();
    registry.register(new NodeMetrics(node));
    return MetricsServer.start(address, registry, () -> health(node), () -> ready(node), security);
  }

  /**
   * {@code /health}: ok when the node can serve strong reads: it runs, and is a caught-up member of
   * at least one chain whose read lease it holds (as the node refuses strong reads without it).
   * Otherwise the reason.
   */
  public static Status health(NodeServer node) {
    Status stopped = stopped(node);
    if (stopped != null) {
      return stopped;
    }
    Placement placement = node.placement();
    List<String> serving = new ArrayList<>();
    List<String> catchingUp = new ArrayList<>();
    List<String> noLease = new ArrayList<>();
    for (ChainState chain : placement.chains()) {
      if (chain.member() && !chain.catchingUp() && chain.lease()) {
        serving.add(String.valueOf(chain.chain()));
      } else if (chain.member() && !chain.catchingUp()) {
        noLease.add(String.valueOf(chain.chain()));
      } else if (chain.member()) {
        catchingUp.add(String.valueOf(chain.chain()));
      }
    }
    if (serving.isEmpty()) {
      if (!noLease.isEmpty()) {
        return Status.failing(
            "no read lease on chain "
                + String.join(",", noLease)
                + ": the coordinator has not answered its heartbeats in time, strong reads are"
                + " refused");
      }
      if (!catchingUp.isEmpty()) {
        return Status.failing("catching up on chain " + String.join(",", catchingUp));
      }
      if (!placement.inPool()) {
        return Status.failing(
            placement.mapVersion() == 0
                ? "not placed: no chain map from the coordinator yet (is it reachable?)"
                : "not placed: the coordinator's map does not list this node");
      }
      return Status.failing("a member of no chain (the coordinator placed it in none)");
    }
    String full = node.storeFullReason();
    return Status.ok(
        "member of chain "
            + String.join(",", serving)
            + (full == null ? "" : "; the store is full, writes are refused: " + full));
  }

  /** {@code /ready}: ok once the node runs and the coordinator's map lists it in the pool. */
  public static Status ready(NodeServer node) {
    Status stopped = stopped(node);
    if (stopped != null) {
      return stopped;
    }
    Placement placement = node.placement();
    if (!placement.inPool()) {
      return Status.failing(
          placement.mapVersion() == 0
              ? "starting: no chain map from the coordinator yet"
              : "starting: the coordinator's map does not list this node yet");
    }
    return Status.ok("in the pool of map version " + placement.mapVersion());
  }

  private static Status stopped(NodeServer node) {
    if (node.running()) {
      return null;
    }
    Throwable failure = node.failure();
    return Status.failing(failure == null ? "stopping" : "stopped: " + failure);
  }

  @Override
  public MetricSnapshots collect() {
    Families out = new Families();
    out.gauge(
        "craq_node_up",
        "1 while the node runs, 0 once it stops (closed, or a store failure)",
        node.running() ? 1 : 0);
    out.labelledGauge("craq_node_info", "Always 1; the node's id and public address as labels")
        .series(1, "node_id", node.nodeId(), "address", node.publicAddress())
        .add();
    out.labelledGauge(
            "craq_node_queue_depth",
            "Inputs waiting in the node's queues: inbox (writes and chain messages, for the loop"
                + " thread) and read_inbox (reads and other read-only requests)")
        .series(node.inboxDepth(), "queue", "inbox")
        .series(node.readInboxDepth(), "queue", "read_inbox")
        .add();
    out.gauge(
        "craq_node_store_full",
        "1 while the store is full and writes are refused (reads go on)",
        node.storeFullReason() == null ? 0 : 1);
    placement(out, node.placement());
    counters(out);
    return out.build();
  }

  private static void placement(Families out, Placement placement) {
    out.gauge(
        "craq_node_map_version",
        "Version of the chain map this node knows (0: none yet)",
        placement.mapVersion());
    out.gauge(
        "craq_node_in_pool",
        "1 when the coordinator's map lists this node in its pool",
        placement.inPool() ? 1 : 0);
    Families.LabelledGauge epoch =
        out.labelledGauge(
            "craq_node_chain_epoch", "Epoch of each chain's configuration this node holds");
    Families.LabelledGauge role =
        out.labelledGauge(
            "craq_node_chain_role",
            "Always 1, one series per chain this node has a machine for; the role label is"
                + " head, middle, tail, head+tail, catching-up or outside");
    Families.LabelledGauge member =
        out.labelledGauge("craq_node_chain_member", "1 when this node is a member of the chain");
    Families.LabelledGauge catchingUp =
        out.labelledGauge(
            "craq_node_chain_catching_up",
            "1 while this node copies the chain's keys before it serves them");
    for (ChainState chain : placement.chains()) {
      String id = String.valueOf(chain.chain());
      epoch.series(chain.epoch(), "chain", id);
      role.series(1, "chain", id, "role", chain.role());
      member.series(chain.member() ? 1 : 0, "chain", id);
      catchingUp.series(chain.catchingUp() ? 1 : 0, "chain", id);
    }
    epoch.add();
    role.add();
    member.add();
    catchingUp.add();
    out.gauge(
        "craq_node_chains_serving",
        "Chains this node is a caught-up member of",
        placement.chains().stream().filter(c -> c.member() && !c.catchingUp()).count());
  }

  /**
   * The counters of {@code craq stats}, each as {@code craq_node_NAME_total}; those counted in
   * microseconds as {@code craq_node_NAME_seconds_total} (base units). Names the node adds later
   * appear the same way.
   */
  private void counters(Families out) {
    StatsReply stats = stats();
    if (stats == null) {
      return;
    }
    for (Map.Entry<String, Long> counter : stats.counters().entrySet()) {
      String name = counter.getKey();
      if (name.endsWith(MICROS)) {
        out.counter(
            "craq_node_" + name.substring(0, name.length() - MICROS.length()) + "_seconds",
            "The node counter " + name + " in seconds (see craq stats)",
            counter.getValue() / 1e6);
      } else {
        out.counter(
            "craq_node_" + name,
            "The node counter " + name + " (see craq stats)",
            counter.getValue());
      }
    }
  }

  private StatsReply stats() {
    if (!node.running()) {
      return null;
    }
    try {
      Message reply =
          node.request(new StatsRequest()).get(STATS_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      if (reply instanceof StatsReply stats) {
        return stats;
      }
      log.debug("scrape without the node's counters: {}", reply);
    } catch (TimeoutException e) {
      log.debug("scrape without the node's counters: no answer in {} ms", STATS_TIMEOUT_MILLIS);
    } catch (ExecutionException e) {
      log.debug("scrape without the node's counters: {}", e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return null;
  }
}

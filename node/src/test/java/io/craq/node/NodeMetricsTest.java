package io.craq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.coordinator.metrics.CoordinatorMetrics;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.metrics.MetricsServer;
import io.craq.metrics.Scrape;
import io.craq.node.metrics.NodeMetrics;
import io.craq.store.MemoryStorer;
import io.craq.transport.TcpTransport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics endpoints of a real node and coordinator over HTTP: the exposition checked by
 * promtool, the families documented in docs/METRICS.md, counters and histograms that move with a
 * write, /health and /ready, and the Grafana dashboard's queries against a real scrape.
 */
class NodeMetricsTest {
  static final Path DASHBOARD = Path.of("..", "docs", "grafana", "craq-dashboard.json");

  /** Families a placed node must expose (each documented in docs/METRICS.md). */
  static final List<String> NODE_FAMILIES =
      List.of(
          "craq_node_up",
          "craq_node_info",
          "craq_node_queue_depth",
          "craq_node_store_full",
          "craq_node_map_version",
          "craq_node_in_pool",
          "craq_node_chain_epoch",
          "craq_node_chain_role",
          "craq_node_chain_member",
          "craq_node_chain_catching_up",
          "craq_node_chains_serving",
          "craq_node_reads_clean_total",
          "craq_node_reads_after_query_total",
          "craq_node_writes_accepted_total",
          "craq_node_versions_committed_total",
          "craq_node_store_transactions_total",
          "craq_node_store_apply_seconds_total",
          "craq_node_log_forces_total",
          "craq_node_log_force_seconds_total",
          "craq_node_request_duration_seconds",
          "craq_node_store_apply_duration_seconds",
          "craq_node_store_apply_ops",
          "craq_node_log_force_duration_seconds",
          "craq_node_round_inputs",
          "jvm_memory_used_bytes",
          "jvm_gc_collection_seconds");

  static final List<String> COORDINATOR_FAMILIES =
      List.of(
          "craq_coordinator_up",
          "craq_coordinator_leader",
          "craq_coordinator_acting",
          "craq_coordinator_frozen",
          "craq_coordinator_requests_received_total",
          "craq_coordinator_heartbeats_received_total",
          "craq_coordinator_queue_depth",
          "craq_coordinator_map_version",
          "craq_coordinator_chains",
          "craq_coordinator_chain_epoch",
          "craq_coordinator_chain_members",
          "craq_coordinator_chain_members_catching_up",
          "craq_coordinator_catch_ups_in_progress",
          "craq_coordinator_pool_nodes",
          "craq_coordinator_pool_nodes_leaving",
          "craq_coordinator_node_chains",
          "jvm_memory_used_bytes");

  @TempDir Path dir;

  @Test
  @DisplayName(
      "A placed node and its coordinator: promtool accepts both scrapes, every family is there, a"
          + " write moves the counters and histograms, /health and /ready are 200, and every"
          + " metric the Grafana dashboard queries exists")
  void placedNode() throws Exception {
    try (TestCluster cluster = new TestCluster(dir)) {
      NodeServer node = cluster.startMemoryNode("n1");
      try (MetricsServer metrics = NodeMetrics.start("127.0.0.1:0", node);
          MetricsServer coordinatorMetrics =
              CoordinatorMetrics.start("127.0.0.1:0", cluster.coordinator)) {
        cluster.awaitChain(1);
        await()
            .atMost(TestCluster.WAIT)
            .until(() -> Scrape.get(metrics.url() + "/health").statusCode() == 200);
        Scrape.Response health = Scrape.get(metrics.url() + "/health");
        assertEquals("ok: member of chain 0\n", health.body());
        Scrape.Response ready = Scrape.get(metrics.url() + "/ready");
        assertEquals(200, ready.statusCode(), ready.body());

        Scrape before = Scrape.of(metrics.url());
        assertFamilies(before, NODE_FAMILIES);
        assertEquals(1, before.value("craq_node_chain_role{chain=\"0\",role=\"head+tail\"}"));
        assertEquals(1, before.value("craq_node_chain_member{chain=\"0\"}"));
        assertTrue(before.value("craq_node_chain_epoch{chain=\"0\"}") > 0, before.text);
        assertTrue(before.value("craq_node_map_version") > 0);
        assertEquals(1, before.value("craq_node_in_pool"));
        assertEquals(1, before.value("craq_node_chains_serving"));

        Message written =
            cluster.request(
                node.publicAddress(),
                new WriteRequest(
                    "metrics-key",
                    "v".getBytes(StandardCharsets.UTF_8),
                    false,
                    Message.ANY_VERSION));
        assertInstanceOf(WriteReply.class, written);
        assertInstanceOf(
            ReadReply.class,
            cluster.request(
                node.publicAddress(), new ReadRequest("metrics-key", ReadMode.STRONG, 0)));

        Scrape after = Scrape.of(metrics.url());
        after.checkWithPromtool();
        assertEquals(
            before.value("craq_node_writes_accepted_total") + 1,
            after.value("craq_node_writes_accepted_total"));
        String writes = "craq_node_request_duration_seconds_count{operation=\"write\"}";
        assertEquals(Math.max(0, before.value(writes)) + 1, after.value(writes), after.text);
        String reads = "craq_node_request_duration_seconds_count{operation=\"read\"}";
        assertTrue(after.value(reads) > before.value(reads), after.text);
        assertTrue(
            after.value("craq_node_request_duration_seconds_sum{operation=\"write\"}") > 0,
            after.text);
        String stored = "craq_node_store_apply_ops_count";
        assertTrue(after.value(stored) > before.value(stored), after.text);
        assertTrue(
            after.value("craq_node_store_transactions_total")
                > before.value("craq_node_store_transactions_total"));
        assertTrue(
            after.value("craq_node_request_duration_seconds_count{operation=\"stats\"}") >= 1,
            "the scrape asks the node's counters as a client would");

        await()
            .atMost(TestCluster.WAIT)
            .until(() ->
                Scrape.of(coordinatorMetrics.url())
                        .value("craq_coordinator_heartbeats_received_total")
                    > 0);
        Scrape coordinator = Scrape.of(coordinatorMetrics.url());
        coordinator.checkWithPromtool();
        assertFamilies(coordinator, COORDINATOR_FAMILIES);
        assertEquals(1, coordinator.value("craq_coordinator_leader"));
        assertEquals(1, coordinator.value("craq_coordinator_chain_members{chain=\"0\"}"));
        assertEquals(1, coordinator.value("craq_coordinator_pool_nodes"));
        assertEquals(1, coordinator.value("craq_coordinator_node_chains{node_id=\"n1\"}"));
        Scrape.Response coordinatorHealth = Scrape.get(coordinatorMetrics.url() + "/health");
        assertEquals(200, coordinatorHealth.statusCode());
        assertEquals("ok: leader\n", coordinatorHealth.body());
        assertEquals(200, Scrape.get(coordinatorMetrics.url() + "/ready").statusCode());

        assertDashboardQueriesExist(after, coordinator);

        cluster.coordinator.close();
        Scrape.Response stopped = Scrape.get(coordinatorMetrics.url() + "/health");
        assertEquals(503, stopped.statusCode());
        assertEquals("stopping\n", stopped.body());
        assertEquals(0, Scrape.of(coordinatorMetrics.url()).value("craq_coordinator_up"));

        // Without its coordinator the node's read lease runs out: it refuses strong reads, and
        // says so.
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> Scrape.get(metrics.url() + "/health").statusCode() == 503);
        Scrape.Response noLease = Scrape.get(metrics.url() + "/health");
        assertTrue(noLease.body().startsWith("no read lease on chain 0: "), noLease.body());
      }
    }
  }

  @Test
  @DisplayName(
      "A node whose coordinator cannot be reached is not placed: /health and /ready are 503 with"
          + " the reason, /metrics still answers; once closed, /health says it is stopping")
  void unplacedNode() throws Exception {
    NodeServer node =
        NodeServer.start(
            NodeServerSettings.defaults("127.0.0.1:0", "127.0.0.1:1"),
            new MemoryStorer(),
            new TcpTransport());
    try (MetricsServer metrics = NodeMetrics.start("127.0.0.1:0", node)) {
      Scrape.Response health = Scrape.get(metrics.url() + "/health");
      assertEquals(503, health.statusCode());
      assertTrue(health.body().startsWith("not placed: "), health.body());
      Scrape.Response ready = Scrape.get(metrics.url() + "/ready");
      assertEquals(503, ready.statusCode());
      assertTrue(ready.body().startsWith("starting: "), ready.body());
      Scrape scrape = Scrape.of(metrics.url());
      assertEquals(0, scrape.value("craq_node_in_pool"));
      assertEquals(0, scrape.value("craq_node_chains_serving"));
      assertTrue(scrape.value("craq_node_reads_clean_total") >= 0, scrape.text);

      node.close();
      Scrape.Response stopped = Scrape.get(metrics.url() + "/health");
      assertEquals(503, stopped.statusCode());
      assertEquals("stopping\n", stopped.body());
      assertEquals(0, Scrape.of(metrics.url()).value("craq_node_up"));
    } finally {
      node.close();
    }
  }

  @Test
  @DisplayName(
      "craq-node --metrics-listen: a malformed address is a usage error (exit 2), a port in use"
          + " exit 1")
  void commandLine() throws Exception {
    StringWriter err = new StringWriter();
    assertEquals(
        2,
        NodeMain.run(
            new String[] {"--store", "memory", "--metrics-listen", "no-port"},
            new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true)));
    assertTrue(
        err.toString().startsWith("craq-node: --metrics-listen: address 'no-port' has no port"),
        err.toString());
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertEquals(
          1,
          NodeMain.run(
              new String[] {
                "--store",
                "memory",
                "-a",
                "127.0.0.1:0",
                "-c",
                "127.0.0.1:1",
                "--metrics-listen",
                "127.0.0.1:" + taken.getLocalPort()
              },
              new PrintWriter(new StringWriter(), true),
              new PrintWriter(new StringWriter(), true)));
    }
  }

  @Test
  @DisplayName("The Grafana dashboard is well-formed JSON with a Prometheus datasource input")
  void dashboardIsValidJson() throws Exception {
    String json = Files.readString(DASHBOARD);
    JsonCheck.check(json);
    assertTrue(json.contains("\"${DS_PROMETHEUS}\""), "panels use the datasource input");
    assertTrue(json.contains("\"name\": \"DS_PROMETHEUS\""), "the input is declared");
  }

  private static void assertFamilies(Scrape scrape, List<String> families) {
    for (String family : families) {
      assertTrue(scrape.types.containsKey(family), family + " missing:\n" + scrape.text);
    }
  }

  /** Every metric name the dashboard mentions is served by a node or the coordinator. */
  private static void assertDashboardQueriesExist(Scrape node, Scrape coordinator)
      throws Exception {
    String json = Files.readString(DASHBOARD);
    Matcher matcher = Pattern.compile("\\b(?:craq|jvm|process)_[a-z0-9_]+").matcher(json);
    Set<String> missing = new TreeSet<>();
    int found = 0;
    while (matcher.find()) {
      found++;
      String name = matcher.group();
      if (!node.names.contains(name) && !coordinator.names.contains(name)) {
        missing.add(name);
      }
    }
    assertTrue(found > 20, "the dashboard queries " + found + " metric names");
    assertTrue(missing.isEmpty(), "the dashboard queries metrics nobody serves: " + missing);
  }
}

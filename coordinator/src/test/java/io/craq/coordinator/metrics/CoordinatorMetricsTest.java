package io.craq.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.coordinator.CoordinatorServer;
import io.craq.coordinator.CoordinatorServerSettings;
import io.craq.metrics.MetricsServer;
import io.craq.metrics.Scrape;
import io.craq.transport.TcpTransport;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator's metrics endpoint on its own (a node and its coordinator together: the node
 * module's NodeMetricsTest).
 */
class CoordinatorMetricsTest {
  @TempDir Path dir;

  @Test
  @DisplayName(
      "A coordinator of a new 3-chain cluster: promtool accepts the scrape, it leads, the map has"
          + " 3 empty chains and no pool; /health 200 leader, /ready 200; once closed both 503"
          + " stopping")
  void fileModeCoordinator() throws Exception {
    CoordinatorServer coordinator =
        CoordinatorServer.start(
            CoordinatorServerSettings.defaults("127.0.0.1:0", dir).withChains(3, 3),
            new TcpTransport());
    try (MetricsServer metrics = CoordinatorMetrics.start("127.0.0.1:0", coordinator)) {
      Scrape scrape = Scrape.of(metrics.url());
      scrape.checkWithPromtool();
      assertEquals(1, scrape.value("craq_coordinator_up"));
      assertEquals(1, scrape.value("craq_coordinator_leader"));
      assertEquals(1, scrape.value("craq_coordinator_acting"));
      assertEquals(0, scrape.value("craq_coordinator_frozen"));
      assertEquals(3, scrape.value("craq_coordinator_chains"));
      for (int chain = 0; chain < 3; chain++) {
        assertEquals(0, scrape.value("craq_coordinator_chain_members{chain=\"" + chain + "\"}"));
      }
      assertEquals(0, scrape.value("craq_coordinator_pool_nodes"));
      assertEquals(0, scrape.value("craq_coordinator_catch_ups_in_progress"));
      assertEquals("counter", scrape.types.get("craq_coordinator_heartbeats_received_total"));
      assertTrue(scrape.names.contains("jvm_memory_used_bytes"));

      Scrape.Response health = Scrape.get(metrics.url() + "/health");
      assertEquals(200, health.statusCode());
      assertEquals("ok: leader\n", health.body());
      assertEquals(200, Scrape.get(metrics.url() + "/ready").statusCode());

      coordinator.close();
      for (String probe : new String[] {"/health", "/ready"}) {
        Scrape.Response stopped = Scrape.get(metrics.url() + probe);
        assertEquals(503, stopped.statusCode(), probe);
        assertEquals("stopping\n", stopped.body(), probe);
      }
    } finally {
      coordinator.close();
    }
  }
}

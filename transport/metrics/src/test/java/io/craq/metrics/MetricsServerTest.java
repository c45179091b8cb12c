package io.craq.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
  @Test
  @DisplayName(
      "/metrics serves the registry (JVM metrics included) in a format promtool accepts; /health"
          + " and /ready answer 200 ok or 503 with the reason; other paths 404")
  void servesThreePaths() throws Exception {
    PrometheusRegistry registry = MetricsServer.newRegistry();
    registry.register(
        () -> new Families().gauge("craq_test_answer", "A constant for the test", 42).build());
    AtomicReference<Status> health = new AtomicReference<>(Status.ok(""));
    AtomicReference<Status> ready = new AtomicReference<>(Status.failing("starting: not yet"));
    try (MetricsServer server =
        MetricsServer.start("127.0.0.1:0", registry, health::get, ready::get)) {
      assertTrue(server.port() > 0);
      Scrape scrape = Scrape.of(server.url());
      assertEquals(42, scrape.value("craq_test_answer"));
      assertEquals("gauge", scrape.types.get("craq_test_answer"));
      assertTrue(scrape.names.contains("jvm_memory_used_bytes"), scrape.names.toString());
      scrape.checkWithPromtool();

      Scrape.Response ok = Scrape.get(server.url() + "/health");
      assertEquals(200, ok.statusCode());
      assertEquals("ok\n", ok.body());
      Scrape.Response notReady = Scrape.get(server.url() + "/ready");
      assertEquals(503, notReady.statusCode());
      assertEquals("starting: not yet\n", notReady.body());

      health.set(Status.failing("the disk is on fire"));
      ready.set(Status.ok("started"));
      assertEquals(503, Scrape.get(server.url() + "/health").statusCode());
      assertEquals("the disk is on fire\n", Scrape.get(server.url() + "/health").body());
      assertEquals("ok: started\n", Scrape.get(server.url() + "/ready").body());
      assertEquals(404, Scrape.get(server.url() + "/nothing").statusCode());
      assertEquals(404, Scrape.get(server.url() + "/healthz").statusCode());
    }
  }

  @Test
  @DisplayName("A port in use is one clear exception naming the address")
  void portInUse() {
    try (MetricsServer first =
        MetricsServer.start(
            "127.0.0.1:0", new PrometheusRegistry(), () -> Status.ok(""), () -> Status.ok(""))) {
      String address = "127.0.0.1:" + first.port();
      UncheckedIOException e =
          assertThrows(
              UncheckedIOException.class,
              () ->
                  MetricsServer.start(
                      address, new PrometheusRegistry(), () -> Status.ok(""), () -> Status.ok("")));
      assertTrue(e.getMessage().contains(address), e.getMessage());
    }
  }
}

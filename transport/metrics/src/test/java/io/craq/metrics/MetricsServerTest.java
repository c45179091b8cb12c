package io.craq.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Role;
import io.craq.transport.security.UsersFile;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  @DisplayName(
      "with users over plain HTTP: /metrics needs a user's Basic credentials (401 and"
          + " WWW-Authenticate otherwise); the probes stay open")
  void usersOverPlainHttp(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("users");
    UsersFile.write(
        file,
        List.of(
            new UsersFile.User(
                "scraper",
                Role.READ,
                PasswordHashes.hash("pw".getBytes(StandardCharsets.UTF_8), 1_000))));
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(
        () -> new Families().gauge("craq_test_answer", "A constant for the test", 42).build());
    try (MetricsServer server =
        MetricsServer.start(
            "127.0.0.1:0",
            registry,
            () -> Status.ok(""),
            () -> Status.ok(""),
            new MetricsSecurity(null, UsersFile.open(file)))) {
      assertTrue(server.url().startsWith("http://"), server.url());
      HttpURLConnection anonymous =
          (HttpURLConnection) URI.create(server.url() + "/metrics").toURL().openConnection();
      assertEquals(401, anonymous.getResponseCode());
      assertTrue(
          String.valueOf(anonymous.getHeaderField("WWW-Authenticate")).startsWith("Basic realm="));
      anonymous.disconnect();
      HttpURLConnection scraper =
          (HttpURLConnection) URI.create(server.url() + "/metrics").toURL().openConnection();
      scraper.setRequestProperty(
          "Authorization",
          "Basic "
              + Base64.getEncoder().encodeToString("scraper:pw".getBytes(StandardCharsets.UTF_8)));
      assertEquals(200, scraper.getResponseCode());
      try (InputStream in = scraper.getInputStream()) {
        assertTrue(
            new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("craq_test_answer 42"));
      }
      scraper.disconnect();
      assertEquals(200, Scrape.get(server.url() + "/health").statusCode());
      assertEquals(200, Scrape.get(server.url() + "/ready").statusCode());
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

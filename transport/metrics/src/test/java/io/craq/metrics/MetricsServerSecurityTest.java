package io.craq.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.transport.security.CertificateTool;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Pem;
import io.craq.transport.security.Role;
import io.craq.transport.security.TlsSettings;
import io.craq.transport.security.UsersFile;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics port secured: HTTPS with the process's certificate (reloaded when it changes), and
 * {@code /metrics} for users only (HTTP Basic or a client certificate); the probes stay open.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsServerSecurityTest {
  private static final String PASSWORD = "scrape-secret-do-not-print";

  @TempDir static Path dir;

  private CertificateTool.Ca cluster;
  private CertificateTool.Issued server;
  private CertificateTool.Issued scraper;
  private MetricsServer metrics;

  @BeforeAll
  void start() throws Exception {
    Instant from = Instant.now().minus(Duration.ofHours(1));
    Instant to = from.plus(Duration.ofDays(2));
    cluster = CertificateTool.newCa(dir, "cluster-ca");
    CertificateTool.Ca clients = CertificateTool.newCa(dir, "client-ca");
    server = cluster.issue(dir, "n1", List.of("127.0.0.1", "localhost"), from, to);
    scraper = clients.issue(dir, "prometheus", List.of(), from, to);
    Path users = dir.resolve("users");
    UsersFile.write(
        users,
        List.of(
            new UsersFile.User(
                "prometheus",
                Role.READ,
                PasswordHashes.hash(PASSWORD.getBytes(StandardCharsets.UTF_8), 1_000))));
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(
        () -> new Families().gauge("craq_test_answer", "A constant for the test", 42).build());
    metrics =
        MetricsServer.start(
            "127.0.0.1:0",
            registry,
            () -> Status.ok("fine"),
            () -> Status.failing("starting: not yet"),
            new MetricsSecurity(
                new TlsSettings(
                    server.certificate(),
                    server.privateKey(),
                    cluster.certificate(),
                    clients.certificate()),
                UsersFile.open(users)));
  }

  @AfterAll
  void stop() {
    if (metrics != null) {
      metrics.close();
    }
  }

  private record Answer(int code, String challenge, String body) {}

  /** A GET over TLS 1.3 trusting the cluster CA, presenting {@code certificate} if not null. */
  private Answer get(String path, String authorization, CertificateTool.Issued certificate)
      throws Exception {
    HttpsURLConnection connection =
        (HttpsURLConnection) URI.create(metrics.url() + path).toURL().openConnection();
    connection.setSSLSocketFactory(context(certificate).getSocketFactory());
    connection.setConnectTimeout(5_000);
    connection.setReadTimeout(10_000);
    if (authorization != null) {
      connection.setRequestProperty("Authorization", authorization);
    }
    try {
      int code = connection.getResponseCode();
      InputStream stream = code < 400 ? connection.getInputStream() : connection.getErrorStream();
      String body;
      try (InputStream in = stream) {
        body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      return new Answer(code, connection.getHeaderField("WWW-Authenticate"), body);
    } finally {
      connection.disconnect();
    }
  }

  private SSLContext context(CertificateTool.Issued certificate) throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", Pem.readCertificates(cluster.certificate()).get(0));
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    KeyManagerFactory keys = null;
    if (certificate != null) {
      char[] password = "test".toCharArray();
      KeyStore own = KeyStore.getInstance("PKCS12");
      own.load(null, null);
      own.setKeyEntry(
          "me",
          Pem.readPrivateKey(certificate.privateKey()),
          password,
          Pem.readCertificates(certificate.certificate()).toArray(new Certificate[0]));
      keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(own, password);
    }
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
    return context;
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName(
      "HTTPS: a user's Basic credentials read /metrics; none or a wrong password is 401 with"
          + " WWW-Authenticate; /health and /ready answer anyone")
  void basicCredentials() throws Exception {
    assertTrue(metrics.url().startsWith("https://"), metrics.url());
    Answer scrape = get("/metrics", basic("prometheus", PASSWORD), null);
    assertEquals(200, scrape.code(), scrape.body());
    assertTrue(scrape.body().contains("craq_test_answer 42"), scrape.body());

    Answer anonymous = get("/metrics", null, null);
    assertEquals(401, anonymous.code());
    String challenge = String.valueOf(anonymous.challenge());
    assertTrue(challenge.contains("Basic realm="), challenge);
    assertFalse(anonymous.body().contains("craq_test_answer"));

    assertEquals(401, get("/metrics", basic("prometheus", "wrong"), null).code());
    assertEquals(401, get("/metrics", basic("nobody", PASSWORD), null).code());
    assertEquals(401, get("/metrics", "Basic not-base64!", null).code());

    Answer health = get("/health", null, null);
    assertEquals(200, health.code());
    assertEquals("ok: fine\n", health.body());
    Answer ready = get("/ready", null, null);
    assertEquals(503, ready.code());
    assertEquals("starting: not yet\n", ready.body());
  }

  @Test
  @DisplayName(
      "a client certificate of the client CA naming a user, or a member's, reads /metrics"
          + " without a password")
  void clientCertificates() throws Exception {
    Answer byClientCa = get("/metrics", null, scraper);
    assertEquals(200, byClientCa.code(), byClientCa.body());
    assertTrue(byClientCa.body().contains("craq_test_answer 42"));
    Answer byMember = get("/metrics", null, server);
    assertEquals(200, byMember.code(), byMember.body());
  }

  @Test
  @DisplayName("plain HTTP to the HTTPS port fails on the client; the server serves on")
  void plainHttpFails() throws Exception {
    String plain = metrics.url().replace("https://", "http://");
    assertThrows(IOException.class, () -> Scrape.get(plain + "/health"));
    assertEquals(200, get("/health", null, null).code());
    assertEquals(200, get("/metrics", basic("prometheus", PASSWORD), null).code());
  }

  @Test
  @DisplayName("a new certificate and key replacing the files are served without a restart")
  void certificateRotation() throws Exception {
    X509Certificate before = served();
    Path fresh = Files.createDirectories(dir.resolve("fresh"));
    Instant from = Instant.now().minus(Duration.ofHours(1));
    CertificateTool.Issued next =
        cluster.issue(fresh, "n1", List.of("127.0.0.1"), from, from.plus(Duration.ofDays(3)));
    X509Certificate expected = Pem.readCertificates(next.certificate()).get(0);
    assertNotEquals(before.getSerialNumber(), expected.getSerialNumber());
    Files.move(
        next.privateKey(),
        server.privateKey(),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    Files.move(
        next.certificate(),
        server.certificate(),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!served().getSerialNumber().equals(expected.getSerialNumber())) {
      assertTrue(System.nanoTime() < deadline, "the new certificate was never served");
      Thread.sleep(100); // polling for a condition: the files are looked at once a second
    }
    assertEquals(200, get("/metrics", basic("prometheus", PASSWORD), null).code());
  }

  /** The certificate the server presents to a new connection. */
  private X509Certificate served() throws Exception {
    HttpsURLConnection connection =
        (HttpsURLConnection) URI.create(metrics.url() + "/health").toURL().openConnection();
    connection.setSSLSocketFactory(context(null).getSocketFactory());
    // A new TLS session each time, so that the handshake shows the current certificate.
    connection.setRequestProperty("Connection", "close");
    try {
      connection.getResponseCode();
      return (X509Certificate) connection.getServerCertificates()[0];
    } finally {
      connection.disconnect();
    }
  }
}

package io.craq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.node.redis.RedisServer;
import io.craq.node.redis.RedisTls;
import io.craq.transport.security.CertificateTool;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Pem;
import io.craq.transport.security.Role;
import io.craq.transport.security.Security;
import io.craq.transport.security.TlsSettings;
import io.craq.transport.security.UsersFile;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * TLS on the Redis port: a Redis client that trusts the cluster CA reads and writes after AUTH, a
 * client certificate of the client CA authenticates as the user its CN names, and a plaintext
 * client is closed while the port keeps serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisPortTlsTest {
  @TempDir static Path dir;

  private TestCluster cluster;
  private RedisServer port;
  private Path clusterCa;
  private CertificateTool.Issued writerCertificate;
  private CertificateTool.Ca clusterAuthority;
  private CertificateTool.Issued nodeCertificate;

  @BeforeAll
  void start() throws Exception {
    Instant from = Instant.now().minus(Duration.ofHours(1));
    Instant to = from.plus(Duration.ofDays(2));
    CertificateTool.Ca cluster = CertificateTool.newCa(dir, "cluster-ca");
    CertificateTool.Ca clients = CertificateTool.newCa(dir, "client-ca");
    CertificateTool.Issued node = cluster.issue(dir, "n1", List.of("127.0.0.1"), from, to);
    writerCertificate = clients.issue(dir, "writer", List.of(), from, to);
    clusterAuthority = cluster;
    nodeCertificate = node;
    clusterCa = cluster.certificate();
    Path users = dir.resolve("users");
    UsersFile.write(
        users,
        List.of(
            new UsersFile.User(
                "writer",
                Role.READ_WRITE,
                PasswordHashes.hash("writer-secret".getBytes(StandardCharsets.UTF_8), 1_000))));
    this.cluster = new TestCluster(dir.resolve("coordinator"));
    NodeServer server = this.cluster.startMemoryNode("n1");
    this.cluster.awaitChain(1);
    TlsSettings tls =
        new TlsSettings(node.certificate(), node.privateKey(), clusterCa, clients.certificate());
    port =
        RedisServer.start(
            "127.0.0.1:0",
            server,
            List.of(this.cluster.coordinator.listenAddress()),
            Limits.VALUE_BYTES_MAX_DEFAULT,
            Security.NONE.withAuthenticator(UsersFile.open(users)),
            RedisTls.reloading(tls));
  }

  @AfterAll
  void stop() {
    if (port != null) {
      port.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** TLS 1.3 trusting the cluster CA, presenting {@code certificate} if not null. */
  private SSLSocketFactory tlsClient(CertificateTool.Issued certificate) throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", Pem.readCertificates(clusterCa).get(0));
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    KeyManagerFactory keys = null;
    if (certificate != null) {
      KeyStore own = KeyStore.getInstance("PKCS12");
      own.load(null, null);
      char[] password = "test".toCharArray();
      own.setKeyEntry(
          "me",
          Pem.readPrivateKey(certificate.privateKey()),
          password,
          Pem.readCertificates(certificate.certificate()).toArray(new X509Certificate[0]));
      keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(own, password);
    }
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
    return context.getSocketFactory();
  }

  private Jedis overTls(CertificateTool.Issued certificate) throws Exception {
    return new Jedis(
        new HostAndPort("127.0.0.1", port.port()),
        DefaultJedisClientConfig.builder()
            .ssl(true)
            .sslSocketFactory(tlsClient(certificate))
            .build());
  }

  @Test
  @DisplayName("over TLS, AUTH then reads and writes")
  void readsAndWritesOverTls() throws Exception {
    try (Jedis jedis = overTls(null)) {
      JedisDataException e = assertThrows(JedisDataException.class, () -> jedis.get("t:k"));
      assertEquals("NOAUTH Authentication required.", e.getMessage());
      assertEquals("OK", jedis.auth("writer", "writer-secret"));
      assertEquals("OK", jedis.set("t:k", "over-tls"));
      assertEquals("over-tls", jedis.get("t:k"));
    }
  }

  @Test
  @DisplayName("a client certificate of the client CA is the user its CN names: no AUTH needed")
  void clientCertificateAuthenticates() throws Exception {
    try (Jedis jedis = overTls(writerCertificate)) {
      assertEquals("OK", jedis.set("t:cert", "by-certificate"));
      assertEquals("by-certificate", jedis.get("t:cert"));
    }
  }

  /** The subject of the certificate a new TLS connection to the port is shown. */
  private String servedSubject() throws Exception {
    try (SSLSocket socket = (SSLSocket) tlsClient(null).createSocket("127.0.0.1", port.port())) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      return served.getSubjectX500Principal().getName();
    }
  }

  @Test
  @DisplayName("new certificate files are served to new connections without a restart")
  void certificatesRotate() throws Exception {
    assertTrue(servedSubject().contains("CN=n1"), servedSubject());
    Instant from = Instant.now().minus(Duration.ofHours(1));
    Path next = dir.resolve("next");
    CertificateTool.Issued rotated =
        clusterAuthority.issue(
            next, "n1-rotated", List.of("127.0.0.1"), from, from.plus(Duration.ofDays(2)));
    Files.copy(
        rotated.privateKey(), nodeCertificate.privateKey(), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(
        rotated.certificate(), nodeCertificate.certificate(), StandardCopyOption.REPLACE_EXISTING);
    await().atMost(Duration.ofSeconds(20)).until(() -> servedSubject().contains("CN=n1-rotated"));
    try (Jedis jedis = overTls(writerCertificate)) {
      assertEquals("PONG", jedis.ping());
    }
  }

  @Test
  @DisplayName("a plaintext client on the TLS port is closed; the port keeps serving")
  void plaintextClientIsClosed() throws Exception {
    try (Socket plain = new Socket("127.0.0.1", port.port())) {
      plain.setSoTimeout(10_000);
      OutputStream out = plain.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = plain.getInputStream();
      boolean closed;
      try {
        byte[] buffer = new byte[256];
        int n;
        do {
          n = in.read(buffer);
          assertTrue(
              n <= 0 || !new String(buffer, 0, n, StandardCharsets.US_ASCII).contains("PONG"));
        } while (n > 0);
        closed = n < 0;
      } catch (SocketException e) {
        closed = true; // reset: closed as well
      }
      assertTrue(closed, "the plaintext connection was closed");
    }
    try (Jedis jedis = overTls(writerCertificate)) {
      assertEquals("PONG", jedis.ping());
    }
  }
}

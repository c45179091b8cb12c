package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.craq.core.message.Message;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.Role;
import io.craq.transport.security.Security;
import io.craq.transport.security.TlsSettings;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may connect to a TLS port and who the connection then is: members, client-CA users, clients
 * without a certificate, certificates of another CA or out of their validity window, plaintext
 * clients, and certificate rotation.
 */
class TlsHandshakeTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Message PING = new Message.WriteReply("ping", 1);

  private final TestPki pki = TestPki.get();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final BlockingQueue<LinkSession> sessions = new LinkedBlockingQueue<>();
  private Server server;

  /** Echoes requests and records the session of each. */
  private final Handler recording =
      (m, responder) -> {
        sessions.add(responder.session());
        if (responder.expectsReply()) {
          responder.reply(m);
        }
      };

  private Transport open(TlsSettings tls) {
    return open(TransportConfig.DEFAULT.withSecurity(Security.NONE.withTls(tls)));
  }

  private Transport open(TransportConfig config) {
    Transport transport = Transports.open(config);
    toClose.add(transport);
    return transport;
  }

  @BeforeEach
  void start() {
    server = open(pki.member()).listen("127.0.0.1:0", recording);
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private static Message await(Connection connection) throws Exception {
    try {
      return connection.request(PING, TIMEOUT).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private void assertServerUp() throws Exception {
    assertEquals(PING, await(open(pki.member()).connect(server.address())));
  }

  @Test
  @DisplayName("a member's certificate makes the connection MEMBER, named by its CN")
  void memberSession() throws Exception {
    assertEquals(PING, await(open(pki.member()).connect(server.address())));
    LinkSession session = sessions.poll(10, TimeUnit.SECONDS);
    assertEquals("CN=node-1", session.certificateSubject());
    assertEquals("node-1", session.principal().name());
    assertTrue(session.allows(Role.MEMBER));
  }

  @Test
  @DisplayName("a client-CA certificate is its CN's user; without an authenticator an admin")
  void clientCaSession() throws Exception {
    assertEquals(PING, await(open(pki.settings(pki.alice)).connect(server.address())));
    LinkSession session = sessions.poll(10, TimeUnit.SECONDS);
    assertEquals("alice", session.principal().name());
    assertEquals(Role.ADMIN, session.principal().role());
    assertFalse(session.allows(Role.MEMBER));
  }

  @Test
  @DisplayName("no client certificate: anonymous admin, never a member; the session says so")
  void noCertificate() throws Exception {
    SSLContext context = RawTls.context(pki.clusterCa.certificate(), null);
    try (SSLSocket socket = RawTls.connect(context, server.address())) {
      MessageCodec codec = new MessageCodec(TransportConfig.DEFAULT);
      byte[] frame = codec.encodeFrame(Frames.KIND_REQUEST, 7, PING);
      socket.getOutputStream().write(frame);
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] reply = new byte[frame.length];
      in.readFully(reply);
      assertEquals(PING, codec.decodeFrame(reply).message());
    }
    LinkSession session = sessions.poll(10, TimeUnit.SECONDS);
    assertNull(session.certificateSubject());
    assertFalse(session.allows(Role.MEMBER), "a connection without a certificate is no member");
    assertTrue(session.allows(Role.ADMIN));
  }

  @Test
  @DisplayName(
      "a client with only the CA presents no certificate: anonymous, never a member; it cannot"
          + " listen")
  void trustOnlyClient() throws Exception {
    TlsSettings trustOnly = TlsSettings.trustOnly(pki.clusterCa.certificate());
    Transport client = open(trustOnly);
    assertEquals(PING, await(client.connect(server.address())));
    LinkSession session = sessions.poll(10, TimeUnit.SECONDS);
    assertNull(session.certificateSubject());
    assertFalse(session.allows(Role.MEMBER));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> client.listen("127.0.0.1:0", recording));
    assertTrue(e.getMessage().contains("--tls-cert"), e.getMessage());
  }

  @Test
  @DisplayName("a certificate of another CA is refused: ConnectFailedException, server serves on")
  void wrongCa() throws Exception {
    Connection connection =
        open(new TlsSettings(
                pki.mallory.certificate(),
                pki.mallory.privateKey(),
                pki.clusterCa.certificate(),
                null))
            .connect(server.address());
    Exception failure = assertThrows(Exception.class, () -> await(connection));
    assertInstanceOf(ConnectFailedException.class, failure, failure.toString());
    assertTrue(failure.getMessage().contains("TLS handshake"), failure.getMessage());
    assertTrue(sessions.isEmpty(), "the handler saw a refused connection");
    assertServerUp();
  }

  @Test
  @DisplayName("a server whose certificate is of another CA is refused by the client")
  void serverOfWrongCa() throws Exception {
    Server impostor =
        open(new TlsSettings(
                pki.mallory.certificate(),
                pki.mallory.privateKey(),
                pki.clusterCa.certificate(),
                null))
            .listen("127.0.0.1:0", recording);
    Connection connection = open(pki.member()).connect(impostor.address());
    Exception failure = assertThrows(Exception.class, () -> await(connection));
    assertInstanceOf(ConnectFailedException.class, failure, failure.toString());
    assertTrue(failure.getMessage().contains("not signed by the cluster CA"), failure.getMessage());
    assertTrue(sessions.isEmpty());
  }

  @Test
  @DisplayName("an expired certificate is refused with ConnectFailedException")
  void expired() throws Exception {
    Connection connection = open(pki.settings(pki.expired)).connect(server.address());
    Exception failure = assertThrows(Exception.class, () -> await(connection));
    assertInstanceOf(ConnectFailedException.class, failure, failure.toString());
    assertTrue(sessions.isEmpty());
    assertServerUp();
  }

  @Test
  @DisplayName("a plaintext client to a TLS port is closed cleanly; the server keeps serving")
  void plaintextClient() throws Exception {
    Connection plain = open(TransportConfig.DEFAULT).connect(server.address());
    Exception failure = assertThrows(Exception.class, () -> await(plain));
    assertInstanceOf(TransportException.class, failure, failure.toString());
    int colon = server.address().lastIndexOf(':');
    try (Socket socket =
        new Socket("127.0.0.1", Integer.parseInt(server.address().substring(colon + 1)))) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      InputStream in = socket.getInputStream();
      try {
        while (in.read() >= 0) {
          // whatever the server answers (an alert), it must then close
        }
      } catch (java.net.SocketException e) {
        // reset: closed too
      }
    }
    assertTrue(sessions.isEmpty());
    assertServerUp();
  }

  @Test
  @DisplayName("the certificate tool writes a chain and a private key only its owner can read")
  void certificateFiles() throws Exception {
    List<?> chain = io.craq.transport.security.Pem.readCertificates(pki.node.certificate());
    assertEquals(2, chain.size(), "certificate then CA");
    assertEquals(
        java.util.Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(pki.node.privateKey()));
    var leaf = (java.security.cert.X509Certificate) chain.get(0);
    assertTrue(
        leaf.getSubjectAlternativeNames().stream().anyMatch(san -> san.get(1).equals("127.0.0.1")));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            pki.clusterCa.issue(
                pki.dir,
                "../escape",
                List.of(),
                java.time.Instant.now(),
                java.time.Instant.now().plusSeconds(60)));
  }

  @Test
  @DisplayName("rotation: new connections get the new certificate, old ones keep working")
  void rotation(@TempDir Path dir) throws Exception {
    Path certificate = dir.resolve("server.pem");
    Path key = dir.resolve("server-key.pem");
    Files.copy(pki.node.certificate(), certificate);
    Files.copy(pki.node.privateKey(), key);
    Server rotating =
        open(new TlsSettings(certificate, key, pki.clusterCa.certificate(), null))
            .listen("127.0.0.1:0", recording);
    SSLContext observer = RawTls.context(pki.clusterCa.certificate(), pki.alice);
    assertEquals("node-1", RawTls.serverName(observer, rotating.address()));
    Connection old = open(pki.member()).connect(rotating.address());
    assertEquals(PING, await(old));

    // Key first, then certificate, each replaced atomically: in between they do not fit together,
    // and the old material must stay.
    replace(pki.nodeNext.privateKey(), key);
    replace(pki.nodeNext.certificate(), certificate);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String name;
    while (!(name = RawTls.serverName(observer, rotating.address())).equals("node-2")) {
      assertEquals("node-1", name);
      assertTrue(System.nanoTime() < deadline, "the new certificate was never presented");
      Thread.sleep(100); // polling interval of a condition wait
    }
    assertEquals(PING, await(old), "a connection opened before the rotation still works");
    assertEquals(PING, await(open(pki.member()).connect(rotating.address())));

    // An unusable replacement keeps the current material: once the check has looked at it (its
    // error is logged), the server still presents the second certificate.
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(TlsContexts.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      Files.writeString(certificate, "not a certificate");
      long refused = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (logged.list.stream()
          .noneMatch(e -> e.getFormattedMessage().contains("cannot be used"))) {
        assertTrue(System.nanoTime() < refused, "the broken file was never looked at");
        Thread.sleep(50); // polling interval of a condition wait
      }
    } finally {
      logger.detachAppender(logged);
    }
    assertEquals("node-2", RawTls.serverName(observer, rotating.address()));
  }

  private static void replace(Path from, Path to) throws IOException {
    Path temp = to.resolveSibling(to.getFileName() + ".new");
    Files.copy(from, temp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(temp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

package io.craq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Role;
import io.craq.transport.security.UsersFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The node's security flags: files holding secrets readable by others are refused, secrets never
 * printed, and listening beyond loopback without TLS or users warns. Each run stops at once on a
 * port already taken (held on loopback), after the checks and warnings of the start.
 */
class NodeMainSecurityTest {
  private static final String SECRET = "s3cret-that-must-not-leak";

  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private record Run(int code, String logged) {}

  private Run run(String... args) {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    logged.start();
    root.addAppender(logged);
    try {
      int code = NodeMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
      return new Run(
          code,
          logged.list.stream()
              .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
              .map(ILoggingEvent::getFormattedMessage)
              .collect(Collectors.joining("\n")));
    } finally {
      root.detachAppender(logged);
    }
  }

  private Path secretFile(String name, String content, String mode) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, content);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  @Test
  void aUsersFileOthersMayReadIsAUsageErrorNamingTheFix() throws Exception {
    Path users = dir.resolve("users");
    UsersFile.write(
        users,
        List.of(
            new UsersFile.User(
                "alice",
                Role.READ,
                PasswordHashes.hash(SECRET.getBytes(StandardCharsets.UTF_8), 1_000))));
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-r--r--"));
    assertEquals(2, run("--store", "memory", "--users", users.toString()).code());
    assertTrue(err.toString().contains("chmod 600 " + users), err.toString());
  }

  @Test
  void redisTlsWithoutTheNodesCertificateIsAUsageErrorNamingTheFlags() {
    assertEquals(
        2, run("--store", "memory", "--redis-listen", "127.0.0.1:0", "--redis-tls").code());
    assertTrue(err.toString().contains("--redis-tls needs --tls-cert"), err.toString());
    assertEquals(2, run("--store", "memory", "--redis-tls").code());
    assertTrue(err.toString().contains("--redis-tls needs --redis-listen"), err.toString());
  }

  @Test
  void metricsTlsWithoutTheNodesCertificateIsAUsageErrorNamingTheFlags() {
    assertEquals(
        2, run("--store", "memory", "--metrics-listen", "127.0.0.1:0", "--metrics-tls").code());
    assertTrue(err.toString().contains("--metrics-tls needs --tls-cert"), err.toString());
    assertEquals(2, run("--store", "memory", "--metrics-tls").code());
    assertTrue(err.toString().contains("--metrics-tls needs --metrics-listen"), err.toString());
  }

  @Test
  void exposedRedisAndMetricsPortsWarnNamingTheRiskAndTheFlag() throws Exception {
    // The node's own port is held on loopback: the start stops there, after the warnings.
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run exposed =
          run(
              "--store",
              "memory",
              "-a",
              "127.0.0.1:" + taken.getLocalPort(),
              "--redis-listen",
              ":0",
              "--metrics-listen",
              ":0");
      assertEquals(NodeMain.EXIT_FATAL, exposed.code(), "the port is taken");
      String logged = exposed.logged();
      assertFalse(logged.contains("craq-node listens on"), logged);
      assertTrue(
          logged.contains("serves the Redis protocol on :0 (every interface) without TLS"), logged);
      assertTrue(logged.contains("AUTH passwords travel in plain text"), logged);
      assertTrue(logged.contains("give --redis-tls"), logged);
      assertTrue(logged.contains("serves metrics on :0 (every interface) over plain HTTP"), logged);
      assertTrue(logged.contains("give --metrics-tls"), logged);
      assertTrue(logged.contains("can read the metrics"), logged);
      assertTrue(logged.contains("--users FILE"), logged);
    }
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run loopback =
          run(
              "--store",
              "memory",
              "-a",
              "127.0.0.1:" + taken.getLocalPort(),
              "--redis-listen",
              "127.0.0.1:0",
              "--metrics-listen",
              "localhost:0");
      assertEquals(NodeMain.EXIT_FATAL, loopback.code());
      assertFalse(loopback.logged().contains("serves the Redis protocol"), loopback.logged());
      assertFalse(loopback.logged().contains("serves metrics"), loopback.logged());
    }
  }

  @Test
  void aPasswordFileOthersMayReadIsRefusedWithoutPrintingIt() throws Exception {
    Path password = secretFile("pw", SECRET, "rw-r-----");
    Run refused = run("--store", "memory", "--user", "n1", "--password-file", password.toString());
    assertEquals(2, refused.code());
    assertTrue(err.toString().contains("chmod 600 " + password), err.toString());
    assertFalse(err.toString().contains(SECRET));
    assertFalse(out.toString().contains(SECRET));
    assertFalse(refused.logged().contains(SECRET));
  }

  @Test
  void anExposedNodeWarnsNamingTheRiskAndTheFlagsAndNeverPrintsTheSecret() throws Exception {
    Path password = secretFile("pw", SECRET + "\n", "rw-------");
    // The port is held on loopback: the node's bind of every interface fails on it, so nothing
    // listens beyond loopback, but the warnings of the start come first.
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run exposed =
          run(
              "--store",
              "memory",
              "-a",
              ":" + taken.getLocalPort(),
              "--user",
              "n1",
              "--password-file",
              password.toString());
      assertEquals(NodeMain.EXIT_FATAL, exposed.code(), "the port is taken");
      assertTrue(exposed.logged().contains("without TLS"), exposed.logged());
      assertTrue(exposed.logged().contains("--tls-cert"), exposed.logged());
      assertTrue(exposed.logged().contains("without authentication"), exposed.logged());
      assertTrue(exposed.logged().contains("read and write every key"), exposed.logged());
      assertTrue(exposed.logged().contains("--users FILE"), exposed.logged());
      assertFalse(exposed.logged().contains(SECRET));
      assertFalse(err.toString().contains(SECRET));
    }
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run loopback = run("--store", "memory", "-a", "127.0.0.1:" + taken.getLocalPort());
      assertEquals(NodeMain.EXIT_FATAL, loopback.code());
      assertFalse(loopback.logged().contains("without TLS"), loopback.logged());
      assertFalse(loopback.logged().contains("without authentication"), loopback.logged());
    }
  }

  @Test
  void helpListsTheSecurityFlagsWithoutDefaults() {
    assertEquals(0, run("--help").code());
    for (String flag :
        List.of(
            "--tls-cert",
            "--tls-key",
            "--tls-ca",
            "--tls-client-ca",
            "--users",
            "--user",
            "--password-file")) {
      assertTrue(out.toString().contains(flag), flag + " missing from help:\n" + out);
    }
    String password = System.getenv("CRAQ_PASSWORD");
    if (password != null && !password.isEmpty()) {
      assertFalse(out.toString().contains(password), "help shows no secret");
    }
  }
}

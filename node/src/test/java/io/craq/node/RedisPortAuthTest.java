package io.craq.node;

import static java.util.stream.Collectors.joining;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.craq.coordinator.SessionTransport;
import io.craq.core.Limits;
import io.craq.node.redis.RedisServer;
import io.craq.store.MemoryStorer;
import io.craq.transport.TcpTransport;
import io.craq.transport.security.Authorization;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Principal;
import io.craq.transport.security.Role;
import io.craq.transport.security.Security;
import io.craq.transport.security.UsersFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * AUTH on the Redis port of a node with a users file: nothing but AUTH, HELLO and QUIT before
 * authenticating, a wrong password refused, a read-only user's write refused with nothing changed,
 * a read-write user served; and a port without users answers AUTH as Redis without a password.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisPortAuthTest {
  @TempDir static Path dir;

  private TestCluster cluster;
  private TestCluster openCluster;
  private RedisServer secured;
  private RedisServer open;

  private static UsersFile.User user(String name, Role role, String password) {
    return new UsersFile.User(
        name, role, PasswordHashes.hash(password.getBytes(StandardCharsets.UTF_8), 1_000));
  }

  @BeforeAll
  void start() throws Exception {
    cluster = new TestCluster(dir.resolve("coordinator"));
    Path users = dir.resolve("users");
    UsersFile.write(
        users,
        List.of(
            user("default", Role.READ_WRITE, "default-secret"),
            user("reader", Role.READ, "reader-secret"),
            user("writer", Role.READ_WRITE, "writer-secret"),
            user("piper", Role.READ_WRITE, "piper-secret"),
            user("greeter", Role.READ, "greeter-secret")));
    UsersFile usersFile = UsersFile.open(users);
    // The node enforces the same users itself, as craq-node --users does; its chain traffic comes
    // from a member.
    LinkSession member = new LinkSession("CN=member", new Principal("member", Role.MEMBER));
    NodeServer node =
        NodeServer.start(
            cluster.settings("n1"),
            new MemoryStorer(),
            new SessionTransport(new TcpTransport(), message -> member),
            System::nanoTime,
            who -> {},
            Authorization.of(usersFile));
    cluster.nodes.add(node);
    cluster.awaitChain(1);
    List<String> coordinators = List.of(cluster.coordinator.listenAddress());
    secured =
        RedisServer.start(
            "127.0.0.1:0",
            node,
            coordinators,
            Limits.VALUE_BYTES_MAX_DEFAULT,
            Security.NONE.withAuthenticator(usersFile),
            null);
    // A node without users, and its port: open, as Redis without a password.
    openCluster = new TestCluster(dir.resolve("open-coordinator"));
    NodeServer openNode = openCluster.startMemoryNode("o1");
    openCluster.awaitChain(1);
    open =
        RedisServer.start(
            "127.0.0.1:0",
            openNode,
            List.of(openCluster.coordinator.listenAddress()),
            Limits.VALUE_BYTES_MAX_DEFAULT);
  }

  @AfterAll
  void stop() {
    if (secured != null) {
      secured.close();
    }
    if (open != null) {
      open.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (openCluster != null) {
      openCluster.close();
    }
  }

  private Jedis securedPort() {
    return new Jedis("127.0.0.1", secured.port());
  }

  @Test
  @DisplayName("before AUTH every command but AUTH, HELLO and QUIT gets NOAUTH")
  void noAuthBeforeAuthenticating() {
    try (Jedis jedis = securedPort()) {
      for (Runnable command :
          List.<Runnable>of(
              () -> jedis.get("k"),
              () -> jedis.set("k", "v"),
              jedis::ping,
              jedis::dbSize,
              () -> jedis.sendCommand(() -> "NOSUCHCOMMAND".getBytes(StandardCharsets.UTF_8)))) {
        JedisDataException e = assertThrows(JedisDataException.class, command::run);
        assertEquals("NOAUTH Authentication required.", e.getMessage());
      }
      JedisDataException hello =
          assertThrows(
              JedisDataException.class,
              () ->
                  jedis.sendCommand(
                      () -> "HELLO".getBytes(StandardCharsets.UTF_8), "3".getBytes()));
      assertTrue(hello.getMessage().startsWith("NOAUTH HELLO must be called"), hello.getMessage());
      assertEquals("OK", jedis.auth("writer", "writer-secret"));
      assertEquals("PONG", jedis.ping());
    }
  }

  @Test
  @DisplayName("a wrong password or an unknown user gets WRONGPASS and stays unauthenticated")
  void wrongPassword() {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger serverLog = (Logger) LoggerFactory.getLogger(RedisServer.class);
    logged.start();
    serverLog.addAppender(logged);
    try (Jedis jedis = securedPort()) {
      for (Runnable attempt :
          List.<Runnable>of(
              () -> jedis.auth("writer", "not-the-secret"),
              () -> jedis.auth("nobody", "writer-secret"),
              () -> jedis.auth("wrong-default-secret"))) {
        JedisDataException e = assertThrows(JedisDataException.class, attempt::run);
        assertEquals(
            "WRONGPASS invalid username-password pair or user is disabled.", e.getMessage());
      }
      JedisDataException e = assertThrows(JedisDataException.class, () -> jedis.get("k"));
      assertEquals("NOAUTH Authentication required.", e.getMessage());
    } finally {
      serverLog.detachAppender(logged);
    }
    String lines =
        logged.list.stream().map(ILoggingEvent::getFormattedMessage).collect(joining("\n"));
    assertTrue(lines.contains("AUTH refused for user 'writer'"), lines);
    assertTrue(lines.contains("127.0.0.1"), "names the peer: " + lines);
    assertFalse(lines.contains("not-the-secret"), lines);
    assertFalse(lines.contains("writer-secret"), lines);
  }

  /** Writes {@code request} at once and reads until {@code expected} bytes came (or times out). */
  private String exchange(String request, int expected) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", secured.port())) {
      socket.setSoTimeout(20_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
      java.io.InputStream in = socket.getInputStream();
      byte[] buffer = new byte[4096];
      while (got.size() < expected) {
        int n = in.read(buffer);
        if (n < 0) {
          break;
        }
        got.write(buffer, 0, n);
      }
      return got.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  @DisplayName(
      "commands pipelined behind an AUTH whose password is checked off the loop run as its user,"
          + " in order; HELLO 3 AUTH answers in RESP3")
  void pipelinedBehindAuth() throws Exception {
    String expected = "+OK\r\n+OK\r\n$2\r\nv1\r\n";
    assertEquals(
        expected,
        exchange("AUTH piper piper-secret\r\nSET pipe:k v1\r\nGET pipe:k\r\n", expected.length()));
    String refused = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    String noauth = "-NOAUTH Authentication required.\r\n";
    assertEquals(
        refused + noauth,
        exchange("AUTH piper wrong\r\nGET pipe:k\r\n", refused.length() + noauth.length()));
    String hello = exchange("HELLO 3 AUTH greeter greeter-secret\r\nGET pipe:k\r\n", 1);
    assertTrue(hello.startsWith("%"), "a RESP3 map: " + hello);
    String wrongHello = exchange("HELLO 3 AUTH greeter nope\r\nPING\r\n", refused.length());
    assertTrue(wrongHello.startsWith(refused), wrongHello);
  }

  @Test
  @DisplayName("a read-only user reads but its SET gets NOPERM and changes nothing")
  void readOnlyUserCannotWrite() {
    try (Jedis writer = securedPort();
        Jedis reader = securedPort()) {
      assertEquals("OK", writer.auth("writer", "writer-secret"));
      assertEquals("OK", writer.set("ro:k", "before"));
      assertEquals("OK", reader.auth("reader", "reader-secret"));
      assertEquals("before", reader.get("ro:k"));
      for (Runnable write :
          List.<Runnable>of(
              () -> reader.set("ro:k", "after"),
              () -> reader.del("ro:k"),
              () -> reader.incr("ro:n"),
              () -> reader.mset("ro:k", "x", "ro:j", "y"))) {
        JedisDataException e = assertThrows(JedisDataException.class, write::run);
        assertTrue(
            e.getMessage().startsWith("NOPERM this user has no permissions to run the '"),
            e.getMessage());
      }
      JedisDataException set =
          assertThrows(JedisDataException.class, () -> reader.set("ro:k", "after"));
      assertEquals(
          "NOPERM this user has no permissions to run the 'set' command", set.getMessage());
      assertEquals("before", reader.get("ro:k"));
      assertEquals("before", writer.get("ro:k"));
      assertEquals(false, writer.exists("ro:n"));
    }
  }

  @Test
  @DisplayName("a read-write user writes: AUTH user password, AUTH password, HELLO 3 AUTH")
  void readWriteUserWorks() {
    try (Jedis jedis = securedPort()) {
      assertEquals("OK", jedis.auth("writer", "writer-secret"));
      assertEquals("OK", jedis.set("rw:k", "v1"));
      assertEquals("v1", jedis.get("rw:k"));
      assertEquals(3L, jedis.incrBy("rw:n", 3));
    }
    try (Jedis jedis = securedPort()) {
      assertEquals("OK", jedis.auth("default-secret"));
      assertEquals("OK", jedis.set("rw:k", "v2"));
    }
    DefaultJedisClientConfig resp3 =
        DefaultJedisClientConfig.builder()
            .user("writer")
            .password("writer-secret")
            .protocol(RedisProtocol.RESP3)
            .build();
    try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", secured.port()), resp3)) {
      assertEquals("v2", jedis.get("rw:k"));
      assertEquals("OK", jedis.set("rw:k", "v3"));
      assertEquals("v3", jedis.get("rw:k"));
    }
  }

  @Test
  @DisplayName("without a users file, AUTH password is refused as by Redis without a password")
  void authWithoutUsers() {
    try (Jedis jedis = new Jedis("127.0.0.1", open.port())) {
      JedisDataException e = assertThrows(JedisDataException.class, () -> jedis.auth("secret"));
      assertEquals(
          "ERR AUTH <password> called without any password configured for the default user. Are"
              + " you sure your configuration is correct?",
          e.getMessage());
      assertEquals("OK", jedis.set("open:k", "v"));
      assertEquals("v", jedis.get("open:k"));
    }
  }
}

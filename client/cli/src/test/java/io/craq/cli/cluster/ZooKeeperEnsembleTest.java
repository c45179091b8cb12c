package io.craq.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.craq.cli.cluster.ZooKeeperEnsemble.Mode;
import io.craq.cli.cluster.ZooKeeperEnsemble.Ports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@link ZooKeeperEnsemble}: real ZooKeeper servers, started from this test's class path, checked
 * with {@code srvr} and with a ZooKeeper client.
 */
@Timeout(300)
class ZooKeeperEnsembleTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String CLASS_PATH = System.getProperty("java.class.path");

  @TempDir Path dir;

  /** The test's ZooKeeper client warns, with a stack trace, of every server it cannot reach. */
  @BeforeAll
  static void quietClient() {
    ((Logger) LoggerFactory.getLogger("org.apache.zookeeper")).setLevel(Level.ERROR);
  }

  @Test
  @DisplayName(
      "3 servers serve; one killed, the other two still do; two killed, no quorum (srvr says so"
          + " and a client cannot write); both started again, the ensemble serves with every"
          + " write kept; a paused server does not answer and comes back; close stops every PID")
  void killPauseRestartAndClose() throws Exception {
    List<Long> pids = new ArrayList<>();
    try (ZooKeeperEnsemble ensemble =
        new ZooKeeperEnsemble(dir, ZooKeeperEnsemble.freePorts(3), CLASS_PATH)) {
      long start = System.nanoTime();
      ensemble.start();
      ensemble.awaitAllServing(WAIT);
      System.out.printf(
          "ensemble of 3 serving after %.1f s (%s)%n",
          (System.nanoTime() - start) / 1e9, ensemble.modes());
      for (int server = 1; server <= 3; server++) {
        pids.add(ensemble.pid(server));
        assertTrue(LocalProcesses.running(ensemble.pid(server)), ensemble.name(server));
        assertEquals("imok", ensemble.ask(server, "ruok"));
        assertTrue(ensemble.ask(server, "mntr").contains("zk_server_state"));
      }
      int leader = ensemble.leader();
      assertTrue(leader >= 1, ensemble.modes());
      assertTrue(write(ensemble.connectString(), "/first"), "a write with 3 servers");

      // The leader killed: the other two elect one of them and serve.
      long killed = ensemble.pid(leader);
      ensemble.kill(leader);
      assertFalse(LocalProcesses.running(killed), "kill -9 " + killed);
      assertEquals(-1, ensemble.pid(leader));
      assertEquals(Mode.NO_ANSWER, ensemble.mode(leader));
      ensemble.awaitQuorum(WAIT);
      assertTrue(write(ensemble.connectString(), "/second"), "a write with 2 of 3 servers");

      // A second one killed: the last one has no quorum.
      int second = leader % 3 + 1;
      int last = second % 3 + 1;
      ensemble.kill(second);
      awaitTrue(
          "zk" + last + " says it does not serve",
          () -> ensemble.mode(last) == Mode.NOT_SERVING,
          ensemble::modes);
      assertTrue(
          ensemble.ask(last, "srvr").contains("not currently serving"), ensemble.ask(last, "srvr"));
      IOException noQuorum =
          assertThrows(IOException.class, () -> ensemble.awaitQuorum(Duration.ofSeconds(2)));
      assertTrue(
          noQuorum.getMessage().contains("did not form a quorum in 2 s")
              && noQuorum.getMessage().contains("zk" + last + " not serving"),
          noQuorum.getMessage());
      assertFalse(write(ensemble.connectString(), "/third"), "a write with 1 of 3 servers");

      // Both started again: a quorum, and every acknowledged write is there.
      ensemble.restart(leader);
      ensemble.restart(second);
      ensemble.awaitAllServing(WAIT);
      pids.add(ensemble.pid(leader));
      pids.add(ensemble.pid(second));
      assertTrue(exists(ensemble.connectString(), "/first"));
      assertTrue(exists(ensemble.connectString(), "/second"));
      assertFalse(exists(ensemble.connectString(), "/third"));

      // A follower paused answers nothing; the other two serve; resumed, it serves again.
      int follower = ensemble.leader() % 3 + 1;
      assertEquals(Mode.FOLLOWER, ensemble.mode(follower), ensemble.modes());
      ensemble.pause(follower);
      assertEquals(Mode.NO_ANSWER, ensemble.mode(follower));
      assertTrue(write(ensemble.connectString(), "/fourth"), "a write with one server paused");
      ensemble.resume(follower);
      ensemble.awaitAllServing(WAIT);
      assertTrue(exists(ensemble.connectString(), "/fourth"));

      // A chroot: the client's root is that znode.
      assertTrue(write(ensemble.connectString(), "/craq-test"));
      assertTrue(write(ensemble.connectString("/craq-test"), "/inside"));
      assertTrue(exists(ensemble.connectString(), "/craq-test/inside"));
    }
    for (long pid : pids) {
      assertFalse(LocalProcesses.running(pid), "pid " + pid + " stopped");
    }
    assertEquals(5, pids.size());
  }

  @Test
  @DisplayName("a server that cannot start is named with the end of its log, at once")
  void serverThatExits() throws Exception {
    Ports ports = ZooKeeperEnsemble.freePorts(1).get(0);
    try (ServerSocket taken =
            new ServerSocket(ports.client(), 1, InetAddress.getLoopbackAddress());
        ZooKeeperEnsemble ensemble = new ZooKeeperEnsemble(dir, List.of(ports), CLASS_PATH)) {
      ensemble.start();
      long start = System.nanoTime();
      IOException exited = assertThrows(IOException.class, () -> ensemble.awaitQuorum(WAIT));
      assertTrue(
          System.nanoTime() - start < WAIT.toNanos(), "failed before the timeout: " + exited);
      assertTrue(exited.getMessage().startsWith("zk1 exited with status "), exited.getMessage());
      assertTrue(exited.getMessage().contains(ensemble.log(1).toString()), exited.getMessage());
    }
  }

  @Test
  @DisplayName(
      "configuration: 127.0.0.1 only, admin server off, three four-letter words, sessions of"
          + " 1-20 s; myid and data under the home folder")
  void configuration() throws IOException {
    List<Ports> ports = List.of(new Ports(2181, 2888, 3888), new Ports(2182, 2889, 3889));
    assertThrows(IllegalArgumentException.class, () -> new ZooKeeperEnsemble(dir, ports, ""));
    ZooKeeperEnsemble ensemble =
        new ZooKeeperEnsemble(
            dir,
            List.of(
                new Ports(2181, 2888, 3888),
                new Ports(2182, 2889, 3889),
                new Ports(2183, 2890, 3890)),
            "zk.jar");
    assertEquals("127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183", ensemble.connectString());
    assertEquals(
        "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183/craq-local",
        ensemble.connectString("/craq-local"));
    assertThrows(IllegalArgumentException.class, () -> ensemble.connectString("craq"));
    assertThrows(IllegalArgumentException.class, () -> ensemble.connectString("/craq/"));
    assertEquals(2, ensemble.quorum());

    List<String> config = ensemble.config(2).lines().toList();
    for (String line :
        List.of(
            "tickTime=500",
            "minSessionTimeout=1000",
            "maxSessionTimeout=20000",
            "clientPortAddress=127.0.0.1",
            "clientPort=2182",
            "quorumListenOnAllIPs=false",
            "admin.enableServer=false",
            "4lw.commands.whitelist=ruok,srvr,mntr",
            "dataDir=" + dir.toAbsolutePath().resolve("zk2/data"),
            "server.1=127.0.0.1:2888:3888",
            "server.2=127.0.0.1:2889:3889",
            "server.3=127.0.0.1:2890:3890")) {
      assertTrue(config.contains(line), line + " in\n" + String.join("\n", config));
    }
    for (String line : config) {
      assertFalse(line.contains("0.0.0.0") || line.contains("localhost"), line);
    }
    assertEquals(dir.toAbsolutePath().resolve("zk2/zoo.cfg"), ensemble.configFile(2));
    assertEquals(dir.toAbsolutePath().resolve("logs/zk3.log"), ensemble.log(3));
    List<String> command = ensemble.javaCommand(1);
    assertEquals(
        List.of("-cp", "zk.jar", ZooKeeperEnsemble.MAIN_CLASS, ensemble.configFile(1).toString()),
        command.subList(command.size() - 4, command.size()));
    assertEquals(
        List.of("bash", "-c", "trap '' INT; exec \"$@\"", "craq-zk1"),
        ensemble.command(1).subList(0, 4));
    assertThrows(IllegalArgumentException.class, () -> ensemble.ports(4));
  }

  @Test
  @DisplayName("srvr answers: leader, follower, standalone, not serving")
  void modes() {
    assertEquals(
        Mode.LEADER, ZooKeeperEnsemble.parseMode("Zxid: 0x1\nMode: leader\nNode count: 5"));
    assertEquals(Mode.FOLLOWER, ZooKeeperEnsemble.parseMode("Mode: follower\n"));
    assertEquals(Mode.STANDALONE, ZooKeeperEnsemble.parseMode("Mode: standalone\n"));
    assertEquals(
        Mode.NOT_SERVING,
        ZooKeeperEnsemble.parseMode("This ZooKeeper instance is not currently serving requests\n"));
    assertEquals(Mode.NO_ANSWER, ZooKeeperEnsemble.parseMode(""));
    assertTrue(Mode.FOLLOWER.serving());
    assertFalse(Mode.NOT_SERVING.serving());
  }

  @Test
  @DisplayName("the project's class path names the coordinator's jar and the copied server jars")
  void projectClassPath() throws IOException {
    IOException missing =
        assertThrows(IOException.class, () -> ZooKeeperEnsemble.projectClassPath(dir));
    assertTrue(
        missing.getMessage().contains("craq-coordinator.jar is missing"), missing.toString());
    Files.createDirectories(dir.resolve("coordinator/target"));
    Files.writeString(dir.resolve("coordinator/target/craq-coordinator.jar"), "");
    Files.createDirectories(dir.resolve("client/cli/target/zookeeper-server"));
    Files.writeString(dir.resolve("client/cli/target/zookeeper-server/b.jar"), "");
    Files.writeString(dir.resolve("client/cli/target/zookeeper-server/a.jar"), "");
    assertEquals(
        String.join(
            ":",
            dir.resolve("coordinator/target/craq-coordinator.jar").toString(),
            dir.resolve("client/cli/target/zookeeper-server/a.jar").toString(),
            dir.resolve("client/cli/target/zookeeper-server/b.jar").toString()),
        ZooKeeperEnsemble.projectClassPath(dir));
  }

  /**
   * Creates {@code path} through a new session; false if no session was established or the write
   * failed within the session timeout (4 s).
   */
  private static boolean write(String connect, String path) throws Exception {
    ZooKeeper client = connect(connect);
    if (client == null) {
      return false;
    }
    try {
      client.create(
          path, path.getBytes(StandardCharsets.UTF_8), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      return true;
    } catch (KeeperException e) {
      return false;
    } finally {
      client.close();
    }
  }

  private static boolean exists(String connect, String path) throws Exception {
    ZooKeeper client = connect(connect);
    assertTrue(client != null, "a session with " + connect);
    try {
      return client.exists(path, false) != null;
    } finally {
      client.close();
    }
  }

  /** A client with a session, or null if none was established within 8 s. */
  private static ZooKeeper connect(String connect) throws IOException, InterruptedException {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper client =
        new ZooKeeper(
            connect,
            4_000,
            event -> {
              if (event.getState() == KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    if (!connected.await(8, TimeUnit.SECONDS)) {
      client.close();
      return null;
    }
    return client;
  }

  private static void awaitTrue(
      String what, BooleanSupplier condition, java.util.function.Supplier<String> context)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what + ": " + context.get());
      }
      Thread.sleep(100);
    }
  }
}

package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Bad input in ZooKeeper mode: one clear line and a non-zero exit, nothing written. Usage errors
 * (exit 2) print their line on stderr; start-up failures (exit 1) log one line without a stack
 * trace, captured here from the log.
 */
class CoordinatorMainZooKeeperTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private TestingServer zooKeeper;
  private CuratorFramework inspector;

  @BeforeEach
  void start() throws Exception {
    logged.start();
    root().addAppender(logged);
    zooKeeper = new TestingServer(true);
    inspector =
        CuratorFrameworkFactory.newClient(zooKeeper.getConnectString(), new RetryOneTime(100));
    inspector.start();
  }

  @AfterEach
  void stop() throws Exception {
    root().detachAppender(logged);
    inspector.close();
    zooKeeper.close();
  }

  private static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  private int run(String... args) {
    return CoordinatorMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  /** The one warning or error logged: the reason the coordinator did not start. */
  private String onlyProblemLogged() {
    List<ILoggingEvent> problems =
        logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
    assertEquals(
        1,
        problems.size(),
        problems.stream().map(ILoggingEvent::getFormattedMessage).toList().toString());
    ILoggingEvent problem = problems.get(0);
    assertEquals(Level.ERROR, problem.getLevel());
    assertNull(problem.getThrowableProxy(), "a stack trace for an expected condition");
    String line = problem.getFormattedMessage();
    assertTrue(line.lines().count() == 1, line);
    assertTrue(line.startsWith("cannot start: "), line);
    return line;
  }

  private int runAgainst(String chroot) {
    return run(
        "--zookeeper",
        zooKeeper.getConnectString() + chroot,
        "-a",
        "127.0.0.1:0",
        "--zookeeper-connect-timeout-millis",
        "5000");
  }

  @Test
  @DisplayName("--help describes the ZooKeeper mode and its flags")
  void help() {
    assertEquals(0, run("--help"));
    for (String flag :
        List.of(
            "--zookeeper",
            "--zookeeper-session-timeout-millis",
            "--zookeeper-connect-timeout-millis",
            "--leader-lease-millis",
            "--advertise",
            "File mode only")) {
      assertTrue(out.toString().contains(flag), flag + " missing from help:\n" + out);
    }
  }

  @Test
  @DisplayName("a connect string that does not parse is a usage error (exit 2), one line")
  void badConnectString() {
    assertEquals(2, run("--zookeeper", "zk1", "-a", "127.0.0.1:0"));
    assertEquals(
        List.of(
            "craq-coordinator: --zookeeper: ZooKeeper connect string 'zk1': address 'zk1' has no"
                + " port; expected host:port or :port",
            "Try 'craq-coordinator --help' for more information."),
        err.toString().lines().toList());
  }

  @Test
  @DisplayName("a chroot that is not a ZooKeeper path is a usage error")
  void badChroot() {
    assertEquals(2, run("--zookeeper", "127.0.0.1:2181/craq/", "-a", "127.0.0.1:0"));
    assertTrue(
        err.toString().lines().findFirst().orElseThrow().contains("chroot '/craq/'"),
        err.toString());
  }

  @Test
  @DisplayName("--data with --zookeeper is refused: the data directory is unused in that mode")
  void dataWithZooKeeper() {
    assertEquals(
        2,
        run(
            "--zookeeper",
            zooKeeper.getConnectString(),
            "-a",
            "127.0.0.1:0",
            "-d",
            dir.resolve("data").toString()));
    assertTrue(err.toString().contains("--data is not used with --zookeeper"), err.toString());
    assertTrue(!Files.exists(dir.resolve("data")));
  }

  @Test
  @DisplayName("ZooKeeper mode without a host to advertise is a usage error")
  void nothingToAdvertise() {
    assertEquals(2, run("--zookeeper", zooKeeper.getConnectString(), "-a", ":0"));
    assertTrue(err.toString().contains("--advertise"), err.toString());
  }

  @Test
  @DisplayName("ZooKeeper flags without --zookeeper are a usage error")
  void zooKeeperFlagsInFileMode() {
    assertEquals(2, run("--leader-lease-millis", "3000", "-d", dir.toString()));
    assertTrue(err.toString().contains("--leader-lease-millis needs --zookeeper"), err.toString());
  }

  @Test
  @DisplayName("ZooKeeper unreachable within the connect timeout: exit 1, one line")
  void unreachable() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    assertEquals(
        1,
        run(
            "--zookeeper",
            "127.0.0.1:" + port,
            "-a",
            "127.0.0.1:0",
            "--zookeeper-connect-timeout-millis",
            "1000"));
    assertEquals(
        "cannot start: cannot reach ZooKeeper at 127.0.0.1:"
            + port
            + " within 1000 ms (--zookeeper-connect-timeout-millis); is the ensemble running and"
            + " the address right?",
        onlyProblemLogged());
  }

  @Test
  @DisplayName(
      "a chroot holding other data and no /craq: exit 1 naming what is there, nothing written")
  void chrootHoldsOtherData() throws Exception {
    inspector.create().creatingParentsIfNeeded().forPath("/other/app/settings", new byte[] {1});
    assertEquals(1, runAgainst("/other"));
    String line = onlyProblemLogged();
    assertTrue(line.contains("chroot /other holds other data (/app) and no /craq"), line);
    assertEquals(List.of("app"), inspector.getChildren().forPath("/other"));
  }

  @Test
  @DisplayName("/craq holding something else than the marker: exit 1 naming it, nothing written")
  void craqNodeHoldsOtherData() throws Exception {
    inspector
        .create()
        .creatingParentsIfNeeded()
        .forPath("/x/craq", "hello".getBytes(StandardCharsets.UTF_8));
    assertEquals(1, runAgainst("/x"));
    String line = onlyProblemLogged();
    assertTrue(line.contains("/craq holds 'hello', not the coordinators' marker"), line);
    assertArrayEquals(
        "hello".getBytes(StandardCharsets.UTF_8), inspector.getData().forPath("/x/craq"));
    assertEquals(List.of(), inspector.getChildren().forPath("/x/craq"));
  }

  @Test
  @DisplayName("a configuration znode that does not parse at start-up: exit 1, nothing written")
  void configurationDoesNotParse() throws Exception {
    byte[] garbage = "epoch 7\n".getBytes(StandardCharsets.UTF_8);
    inspector
        .create()
        .creatingParentsIfNeeded()
        .forPath("/y/craq", ZooKeeperConfigStore.MARKER_TEXT.getBytes(StandardCharsets.UTF_8));
    inspector.create().forPath("/y/craq/config", garbage);
    assertEquals(1, runAgainst("/y"));
    String line = onlyProblemLogged();
    assertTrue(line.contains("/craq/config does not parse (no checksum line)"), line);
    Stat stat = new Stat();
    assertArrayEquals(garbage, inspector.getData().storingStatIn(stat).forPath("/y/craq/config"));
    assertEquals(0, stat.getVersion());
    assertEquals(List.of("config"), inspector.getChildren().forPath("/y/craq"));
  }

  @Test
  @DisplayName(
      "a map in ZooKeeper with another chain count than --chains: exit 2 naming both counts,"
          + " nothing written")
  void otherChainCount() throws Exception {
    byte[] map =
        MembershipFile.encode(io.craq.core.message.ChainMap.empty(4, 3))
            .getBytes(StandardCharsets.UTF_8);
    inspector
        .create()
        .creatingParentsIfNeeded()
        .forPath("/z/craq", ZooKeeperConfigStore.MARKER_TEXT.getBytes(StandardCharsets.UTF_8));
    inspector.create().forPath("/z/craq/config", map);
    assertEquals(2, runAgainst("/z"));
    String line = onlyProblemLogged();
    assertTrue(line.contains("has 4 chains but --chains is 1"), line);
    Stat stat = new Stat();
    assertArrayEquals(map, inspector.getData().storingStatIn(stat).forPath("/z/craq/config"));
    assertEquals(0, stat.getVersion());
  }
}

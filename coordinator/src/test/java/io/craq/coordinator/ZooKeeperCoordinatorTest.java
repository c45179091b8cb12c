package io.craq.coordinator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.transport.Server;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Coordinators in ZooKeeper mode on an in-process ZooKeeper (Curator's TestingServer, tick 200 ms),
 * with hand-written fake nodes that record the configurations pushed to them. Session 2 s, leader
 * lease 5 s: short enough for quick failovers, long enough for a shared, busy machine.
 */
class ZooKeeperCoordinatorTest {
  private static final Logger log = LoggerFactory.getLogger(ZooKeeperCoordinatorTest.class);
  private static final long SESSION_MILLIS = 2_000;
  private static final long LEASE_MILLIS = 5_000;

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String CHROOT = "/chain";
  private static final Map<String, List<Long>> takeovers =
      Collections.synchronizedMap(new TreeMap<>());

  @TempDir Path dir;
  private TestingServer zooKeeper;
  private CuratorFramework inspector;
  private final Transport client = new TcpTransport();
  private final Transport fakeNodes = new TcpTransport();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void startZooKeeper() throws Exception {
    zooKeeper = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
    inspector =
        CuratorFrameworkFactory.builder()
            .connectString(zooKeeper.getConnectString())
            .namespace(CHROOT.substring(1))
            .retryPolicy(new RetryOneTime(100))
            .build();
    inspector.start();
  }

  @AfterEach
  void stopAll() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
    inspector.close();
    client.close();
    fakeNodes.close();
    zooKeeper.close();
  }

  @AfterAll
  static void reportTakeovers() {
    takeovers.forEach((how, millis) -> log.info("takeover times after {}: {} ms", how, millis));
  }

  // ------------------------------------------------------------------------------ helpers

  private CoordinatorServer startCoordinator(String connect) {
    CoordinatorServer coordinator =
        CoordinatorServer.start(
            CoordinatorServerSettings.defaults("127.0.0.1:0", dir.resolve("unused"))
                .withFailureTimeoutMillis(60_000) // fake nodes send no heartbeats
                .withForwardTimeout(Duration.ofMillis(500))
                .withZooKeeper(
                    ZooKeeperSettings.defaults(connect)
                        .withSessionTimeoutMillis(SESSION_MILLIS)
                        .withLeaderLeaseMillis(LEASE_MILLIS)
                        .withConnectTimeoutMillis(10_000)),
            new TcpTransport());
    toClose.add(coordinator);
    return coordinator;
  }

  private CoordinatorServer startCoordinator() {
    return startCoordinator(zooKeeper.getConnectString() + CHROOT);
  }

  private Message request(CoordinatorServer coordinator, Message message) throws Exception {
    return client
        .connect(coordinator.listenAddress())
        .request(message, Duration.ofSeconds(5))
        .get(10, TimeUnit.SECONDS);
  }

  private CompletableFuture<Message> send(CoordinatorServer coordinator, Message message) {
    return client.connect(coordinator.listenAddress()).request(message, Duration.ofSeconds(3));
  }

  /** Waits until {@code coordinator} answers as the leader; returns the configuration it serves. */
  private ChainConfig awaitLeading(CoordinatorServer coordinator) {
    return await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () ->
                request(coordinator, new ChainRequest()) instanceof ChainReply chain
                        && chain.config().epoch() > 0
                    ? chain.config()
                    : null,
            Objects::nonNull);
  }

  /** Waits until {@code standby} redirects to {@code leader}. */
  private void awaitRedirects(CoordinatorServer standby, CoordinatorServer leader) {
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> {
          ErrorReply reply =
              assertInstanceOf(ErrorReply.class, request(standby, new ChainRequest()));
          assertEquals(ErrorCode.NOT_LEADER, reply.code());
          assertEquals(leader.listenAddress(), reply.hint());
        });
  }

  private HeartbeatReply join(CoordinatorServer coordinator, String id, FakeNode node)
      throws Exception {
    return assertInstanceOf(
        HeartbeatReply.class, request(coordinator, new JoinRequest(id, node.address(), -1, 1)));
  }

  /** The configuration znode: its map (null if it does not parse), text and version. */
  private record Znode(ChainMap map, int version, String text) {
    /** The one chain's configuration. */
    ChainConfig config() {
      return map == null ? null : map.chain(0);
    }
  }

  private Znode readZnode() throws Exception {
    Stat stat = new Stat();
    byte[] data = inspector.getData().storingStatIn(stat).forPath(ZooKeeperConfigStore.CONFIG);
    String text = new String(data, StandardCharsets.UTF_8);
    ChainMap map;
    try {
      map = MembershipFile.decode(text);
    } catch (RuntimeException e) {
      map = null;
    }
    return new Znode(map, stat.getVersion(), text);
  }

  private static void recordTakeover(String how, long millis) {
    log.info("takeover after {}: {} ms", how, millis);
    takeovers.computeIfAbsent(how, k -> new CopyOnWriteArrayList<>()).add(millis);
    // Printed, not asserted: speed is measured by the fault suite's failover figures, not here.
  }

  private static List<String> ids(ChainConfig config) {
    return config.members().stream().map(Member::id).toList();
  }

  /**
   * A chain member that never answers; it records every configuration pushed to it (in the one
   * chain's envelope).
   */
  private final class FakeNode {
    record Push(ChainConfig config, long nanos) {}

    final List<Push> pushes = new CopyOnWriteArrayList<>();
    final Server server;

    FakeNode() {
      server =
          fakeNodes.listen(
              "127.0.0.1:0",
              (message, responder) -> {
                if (message instanceof Chained chained
                    && chained.chain() == 0
                    && chained.message() instanceof ConfigPush push) {
                  pushes.add(new Push(push.config(), System.nanoTime()));
                }
              });
    }

    String address() {
      return server.address();
    }

    /** The first push of an epoch above {@code epoch}, or null. */
    Push firstAbove(long epoch) {
      return pushes.stream().filter(p -> p.config().epoch() > epoch).findFirst().orElse(null);
    }

    /** No two different configurations were ever pushed with the same epoch. */
    void assertOneConfigurationPerEpoch() {
      Map<Long, ChainConfig> seen = new TreeMap<>();
      for (Push push : pushes) {
        ChainConfig before = seen.putIfAbsent(push.config().epoch(), push.config());
        assertTrue(
            before == null || before.equals(push.config()),
            "two configurations with epoch " + push.config().epoch() + ": " + before + ", " + push);
      }
    }
  }

  /** Two coordinators, the first leading with one fake member; returns its configuration. */
  private record Pair(
      CoordinatorServer leader, CoordinatorServer standby, FakeNode node, ChainConfig config) {}

  private Pair leaderAndStandby(String leaderConnect) throws Exception {
    CoordinatorServer leader = startCoordinator(leaderConnect);
    awaitLeading(leader);
    CoordinatorServer standby = startCoordinator();
    FakeNode node = new FakeNode();
    ChainConfig config = join(leader, "n1", node).config();
    awaitRedirects(standby, leader);
    return new Pair(leader, standby, node, config);
  }

  /** Waits for the standby's first push after {@code pair.config}; checks what it took over. */
  private FakeNode.Push awaitTakeover(Pair pair) throws Exception {
    FakeNode.Push push =
        await()
            .atMost(WAIT)
            .until(() -> pair.node().firstAbove(pair.config().epoch()), Objects::nonNull);
    assertEquals(pair.config().epoch() + 1, push.config().epoch(), "the next epoch");
    assertEquals(pair.config().members(), push.config().members(), "the same members");
    assertTrue(pair.standby().leading());
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> assertEquals(push.config(), readZnode().config()));
    return push;
  }

  // -------------------------------------------------------------------------------- tests

  @Test
  @DisplayName(
      "one coordinator keeps the configuration in ZooKeeper (no membership file); a restarted one"
          + " resumes it with the next epoch")
  void keepsTheConfigurationInZooKeeper() throws Exception {
    FakeNode n1 = new FakeNode();
    FakeNode n2 = new FakeNode();
    ChainConfig before;
    try (CoordinatorServer first = startCoordinator()) {
      assertEquals(1, awaitLeading(first).epoch(), "an empty chain, taken over: epoch 1");
      join(first, "n1", n1);
      before = join(first, "n2", n2).config();
      assertEquals(List.of("n1", "n2"), ids(before));
      assertEquals(before, readZnode().config());
      assertArrayEquals(
          ZooKeeperConfigStore.MARKER_TEXT.getBytes(StandardCharsets.UTF_8),
          inspector.getData().forPath(ZooKeeperConfigStore.ROOT));
      assertEquals(before, first.config());
    }
    assertFalse(Files.exists(dir.resolve("unused")), "the data directory is unused");
    try (CoordinatorServer second = startCoordinator()) {
      ChainConfig resumed = awaitLeading(second);
      assertEquals(before.epoch() + 1, resumed.epoch());
      assertEquals(before.members(), resumed.members());
      await().atMost(WAIT).untilAsserted(() -> assertEquals(resumed, readZnode().config()));
    }
    n1.assertOneConfigurationPerEpoch();
  }

  @Test
  @DisplayName(
      "of three coordinators exactly one leads; the standbys answer every request NOT_LEADER with"
          + " its address")
  void oneLeadsTheOthersRedirect() throws Exception {
    List<CoordinatorServer> all =
        List.of(startCoordinator(), startCoordinator(), startCoordinator());
    CoordinatorServer leader =
        await()
            .atMost(WAIT)
            .until(
                () -> {
                  List<CoordinatorServer> leading =
                      all.stream().filter(CoordinatorServer::leading).toList();
                  return leading.size() == 1 ? leading.get(0) : null;
                },
                Objects::nonNull);
    awaitLeading(leader);
    FakeNode node = new FakeNode();
    for (CoordinatorServer standby : all) {
      if (standby == leader) {
        continue;
      }
      awaitRedirects(standby, leader);
      for (Message message :
          List.of(
              new JoinRequest("n1", node.address(), -1, 1),
              new Heartbeat("n1", 1, 1, true),
              new WriteRequest("k", new byte[] {1}, false, Message.ANY_VERSION))) {
        ErrorReply reply = assertInstanceOf(ErrorReply.class, request(standby, message));
        assertEquals(ErrorCode.NOT_LEADER, reply.code(), message.toString());
        assertEquals(leader.listenAddress(), reply.hint(), message.toString());
      }
    }
    assertEquals(1, all.stream().filter(CoordinatorServer::leading).count());
    assertTrue(node.pushes.isEmpty(), "a standby pushed: " + node.pushes);
  }

  @Test
  @DisplayName("closing the leader: a standby takes over with the next epoch at once")
  void closedLeaderIsReplaced() throws Exception {
    Pair pair = leaderAndStandby(zooKeeper.getConnectString() + CHROOT);
    long start = System.nanoTime();
    pair.leader().close();
    FakeNode.Push push = awaitTakeover(pair);
    recordTakeover("closing the leader", TimeUnit.NANOSECONDS.toMillis(push.nanos() - start));
    pair.node().assertOneConfigurationPerEpoch();
  }

  @Test
  @DisplayName(
      "the leader's session expires (KillSession): a standby takes over with the next epoch and"
          + " the old leader redirects to it")
  void expiredSessionIsReplaced() throws Exception {
    Pair pair = leaderAndStandby(zooKeeper.getConnectString() + CHROOT);
    long start = System.nanoTime();
    KillSession.kill(
        ((ZooKeeperConfigStore) pair.leader().storeForTest())
            .client()
            .getZookeeperClient()
            .getZooKeeper());
    FakeNode.Push push = awaitTakeover(pair);
    recordTakeover(
        "expiring the leader's session", TimeUnit.NANOSECONDS.toMillis(push.nanos() - start));
    awaitRedirects(pair.leader(), pair.standby());
    pair.node().assertOneConfigurationPerEpoch();
  }

  @Test
  @DisplayName(
      "the leader dies without a word (kill -9: loop stopped, cut from ZooKeeper): a standby takes"
          + " over once ZooKeeper expires the session")
  void crashedLeaderIsReplaced() throws Exception {
    try (TcpProxy proxy = new TcpProxy(zooKeeper.getPort())) {
      Pair pair = leaderAndStandby(proxy.address() + CHROOT);
      long start = System.nanoTime();
      pair.leader().haltForTest();
      proxy.cut();
      FakeNode.Push push = awaitTakeover(pair);
      recordTakeover("a crash of the leader", TimeUnit.NANOSECONDS.toMillis(push.nanos() - start));
      pair.node().assertOneConfigurationPerEpoch();
    }
  }

  @Test
  @DisplayName(
      "a leader paused past its session wakes with a join queued: it writes nothing, pushes"
          + " nothing, and redirects to the new leader")
  void pausedLeaderWakesDeposed() throws Exception {
    try (TcpProxy proxy = new TcpProxy(zooKeeper.getPort())) {
      Pair pair = leaderAndStandby(proxy.address() + CHROOT);
      Runnable resume = pair.leader().pauseForTest();
      proxy.cut();
      FakeNode.Push push = awaitTakeover(pair);
      Znode afterTakeover = readZnode();

      FakeNode late = new FakeNode();
      CompletableFuture<Message> queued =
          send(pair.leader(), new JoinRequest("n9", late.address(), -1, 1));
      await().atMost(WAIT).until(() -> pair.leader().queuedForTest() > 0);
      proxy.restore();
      resume.run();
      Message answer;
      try {
        answer = queued.get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        answer = null; // dropped: the write could not be made durable
      }
      log.info("the woken leader answered the queued join with {}", answer);
      assertFalse(answer instanceof HeartbeatReply, "the deposed leader admitted n9: " + answer);
      awaitRedirects(pair.leader(), pair.standby());

      Znode now = readZnode();
      assertEquals(afterTakeover, now, "the deposed leader wrote to ZooKeeper");
      assertEquals(push.config(), now.config());
      assertFalse(now.config().contains("n9"));
      assertTrue(late.pushes.isEmpty(), "the deposed leader pushed to n9: " + late.pushes);
      pair.node().assertOneConfigurationPerEpoch();
    }
  }

  @Test
  @DisplayName(
      "another coordinator's write fences the leader: its conditional write is refused, it sends"
          + " nothing of it and stands by; the next leader takes over from what was written")
  void conditionalWriteRefused() throws Exception {
    Pair pair = leaderAndStandby(zooKeeper.getConnectString() + CHROOT);
    Znode before = readZnode();
    Runnable resume = pair.leader().pauseForTest();
    // What a coordinator elected meanwhile would write: a later epoch, same members.
    ChainConfig written = new ChainConfig(pair.config().epoch() + 5, pair.config().members());
    ChainMap writtenMap = before.map().withChain(0, written);
    writtenMap =
        new ChainMap(
            writtenMap.version() + 5,
            writtenMap.replicas(),
            writtenMap.chains(),
            writtenMap.pool());
    inspector
        .setData()
        .withVersion(before.version())
        .forPath(
            ZooKeeperConfigStore.CONFIG,
            MembershipFile.encode(writtenMap).getBytes(StandardCharsets.UTF_8));
    FakeNode late = new FakeNode();
    CompletableFuture<Message> queued =
        send(pair.leader(), new JoinRequest("n9", late.address(), -1, 1));
    await().atMost(WAIT).until(() -> pair.leader().queuedForTest() > 0);
    resume.run();
    Message answer;
    try {
      answer = queued.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      answer = null;
    }
    assertFalse(answer instanceof HeartbeatReply, "the fenced leader admitted n9: " + answer);
    // It stepped down; the standby leads from what was written.
    awaitRedirects(pair.leader(), pair.standby());
    ChainConfig next =
        await()
            .atMost(WAIT)
            .ignoreExceptions()
            .until(() -> readZnode().config(), c -> c.epoch() > written.epoch());
    assertEquals(written.epoch() + 1, next.epoch());
    assertEquals(written.members(), next.members());
    assertTrue(late.pushes.isEmpty(), "the fenced leader pushed to n9: " + late.pushes);
    for (FakeNode.Push push : pair.node().pushes) {
      assertFalse(push.config().contains("n9"), "a configuration with n9 was pushed: " + push);
    }
    pair.node().assertOneConfigurationPerEpoch();
  }

  @Test
  @DisplayName(
      "ZooKeeper down for less than the lease: the leader answers heartbeats with the same"
          + " configuration, refuses joins UNAVAILABLE, and takes over again when it returns")
  void ridesOutAZooKeeperOutage() throws Exception {
    CoordinatorServer leader = startCoordinator();
    awaitLeading(leader);
    FakeNode n1 = new FakeNode();
    FakeNode n2 = new FakeNode();
    ChainConfig config = join(leader, "n1", n1).config();

    long start = System.nanoTime();
    zooKeeper.stop();
    ErrorReply refused =
        await()
            .atMost(WAIT)
            .until(
                () ->
                    request(leader, new JoinRequest("n2", n2.address(), -1, 1))
                            instanceof ErrorReply e
                        ? e
                        : null,
                Objects::nonNull);
    assertEquals(ErrorCode.UNAVAILABLE, refused.code(), refused.toString());
    HeartbeatReply heartbeat =
        assertInstanceOf(
            HeartbeatReply.class, request(leader, new Heartbeat("n1", config.epoch(), 7, true)));
    assertTrue(heartbeat.member());
    assertEquals(config, heartbeat.config());
    assertEquals(
        config, assertInstanceOf(ChainReply.class, request(leader, new ChainRequest())).config());
    long frozenMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    zooKeeper.restart();
    log.info("ZooKeeper was down for {} ms", frozenMillis);

    ChainConfig resumed =
        await()
            .atMost(WAIT)
            .ignoreExceptions()
            .until(() -> readZnode().config(), c -> c.epoch() > config.epoch());
    assertEquals(config.epoch() + 1, resumed.epoch());
    assertEquals(config.members(), resumed.members());
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(() -> {
          HeartbeatReply again =
              assertInstanceOf(
                  HeartbeatReply.class,
                  request(leader, new Heartbeat("n1", resumed.epoch(), 8, true)));
          assertEquals(resumed, again.config());
        });
    assertNotNull(join(leader, "n2", n2), "joins are admitted again");
    n1.assertOneConfigurationPerEpoch();
  }

  @Test
  @DisplayName(
      "a configuration znode that does not parse at takeover: every coordinator stops without"
          + " writing")
  void unparsableConfigurationAtTakeover() throws Exception {
    Pair pair = leaderAndStandby(zooKeeper.getConnectString() + CHROOT);
    Znode before = readZnode();
    byte[] garbage = "not a configuration\n".getBytes(StandardCharsets.UTF_8);
    inspector.setData().withVersion(before.version()).forPath(ZooKeeperConfigStore.CONFIG, garbage);
    for (CoordinatorServer coordinator : List.of(pair.leader(), pair.standby())) {
      Throwable failure = coordinator.terminated().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      ConfigStoreException stopped = assertInstanceOf(ConfigStoreException.class, failure);
      assertTrue(stopped.getMessage().contains("does not parse"), stopped.getMessage());
    }
    Stat stat = new Stat();
    assertArrayEquals(
        garbage, inspector.getData().storingStatIn(stat).forPath(ZooKeeperConfigStore.CONFIG));
    assertEquals(before.version() + 1, stat.getVersion(), "written after the garbage");
  }
}

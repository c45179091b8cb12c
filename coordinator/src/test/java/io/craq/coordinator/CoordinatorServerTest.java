package io.craq.coordinator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.transport.Server;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator driver over TCP on 127.0.0.1, with hand-written fake nodes. */
class CoordinatorServerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final Transport client = new TcpTransport();
  private final Transport fakeNodes = new TcpTransport();

  @AfterEach
  void closeTransports() {
    client.close();
    fakeNodes.close();
  }

  /** Failure timeout of a minute: fake nodes send no heartbeats and must stay members. */
  private CoordinatorServer startCoordinator() {
    return CoordinatorServer.start(
        CoordinatorServerSettings.defaults("127.0.0.1:0", dir)
            .withFailureTimeoutMillis(60_000)
            .withForwardTimeout(Duration.ofMillis(500)),
        new TcpTransport());
  }

  private Message request(String address, Message message) throws Exception {
    return client
        .connect(address)
        .request(message, Duration.ofSeconds(10))
        .get(15, TimeUnit.SECONDS);
  }

  /** A coordinator of {@code chains} chains of {@code replicas} members. */
  private CoordinatorServer startCoordinator(int chains, int replicas) {
    return CoordinatorServer.start(
        CoordinatorServerSettings.defaults("127.0.0.1:0", dir)
            .withFailureTimeoutMillis(60_000)
            .withForwardTimeout(Duration.ofMillis(500))
            .withChains(chains, replicas),
        new TcpTransport());
  }

  /** A node registering with the pool: answered with the map. */
  private MapReply hello(CoordinatorServer coordinator, String id, String address)
      throws Exception {
    return assertInstanceOf(
        MapReply.class, request(coordinator.listenAddress(), new NodeHello(id, address, 1, 0)));
  }

  /** A key of each chain of a cluster of {@code chains}, by chain. */
  private static List<String> keyPerChain(int chains) {
    String[] keys = new String[chains];
    for (int i = 0, found = 0; found < chains; i++) {
      String key = "key-" + i;
      int chain = KeySlots.chainOf(key, chains);
      if (keys[chain] == null) {
        keys[chain] = key;
        found++;
      }
    }
    return List.of(keys);
  }

  /**
   * A fake node numbered {@code number}: answers writes with that number as the version, a chain's
   * read-all with nothing, and records what it received.
   */
  private Server numberedNode(long number, List<Message> received) {
    return fakeNodes.listen(
        "127.0.0.1:0",
        (message, responder) -> {
          received.add(message);
          if (message instanceof WriteRequest write) {
            responder.reply(new WriteReply(write.key(), number));
          } else if (message instanceof Chained chained
              && chained.message() instanceof ReadAllRequest) {
            responder.reply(new ReadAllReply(List.of(), false));
          }
        });
  }

  private HeartbeatReply join(CoordinatorServer coordinator, String id, String address)
      throws Exception {
    return assertInstanceOf(
        HeartbeatReply.class,
        request(coordinator.listenAddress(), new JoinRequest(id, address, -1, 1)));
  }

  @Test
  @DisplayName("a configuration is on disk before any node is told about it")
  void persistsBeforePush() throws Exception {
    List<long[]> pushes = new CopyOnWriteArrayList<>(); // {pushed epoch, epoch on disk then}
    Server node =
        fakeNodes.listen(
            "127.0.0.1:0",
            (message, responder) -> {
              if (message instanceof Chained chained
                  && chained.message() instanceof ConfigPush push) {
                pushes.add(
                    new long[] {
                      push.config().epoch(), new MembershipFile(dir).read().chain(0).epoch()
                    });
              }
            });
    try (CoordinatorServer coordinator = startCoordinator()) {
      HeartbeatReply reply = join(coordinator, "n1", node.address());
      assertTrue(reply.member());
      await().atMost(WAIT).until(() -> !pushes.isEmpty());
      for (long[] push : pushes) {
        assertTrue(push[1] >= push[0], "pushed epoch " + push[0] + " but disk had " + push[1]);
      }
      assertEquals(reply.config().epoch(), new MembershipFile(dir).read().chain(0).epoch());
    }
  }

  @Test
  @DisplayName("a restarted coordinator resumes the same chain and epoch from its file")
  void restartResumes() throws Exception {
    Server n1 = fakeNodes.listen("127.0.0.1:0", (m, r) -> {});
    Server n2 = fakeNodes.listen("127.0.0.1:0", (m, r) -> {});
    ChainConfig before;
    try (CoordinatorServer coordinator = startCoordinator()) {
      join(coordinator, "n1", n1.address());
      before = join(coordinator, "n2", n2.address()).config();
      assertEquals(2, before.size());
    }
    try (CoordinatorServer restarted = startCoordinator()) {
      ChainReply chain =
          assertInstanceOf(
              ChainReply.class, request(restarted.listenAddress(), new ChainRequest()));
      assertEquals(before, chain.config());
    }
  }

  @Test
  @DisplayName("a write with no chain is refused UNAVAILABLE")
  void writeWithoutChain() throws Exception {
    try (CoordinatorServer coordinator = startCoordinator()) {
      ErrorReply reply =
          assertInstanceOf(
              ErrorReply.class,
              request(
                  coordinator.listenAddress(),
                  new WriteRequest("k", new byte[] {1}, false, Message.ANY_VERSION)));
      assertEquals(ErrorCode.UNAVAILABLE, reply.code());
      assertTrue(reply.message().contains("no nodes"), reply.message());
    }
  }

  @Test
  @DisplayName("writes are forwarded to the head and its answer relayed; no answer is AMBIGUOUS")
  void writeForwardedToHead() throws Exception {
    Server head =
        fakeNodes.listen(
            "127.0.0.1:0",
            (message, responder) -> {
              if (message instanceof WriteRequest write && write.key().equals("ok")) {
                responder.reply(new WriteReply("ok", 7));
              } // "silent" is never answered
            });
    try (CoordinatorServer coordinator = startCoordinator()) {
      join(coordinator, "head", head.address());
      Message ok =
          request(
              coordinator.listenAddress(),
              new WriteRequest("ok", new byte[] {1}, false, Message.ANY_VERSION));
      assertEquals(new WriteReply("ok", 7), ok);
      ErrorReply silent =
          assertInstanceOf(
              ErrorReply.class,
              request(
                  coordinator.listenAddress(),
                  new WriteRequest("silent", new byte[] {1}, false, Message.ANY_VERSION)));
      assertEquals(ErrorCode.AMBIGUOUS, silent.code());
    }
  }

  @Test
  @DisplayName("a write to a head that cannot be reached is a definite UNAVAILABLE")
  void unreachableHeadIsDefinite() throws Exception {
    Server gone = fakeNodes.listen("127.0.0.1:0", (m, r) -> {});
    String address = gone.address();
    try (CoordinatorServer coordinator = startCoordinator()) {
      join(coordinator, "head", address);
      gone.close();
      ErrorReply reply =
          assertInstanceOf(
              ErrorReply.class,
              request(
                  coordinator.listenAddress(),
                  new WriteRequest("k", new byte[] {1}, false, Message.ANY_VERSION)));
      assertTrue(
          reply.code() == ErrorCode.UNAVAILABLE || reply.code() == ErrorCode.AMBIGUOUS,
          reply.toString());
    }
  }

  @Test
  @DisplayName(
      "a node that says hello joins the pool and is placed in the one chain: the map is stored, then"
          + " pushed to it in the chain's envelope")
  void helloPlacesInTheOneChain() throws Exception {
    List<Message> received = new CopyOnWriteArrayList<>();
    Server node = numberedNode(1, received);
    try (CoordinatorServer coordinator = startCoordinator()) {
      MapReply first = hello(coordinator, "n1", node.address());
      assertEquals(1, first.map().chainCount());
      assertEquals("n1", first.map().pool().get(0).id());
      await().atMost(WAIT).until(() -> coordinator.config().contains("n1"));
      await()
          .atMost(WAIT)
          .until(() ->
              received.stream()
                  .anyMatch(m ->
                      m instanceof Chained chained
                          && chained.chain() == 0
                          && chained.message() instanceof ConfigPush push
                          && push.config().contains("n1")));
      ChainMap stored = new MembershipFile(dir).read();
      assertTrue(stored.chain(0).contains("n1"), stored.toString());
      assertEquals("n1", stored.pool().get(0).id());
    }
  }

  @Test
  @DisplayName(
      "with several chains, a write goes to the head of its key's chain; a read of every key must"
          + " name its chain, and goes to a member of it")
  void forwardsByChain() throws Exception {
    List<Message> received1 = new CopyOnWriteArrayList<>();
    List<Message> received2 = new CopyOnWriteArrayList<>();
    Server n1 = numberedNode(1, received1);
    Server n2 = numberedNode(2, received2);
    try (CoordinatorServer coordinator = startCoordinator(2, 2)) {
      // Nodes say hello every heartbeat interval; a new cluster is laid out once no new node
      // has for a failure timeout.
      await()
          .atMost(WAIT)
          .until(() -> {
            hello(coordinator, "n1", n1.address());
            hello(coordinator, "n2", n2.address());
            return coordinator.map().chains().stream().allMatch(c -> c.size() == 2);
          });
      ChainMap map = coordinator.map();
      assertNotEquals(
          map.chain(0).head().id(),
          map.chain(1).head().id(),
          "set-up: the heads differ, so a write sent to the wrong one shows");
      List<String> keys = keyPerChain(2);
      for (int c = 0; c < 2; c++) {
        WriteReply written =
            assertInstanceOf(
                WriteReply.class,
                request(
                    coordinator.listenAddress(),
                    new WriteRequest(keys.get(c), new byte[] {1}, false, Message.ANY_VERSION)));
        assertEquals(map.chain(c).head().id(), "n" + written.version(), "the head of chain " + c);
      }

      ErrorReply unnamed =
          assertInstanceOf(
              ErrorReply.class, request(coordinator.listenAddress(), new ReadAllRequest("", 10)));
      assertEquals(ErrorCode.INVALID_REQUEST, unnamed.code());
      assertTrue(unnamed.message().contains("name a chain"), unnamed.message());
      ErrorReply noSuchChain =
          assertInstanceOf(
              ErrorReply.class,
              request(coordinator.listenAddress(), new Chained(5, new ReadAllRequest("", 10))));
      assertEquals(ErrorCode.INVALID_REQUEST, noSuchChain.code());
      assertTrue(noSuchChain.message().contains("no chain 5"), noSuchChain.message());

      assertEquals(
          new ReadAllReply(List.of(), false),
          request(coordinator.listenAddress(), new Chained(1, new ReadAllRequest("", 10))));
      long forwarded =
          java.util.stream.Stream.concat(received1.stream(), received2.stream())
              .filter(m ->
                  m instanceof Chained chained
                      && chained.chain() == 1
                      && chained.message() instanceof ReadAllRequest)
              .count();
      assertEquals(1, forwarded, "the read-all reached a node in its envelope");
    }
  }

  @Test
  @DisplayName(
      "a restarted coordinator keeps the map; another --replicas is adopted, another --chains"
          + " refused")
  void restartKeepsTheMap() throws Exception {
    Server n1 = fakeNodes.listen("127.0.0.1:0", (m, r) -> {});
    Server n2 = fakeNodes.listen("127.0.0.1:0", (m, r) -> {});
    ChainMap before;
    try (CoordinatorServer coordinator = startCoordinator(2, 2)) {
      // Nodes say hello every heartbeat interval; a new cluster is laid out once no new node
      // has for a failure timeout.
      await()
          .atMost(WAIT)
          .until(() -> {
            hello(coordinator, "n1", n1.address());
            hello(coordinator, "n2", n2.address());
            return coordinator.map().chains().stream().allMatch(c -> c.size() == 2);
          });
      coordinator.close();
      before = coordinator.map();
    }
    try (CoordinatorServer restarted = startCoordinator(2, 2)) {
      assertEquals(before, restarted.map());
      MapReply reply =
          assertInstanceOf(
              MapReply.class, request(restarted.listenAddress(), new Message.MapRequest()));
      assertEquals(before.chains(), reply.map().chains());
    }
    try (CoordinatorServer adopted = startCoordinator(2, 1)) {
      assertEquals(1, adopted.map().replicas());
      assertEquals(before.chains(), adopted.map().chains());
      assertEquals(before.pool(), adopted.map().pool());
    }
    ChainCountException refused =
        assertThrows(ChainCountException.class, () -> startCoordinator(3, 2));
    assertTrue(refused.getMessage().contains("has 2 chains but --chains is 3"));
    assertEquals(before.chains(), new MembershipFile(dir).read().chains());
  }
}

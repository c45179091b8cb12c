package io.craq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import io.craq.store.Batch;
import io.craq.store.BatchResult;
import io.craq.store.LmdbStorer;
import io.craq.store.MemoryStorer;
import io.craq.store.StoreException;
import io.craq.store.StoreFullException;
import io.craq.transport.Connection;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The node driver wired to a real coordinator over TCP on 127.0.0.1, in one JVM. */
class NodeServerTest {
  @TempDir Path dir;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static WriteRequest write(String key, String value) {
    return new WriteRequest(key, bytes(value), false, Message.ANY_VERSION);
  }

  private static ReadRequest strongRead(String key) {
    return new ReadRequest(key, ReadMode.STRONG, 0);
  }

  @Test
  @DisplayName(
      "three nodes form a chain; a write through the coordinator commits and every "
          + "node returns it to a strong read")
  void chainFormsWriteCommitsStrongReadsEverywhere() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      for (String id : List.of("n1", "n2", "n3")) {
        cluster.startMemoryNode(id);
      }
      ChainConfig config = cluster.awaitChain(3);

      Message written =
          cluster.request(cluster.coordinator.listenAddress(), write("hello", "world"));
      WriteReply reply = assertInstanceOf(WriteReply.class, written);
      assertEquals(1, reply.version());
      Message direct = cluster.request(config.head().address(), write("hello", "again"));
      assertEquals(2, assertInstanceOf(WriteReply.class, direct).version());

      for (Member member : config.members()) {
        ReadReply read =
            assertInstanceOf(
                ReadReply.class, cluster.request(member.address(), strongRead("hello")));
        assertTrue(read.found(), member.id());
        assertEquals(2, read.version(), member.id());
        assertEquals("again", new String(read.value(), StandardCharsets.UTF_8), member.id());
      }
      assertEquals(config.epoch(), cluster.chainFrom(config.tail().address()).epoch());
    }
  }

  @Test
  @DisplayName(
      "a request made inside the node process is answered like one over a connection: the tail"
          + " reads, the middle refuses a write with the head's address")
  void inProcessRequests() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      List<NodeServer> nodes = new ArrayList<>();
      for (String id : List.of("n1", "n2", "n3")) {
        nodes.add(cluster.startMemoryNode(id));
      }
      ChainConfig config = cluster.awaitChain(3);
      NodeServer head = serverAt(nodes, config.head().address());
      NodeServer middle = serverAt(nodes, config.members().get(1).address());
      NodeServer tail = serverAt(nodes, config.tail().address());

      WriteReply written =
          assertInstanceOf(
              WriteReply.class, head.request(write("inside", "yes")).get(10, TimeUnit.SECONDS));
      ReadReply read =
          assertInstanceOf(
              ReadReply.class, tail.request(strongRead("inside")).get(10, TimeUnit.SECONDS));
      assertEquals(written.version(), read.version());
      assertEquals("yes", new String(read.value(), StandardCharsets.UTF_8));
      ErrorReply refused =
          assertInstanceOf(
              ErrorReply.class, middle.request(write("inside", "no")).get(10, TimeUnit.SECONDS));
      assertEquals(ErrorCode.NOT_HEAD, refused.code());
      assertEquals(config.head().address(), refused.hint());
    }
  }

  @Test
  @DisplayName(
      "increments and appends on a 3-node chain: through the coordinator and at the head, 200"
          + " concurrent increments over 4 connections return 1..200 exactly once each and every"
          + " member then reads 200; a non-integer is refused, the middle refuses with the head's"
          + " address")
  void incrementsAndAppendsOnAChain() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      for (String id : List.of("n1", "n2", "n3")) {
        cluster.startMemoryNode(id);
      }
      ChainConfig config = cluster.awaitChain(3);
      String head = config.head().address();

      Message.UpdateReply viaCoordinator =
          assertInstanceOf(
              Message.UpdateReply.class,
              cluster.request(
                  cluster.coordinator.listenAddress(),
                  new Message.AppendRequest("log", bytes("ab"))));
      assertEquals(2, viaCoordinator.result());
      assertEquals(
          5,
          assertInstanceOf(
                  Message.UpdateReply.class,
                  cluster.request(head, new Message.AppendRequest("log", bytes("cde"))))
              .result());

      List<Connection> connections = new ArrayList<>();
      List<CompletableFuture<Message>> answers = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        connections.add(new TcpTransport().connect(head));
      }
      for (int i = 0; i < 200; i++) {
        answers.add(
            connections
                .get(i % 4)
                .request(new Message.IncrementRequest("hits", 1), Duration.ofSeconds(20)));
      }
      List<Long> results = new ArrayList<>();
      for (CompletableFuture<Message> answer : answers) {
        results.add(
            assertInstanceOf(Message.UpdateReply.class, answer.get(30, TimeUnit.SECONDS)).result());
      }
      Collections.sort(results);
      assertEquals(java.util.stream.LongStream.rangeClosed(1, 200).boxed().toList(), results);
      for (Member member : config.members()) {
        ReadReply read =
            assertInstanceOf(
                ReadReply.class, cluster.request(member.address(), strongRead("hits")));
        assertEquals("200", new String(read.value(), StandardCharsets.UTF_8), member.id());
        ReadReply log =
            assertInstanceOf(ReadReply.class, cluster.request(member.address(), strongRead("log")));
        assertEquals("abcde", new String(log.value(), StandardCharsets.UTF_8), member.id());
      }
      ErrorReply notInteger =
          assertInstanceOf(
              ErrorReply.class, cluster.request(head, new Message.IncrementRequest("log", 1)));
      assertEquals(ErrorCode.NOT_AN_INTEGER, notInteger.code());
      ErrorReply notHead =
          assertInstanceOf(
              ErrorReply.class,
              cluster.request(
                  config.members().get(1).address(), new Message.IncrementRequest("hits", 1)));
      assertEquals(ErrorCode.NOT_HEAD, notHead.code());
      assertEquals(head, notHead.hint());
      for (Connection connection : connections) {
        connection.close();
      }
    }
  }

  private static NodeServer serverAt(List<NodeServer> nodes, String address) {
    return nodes.stream()
        .filter(n -> n.publicAddress().equals(address))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no node at " + address));
  }

  @Test
  @DisplayName(
      "a node answers a map request with the map it knows and a chain's request in its envelope;"
          + " it refuses what is not for it, and drops a peer message that names no chain")
  void mapAndEnvelopes() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node = cluster.startMemoryNode("n1");
      ChainConfig config = cluster.awaitChain(1);

      // The node learns the map from the answers to its hellos, so it may lag a little.
      MapReply map =
          await()
              .atMost(TestCluster.WAIT)
              .until(
                  () ->
                      assertInstanceOf(
                          MapReply.class, cluster.request(node.publicAddress(), new MapRequest())),
                  m -> m.map().chain(0).contains("n1"));
      assertEquals(List.of("n1"), map.map().pool().stream().map(PoolNode::id).toList());
      ChainReply chain =
          assertInstanceOf(
              ChainReply.class,
              cluster.request(node.publicAddress(), new Chained(0, new ChainRequest())));
      assertEquals(config.members(), chain.config().members());
      ErrorReply hello =
          assertInstanceOf(
              ErrorReply.class,
              cluster.request(node.publicAddress(), new NodeHello("x", "127.0.0.1:1", 1, 0)));
      assertEquals(ErrorCode.UNSUPPORTED, hello.code());

      // A push that would take n1 out of its chain, sent bare: dropped. The write after it on the
      // same connection is queued behind it, and still finds n1 a member.
      ConfigPush removal = new ConfigPush(new ChainConfig(config.epoch() + 100, List.of()));
      try (Transport peer = new TcpTransport()) {
        Connection connection = peer.connect(node.publicAddress());
        connection.send(removal);
        assertInstanceOf(
            WriteReply.class,
            connection.request(write("after", "ok"), TestCluster.REQUEST_TIMEOUT).get());
        // The same push in its chain's envelope is taken (so the bare one would have shown).
        connection.send(new Chained(0, removal));
        ErrorReply refused =
            assertInstanceOf(
                ErrorReply.class,
                connection.request(write("after", "no"), TestCluster.REQUEST_TIMEOUT).get());
        assertEquals(ErrorCode.WRONG_CHAIN, refused.code());
      }
    }
  }

  @Test
  @DisplayName("a node restarted on the same LMDB directory keeps its committed data")
  void restartKeepsCommittedData() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      Path db = dir.resolve("n1.db");
      NodeServer first = cluster.startNode("n1", LmdbStorer.open(LmdbStorer.Config.defaults(db)));
      cluster.awaitChain(1);
      assertInstanceOf(
          WriteReply.class, cluster.request(first.publicAddress(), write("durable", "yes")));
      first.close();

      // The only member is never failed out (it holds the data), so the same id re-joins with a
      // new incarnation and must serve what its store kept: nobody else has it.
      NodeServer second = cluster.startNode("n1", LmdbStorer.open(LmdbStorer.Config.defaults(db)));
      await()
          .atMost(TestCluster.WAIT)
          .until(() ->
              cluster.request(second.publicAddress(), strongRead("durable")) instanceof ReadReply);
      ReadReply read =
          assertInstanceOf(
              ReadReply.class, cluster.request(second.publicAddress(), strongRead("durable")));
      assertTrue(read.found());
      assertEquals("yes", new String(read.value(), StandardCharsets.UTF_8));
      assertEquals(1, read.version());
    }
  }

  @Test
  @DisplayName(
      "parallel persistence: a version may be forwarded before it is durable, but it is "
          + "passed on as durable, committed and acknowledged only after; commit markers are "
          + "written without a log force of their own")
  void durableBeforeCommit() throws Exception {
    List<String> headEvents = Collections.synchronizedList(new ArrayList<>());
    List<String> tailEvents = Collections.synchronizedList(new ArrayList<>());
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer head =
          cluster.startNode(
              cluster.settings("h"),
              recording(headEvents),
              new RecordingTransport(new TcpTransport(), headEvents),
              System::nanoTime);
      cluster.awaitChain(1);
      cluster.startNode(
          cluster.settings("t"),
          recording(tailEvents),
          new RecordingTransport(new TcpTransport(), tailEvents),
          System::nanoTime);
      ChainConfig config = cluster.awaitChain(2);
      assertEquals("h", config.head().id());

      assertInstanceOf(WriteReply.class, cluster.request(head.publicAddress(), write("pbs", "v")));

      assertBefore(headEvents, "persist dirty pbs@1", "send durable pbs@1");
      assertBefore(headEvents, "persist dirty pbs@1", "reply write pbs@1");
      // Commit markers ride on the next log force (see Effects): no sync of their own.
      await()
          .atMost(TestCluster.WAIT)
          .until(() -> headEvents.contains("persist commit pbs@1 without sync"));
      assertBefore(tailEvents, "persist dirty pbs@1", "send commit pbs@1");
      assertTrue(tailEvents.contains("persist commit pbs@1 without sync"), tailEvents.toString());
      assertBefore(tailEvents, "receive durable pbs@1", "send commit pbs@1");
    }
  }

  private static void assertBefore(List<String> events, String first, String second) {
    List<String> copy;
    synchronized (events) {
      copy = new ArrayList<>(events);
    }
    int a = copy.indexOf(first);
    int b = copy.indexOf(second);
    assertTrue(a >= 0, "missing '" + first + "' in " + copy);
    assertTrue(b >= 0, "missing '" + second + "' in " + copy);
    assertTrue(a < b, "'" + first + "' must precede '" + second + "' in " + copy);
  }

  /**
   * A memory store that logs each operation after the batch holding it was applied, marking those
   * applied without a sync.
   */
  private static WrappedStorer recording(List<String> events) {
    return new WrappedStorer(new MemoryStorer()) {
      @Override
      public BatchResult apply(Batch batch) {
        return record(batch, "");
      }

      @Override
      public BatchResult applyWithoutSync(Batch batch) {
        return record(batch, " without sync");
      }

      private BatchResult record(Batch batch, String how) {
        BatchResult result = delegate.apply(batch);
        for (Batch.Op op : batch.ops()) {
          events.add(
              switch (op) {
                    case Batch.PutDirty p ->
                        "persist dirty " + p.record().key() + "@" + p.record().version();
                    case Batch.PutCommitted p ->
                        "persist committed " + p.record().key() + "@" + p.record().version();
                    case Batch.Commit c -> "persist commit " + c.key() + "@" + c.version();
                    case Batch.DiscardAllDirty d -> "persist discard";
                  }
                  + how);
        }
        return result;
      }
    };
  }

  @ParameterizedTest(name = "durable store (store thread): {0}")
  @ValueSource(booleans = {true, false})
  @DisplayName(
      "a failing store stops the node, and the write it could not persist is never "
          + "acknowledged (on the store thread of a durable store, or inline)")
  void storeFailureIsFatal(boolean durable) throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node =
          cluster.startNode(
              "n1",
              new WrappedStorer(new MemoryStorer()) {
                @Override
                public BatchResult apply(Batch batch) {
                  boolean boom =
                      batch.ops().stream().anyMatch(op -> op.toString().contains("boom"));
                  if (boom) {
                    throw new StoreException("disk on fire");
                  }
                  return delegate.apply(batch);
                }

                @Override
                public boolean durable() {
                  return durable;
                }
              });
      cluster.awaitChain(1);

      Connection connection = new TcpTransport().connect(node.publicAddress());
      CompletableFuture<Message> answer =
          connection.request(write("boom", "x"), Duration.ofSeconds(10));
      Throwable failure = node.terminated().get(20, TimeUnit.SECONDS);
      assertInstanceOf(StoreException.class, failure);
      node.close();
      Message reply = answer.handle((m, e) -> m).get(20, TimeUnit.SECONDS);
      assertTrue(!(reply instanceof WriteReply), "acknowledged an unpersisted write: " + reply);
      connection.close();
    }
  }

  @Test
  @DisplayName(
      "a full store does not stop the node: new writes are refused with a clear error, "
          + "reads go on, the write it could not store waits unacknowledged, and writing resumes "
          + "once the store has room")
  void fullStoreRefusesWritesUntilItHasRoom() throws Exception {
    AtomicBoolean full = new AtomicBoolean();
    AtomicBoolean oldCommitted = new AtomicBoolean();
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node =
          cluster.startNode(
              "n1",
              new WrappedStorer(new MemoryStorer()) {
                @Override
                public BatchResult apply(Batch batch) {
                  if (full.get()) {
                    throw new StoreFullException("no space left on the test's device", null);
                  }
                  BatchResult result = delegate.apply(batch);
                  if (batch.ops().stream()
                      .anyMatch(op -> op instanceof Batch.Commit c && c.key().equals("old"))) {
                    oldCommitted.set(true);
                  }
                  return result;
                }

                @Override
                public boolean durable() {
                  return true; // the store thread retries
                }
              });
      cluster.awaitChain(1);
      assertInstanceOf(WriteReply.class, cluster.request(node.publicAddress(), write("old", "v")));
      // Its commit marker is written lazily, after the answer: the store fills up only after it,
      // so that the next write is the first to meet the full store.
      await().atMost(TestCluster.WAIT).untilTrue(oldCommitted);

      full.set(true);
      Connection connection = new TcpTransport().connect(node.publicAddress());
      CompletableFuture<Message> stuck =
          connection.request(write("stuck", "x"), Duration.ofSeconds(30));
      await().atMost(TestCluster.WAIT).until(node::refusesWrites);
      ErrorReply refused =
          assertInstanceOf(
              ErrorReply.class, cluster.request(node.publicAddress(), write("refused", "y")));
      assertEquals(ErrorCode.UNAVAILABLE, refused.code());
      assertTrue(refused.message().contains("no space left"), refused.message());
      for (Message update :
          List.<Message>of(
              new Message.IncrementRequest("refused", 1),
              new Message.AppendRequest("refused", bytes("y")),
              new Message.MultiWriteRequest(List.of(write("refused", "y"))))) {
        ErrorReply alsoRefused =
            assertInstanceOf(ErrorReply.class, cluster.request(node.publicAddress(), update));
        assertEquals(ErrorCode.UNAVAILABLE, alsoRefused.code(), update.toString());
      }
      ReadReply read =
          assertInstanceOf(
              ReadReply.class, cluster.request(node.publicAddress(), strongRead("old")));
      assertEquals("v", new String(read.value(), StandardCharsets.UTF_8));
      assertTrue(
          !stuck.isDone(), "acknowledged a write the store could not hold: " + stuck.getNow(null));

      full.set(false);
      assertInstanceOf(WriteReply.class, stuck.get(20, TimeUnit.SECONDS));
      await().atMost(TestCluster.WAIT).until(() -> !node.refusesWrites());
      assertInstanceOf(WriteReply.class, cluster.request(node.publicAddress(), write("new", "z")));
      assertTrue(node.terminated().getNow(null) == null && !node.terminated().isDone());
      connection.close();
    }
  }

  @Test
  @DisplayName("a full input queue refuses requests with BUSY instead of growing")
  void fullInboxAnswersBusy() throws Exception {
    CountDownLatch blocked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean blockNext = new AtomicBoolean();
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node =
          cluster.startNode(
              cluster.settings("n1").withInboxMax(2),
              new WrappedStorer(new MemoryStorer()) {
                @Override
                public BatchResult apply(Batch batch) {
                  if (blockNext.getAndSet(false)) {
                    blocked.countDown();
                    awaitLatch(release);
                  }
                  return delegate.apply(batch);
                }
              });
      cluster.awaitChain(1);
      Connection connection = new TcpTransport().connect(node.publicAddress());
      blockNext.set(true);
      List<CompletableFuture<Message>> answers = new ArrayList<>();
      answers.add(connection.request(write("k0", "v"), Duration.ofSeconds(20)));
      assertTrue(blocked.await(20, TimeUnit.SECONDS), "the loop never reached the store");
      // Writes are persisted by the node's loop thread, never by the transport's event loop: the
      // transport keeps reading (here from another connection) while the store is stuck, and
      // answers BUSY once the queue is full.
      Connection other = new TcpTransport().connect(node.publicAddress());
      for (int i = 1; i <= 10; i++) {
        answers.add(other.request(write("k" + i, "v"), Duration.ofSeconds(20)));
      }
      await()
          .atMost(TestCluster.WAIT)
          .until(() ->
              answers.stream()
                  .anyMatch(
                      a -> a.getNow(null) instanceof ErrorReply e && e.code() == ErrorCode.BUSY));
      release.countDown();
      // The first write was accepted before the queue filled and still commits.
      assertInstanceOf(WriteReply.class, answers.get(0).get(20, TimeUnit.SECONDS));
      connection.close();
      other.close();
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("test latch never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  @DisplayName(
      "after a pause longer than the lease, the node catches its clock up before it "
          + "handles the next request, and refuses a strong read")
  void clockCatchesUpBeforeInput() throws Exception {
    AtomicLong offsetNanos = new AtomicLong();
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node =
          cluster.startNode(
              cluster.settings("n1"),
              new MemoryStorer(),
              new TcpTransport(),
              () -> System.nanoTime() + offsetNanos.get());
      cluster.awaitChain(1);
      assertInstanceOf(WriteReply.class, cluster.request(node.publicAddress(), write("k", "v")));
      cluster.coordinator.close(); // no more lease renewals

      offsetNanos.addAndGet(TimeUnit.SECONDS.toNanos(60)); // as if the node was frozen for 60 s
      Message reply = cluster.request(node.publicAddress(), strongRead("k"));
      ErrorReply refused = assertInstanceOf(ErrorReply.class, reply);
      assertEquals(ErrorCode.UNAVAILABLE, refused.code());
    }
  }
}

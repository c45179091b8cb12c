package io.craq.coordinator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
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
              if (message instanceof ConfigPush push) {
                pushes.add(
                    new long[] {push.config().epoch(), new MembershipFile(dir).read().epoch()});
              }
            });
    try (CoordinatorServer coordinator = startCoordinator()) {
      HeartbeatReply reply = join(coordinator, "n1", node.address());
      assertTrue(reply.member());
      await().atMost(WAIT).until(() -> !pushes.isEmpty());
      for (long[] push : pushes) {
        assertTrue(push[1] >= push[0], "pushed epoch " + push[0] + " but disk had " + push[1]);
      }
      assertEquals(reply.config().epoch(), new MembershipFile(dir).read().epoch());
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
}

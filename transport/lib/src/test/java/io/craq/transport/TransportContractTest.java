package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Transport} keeps, written once and run against each implementation (a
 * subclass supplies the transport and fresh addresses). Shipped in the transport test-jar.
 */
public abstract class TransportContractTest {
  protected static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** A new transport; the suite closes it after the test. */
  protected abstract Transport newTransport(TransportConfig config);

  /** An address to listen on that nothing else uses (port 0 is fine where supported). */
  protected abstract String freshListenAddress();

  /** An address where nothing listens. */
  protected abstract String deadAddress() throws Exception;

  protected Transport transport(TransportConfig config) {
    Transport transport = newTransport(config);
    toClose.add(transport);
    return transport;
  }

  protected Transport transport() {
    return transport(TransportConfig.DEFAULT);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** Answers every request with the request itself; records one-way messages. */
  protected static final class Echo implements Handler {
    final BlockingQueue<Message> oneWay = new LinkedBlockingQueue<>();

    @Override
    public void handle(Message message, Responder responder) {
      if (responder.expectsReply()) {
        responder.reply(message);
      } else {
        oneWay.add(message);
      }
    }
  }

  protected static Message await(CompletableFuture<Message> future) throws Exception {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  protected static Throwable failureOf(CompletableFuture<Message> future) throws Exception {
    try {
      Message m = future.get(30, TimeUnit.SECONDS);
      return fail("expected a failure, got " + m);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  protected static void waitUntil(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(5); // polling interval of a condition wait, not synchronisation by sleeping
    }
  }

  private static WriteRequest write(String key, int valueBytes) {
    return new WriteRequest(key, new byte[valueBytes], false, Message.ANY_VERSION);
  }

  @Test
  @DisplayName(
      "every message type travels as a request and comes back intact (AuthRequest is answered)")
  void everyMessageTypeRoundTrips() throws Exception {
    Server server = transport().listen(freshListenAddress(), new Echo());
    Connection connection = transport().connect(server.address());
    for (Message m : Samples.all()) {
      Message reply = await(connection.request(m, TIMEOUT));
      if (m instanceof Message.AuthRequest auth) {
        // Answered by the transport itself, never by the handler.
        assertEquals(new Message.AuthReply(auth.user(), "member"), reply);
        continue;
      }
      assertTrue(Samples.sameMessage(m, reply), () -> m + " came back as " + reply);
    }
  }

  @Test
  @DisplayName("one-way messages on one connection arrive in the order they were sent")
  void oneWayInOrder() throws Exception {
    Echo echo = new Echo();
    Server server = transport().listen(freshListenAddress(), echo);
    Connection connection = transport().connect(server.address());
    int count = 3000;
    for (int i = 0; i < count; i++) {
      connection.send(new Heartbeat("n", 1, i, true));
    }
    for (int i = 0; i < count; i++) {
      Message m = echo.oneWay.poll(20, TimeUnit.SECONDS);
      assertInstanceOf(Heartbeat.class, m, "message " + i);
      assertEquals(i, ((Heartbeat) m).seq(), "out of order");
    }
  }

  @Test
  @DisplayName("many pipelined requests on one connection each get their own reply")
  void pipelinedRepliesMatch() throws Exception {
    Server server = transport().listen(freshListenAddress(), new Echo());
    Connection connection = transport().connect(server.address());
    List<CompletableFuture<Message>> futures = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      futures.add(connection.request(new WriteReply("k" + i, i), TIMEOUT));
    }
    for (int i = 0; i < futures.size(); i++) {
      assertEquals(new WriteReply("k" + i, i), await(futures.get(i)));
    }
  }

  @Test
  @DisplayName("concurrent callers share one connection without mixing up replies")
  void concurrentCallers() throws Exception {
    Server server = transport().listen(freshListenAddress(), new Echo());
    Connection connection = transport().connect(server.address());
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        done.add(
            pool.submit(() -> {
              for (int i = 0; i < 300; i++) {
                WriteReply m = new WriteReply("t" + thread, i);
                assertEquals(m, await(connection.request(m, TIMEOUT)));
              }
              return null;
            }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName("a request without a reply fails with RequestTimeoutException after its timeout")
  void requestTimesOut() throws Exception {
    Server server =
        transport()
            .listen(
                freshListenAddress(),
                (m, responder) -> {
                  if (!(m instanceof ReadRequest r && r.key().equals("silent"))) {
                    responder.reply(m);
                  }
                });
    Connection connection = transport().connect(server.address());
    long start = System.nanoTime();
    Throwable failure =
        failureOf(
            connection.request(
                new ReadRequest("silent", ReadMode.STRONG, 0), Duration.ofMillis(300)));
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertInstanceOf(RequestTimeoutException.class, failure);
    assertTrue(elapsedMillis >= 290 && elapsedMillis < 10_000, "took " + elapsedMillis + " ms");
    Message ok = new ReadRequest("loud", ReadMode.STRONG, 0);
    assertEquals(ok, await(connection.request(ok, TIMEOUT)), "connection still works");
  }

  @Test
  @DisplayName("a handler may reply later from another thread")
  void asynchronousReply() throws Exception {
    BlockingQueue<Responder> held = new LinkedBlockingQueue<>();
    Server server = transport().listen(freshListenAddress(), (m, responder) -> held.add(responder));
    Connection connection = transport().connect(server.address());
    CompletableFuture<Message> first = connection.request(new WriteReply("a", 1), TIMEOUT);
    CompletableFuture<Message> second = connection.request(new WriteReply("b", 2), TIMEOUT);
    Responder r1 = held.poll(10, TimeUnit.SECONDS);
    Responder r2 = held.poll(10, TimeUnit.SECONDS);
    // Answer in the opposite order, from another thread.
    Thread.ofPlatform()
        .start(() -> {
          r2.reply(new WriteReply("b", 20));
          r1.reply(new WriteReply("a", 10));
        })
        .join();
    assertEquals(new WriteReply("a", 10), await(first));
    assertEquals(new WriteReply("b", 20), await(second));
    assertThrows(IllegalStateException.class, () -> r1.reply(new WriteReply("a", 11)));
  }

  @Test
  @DisplayName("after the peer restarts, the same Connection reconnects; in-flight requests fail")
  void reconnectAfterPeerRestart() throws Exception {
    Handler holdSilent =
        (m, responder) -> {
          if (!(m instanceof ReadRequest r && r.key().equals("hold"))) {
            responder.reply(m);
          }
        };
    Transport serverSide = transport();
    Server server = serverSide.listen(freshListenAddress(), holdSilent);
    String address = server.address();
    Connection connection = transport().connect(address);
    WriteReply ping = new WriteReply("ping", 1);
    assertEquals(ping, await(connection.request(ping, TIMEOUT)));
    CompletableFuture<Message> inFlight =
        connection.request(new ReadRequest("hold", ReadMode.STRONG, 0), TIMEOUT);
    server.close();
    assertInstanceOf(ConnectionClosedException.class, failureOf(inFlight));

    Server restarted = serverSide.listen(address, holdSilent);
    assertEquals(address, restarted.address());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        assertEquals(ping, await(connection.request(ping, TIMEOUT)));
        break;
      } catch (ConnectionClosedException | ConnectFailedException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  @Test
  @DisplayName("a value of valueBytesMax fits; a message over frameBytesMax is refused up front")
  void largeMessages() throws Exception {
    Server server = transport().listen(freshListenAddress(), new Echo());
    Connection connection = transport().connect(server.address());
    byte[] big = new byte[TransportConfig.DEFAULT.valueBytesMax()];
    new java.util.Random(7).nextBytes(big);
    WriteRequest large = new WriteRequest("big", big, false, Message.ANY_VERSION);
    for (int i = 0; i < 3; i++) {
      assertEquals(large, await(connection.request(large, TIMEOUT)));
    }
    WriteRequest tooLarge = write("huge", TransportConfig.DEFAULT.frameBytesMax());
    assertInstanceOf(
        MessageTooLargeException.class, failureOf(connection.request(tooLarge, TIMEOUT)));
    assertThrows(MessageTooLargeException.class, () -> connection.send(tooLarge));
    WriteReply ping = new WriteReply("ping", 1);
    assertEquals(ping, await(connection.request(ping, TIMEOUT)));
  }

  @Test
  @DisplayName("a full outbound queue rejects with QueueFullException instead of growing")
  void fullQueueRejects() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Server server =
        transport()
            .listen(
                freshListenAddress(),
                (m, responder) -> {
                  try {
                    release.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  if (responder.expectsReply()) {
                    responder.reply(m);
                  }
                });
    Connection connection =
        transport(TransportConfig.DEFAULT.withOutboundQueueMessagesMax(8))
            .connect(server.address());
    WriteRequest chunk = write("chunk", 64 << 10);
    boolean rejected = false;
    for (int i = 0; i < 20_000 && !rejected; i++) {
      try {
        connection.send(chunk);
      } catch (QueueFullException e) {
        rejected = true;
      }
    }
    assertTrue(rejected, "the queue never filled");
    release.countDown();
    // The queue drains once the server reads again; until then a new request is still refused.
    WriteReply ping = new WriteReply("ping", 1);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        assertEquals(ping, await(connection.request(ping, Duration.ofSeconds(30))));
        break;
      } catch (QueueFullException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
    }
  }

  @Test
  @DisplayName("more requests in flight than inFlightRequestsMax are refused")
  void inFlightLimit() throws Exception {
    BlockingQueue<Responder> held = new LinkedBlockingQueue<>();
    Server server = transport().listen(freshListenAddress(), (m, responder) -> held.add(responder));
    Connection connection =
        transport(TransportConfig.DEFAULT.withInFlightRequestsMax(4)).connect(server.address());
    List<CompletableFuture<Message>> futures = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      futures.add(connection.request(new WriteReply("k", i), TIMEOUT));
    }
    assertInstanceOf(
        QueueFullException.class, failureOf(connection.request(new WriteReply("k", 5), TIMEOUT)));
    for (int i = 0; i < 4; i++) {
      held.poll(10, TimeUnit.SECONDS).reply(new WriteReply("k", i));
    }
    for (CompletableFuture<Message> f : futures) {
      await(f);
    }
  }

  @Test
  @DisplayName("connecting to an address where nothing listens fails with ConnectFailedException")
  void connectFails() throws Exception {
    Connection connection =
        transport(TransportConfig.DEFAULT.withConnectTimeoutMillis(2000)).connect(deadAddress());
    assertInstanceOf(
        ConnectFailedException.class,
        failureOf(connection.request(new Message.ChainRequest(), TIMEOUT)));
  }

  @Test
  @DisplayName("the server can push one-way messages back over the connection")
  void serverPushesBack() throws Exception {
    Server server =
        transport()
            .listen(
                freshListenAddress(),
                (m, responder) -> {
                  responder.send(new Heartbeat("pushed", 1, 2, false));
                  responder.reply(m);
                });
    Echo clientSide = new Echo();
    Connection connection = transport().connect(server.address(), clientSide);
    await(connection.request(new Message.ChainRequest(), TIMEOUT));
    assertEquals(
        new Heartbeat("pushed", 1, 2, false), clientSide.oneWay.poll(10, TimeUnit.SECONDS));
  }

  @Test
  @DisplayName("closing a connection fails its pending requests and refuses further use")
  void closeFailsPending() throws Exception {
    Server server = transport().listen(freshListenAddress(), (m, responder) -> {});
    Connection connection = transport().connect(server.address());
    CompletableFuture<Message> pending = connection.request(new Message.ChainRequest(), TIMEOUT);
    connection.close();
    assertInstanceOf(ConnectionClosedException.class, failureOf(pending));
    assertThrows(
        ConnectionClosedException.class, () -> connection.send(new Message.ChainRequest()));
    assertInstanceOf(
        ConnectionClosedException.class,
        failureOf(connection.request(new Message.ChainRequest(), TIMEOUT)));
  }

  @Test
  @DisplayName("a handler that throws answers the request with INTERNAL and keeps the connection")
  void handlerThrows() throws Exception {
    Server server =
        transport()
            .listen(
                freshListenAddress(),
                (m, responder) -> {
                  if (m instanceof Message.ChainRequest) {
                    throw new IllegalStateException("boom");
                  }
                  responder.reply(m);
                });
    Connection connection = transport().connect(server.address());
    Message reply = await(connection.request(new Message.ChainRequest(), TIMEOUT));
    assertEquals(ErrorCode.INTERNAL, ((ErrorReply) reply).code());
    WriteReply ping = new WriteReply("ping", 1);
    assertEquals(ping, await(connection.request(ping, TIMEOUT)));
  }

  @Test
  @DisplayName("listening twice on one address fails; bad addresses are refused")
  void listenErrors() {
    Server server = transport().listen(freshListenAddress(), new Echo());
    assertThrows(TransportException.class, () -> transport().listen(server.address(), new Echo()));
    assertThrows(IllegalArgumentException.class, () -> transport().connect("no-port"));
    assertThrows(IllegalArgumentException.class, () -> transport().listen("x:99999", new Echo()));
  }

  @Test
  @DisplayName("requests wait no longer than their timeout even when the peer never answers")
  void timeoutsUnderLoad() throws Exception {
    Server server = transport().listen(freshListenAddress(), (m, responder) -> {});
    Connection connection = transport().connect(server.address());
    List<CompletableFuture<Message>> futures = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      futures.add(connection.request(new WriteReply("k", i), Duration.ofMillis(100 + i)));
    }
    for (CompletableFuture<Message> f : futures) {
      assertInstanceOf(RequestTimeoutException.class, failureOf(f));
    }
    waitUntil(() -> futures.stream().allMatch(CompletableFuture::isDone), "all done");
  }

  /** Keeps the compiler from flagging the unused helper in subclasses that need it. */
  protected static void unused(TimeoutException e) {}
}

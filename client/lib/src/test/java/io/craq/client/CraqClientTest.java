package io.craq.client;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.transport.TcpTransport;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The client library against scripted fake nodes and a fake coordinator on 127.0.0.1. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CraqClientTest {
  private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

  private TcpTransport transport;
  private final AtomicReference<ChainConfig> chainRef = new AtomicReference<>(ChainConfig.EMPTY);
  private FakeEndpoint coordinator;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() {
    transport = new TcpTransport();
    coordinator = FakeEndpoint.coordinator(transport, chainRef::get);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    transport.close();
  }

  private ClientConfig config() {
    return ClientConfig.defaults(coordinator.address())
        .withCallTimeoutMillis(3_000)
        .withRetryBackoffMillis(1, 5);
  }

  private CraqClient client(ClientConfig config) {
    CraqClient client = new CraqClient(config, transport);
    closeables.add(client);
    return client;
  }

  private FakeEndpoint node(java.util.function.Function<Message, Message> behaviour) {
    FakeEndpoint node = new FakeEndpoint(transport, behaviour);
    closeables.add(node);
    return node;
  }

  private static Message committed(Message m) {
    return m instanceof WriteRequest w
        ? new WriteReply(w.key(), 7)
        : new ErrorReply(ErrorCode.UNSUPPORTED, "unexpected " + m, "");
  }

  // ------------------------------------------------------------------------------------ writes

  @Test
  @DisplayName("a write goes to the head only and returns the committed version")
  void writeGoesToHead() {
    FakeEndpoint head = node(CraqClientTest::committed);
    FakeEndpoint tail = node(CraqClientTest::committed);
    chainRef.set(chain(1, head.member("a"), tail.member("b")));

    assertEquals(7, client(config()).write("k", VALUE));

    List<WriteRequest> writes = head.received(WriteRequest.class);
    assertEquals(1, writes.size());
    assertEquals(new WriteRequest("k", VALUE, false, Message.ANY_VERSION), writes.get(0));
    assertTrue(tail.received().isEmpty());
  }

  @Test
  @DisplayName("NOT_HEAD makes the client refresh the chain and retry at the new head")
  void notHeadRefreshesAndRetries() {
    FakeEndpoint oldHead = node(m -> new ErrorReply(ErrorCode.NOT_HEAD, "not the head", ""));
    FakeEndpoint newHead = node(CraqClientTest::committed);
    chainRef.set(chain(1, oldHead.member("a"), newHead.member("b")));
    CraqClient client = client(config());
    assertEquals(1, client.chain().epoch());
    // The coordinator has moved on; the client only learns it from the refusal.
    chainRef.set(chain(2, newHead.member("b")));

    assertEquals(7, client.write("k", VALUE));

    assertEquals(1, oldHead.received(WriteRequest.class).size());
    assertEquals(1, newHead.received(WriteRequest.class).size());
    assertEquals(2, client.knownChain().epoch());
  }

  @Test
  @DisplayName("NOT_HEAD with a hint is retried at the hinted head even if the coordinator lags")
  void notHeadHintIsFollowed() {
    FakeEndpoint newHead = node(CraqClientTest::committed);
    FakeEndpoint oldHead =
        node(m -> new ErrorReply(ErrorCode.NOT_HEAD, "not the head", newHead.address()));
    chainRef.set(chain(1, oldHead.member("a"), newHead.member("b")));

    assertEquals(7, client(config()).write("k", VALUE));

    assertEquals(1, newHead.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName(
      "a write without a reply before the deadline is ambiguous, never a failure, and is not retried")
  void writeTimeoutIsAmbiguous() throws InterruptedException {
    FakeEndpoint head = node(m -> null);
    chainRef.set(chain(1, head.member("a")));
    CraqClient client = client(config().withCallTimeoutMillis(300));

    AmbiguousWriteException e =
        assertThrows(AmbiguousWriteException.class, () -> client.write("k", VALUE));

    assertEquals("k", e.key());
    assertTrue(head.awaitReceived(1, 5_000));
    assertEquals(1, head.received(WriteRequest.class).size(), "a sent write must not be repeated");
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"AMBIGUOUS", "INTERNAL"})
  @DisplayName("a write refused with a non-definite code is ambiguous and not retried")
  void nonDefiniteErrorIsAmbiguous(ErrorCode code) {
    assertFalse(code.definite());
    FakeEndpoint head = node(m -> new ErrorReply(code, "chain changed", ""));
    chainRef.set(chain(1, head.member("a")));

    AmbiguousWriteException e =
        assertThrows(AmbiguousWriteException.class, () -> client(config()).delete("k"));

    assertEquals(code, e.code());
    assertEquals(1, head.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName("a write whose connection is lost after sending is ambiguous")
  void connectionLostAfterSendIsAmbiguous() {
    AtomicReference<FakeEndpoint> self = new AtomicReference<>();
    FakeEndpoint head =
        node(m -> {
          // Close from another thread: the handler runs on the connection's own reader.
          Thread.ofVirtual().start(() -> self.get().stop());
          return null;
        });
    self.set(head);
    chainRef.set(chain(1, head.member("a")));

    assertThrows(AmbiguousWriteException.class, () -> client(config()).write("k", VALUE));
    assertEquals(1, head.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName("UNAVAILABLE from the head is definite, so the write is retried and succeeds")
  void unavailableWriteIsRetried() {
    AtomicInteger calls = new AtomicInteger();
    FakeEndpoint head =
        node(m ->
            calls.incrementAndGet() <= 2
                ? new ErrorReply(ErrorCode.UNAVAILABLE, "no lease", "")
                : committed(m));
    chainRef.set(chain(1, head.member("a")));

    assertEquals(7, client(config()).write("k", VALUE));
    assertEquals(3, head.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName(
      "a write refused every time with a definite code fails as unavailable after the attempts")
  void persistentRefusalIsDefiniteFailure() {
    FakeEndpoint head = node(m -> new ErrorReply(ErrorCode.BUSY, "queue full", ""));
    chainRef.set(chain(1, head.member("a")));

    UnavailableException e =
        assertThrows(
            UnavailableException.class,
            () -> client(config().withWriteAttemptsMax(3)).write("k", VALUE));

    assertEquals(ErrorCode.BUSY, e.code());
    assertEquals(3, head.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName(
      "VERSION_MISMATCH gives VersionMismatchException with the current version from the hint")
  void versionMismatch() {
    FakeEndpoint head = node(m -> new ErrorReply(ErrorCode.VERSION_MISMATCH, "at 9", "9"));
    chainRef.set(chain(1, head.member("a")));

    VersionMismatchException e =
        assertThrows(
            VersionMismatchException.class, () -> client(config()).writeIfVersion("k", VALUE, 4));

    assertEquals(4, e.expectedVersion());
    assertEquals(9, e.currentVersion());
    assertEquals(4, head.received(WriteRequest.class).get(0).expectedVersion());
    assertEquals(1, head.received().size());
  }

  @Test
  @DisplayName("INVALID_REQUEST from the server is an InvalidRequestException, not retried")
  void invalidFromServer() {
    FakeEndpoint head = node(m -> new ErrorReply(ErrorCode.INVALID_REQUEST, "value too large", ""));
    chainRef.set(chain(1, head.member("a")));

    assertThrows(InvalidRequestException.class, () -> client(config()).write("k", VALUE));
    assertEquals(1, head.received().size());
  }

  @Test
  @DisplayName("bad keys and values are refused before anything is sent")
  void limitsCheckedBeforeSending() {
    CraqClient client = client(config().withValueBytesMax(10));
    String longKey = "x".repeat(Limits.KEY_BYTES_MAX + 1);

    assertThrows(InvalidRequestException.class, () -> client.write("", VALUE));
    assertThrows(InvalidRequestException.class, () -> client.write(longKey, VALUE));
    assertThrows(InvalidRequestException.class, () -> client.write("k", new byte[11]));
    assertThrows(InvalidRequestException.class, () -> client.writeIfVersion("k", VALUE, -2));
    assertThrows(InvalidRequestException.class, () -> client.delete(longKey));
    assertThrows(InvalidRequestException.class, () -> client.read(""));
    assertThrows(InvalidRequestException.class, () -> client.read("k", ReadMode.BOUNDED, -1));

    assertTrue(coordinator.received().isEmpty());
  }

  @Test
  @DisplayName("a write to an empty chain fails with a clear, definite error")
  void emptyChain() {
    chainRef.set(new ChainConfig(3, List.of()));
    CraqClient client = client(config());

    UnavailableException e =
        assertThrows(UnavailableException.class, () -> client.write("k", VALUE));
    assertTrue(e.getMessage().contains("no members"), e.getMessage());
    assertInstanceOf(
        UnavailableException.class, assertThrows(CraqException.class, () -> client.read("k")));
  }

  @Test
  @DisplayName("an unreachable coordinator is reported as unavailable")
  void coordinatorUnreachable() {
    String address = coordinator.address();
    coordinator.stop();
    CraqClient client = client(ClientConfig.defaults(address).withCallTimeoutMillis(2_000));

    UnavailableException e = assertThrows(UnavailableException.class, client::chain);
    assertTrue(e.getMessage().contains(address), e.getMessage());
    assertThrows(UnavailableException.class, () -> client.write("k", VALUE));
  }

  @Test
  @DisplayName(
      "a head that cannot be reached triggers a refresh; nothing was sent, so the write moves on")
  void unreachableHeadRefreshes() {
    FakeEndpoint dead = node(CraqClientTest::committed);
    FakeEndpoint live = node(CraqClientTest::committed);
    chainRef.set(chain(1, dead.member("a"), live.member("b")));
    CraqClient client = client(config());
    client.chain();
    dead.stop();
    chainRef.set(chain(2, live.member("b")));

    assertEquals(7, client.write("k", VALUE));
    assertEquals(1, live.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName("with writeViaCoordinator the write goes to the coordinator, not the head")
  void viaCoordinator() {
    FakeEndpoint head = node(CraqClientTest::committed);
    chainRef.set(chain(1, head.member("a")));
    coordinator.behave(m ->
        m instanceof WriteRequest w
            ? new WriteReply(w.key(), 3)
            : new Message.MapReply(FakeEndpoint.singleChainMap(chainRef.get())));

    assertEquals(3, client(config().withWriteViaCoordinator(true)).write("k", VALUE));
    assertEquals(1, coordinator.received(WriteRequest.class).size());
    assertTrue(head.received().isEmpty());
  }

  @Test
  @DisplayName("async variants complete with the same results")
  void asyncVariants() throws Exception {
    FakeNode store = new FakeNode(chainRef::get);
    FakeEndpoint only = node(store);
    chainRef.set(chain(1, only.member("a")));
    CraqClient client = client(config());

    assertEquals(1L, client.writeAsync("k", VALUE).get(5, TimeUnit.SECONDS));
    Optional<Versioned> read = client.readAsync("k", ReadMode.STRONG, 0).get(5, TimeUnit.SECONDS);
    assertEquals(new Versioned("k", 1, VALUE, false), read.orElseThrow());
    assertEquals(2L, client.deleteAsync("k").get(5, TimeUnit.SECONDS));
  }

  // ------------------------------------------------------------------------------------- reads

  @Test
  @DisplayName("a read refused with UNAVAILABLE is retried until a node answers")
  void readRetriesOnUnavailable() {
    AtomicInteger calls = new AtomicInteger();
    FakeEndpoint only =
        node(m ->
            calls.incrementAndGet() <= 2
                ? new ErrorReply(ErrorCode.UNAVAILABLE, "catching up", "")
                : new ReadReply("k", true, 4, VALUE, false));
    chainRef.set(chain(1, only.member("a")));

    Versioned v = client(config()).read("k").orElseThrow();

    assertEquals(4, v.version());
    assertArrayEquals(VALUE, v.value());
    assertEquals(3, only.received(ReadRequest.class).size());
  }

  @Test
  @DisplayName("a read gives up with UnavailableException after the configured attempts")
  void readGivesUp() {
    FakeEndpoint only = node(m -> new ErrorReply(ErrorCode.UNAVAILABLE, "no lease", ""));
    chainRef.set(chain(1, only.member("a")));

    UnavailableException e =
        assertThrows(
            UnavailableException.class, () -> client(config().withReadAttemptsMax(3)).read("k"));

    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    assertEquals(3, only.received(ReadRequest.class).size());
  }

  @Test
  @DisplayName("a read that times out at one node is retried at another")
  void readTimeoutMovesOn() {
    FakeEndpoint stuck = node(m -> null);
    FakeEndpoint fine = node(m -> new ReadReply("k", true, 2, VALUE, false));
    chainRef.set(chain(1, stuck.member("a"), fine.member("b")));
    CraqClient client = client(config().withReadAttemptTimeoutMillis(200));

    for (int i = 0; i < 5; i++) {
      assertEquals(2, client.read("k").orElseThrow().version());
    }
    assertEquals(5, fine.received(ReadRequest.class).size());
  }

  @Test
  @DisplayName("reads are spread over all members and carry the mode and bound")
  void readsSpreadOverMembers() {
    List<FakeEndpoint> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(node(m -> new ReadReply("k", true, 1, VALUE, true)));
    }
    chainRef.set(
        chain(1, nodes.get(0).member("a"), nodes.get(1).member("b"), nodes.get(2).member("c")));
    CraqClient client = client(config());

    for (int i = 0; i < 60; i++) {
      assertTrue(client.read("k", ReadMode.BOUNDED, 2).orElseThrow().dirty());
    }
    for (FakeEndpoint n : nodes) {
      List<ReadRequest> reads = n.received(ReadRequest.class);
      assertFalse(reads.isEmpty(), "every member serves reads (CRAQ §2.3)");
      assertEquals(new ReadRequest("k", ReadMode.BOUNDED, 2), reads.get(0));
    }
  }

  @Test
  @DisplayName("readFrom asks only the given node; an absent key is empty")
  void readFromAndNotFound() {
    FakeEndpoint a = node(m -> new ReadReply("k", false, 5, new byte[0], false));
    FakeEndpoint b = node(m -> new ReadReply("k", true, 1, VALUE, false));
    chainRef.set(chain(1, a.member("a"), b.member("b")));

    assertTrue(client(config()).readFrom(a.address(), "k", ReadMode.STRONG, 0).isEmpty());
    assertTrue(b.received().isEmpty());
    assertTrue(coordinator.received().isEmpty(), "readFrom needs no chain");
  }

  @Test
  @DisplayName("readAll walks every page in key order and skips deletes")
  void readAllPages() {
    FakeNode store = new FakeNode(chainRef::get);
    FakeEndpoint only = node(store);
    chainRef.set(chain(1, only.member("a")));
    CraqClient client = client(config().withReadAllPageKeys(2));
    for (String key : List.of("e", "c", "a", "f", "d", "b")) {
      client.write(key, key.getBytes(StandardCharsets.UTF_8));
    }
    client.delete("c");

    List<String> keys = client.readAll().map(Versioned::key).collect(Collectors.toList());

    assertEquals(List.of("a", "b", "d", "e", "f"), keys);
    List<String> cursors =
        only.received(ReadAllRequest.class).stream().map(ReadAllRequest::afterKey).toList();
    assertEquals(List.of("", "b", "e"), cursors);
    Set<Integer> limits = new HashSet<>();
    only.received(ReadAllRequest.class).forEach(r -> limits.add(r.limit()));
    assertEquals(Set.of(2), limits);
  }

  @Test
  @DisplayName(
      "readAll reads every listed key in the scan's mode (strong by default), at the"
          + " member that listed it, and leaves out a key deleted in between")
  void readAllReadsEachKey() {
    FakeNode store = new FakeNode(chainRef::get);
    FakeEndpoint only = node(store);
    chainRef.set(chain(1, only.member("a")));
    CraqClient client = client(config());
    client.write("a", VALUE);
    client.write("b", VALUE);
    // The page lists a and b; b is deleted before it is read.
    only.behave(m -> {
      Message reply = store.apply(m);
      if (m instanceof ReadAllRequest) {
        store.apply(new WriteRequest("b", new byte[0], true, Message.ANY_VERSION));
      }
      return reply;
    });

    assertEquals(List.of("a"), client.readAll().map(Versioned::key).toList());
    assertEquals(
        List.of(new ReadRequest("a", ReadMode.STRONG, 0), new ReadRequest("b", ReadMode.STRONG, 0)),
        only.received(ReadRequest.class));
    assertEquals(List.of("a"), client.readAll(ReadMode.BOUNDED, 3).map(Versioned::key).toList());
    assertTrue(
        only.received(ReadRequest.class).contains(new ReadRequest("a", ReadMode.BOUNDED, 3)));
  }

  @Test
  @DisplayName(
      "readPreferring goes to the given node first; when it cannot answer, another member"
          + " does and the fallback hears which, once; readFrom never leaves the node")
  void readPreferringFallsBack() {
    FakeEndpoint down = node(m -> new ErrorReply(ErrorCode.UNAVAILABLE, "no lease", ""));
    FakeEndpoint up =
        node(m ->
            m instanceof ReadAllRequest
                ? new Message.ReadAllReply(
                    List.of(new io.craq.core.message.VersionRecord("k", 1, false, VALUE)), false)
                : new ReadReply("k", true, 1, VALUE, false));
    chainRef.set(chain(1, down.member("a"), up.member("b")));
    CraqClient client = client(config());
    List<String> heard = new ArrayList<>();
    ReadFallback listener = (first, reason, by) -> heard.add(first + "|" + reason + "|" + by);

    assertEquals(
        Optional.of(new Versioned("k", 1, VALUE, false)),
        client.readPreferring(down.address(), "k", ReadMode.STRONG, 0, listener));
    assertEquals(
        List.of(down.address() + "|" + down.address() + ": UNAVAILABLE no lease|" + up.address()),
        heard);

    heard.clear();
    assertEquals(
        List.of("k"),
        client
            .readAllPreferring(down.address(), ReadMode.STRONG, 0, listener)
            .map(Versioned::key)
            .toList());
    assertEquals(1, heard.size(), heard.toString());

    heard.clear();
    assertTrue(client.readPreferring(up.address(), "k", ReadMode.STRONG, 0, listener).isPresent());
    assertEquals(List.of(), heard, "no fallback when the first node answers");

    assertThrows(
        UnavailableException.class, () -> client.readFrom(down.address(), "k", ReadMode.STRONG, 0));
    assertThrows(
        UnavailableException.class,
        () -> client.readAllFrom(down.address(), ReadMode.STRONG, 0).toList());
  }

  @Test
  @DisplayName("memberAt finds a member by its address however it is spelt (:PORT, localhost)")
  void memberAt() {
    ChainConfig chain =
        new ChainConfig(
            1, List.of(new io.craq.core.message.Member("n1", "127.0.0.1:7001", 1, 1, true)));
    assertEquals("n1", CraqClient.memberAt(chain, ":7001").orElseThrow().id());
    assertEquals("n1", CraqClient.memberAt(chain, "localhost:7001").orElseThrow().id());
    assertEquals("n1", CraqClient.memberAt(chain, "127.0.0.1:7001").orElseThrow().id());
    assertTrue(CraqClient.memberAt(chain, "127.0.0.1:7002").isEmpty());
    assertThrows(InvalidRequestException.class, () -> CraqClient.memberAt(chain, "nope"));
  }

  @Test
  @DisplayName("the known chain never goes back to an older epoch")
  void chainIsMonotonic() {
    FakeEndpoint a = node(CraqClientTest::committed);
    chainRef.set(chain(5, a.member("a")));
    CraqClient client = client(config());
    assertEquals(5, client.chain().epoch());
    chainRef.set(chain(4, a.member("a")));
    assertEquals(5, client.chain().epoch());
  }
}

package io.craq.client;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.WriteRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Multi-key writes in the client: the checks before sending (one chain, distinct keys, bounds) and
 * the handling of a head's answers, which is that of single writes.
 */
class MultiWriteClientTest extends FakeServersTest {
  private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

  private FakeEndpoint node(Function<Message, Message> behaviour) {
    FakeEndpoint node = new FakeEndpoint(transport, behaviour);
    nodes.add(node);
    return node;
  }

  /** Answers a multi-key write with versions 7, 8, ... in the order of its keys. */
  private static Message committed(Message m) {
    if (!(m instanceof MultiWriteRequest multi)) {
      return new ErrorReply(ErrorCode.UNSUPPORTED, "unexpected " + m, "");
    }
    List<KeyVersion> versions = new ArrayList<>();
    for (WriteRequest w : multi.writes()) {
      versions.add(new KeyVersion(w.key(), 7 + versions.size()));
    }
    return new MultiWriteReply(versions);
  }

  private static MultiWrite twoKeys() {
    return new MultiWrite().put("user:{42}:name", VALUE).delete("user:{42}:mail");
  }

  // ----------------------------------------------------------------------- before sending

  @Test
  @DisplayName(
      "keys of different chains are refused before sending, naming two keys, their chains and"
          + " the hash-tag remedy")
  void differentChainsRefused() {
    FakeNode store = new FakeNode(() -> ChainConfig.EMPTY);
    FakeEndpoint a = node(new FakeChainNode("a", this::currentMap, store));
    FakeEndpoint b = node(new FakeChainNode("b", this::currentMap, store));
    List<ChainConfig> chains =
        List.of(chain(1, a.member("a")), chain(1, b.member("b")), chain(1, a.member("a")));
    mapRef.set(new ChainMap(4, 1, chains, FakeEndpoint.poolOf(chains)));
    String k0 = keyOfChain(0, 3, "k");
    String k2 = keyOfChain(2, 3, "k");
    CraqClient client = fakeClient();

    InvalidRequestException e =
        assertThrows(
            InvalidRequestException.class,
            () -> client.multiWrite(new MultiWrite().put(k0, VALUE).put(k2, VALUE)));

    assertEquals(
        "keys '"
            + k0
            + "' (chain 0) and '"
            + k2
            + "' (chain 2) are on different chains: a multi-key write takes the keys of one"
            + " chain; give them a shared {hash tag}, as in user:{42}:name and user:{42}:mail",
        e.getMessage());
    assertTrue(a.received().isEmpty() && b.received().isEmpty(), "nothing was sent");
  }

  @Test
  @DisplayName(
      "keys sharing a hash tag go together to their chain's head and come back with their"
          + " versions in request order, all applied")
  void hashTaggedKeysGoToTheirHead() {
    FakeNode store = new FakeNode(() -> ChainConfig.EMPTY);
    List<FakeEndpoint> fakes = new ArrayList<>();
    List<Member> members = new ArrayList<>();
    for (String id : List.of("a", "b", "c")) {
      FakeEndpoint node = node(new FakeChainNode(id, this::currentMap, store));
      fakes.add(node);
      members.add(node.member(id));
    }
    List<ChainConfig> chains = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      chains.add(new ChainConfig(1, List.of(members.get(c), members.get((c + 1) % 3))));
    }
    mapRef.set(new ChainMap(2, 2, chains, FakeEndpoint.poolOf(chains)));
    Map<String, byte[]> values = new LinkedHashMap<>();
    for (String field : List.of("name", "mail", "phone")) {
      values.put("user:{7}:" + field, field.getBytes(StandardCharsets.UTF_8));
    }
    CraqClient client = fakeClient();
    client.write("user:{7}:mail", VALUE);

    Map<String, Long> versions = client.multiWrite(values);

    assertEquals(List.copyOf(values.keySet()), List.copyOf(versions.keySet()));
    assertEquals(List.of(1L, 2L, 1L), List.copyOf(versions.values()));
    int head = KeySlots.chainOf("user:{7}:name", 3);
    assertEquals(1, fakes.get(head).received(MultiWriteRequest.class).size());
    for (int i = 0; i < 3; i++) {
      if (i != head) {
        assertTrue(fakes.get(i).received(MultiWriteRequest.class).isEmpty());
      }
    }
    assertEquals("phone", client.read("user:{7}:phone").orElseThrow().valueAsString());
  }

  @Test
  @DisplayName(
      "an empty write, a repeated key, too many keys, bad keys and values too large together are"
          + " refused before anything is sent")
  void boundsCheckedBeforeSending() {
    CraqClient client =
        fakeClient(ClientConfig.defaults(coordinator.address()).withValueBytesMax(10));
    MultiWrite tooMany = new MultiWrite();
    for (int i = 0; i <= Limits.MULTI_WRITE_KEYS_MAX; i++) {
      tooMany.put("{t}" + i, VALUE);
    }

    assertTrue(
        assertThrows(InvalidRequestException.class, () -> client.multiWrite(new MultiWrite()))
            .getMessage()
            .contains("at least one key"));
    assertEquals(
        "key '{t}a' is twice in the multi-key write: its keys must be distinct",
        assertThrows(
                InvalidRequestException.class,
                () ->
                    client.multiWrite(
                        new MultiWrite().put("{t}a", VALUE).put("{t}b", VALUE).delete("{t}a")))
            .getMessage());
    assertEquals(
        "a multi-key write has at most 16 keys, not 17",
        assertThrows(InvalidRequestException.class, () -> client.multiWrite(tooMany)).getMessage());
    assertThrows(
        InvalidRequestException.class,
        () -> client.multiWrite(new MultiWrite().put("", VALUE).put("{t}b", VALUE)));
    assertThrows(
        InvalidRequestException.class,
        () -> client.multiWrite(new MultiWrite().put("{t}a", new byte[11])));
    assertTrue(
        assertThrows(
                InvalidRequestException.class,
                () ->
                    client.multiWrite(
                        new MultiWrite().put("{t}a", new byte[6]).put("{t}b", new byte[5])))
            .getMessage()
            .contains("11 bytes together, more than the limit of 10 bytes"));
    assertThrows(
        InvalidRequestException.class, () -> new MultiWrite().putIfVersion("{t}a", VALUE, -1));

    assertTrue(coordinator.received().isEmpty());
  }

  // --------------------------------------------------------------------- the head's answers

  @Test
  @DisplayName("one message to the head, carrying every write with its condition")
  void oneMessageToTheHead() {
    FakeEndpoint head = node(MultiWriteClientTest::committed);
    FakeEndpoint tail = node(MultiWriteClientTest::committed);
    chainRef.set(chain(1, head.member("a"), tail.member("b")));

    Map<String, Long> versions =
        fakeClient()
            .multiWrite(
                new MultiWrite()
                    .putIfVersion("a", VALUE, 0)
                    .put("b", VALUE)
                    .deleteIfVersion("c", 3)
                    .delete("d"));

    assertEquals(Map.of("a", 7L, "b", 8L, "c", 9L, "d", 10L), versions);
    assertEquals(
        List.of(
            new MultiWriteRequest(
                List.of(
                    new WriteRequest("a", VALUE, false, 0),
                    new WriteRequest("b", VALUE, false, Message.ANY_VERSION),
                    new WriteRequest("c", new byte[0], true, 3),
                    new WriteRequest("d", new byte[0], true, Message.ANY_VERSION)))),
        head.received(MultiWriteRequest.class));
    assertTrue(tail.received().isEmpty());
  }

  @Test
  @DisplayName("NOT_HEAD refreshes the chain and the write is retried at the new head")
  void notHeadRetriesAtNewHead() {
    FakeEndpoint oldHead = node(m -> new ErrorReply(ErrorCode.NOT_HEAD, "not the head", ""));
    FakeEndpoint newHead = node(MultiWriteClientTest::committed);
    chainRef.set(chain(1, oldHead.member("a"), newHead.member("b")));
    CraqClient client = fakeClient();
    client.chain();
    chainRef.set(chain(2, newHead.member("b")));

    assertEquals(Map.of("user:{42}:name", 7L, "user:{42}:mail", 8L), client.multiWrite(twoKeys()));

    assertEquals(1, oldHead.received(MultiWriteRequest.class).size());
    assertEquals(1, newHead.received(MultiWriteRequest.class).size());
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"BUSY", "UNAVAILABLE", "STALE_EPOCH"})
  @DisplayName("a definite refusal (a key in another multi-key write in flight: BUSY) is retried")
  void definiteRefusalRetried(ErrorCode code) {
    AtomicInteger calls = new AtomicInteger();
    FakeEndpoint head =
        node(m ->
            calls.incrementAndGet() <= 2
                ? new ErrorReply(code, "key in a write in flight", "")
                : committed(m));
    chainRef.set(chain(1, head.member("a")));

    assertEquals(2, fakeClient().multiWrite(twoKeys()).size());
    assertEquals(3, head.received(MultiWriteRequest.class).size());
  }

  @Test
  @DisplayName("a write refused every time with BUSY fails as unavailable, naming its keys")
  void persistentBusyIsUnavailable() {
    FakeEndpoint head = node(m -> new ErrorReply(ErrorCode.BUSY, "in flight", ""));
    chainRef.set(chain(1, head.member("a")));

    UnavailableException e =
        assertThrows(
            UnavailableException.class,
            () ->
                fakeClient(ClientConfig.defaults(coordinator.address()).withWriteAttemptsMax(3))
                    .multiWrite(twoKeys()));

    assertEquals(ErrorCode.BUSY, e.code());
    assertTrue(
        e.getMessage()
            .startsWith(
                "multi-key write of keys 'user:{42}:name', 'user:{42}:mail' was not applied:"),
        e.getMessage());
    assertEquals(3, head.received(MultiWriteRequest.class).size());
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"AMBIGUOUS", "INTERNAL"})
  @DisplayName("a non-definite refusal is ambiguous for every key, and not retried")
  void nonDefiniteIsAmbiguous(ErrorCode code) {
    FakeEndpoint head = node(m -> new ErrorReply(code, "chain changed", ""));
    chainRef.set(chain(1, head.member("a")));

    AmbiguousWriteException e =
        assertThrows(AmbiguousWriteException.class, () -> fakeClient().multiWrite(twoKeys()));

    assertEquals(code, e.code());
    assertEquals(List.of("user:{42}:name", "user:{42}:mail"), e.keys());
    assertTrue(e.getMessage().contains("all of it or none"), e.getMessage());
    assertEquals(1, head.received().size());
  }

  @Test
  @DisplayName("a multi-key write without a reply before the deadline is ambiguous, sent once")
  void timeoutIsAmbiguous() throws InterruptedException {
    FakeEndpoint head = node(m -> null);
    chainRef.set(chain(1, head.member("a")));
    // Not fakeClient(): it sets a timeout of its own.
    try (CraqClient quick =
        new CraqClient(
            ClientConfig.defaults(coordinator.address()).withCallTimeoutMillis(300), transport)) {
      assertThrows(AmbiguousWriteException.class, () -> quick.multiWrite(twoKeys()));
    }

    assertTrue(head.awaitReceived(1, 5_000));
    assertEquals(1, head.received(MultiWriteRequest.class).size());
  }

  @Test
  @DisplayName("a reply that does not answer the write's keys is ambiguous, not a success")
  void mismatchedReplyIsAmbiguous() {
    FakeEndpoint head =
        node(m -> new MultiWriteReply(List.of(new KeyVersion("user:{42}:name", 3))));
    chainRef.set(chain(1, head.member("a")));

    assertThrows(AmbiguousWriteException.class, () -> fakeClient().multiWrite(twoKeys()));
  }

  @Test
  @DisplayName(
      "VERSION_MISMATCH is definite, names the key the head named, and nothing was applied")
  void versionMismatchNamesTheKey() {
    FakeNode store = new FakeNode(chainRef::get);
    FakeEndpoint head = node(store);
    chainRef.set(chain(1, head.member("a")));
    CraqClient client = fakeClient();
    client.write("{u}a", VALUE);
    client.write("{u}b", VALUE);
    client.write("{u}b", VALUE);

    VersionMismatchException e =
        assertThrows(
            VersionMismatchException.class,
            () ->
                client.multiWrite(
                    new MultiWrite()
                        .putIfVersion("{u}a", VALUE, 1)
                        .putIfVersion("{u}b", VALUE, 1)
                        .put("{u}c", VALUE)));

    assertEquals("{u}b", e.key());
    assertEquals(1, e.expectedVersion());
    assertEquals(2, e.currentVersion());
    assertEquals(
        "multi-key write of keys '{u}a', '{u}b', '{u}c': conditional write of key '{u}b'"
            + " expected version 1: key {u}b is at version 2",
        e.getMessage());
    assertEquals(1, store.committedVersion("{u}a"), "nothing applied");
    assertEquals(0, store.committedVersion("{u}c"), "nothing applied");
    assertEquals(1, head.received(MultiWriteRequest.class).size(), "a refusal is not retried");
  }

  @Test
  @DisplayName("a mismatch that names no key of several conditional ones leaves the key unknown")
  void versionMismatchUnnamed() {
    FakeEndpoint head = node(m -> new ErrorReply(ErrorCode.VERSION_MISMATCH, "stale", ""));
    chainRef.set(chain(1, head.member("a")));

    VersionMismatchException e =
        assertThrows(
            VersionMismatchException.class,
            () ->
                fakeClient()
                    .multiWrite(
                        new MultiWrite()
                            .putIfVersion("{u}a", VALUE, 1)
                            .deleteIfVersion("{u}b", 4)));

    assertNull(e.key());
    assertEquals(VersionMismatchException.VERSION_UNKNOWN, e.currentVersion());
    assertTrue(e.getMessage().endsWith("conditional write refused: stale"), e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"INVALID_REQUEST", "UNSUPPORTED"})
  @DisplayName("a node that refuses the request itself gives InvalidRequestException, once")
  void refusedRequest(ErrorCode code) {
    FakeEndpoint head = node(m -> new ErrorReply(code, "multi-key writes are not built yet", ""));
    chainRef.set(chain(1, head.member("a")));

    InvalidRequestException e =
        assertThrows(InvalidRequestException.class, () -> fakeClient().multiWrite(twoKeys()));

    assertEquals(code, e.code());
    assertTrue(e.getMessage().endsWith(": multi-key writes are not built yet"), e.getMessage());
    assertEquals(1, head.received().size());
  }

  @Test
  @DisplayName("with writeViaCoordinator the multi-key write goes to the coordinator")
  void viaCoordinator() throws Exception {
    FakeEndpoint head = node(MultiWriteClientTest::committed);
    chainRef.set(chain(1, head.member("a")));
    coordinator.behave(m ->
        m instanceof MultiWriteRequest
            ? committed(m)
            : new Message.MapReply(FakeEndpoint.singleChainMap(chainRef.get())));

    CraqClient client =
        fakeClient(ClientConfig.defaults(coordinator.address()).withWriteViaCoordinator(true));
    assertEquals(
        Map.of("user:{42}:name", 7L, "user:{42}:mail", 8L),
        client.multiWriteAsync(twoKeys()).get(5, TimeUnit.SECONDS));
    assertEquals(1, coordinator.received(MultiWriteRequest.class).size());
    assertFalse(head.received().stream().anyMatch(MultiWriteRequest.class::isInstance));
  }
}

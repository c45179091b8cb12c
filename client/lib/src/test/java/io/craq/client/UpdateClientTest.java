package io.craq.client;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.AppendRequest;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.IncrementRequest;
import io.craq.core.message.Message.UpdateReply;
import io.craq.core.message.Message.WriteReply;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Increments and appends in the client: sent to the head, answered with their result, and retried
 * or reported exactly as writes are (never retried once their outcome is unknown).
 */
class UpdateClientTest extends FakeServersTest {
  private FakeEndpoint node(Function<Message, Message> behaviour) {
    FakeEndpoint node = new FakeEndpoint(transport, behaviour);
    nodes.add(node);
    return node;
  }

  /** Answers an increment with its delta plus 100, an append with its suffix's length plus 10. */
  private static Message applied(Message m) {
    return switch (m) {
      case IncrementRequest increment ->
          new UpdateReply(increment.key(), 4, 100 + increment.delta());
      case AppendRequest append -> new UpdateReply(append.key(), 5, 10 + append.suffix().length);
      default -> new ErrorReply(ErrorCode.UNSUPPORTED, "unexpected " + m, "");
    };
  }

  @Test
  @DisplayName(
      "an increment and an append go to the head only, as one request each, and return the"
          + " head's result (the new integer, the new length); the async forms too")
  void sentToTheHeadWithTheirResult() throws Exception {
    FakeEndpoint head = node(UpdateClientTest::applied);
    FakeEndpoint tail = node(UpdateClientTest::applied);
    chainRef.set(chain(1, head.member("a"), tail.member("b")));
    CraqClient client = fakeClient();
    byte[] suffix = "abc".getBytes(StandardCharsets.UTF_8);

    assertEquals(95, client.increment("counter", -5));
    assertEquals(13, client.append("log", suffix));
    assertEquals(
        100 + Long.MIN_VALUE,
        client.incrementAsync("counter", Long.MIN_VALUE).get(5, TimeUnit.SECONDS));
    assertEquals(10, client.appendAsync("log", new byte[0]).get(5, TimeUnit.SECONDS));

    assertEquals(
        List.of(
            new IncrementRequest("counter", -5), new IncrementRequest("counter", Long.MIN_VALUE)),
        head.received(IncrementRequest.class));
    assertEquals(
        List.of(new AppendRequest("log", suffix), new AppendRequest("log", new byte[0])),
        head.received(AppendRequest.class));
    assertTrue(tail.received().isEmpty());
  }

  @Test
  @DisplayName("NOT_HEAD refreshes the chain and the increment is retried at the new head")
  void notHeadRetriesAtNewHead() {
    FakeEndpoint oldHead = node(m -> new ErrorReply(ErrorCode.NOT_HEAD, "not the head", ""));
    FakeEndpoint newHead = node(UpdateClientTest::applied);
    chainRef.set(chain(1, oldHead.member("a"), newHead.member("b")));
    CraqClient client = fakeClient();
    client.chain();
    chainRef.set(chain(2, newHead.member("b")));

    assertEquals(101, client.increment("counter", 1));

    assertEquals(1, oldHead.received(IncrementRequest.class).size());
    assertEquals(1, newHead.received(IncrementRequest.class).size());
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"BUSY", "UNAVAILABLE", "STALE_EPOCH"})
  @DisplayName("a definite refusal (BUSY: a multi-key write of the key in flight) is retried")
  void definiteRefusalRetried(ErrorCode code) {
    AtomicInteger calls = new AtomicInteger();
    FakeEndpoint head =
        node(
            m -> calls.incrementAndGet() <= 2 ? new ErrorReply(code, "try again", "") : applied(m));
    chainRef.set(chain(1, head.member("a")));

    assertEquals(12, fakeClient().append("log", new byte[2]));
    assertEquals(3, head.received(AppendRequest.class).size());
  }

  @ParameterizedTest
  @EnumSource(
      value = ErrorCode.class,
      names = {"AMBIGUOUS", "INTERNAL"})
  @DisplayName("a non-definite refusal is ambiguous and the increment is not sent again")
  void nonDefiniteIsAmbiguous(ErrorCode code) {
    FakeEndpoint head = node(m -> new ErrorReply(code, "chain changed", ""));
    chainRef.set(chain(1, head.member("a")));

    AmbiguousWriteException e =
        assertThrows(AmbiguousWriteException.class, () -> fakeClient().increment("counter", 1));

    assertEquals(code, e.code());
    assertEquals(List.of("counter"), e.keys());
    assertTrue(e.getMessage().startsWith("increment of key 'counter' sent to "), e.getMessage());
    assertEquals(1, head.received().size());
  }

  @Test
  @DisplayName("an increment without a reply before the deadline is ambiguous, sent once")
  void timeoutIsAmbiguous() throws InterruptedException {
    FakeEndpoint head = node(m -> null);
    chainRef.set(chain(1, head.member("a")));
    try (CraqClient quick =
        new CraqClient(
            ClientConfig.defaults(coordinator.address()).withCallTimeoutMillis(300), transport)) {
      assertThrows(AmbiguousWriteException.class, () -> quick.increment("counter", 1));
    }

    assertTrue(head.awaitReceived(1, 5_000));
    assertEquals(1, head.received(IncrementRequest.class).size());
  }

  @Test
  @DisplayName(
      "NOT_AN_INTEGER is definite and not retried: NotAnIntegerException with the node's reason")
  void notAnIntegerIsDefinite() {
    FakeEndpoint head =
        node(m ->
            new ErrorReply(ErrorCode.NOT_AN_INTEGER, "increment or decrement would overflow", ""));
    chainRef.set(chain(1, head.member("a")));

    NotAnIntegerException e =
        assertThrows(NotAnIntegerException.class, () -> fakeClient().increment("counter", 1));

    assertEquals(ErrorCode.NOT_AN_INTEGER, e.code());
    assertEquals("increment or decrement would overflow", e.reason());
    assertTrue(e.getMessage().startsWith("increment of key 'counter' refused by "), e.getMessage());
    assertEquals(1, head.received().size());
  }

  @Test
  @DisplayName(
      "a reply that does not answer the increment (another key, a write's reply) is ambiguous")
  void mismatchedReplyIsAmbiguous() {
    FakeEndpoint otherKey = node(m -> new UpdateReply("other", 1, 1));
    chainRef.set(chain(1, otherKey.member("a")));
    assertThrows(AmbiguousWriteException.class, () -> fakeClient().increment("counter", 1));

    FakeEndpoint writeReply = node(m -> new WriteReply("counter", 1));
    chainRef.set(chain(2, writeReply.member("b")));
    assertThrows(AmbiguousWriteException.class, () -> fakeClient().increment("counter", 1));
  }

  @Test
  @DisplayName(
      "a bad key or a suffix over the value limit is refused before sending; the head's refusal"
          + " of a result over the limit is an InvalidRequestException")
  void limits() throws InterruptedException {
    FakeEndpoint head =
        node(m -> new ErrorReply(ErrorCode.INVALID_REQUEST, "the value would be 11 bytes", ""));
    chainRef.set(chain(1, head.member("a")));
    CraqClient client =
        fakeClient(ClientConfig.defaults(coordinator.address()).withValueBytesMax(10));

    assertThrows(InvalidRequestException.class, () -> client.increment("", 1));
    assertThrows(InvalidRequestException.class, () -> client.append("log", new byte[11]));
    assertTrue(head.received().isEmpty());

    InvalidRequestException e =
        assertThrows(InvalidRequestException.class, () -> client.append("log", new byte[6]));
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    assertTrue(e.getMessage().contains("the value would be 11 bytes"), e.getMessage());
    ExecutionException async =
        assertThrows(
            ExecutionException.class,
            () -> client.appendAsync("log", new byte[6]).get(5, TimeUnit.SECONDS));
    assertInstanceOf(InvalidRequestException.class, async.getCause());
  }
}

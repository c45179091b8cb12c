package io.craq.client;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several coordinators: the client follows a standby's NOT_LEADER redirect, moves on when a
 * coordinator says none leads or cannot be reached, remembers the leader, and gives up with a clear
 * error after a bounded number of hops. The leader is {@link #coordinator}; standbys are fakes.
 */
class CoordinatorListTest extends FakeServersTest {
  private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

  private final List<CraqClient> clients = new ArrayList<>();

  @AfterEach
  void closeClients() {
    clients.forEach(CraqClient::close);
  }

  private FakeEndpoint fake(Function<Message, Message> behaviour) {
    FakeEndpoint fake = new FakeEndpoint(transport, behaviour);
    nodes.add(fake);
    return fake;
  }

  /** A standby that names {@code leader} (empty: no leader now) for every request. */
  private FakeEndpoint standby(String leader) {
    return fake(m ->
        new ErrorReply(
            ErrorCode.NOT_LEADER,
            leader.isEmpty()
                ? "no coordinator leads now; retry later"
                : "this coordinator stands by; the leader is at " + leader,
            leader));
  }

  private CraqClient client(String... coordinators) {
    CraqClient client =
        new CraqClient(
            ClientConfig.defaults(List.of(coordinators))
                .withCallTimeoutMillis(3_000)
                .withRetryBackoffMillis(1, 5),
            transport);
    clients.add(client);
    return client;
  }

  /** A chain of one fake node that commits every write as version 7. */
  private FakeEndpoint oneNodeChain() {
    FakeEndpoint node =
        fake(m ->
            m instanceof WriteRequest w
                ? new WriteReply(w.key(), 7)
                : new FakeNode(chainRef::get).apply(m));
    chainRef.set(chain(3, node.member("n1")));
    return node;
  }

  private static String deadAddress() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + socket.getLocalPort();
    }
  }

  @Test
  @DisplayName(
      "a standby's redirect is followed to the leader, even one not listed, and the leader is "
          + "asked first by later calls")
  void followsRedirectAndRemembersLeader() {
    oneNodeChain();
    FakeEndpoint standby = standby(coordinator.address());
    CraqClient client = client(standby.address());

    assertEquals(3, client.chain().epoch());
    assertEquals(3, client.chain().epoch());

    assertEquals(1, standby.received(MapRequest.class).size());
    assertEquals(2, coordinator.received(MapRequest.class).size());
  }

  @Test
  @DisplayName("an empty hint (no leader at that standby) moves on to the next listed coordinator")
  void emptyHintMovesToNextListed() {
    oneNodeChain();
    FakeEndpoint standby = standby("");
    CraqClient client = client(standby.address(), coordinator.address());

    assertEquals(3, client.chain().epoch());

    assertEquals(1, standby.received(MapRequest.class).size());
    assertEquals(1, coordinator.received(MapRequest.class).size());
  }

  @Test
  @DisplayName("a coordinator that cannot be reached is passed over for the next listed one")
  void unreachableMovesToNextListed() throws Exception {
    oneNodeChain();
    String dead = deadAddress();
    CraqClient client = client(dead, coordinator.address());

    assertEquals(3, client.chain().epoch());
    assertEquals(3, client.chain().epoch());

    assertEquals(2, coordinator.received(MapRequest.class).size());
  }

  @Test
  @DisplayName("when no coordinator leads, the call says so in one line, with code NOT_LEADER")
  void noLeaderNow() {
    FakeEndpoint a = standby("");
    FakeEndpoint b = standby("");
    CraqClient client = client(a.address(), b.address());

    UnavailableException e = assertThrows(UnavailableException.class, client::chain);

    assertEquals(ErrorCode.NOT_LEADER, e.code());
    assertTrue(e.getMessage().contains("no coordinator leads now"), e.getMessage());
    assertTrue(e.getMessage().contains(a.address()) && e.getMessage().contains(b.address()));
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    assertEquals(1, a.received().size());
    assertEquals(1, b.received().size());
  }

  @Test
  @DisplayName(
      "redirects that never reach a leader stop after the hop bound (listed + 2) with a clear "
          + "error naming the path")
  void hopBound() {
    // Each standby names a further one: a leader is never reached.
    List<FakeEndpoint> standbys = new ArrayList<>();
    standbys.add(standby(""));
    for (int i = 0; i < 5; i++) {
      FakeEndpoint next = standbys.get(standbys.size() - 1);
      standbys.add(standby(next.address()));
    }
    FakeEndpoint first = standbys.get(standbys.size() - 1);
    CraqClient client = client(first.address());

    UnavailableException e = assertThrows(UnavailableException.class, client::chain);

    assertEquals(ErrorCode.NOT_LEADER, e.code());
    assertTrue(e.getMessage().contains("within 3 hops"), e.getMessage());
    String path =
        first.address() + " -> " + standbys.get(4).address() + " -> " + standbys.get(3).address();
    assertTrue(e.getMessage().contains(path), e.getMessage());
    assertEquals(0, standbys.get(2).received().size(), "no fourth hop");
  }

  @Test
  @DisplayName("two standbys naming each other: each is asked once, then a clear error")
  void redirectLoopStops() {
    FakeEndpoint a = fake(m -> null);
    FakeEndpoint b = standby(a.address());
    a.behave(m -> new ErrorReply(ErrorCode.NOT_LEADER, "stands by", b.address()));
    CraqClient client = client(a.address());

    UnavailableException e = assertThrows(UnavailableException.class, client::chain);

    assertTrue(e.getMessage().contains("no coordinator leads now"), e.getMessage());
    assertEquals(1, a.received().size());
    assertEquals(1, b.received().size());
  }

  @Test
  @DisplayName(
      "a write through the coordinator follows the redirect and reaches the leader exactly once")
  void writeViaCoordinatorFollowsRedirect() {
    coordinator.behave(m -> m instanceof WriteRequest w ? new WriteReply(w.key(), 9) : null);
    FakeEndpoint standby = standby(coordinator.address());
    CraqClient client =
        new CraqClient(
            ClientConfig.defaults(standby.address() + "," + coordinator.address())
                .withCallTimeoutMillis(3_000)
                .withWriteViaCoordinator(true),
            transport);
    clients.add(client);

    assertEquals(9, client.write("k", VALUE));

    assertEquals(1, standby.received(WriteRequest.class).size());
    assertEquals(1, coordinator.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName(
      "a write through the coordinator when none leads certainly did not happen: unavailable, "
          + "saying no coordinator leads")
  void writeViaCoordinatorNoLeader() {
    FakeEndpoint standby = standby("");
    CraqClient client =
        new CraqClient(
            ClientConfig.defaults(standby.address())
                .withCallTimeoutMillis(1_000)
                .withRetryBackoffMillis(1, 5)
                .withWriteViaCoordinator(true),
            transport);
    clients.add(client);

    UnavailableException e =
        assertThrows(UnavailableException.class, () -> client.write("k", VALUE));

    assertEquals(ErrorCode.NOT_LEADER, e.code());
    assertTrue(e.getMessage().contains("no coordinator leads now"), e.getMessage());
  }

  @Test
  @DisplayName(
      "reads and writes straight to the chain ask the coordinator once, for the chain, and not "
          + "at every call")
  void directCallsDoNotAskTheCoordinatorEachTime() {
    FakeEndpoint node = oneNodeChain();
    CraqClient client = client(coordinator.address());

    for (int i = 0; i < 5; i++) {
      assertEquals(7, client.write("k" + i, VALUE));
      client.read("k" + i, ReadMode.STRONG, 0);
    }

    assertEquals(1, coordinator.received().size(), coordinator.received().toString());
    assertEquals(5, node.received(WriteRequest.class).size());
  }

  @Test
  @DisplayName(
      "when no coordinator leads, a client that knows the chain asks its members and goes on")
  void noLeaderFallsBackToMembers() {
    FakeEndpoint node = oneNodeChain();
    CraqClient client = client(coordinator.address());
    assertEquals(3, client.chain().epoch());
    coordinator.behave(m -> new ErrorReply(ErrorCode.NOT_LEADER, "no leader now", ""));

    assertEquals(3, client.chain().epoch());

    assertTrue(node.received(MapRequest.class).size() >= 1);
  }

  @Test
  @DisplayName("a list of addresses is parsed, blanks around commas ignored")
  void parsesList() {
    assertEquals(
        List.of("127.0.0.1:1", ":2", "host:3"),
        ClientConfig.parseCoordinatorAddresses("127.0.0.1:1, :2 ,host:3"));
    ClientConfig config = ClientConfig.defaults(":1234");
    assertEquals(List.of(":1234"), config.coordinatorAddresses());
    assertEquals(":1234", config.coordinatorAddress());
    assertArrayEquals(
        new String[] {":1", ":2"},
        ClientConfig.defaults(":1,:2").coordinatorAddresses().toArray(String[]::new));
  }

  @ParameterizedTest
  @ValueSource(strings = {":1,no-port", ":1,,:2", ":1,", "", ":1,:1", ":1,host:99999"})
  @DisplayName("a bad list is refused with a message naming what is wrong")
  void rejectsBadLists(String list) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ClientConfig.defaults(list));
    String message = e.getMessage();
    boolean named =
        message.contains("'no-port'")
            || message.contains("empty coordinator address")
            || message.contains("':1' is listed twice")
            || message.contains("'host:99999'");
    assertTrue(named, message);
  }
}

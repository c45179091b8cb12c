package io.craq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.store.KeyOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Routing by the chain map: a cluster of several chains of fake nodes ({@link FakeChainNode}) over
 * one shared store, behind the fake coordinator of {@link FakeServersTest} answering with {@link
 * #mapRef}.
 */
class MultiChainClientTest extends FakeServersTest {
  private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

  private final FakeNode store = new FakeNode(() -> ChainConfig.EMPTY);
  private final Map<String, FakeEndpoint> byId = new HashMap<>();
  private final Map<String, AtomicReference<ChainMap>> views = new HashMap<>();

  /**
   * Fake nodes with these ids, each with a map view of its own that follows the coordinator's
   * unless a test sets it.
   */
  private void nodes(String... ids) {
    for (String id : ids) {
      AtomicReference<ChainMap> view = new AtomicReference<>();
      views.put(id, view);
      FakeEndpoint node =
          new FakeEndpoint(
              transport,
              new FakeChainNode(id, () -> view.get() != null ? view.get() : currentMap(), store));
      nodes.add(node);
      byId.put(id, node);
    }
  }

  private Member member(String id) {
    return byId.get(id).member(id);
  }

  /** A chain of these members, head first. */
  private ChainConfig chain(long epoch, String... ids) {
    List<Member> members = new ArrayList<>();
    for (String id : ids) {
      members.add(member(id));
    }
    return new ChainConfig(epoch, members);
  }

  private static ChainMap map(long version, ChainConfig... chains) {
    return new ChainMap(version, 3, List.of(chains), FakeEndpoint.poolOf(List.of(chains)));
  }

  private static List<String> writeKeys(FakeEndpoint node) {
    return node.received(WriteRequest.class).stream().map(WriteRequest::key).toList();
  }

  @Test
  @DisplayName("writes of keys in two chains go to the two chains' heads, reads to their members")
  void writesGoToTheirChainsHead() {
    nodes("a", "b", "c");
    mapRef.set(map(5, chain(1, "a", "b"), chain(1, "b", "c")));
    String k0 = keyOfChain(0, 2, "k");
    String k1 = keyOfChain(1, 2, "k");
    CraqClient client = fakeClient();

    assertEquals(1, client.write(k0, VALUE));
    assertEquals(1, client.write(k1, VALUE));

    assertEquals(List.of(k0), writeKeys(byId.get("a")));
    assertEquals(List.of(k1), writeKeys(byId.get("b")));
    assertTrue(byId.get("c").received(WriteRequest.class).isEmpty());
    for (int i = 0; i < 20; i++) {
      assertEquals(1, client.read(k1).orElseThrow().version());
    }
    assertTrue(byId.get("a").received(ReadRequest.class).isEmpty(), "a is not in chain 1");
    assertEquals(1, coordinator.received(MapRequest.class).size(), "the map is cached");
  }

  @Test
  @DisplayName(
      "WRONG_CHAIN makes the client fetch the newer map and retry at the key's new head; a"
          + " read refused so moves on to another member")
  void wrongChainRefreshesAndRetries() {
    nodes("a", "b", "c");
    mapRef.set(map(1, chain(1, "a"), chain(1, "a")));
    String k1 = keyOfChain(1, 2, "k");
    CraqClient client = fakeClient();
    assertEquals(1, client.map().version());
    // Chain 1 moved from a to c; the client learns it only from a's refusal.
    mapRef.set(map(2, chain(1, "a"), chain(2, "c")));

    assertEquals(1, client.write(k1, VALUE));

    assertEquals(List.of(k1), writeKeys(byId.get("a")));
    assertEquals(List.of(k1), writeKeys(byId.get("c")));
    assertEquals(2, client.knownMap().version());
    assertEquals(
        1,
        client.readFrom(byId.get("c").address(), k1, ReadMode.STRONG, 0).orElseThrow().version());

    mapRef.set(map(3, chain(1, "a"), chain(3, "b")));
    assertEquals(1, client.read(k1).orElseThrow().version());
    assertEquals(1, byId.get("b").received(ReadRequest.class).size());
    assertEquals(3, client.knownMap().version());
  }

  @Test
  @DisplayName(
      "WRONG_CHAIN from a node that knows a newer map than the coordinator answered: the"
          + " client takes that node's map")
  void wrongChainFromANodeAheadOfTheCoordinator() {
    nodes("a", "c");
    ChainMap old = map(1, chain(1, "a"), chain(1, "a"));
    ChainMap moved = map(2, chain(1, "a"), chain(2, "c"));
    mapRef.set(old);
    views.get("a").set(moved);
    views.get("c").set(moved);
    String k1 = keyOfChain(1, 2, "k");
    CraqClient client = fakeClient();

    assertEquals(1, client.write(k1, VALUE));

    assertEquals(List.of(k1), writeKeys(byId.get("c")));
    assertEquals(2, client.knownMap().version());
    assertTrue(byId.get("a").received(MapRequest.class).size() >= 1);
  }

  @Test
  @DisplayName("readAll lists every chain at one of its members and merges them in key order")
  void readAllMergesChains() {
    nodes("a", "b", "c");
    mapRef.set(
        map(7, chain(1, "a", "b"), chain(1, "b", "c"), chain(1, "c", "a"), chain(1, "a", "c")));
    CraqClient client =
        fakeClient(ClientConfig.defaults(coordinator.address()).withReadAllPageKeys(3));
    Set<String> written = new TreeSet<>(KeyOrder.INSTANCE);
    for (int i = 0; i < 40; i++) {
      String key = "key-" + i + (i % 3 == 0 ? "" : "/" + (char) ('a' + i % 26));
      client.write(key, ("value " + i).getBytes(StandardCharsets.UTF_8));
      written.add(key);
    }
    client.delete("key-1/b");
    written.remove("key-1/b");

    List<Versioned> all = client.readAll().toList();

    assertEquals(List.copyOf(written), all.stream().map(Versioned::key).toList());
    Set<Integer> scanned = new TreeSet<>();
    for (FakeEndpoint node : nodes) {
      for (Chained chained : node.received(Chained.class)) {
        assertTrue(chained.message() instanceof ReadAllRequest, chained.toString());
        scanned.add(chained.chain());
      }
      assertTrue(node.received(ReadAllRequest.class).isEmpty(), "no unwrapped scans");
    }
    assertEquals(Set.of(0, 1, 2, 3), scanned);
  }

  @Test
  @DisplayName(
      "readAllPreferring(node) asks that node for its own chains and members elsewhere for the"
          + " others, without a fallback notice; readAllFrom(node) lists that node's chains only")
  void readAllPreferringAndFrom() {
    nodes("a", "b", "c");
    mapRef.set(map(7, chain(1, "a", "b"), chain(1, "b", "c"), chain(1, "c", "a")));
    CraqClient client = fakeClient();
    Map<Integer, Set<String>> keysByChain = new HashMap<>();
    for (int i = 0; i < 30; i++) {
      String key = "p" + i;
      client.write(key, VALUE);
      keysByChain.computeIfAbsent(KeySlots.chainOf(key, 3), c -> new TreeSet<>()).add(key);
    }
    List<String> notices = new ArrayList<>();
    FakeEndpoint b = byId.get("b");

    List<Versioned> all =
        client
            .readAllPreferring(
                b.address(), ReadMode.STRONG, 0, (first, why, by) -> notices.add(first + why + by))
            .toList();

    assertEquals(30, all.size());
    assertEquals(List.of(), notices);
    assertEquals(
        Set.of(0, 1),
        b.received(Chained.class).stream().map(Chained::chain).collect(Collectors.toSet()));
    Set<String> ofB = new TreeSet<>(KeyOrder.INSTANCE);
    ofB.addAll(keysByChain.get(0));
    ofB.addAll(keysByChain.get(1));
    assertEquals(
        List.copyOf(ofB),
        client.readAllFrom(b.address(), ReadMode.STRONG, 0).map(Versioned::key).toList());
  }

  @Test
  @DisplayName(
      "a read preferring a node outside the key's chain goes to a member, and the fallback"
          + " hears why")
  void readPreferringANodeOutsideTheChain() {
    nodes("a", "b");
    mapRef.set(map(3, chain(1, "a"), chain(1, "b")));
    String k1 = keyOfChain(1, 2, "k");
    CraqClient client = fakeClient();
    client.write(k1, VALUE);
    List<String> notices = new ArrayList<>();

    client.readPreferring(
        byId.get("a").address(),
        k1,
        ReadMode.STRONG,
        0,
        (first, why, by) -> notices.add(first + " | " + why + " | " + by));

    assertTrue(byId.get("a").received(ReadRequest.class).isEmpty());
    assertEquals(
        List.of(
            byId.get("a").address()
                + " | not a member of chain 1, which holds the key | "
                + byId.get("b").address()),
        notices);
  }

  @Test
  @DisplayName(
      "a key whose chain has no members fails clearly; chain() is for clusters of one chain")
  void emptyChainAndSingleChainApi() {
    nodes("a");
    mapRef.set(map(4, chain(1, "a"), new ChainConfig(0, List.of())));
    CraqClient client = fakeClient();
    UnavailableException e =
        assertThrows(UnavailableException.class, () -> client.write(keyOfChain(1, 2, "k"), VALUE));
    assertTrue(e.getMessage().startsWith("chain 1 of 2 has no members"), e.getMessage());
    assertEquals(1, client.write(keyOfChain(0, 2, "k"), VALUE));

    assertThrows(IllegalStateException.class, client::chain);
    assertThrows(IllegalStateException.class, client::knownChain);
    assertEquals(2, client.map().chainCount());
    ChainMap seen = client.mapOf(byId.get("a").address(), java.time.Duration.ofSeconds(1));
    assertEquals(4, seen.version());
    assertEquals(
        "a",
        CraqClient.nodeAt(seen, byId.get("a").address().replace("127.0.0.1", "localhost"))
            .orElseThrow()
            .id());
  }

  @Test
  @DisplayName("the known map never goes back: older versions are not adopted, nor older epochs")
  void mapIsMonotonic() {
    ChainConfig e1 = new ChainConfig(1, List.of(new Member("a", "127.0.0.1:1", 1, 1, true)));
    ChainConfig e2 = new ChainConfig(2, List.of(new Member("b", "127.0.0.1:2", 2, 1, true)));
    ChainMap older = new ChainMap(3, 3, List.of(e2, e1), List.of());
    ChainMap newer = new ChainMap(4, 3, List.of(e1, e1), List.of());

    assertEquals(older, CraqClient.newer(null, older));
    assertEquals(new ChainMap(4, 3, List.of(e2, e1), List.of()), CraqClient.newer(older, newer));
    assertEquals(new ChainMap(4, 3, List.of(e2, e1), List.of()), CraqClient.newer(newer, older));
  }
}

package io.craq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.coordinator.CoordinatorServer;
import io.craq.coordinator.CoordinatorServerSettings;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many chains over real TCP on 127.0.0.1: one coordinator ({@code --chains 4 --replicas 3}) and
 * four nodes in this JVM, talked to with raw transport requests.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ManyChainsTest {
  private static final int CHAINS = 4;
  private static final int REPLICAS = 3;
  private static final int NODES = 4;
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private static WriteRequest write(String key, String value) {
    return new WriteRequest(
        key, value.getBytes(StandardCharsets.UTF_8), false, Message.ANY_VERSION);
  }

  private static ReadRequest strongRead(String key) {
    return new ReadRequest(key, ReadMode.STRONG, 0);
  }

  /** A key of each chain, by chain. */
  private static List<String> keyPerChain() {
    String[] keys = new String[CHAINS];
    int found = 0;
    for (int i = 0; found < CHAINS; i++) {
      String key = "key-" + i;
      int chain = KeySlots.chainOf(key, CHAINS);
      if (keys[chain] == null) {
        keys[chain] = key;
        found++;
      }
    }
    return List.of(keys);
  }

  /**
   * True once every chain has {@link #REPLICAS} caught-up members that serve strong reads of its
   * keys, and every node carries the same number of memberships (placement has nothing left to
   * move).
   */
  private static boolean placed(TestCluster cluster, List<String> keys) throws Exception {
    ChainMap map = cluster.coordinator.map();
    if (map.pool().size() != NODES) {
      return false;
    }
    Map<String, Integer> load = new HashMap<>();
    for (int c = 0; c < CHAINS; c++) {
      ChainConfig chain = map.chain(c);
      if (chain.size() != REPLICAS || !chain.members().stream().allMatch(Member::caughtUp)) {
        return false;
      }
      chain.members().forEach(m -> load.merge(m.id(), 1, Integer::sum));
    }
    if (load.size() != NODES
        || load.values().stream().anyMatch(n -> n != CHAINS * REPLICAS / NODES)) {
      return false;
    }
    for (int c = 0; c < CHAINS; c++) {
      for (Member member : map.chain(c).members()) {
        if (!(cluster.request(member.address(), strongRead(keys.get(c))) instanceof ReadReply)) {
          return false;
        }
      }
    }
    return true;
  }

  private static String text(ReadReply read) {
    return new String(read.value(), StandardCharsets.UTF_8);
  }

  @Test
  @DisplayName(
      "4 nodes, 4 chains of 3: every chain gets 3 caught-up members; each chain's keys are"
          + " written at its head and read at its members, a node outside the chain refuses them"
          + " WRONG_CHAIN, the coordinator forwards to the right head, and a restarted coordinator"
          + " keeps the map")
  void fourChainsOverFourNodes() throws Exception {
    CoordinatorServerSettings settings =
        CoordinatorServerSettings.defaults("127.0.0.1:0", dir.resolve("coordinator"))
            .withChains(CHAINS, REPLICAS);
    try (TestCluster cluster = new TestCluster(settings)) {
      for (int i = 1; i <= NODES; i++) {
        cluster.startMemoryNode("n" + i);
      }
      List<String> keys = keyPerChain();
      await().atMost(WAIT).until(() -> placed(cluster, keys));
      ChainMap map = cluster.coordinator.map();
      List<String> addresses = new ArrayList<>();
      cluster.nodes.forEach(n -> addresses.add(n.publicAddress()));

      for (int c = 0; c < CHAINS; c++) {
        String key = keys.get(c);
        ChainConfig chain = map.chain(c);
        WriteReply written =
            assertInstanceOf(
                WriteReply.class,
                cluster.request(chain.head().address(), write(key, "v1-" + c)),
                "chain " + c);
        assertEquals(1, written.version());
        for (Member member : chain.members()) {
          ReadReply read =
              assertInstanceOf(ReadReply.class, cluster.request(member.address(), strongRead(key)));
          assertEquals("v1-" + c, text(read), member.id() + " of chain " + c);
        }
        List<String> outside = new ArrayList<>(addresses);
        chain.members().forEach(m -> outside.remove(m.address()));
        assertEquals(NODES - REPLICAS, outside.size());
        for (String address : outside) {
          assertWrongChain(cluster, address, write(key, "nope"));
          assertWrongChain(cluster, address, strongRead(key));
        }
        WriteReply forwarded =
            assertInstanceOf(
                WriteReply.class,
                cluster.request(cluster.coordinator.listenAddress(), write(key, "v2-" + c)));
        assertEquals(2, forwarded.version(), "forwarded to the head of chain " + c);
        assertEquals(
            "v2-" + c,
            text(
                assertInstanceOf(
                    ReadReply.class,
                    cluster.request(cluster.coordinator.listenAddress(), strongRead(key)))));
      }

      ChainMap before = cluster.closeCoordinator();
      CoordinatorServer restarted = cluster.startCoordinatorAgain();
      assertEquals(before, restarted.map(), "the restarted coordinator resumed the stored map");
      for (int c = 0; c < CHAINS; c++) {
        String key = keys.get(c);
        String value = "v3-" + c;
        await()
            .atMost(WAIT)
            .until(() ->
                cluster.request(restarted.listenAddress(), write(key, value))
                    instanceof WriteReply);
        ReadReply read =
            assertInstanceOf(
                ReadReply.class,
                cluster.request(restarted.map().chain(c).tail().address(), strongRead(key)));
        assertEquals(value, text(read));
      }
      ChainMap after = restarted.map();
      for (int c = 0; c < CHAINS; c++) {
        assertEquals(ids(before.chain(c)), ids(after.chain(c)), "chain " + c + " kept its members");
      }
    }
  }

  private static List<String> ids(ChainConfig chain) {
    return chain.members().stream().map(Member::id).toList();
  }

  /** {@code address} refuses {@code request} WRONG_CHAIN, naming a map version it knows. */
  private static void assertWrongChain(TestCluster cluster, String address, Message request) {
    ErrorReply refused =
        await()
            .atMost(WAIT)
            .until(
                () ->
                    cluster.request(address, request) instanceof ErrorReply e
                            && e.code() == ErrorCode.WRONG_CHAIN
                        ? e
                        : null,
                e -> e != null);
    long known = Long.parseLong(refused.hint());
    assertTrue(
        known >= 1 && known <= cluster.coordinator.map().version(),
        refused + " (the coordinator's map: version " + cluster.coordinator.map().version() + ")");
  }
}

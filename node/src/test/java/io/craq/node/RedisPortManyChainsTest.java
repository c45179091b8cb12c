package io.craq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.coordinator.CoordinatorServerSettings;
import io.craq.core.Limits;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.node.redis.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Two chains of one member over two nodes: each node's Redis port serves the keys of the chain it
 * does not hold too (forwarded), MSET across chains is refused with the hash-tag remedy, and DBSIZE
 * counts the node's own chain.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisPortManyChainsTest {
  @TempDir Path dir;

  /** A key of each of the two chains. */
  private static List<String> keyPerChain() {
    String[] keys = new String[2];
    for (int i = 0; keys[0] == null || keys[1] == null; i++) {
      String key = "key-" + i;
      int chain = KeySlots.chainOf(key, 2);
      if (keys[chain] == null) {
        keys[chain] = key;
      }
    }
    return List.of(keys);
  }

  @Test
  @DisplayName("every port serves every chain's keys; MSET across chains is a clear error")
  void everyPortServesEveryChain() throws Exception {
    CoordinatorServerSettings settings =
        CoordinatorServerSettings.defaults("127.0.0.1:0", dir.resolve("coordinator"))
            .withChains(2, 1);
    List<RedisServer> ports = new ArrayList<>();
    try (TestCluster cluster = new TestCluster(settings)) {
      cluster.startMemoryNode("n1");
      cluster.startMemoryNode("n2");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> {
            ChainMap map = cluster.coordinator.map();
            return map.chain(0).size() == 1
                && map.chain(1).size() == 1
                && !map.chain(0).head().id().equals(map.chain(1).head().id())
                && map.chain(0).members().stream().allMatch(Member::caughtUp)
                && map.chain(1).members().stream().allMatch(Member::caughtUp);
          });
      for (NodeServer node : cluster.nodes) {
        ports.add(
            RedisServer.start(
                "127.0.0.1:0",
                node,
                List.of(cluster.coordinator.listenAddress()),
                Limits.VALUE_BYTES_MAX_DEFAULT));
      }
      List<String> keys = keyPerChain();
      try (Jedis one = new Jedis("127.0.0.1", ports.get(0).port());
          Jedis two = new Jedis("127.0.0.1", ports.get(1).port())) {
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() ->
                "OK".equals(one.set(keys.get(0), "a")) && "OK".equals(one.set(keys.get(1), "b")));
        assertEquals("a", two.get(keys.get(0)));
        assertEquals("b", two.get(keys.get(1)));
        assertEquals("b", one.get(keys.get(1)));
        assertEquals(2, two.del(keys.get(0), keys.get(1)));
        assertEquals("OK", two.mset("{t}:x", "1", "{t}:y", "2"));
        assertEquals(List.of("1", "2"), one.mget("{t}:x", "{t}:y"));
        JedisDataException across =
            assertThrows(
                JedisDataException.class, () -> one.mset(keys.get(0), "1", keys.get(1), "2"));
        assertTrue(across.getMessage().contains("hash tag"), across.getMessage());
        assertEquals(2, one.dbSize() + two.dbSize(), "each port counts its own chain's keys");
      }
    } finally {
      ports.forEach(RedisServer::close);
    }
  }
}

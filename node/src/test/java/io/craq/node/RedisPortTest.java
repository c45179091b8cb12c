package io.craq.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.core.message.ChainConfig;
import io.craq.node.redis.RedisServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * The Redis port with a real Redis client library (Jedis) against a real 3-node chain in this JVM,
 * each node with its port: writes sent to any node commit through the head, every node reads them
 * strongly, and the commands answer as Redis's do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisPortTest {
  @TempDir static Path dir;

  private TestCluster cluster;
  private final List<RedisServer> ports = new ArrayList<>();
  private ChainConfig chain;

  @BeforeAll
  void startChain() throws Exception {
    cluster = new TestCluster(dir.resolve("coordinator"));
    for (int i = 1; i <= 3; i++) {
      cluster.startMemoryNode("n" + i);
    }
    chain = cluster.awaitChain(3);
    for (NodeServer node : cluster.nodes) {
      ports.add(
          RedisServer.start(
              "127.0.0.1:0",
              node,
              List.of(cluster.coordinator.listenAddress()),
              Limits.VALUE_BYTES_MAX_DEFAULT));
    }
  }

  @AfterAll
  void stop() {
    ports.forEach(RedisServer::close);
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The port of the node with id {@code id}. */
  private Jedis jedisAt(String id) {
    for (int i = 0; i < cluster.nodes.size(); i++) {
      if (cluster.nodes.get(i).nodeId().equals(id)) {
        return new Jedis("127.0.0.1", ports.get(i).port());
      }
    }
    throw new AssertionError("no node " + id);
  }

  private Jedis head() {
    return jedisAt(chain.head().id());
  }

  private Jedis tail() {
    return jedisAt(chain.tail().id());
  }

  @Test
  @DisplayName("SET at any node commits through the head; GET at every node sees it")
  void writesAnywhereReadEverywhere() {
    try (Jedis tail = tail();
        Jedis head = head()) {
      assertEquals("OK", tail.set("w:1", "from-tail"));
      assertEquals("OK", head.set("w:2", "from-head"));
      for (int i = 0; i < ports.size(); i++) {
        try (Jedis any = new Jedis("127.0.0.1", ports.get(i).port())) {
          assertEquals("from-tail", any.get("w:1"));
          assertEquals("from-head", any.get("w:2"));
          assertNull(any.get("w:absent"));
        }
      }
    }
  }

  @Test
  @DisplayName("values are binary-safe; keys must be UTF-8; limits give clear errors")
  void binaryValuesAndLimits() {
    try (Jedis jedis = tail()) {
      byte[] value = new byte[256];
      for (int i = 0; i < value.length; i++) {
        value[i] = (byte) i;
      }
      assertEquals("OK", jedis.set("bin".getBytes(UTF_8), value));
      assertArrayEquals(value, jedis.get("bin".getBytes(UTF_8)));
      assertEquals("OK", jedis.set("ключ", "значение"));
      assertEquals("значение", jedis.get("ключ"));

      JedisDataException notUtf8 =
          assertThrows(
              JedisDataException.class, () -> jedis.set(new byte[] {(byte) 0xff, 'k'}, value));
      assertTrue(notUtf8.getMessage().contains("UTF-8"), notUtf8.getMessage());
      JedisDataException empty = assertThrows(JedisDataException.class, () -> jedis.get(""));
      assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
      JedisDataException longKey =
          assertThrows(JedisDataException.class, () -> jedis.get("k".repeat(600)));
      assertTrue(longKey.getMessage().contains("511"), longKey.getMessage());
      JedisDataException big =
          assertThrows(
              JedisDataException.class,
              () -> jedis.set("big".getBytes(UTF_8), new byte[Limits.VALUE_BYTES_MAX_DEFAULT + 1]));
      assertTrue(big.getMessage().contains("limit"), big.getMessage());
      assertEquals("PONG", jedis.ping(), "the connection stays usable after errors");
    }
  }

  @Test
  @DisplayName("SET NX, XX and GET, GETSET, GETDEL, DEL, EXISTS, STRLEN, MGET, MSET, TTL")
  void writeCommands() {
    try (Jedis jedis = jedisAt(chain.members().get(1).id())) {
      assertEquals("OK", jedis.set("c:nx", "1", SetParams.setParams().nx()));
      assertNull(jedis.set("c:nx", "2", SetParams.setParams().nx()));
      assertEquals("1", jedis.get("c:nx"));
      assertNull(jedis.set("c:xx", "1", SetParams.setParams().xx()));
      assertNull(jedis.get("c:xx"));
      assertEquals("OK", jedis.set("c:nx", "3", SetParams.setParams().xx()));
      assertEquals("3", jedis.setGet("c:nx", "4"));
      assertEquals("4", jedis.getSet("c:nx", "5"));
      assertEquals("5", jedis.getDel("c:nx"));
      assertNull(jedis.get("c:nx"));
      assertNull(jedis.getDel("c:nx"));

      jedis.mset("{u1}:a", "A", "{u1}:b", "B");
      assertEquals(List.of("A", "B"), jedis.mget("{u1}:a", "{u1}:b"));
      assertEquals(Arrays.asList("A", null), jedis.mget("{u1}:a", "c:none"));
      assertEquals(2, jedis.exists("{u1}:a", "{u1}:b", "c:none"));
      assertEquals(1, jedis.strlen("{u1}:a"));
      assertEquals(0, jedis.strlen("c:none"));
      assertEquals(-1, jedis.ttl("{u1}:a"));
      assertEquals(-2, jedis.pttl("c:none"));
      assertEquals(2, jedis.del("{u1}:a", "{u1}:b", "c:none"));
      assertEquals(0, jedis.exists("{u1}:a", "{u1}:b"));

      JedisDataException expiry =
          assertThrows(
              JedisDataException.class, () -> jedis.set("c:ex", "1", SetParams.setParams().ex(5)));
      assertTrue(expiry.getMessage().contains("expiry is not supported"), expiry.getMessage());
      assertNull(jedis.get("c:ex"));
      JedisDataException tooMany =
          assertThrows(
              JedisDataException.class,
              () -> {
                String[] pairs = new String[2 * (Limits.MULTI_WRITE_KEYS_MAX + 1)];
                for (int i = 0; i < pairs.length; i += 2) {
                  pairs[i] = "{m}:" + i;
                  pairs[i + 1] = "v";
                }
                jedis.mset(pairs);
              });
      assertTrue(tooMany.getMessage().contains("at most"), tooMany.getMessage());
    }
  }

  @Test
  @DisplayName(
      "INCR, INCRBY, DECR, DECRBY and APPEND at a middle and the tail: applied at the head, Redis's"
          + " errors for values that are not integers and for overflow, nothing written then")
  void readModifyWrite() {
    try (Jedis middle = jedisAt(chain.members().get(1).id());
        Jedis tail = tail()) {
      assertEquals(1, middle.incr("rmw:n"));
      assertEquals(11, tail.incrBy("rmw:n", 10));
      assertEquals(10, middle.decr("rmw:n"));
      assertEquals(-5, tail.decrBy("rmw:n", 15));
      assertEquals("-5", middle.get("rmw:n"));
      assertEquals(2, tail.append("rmw:s", "ab"));
      assertEquals(5, middle.append("rmw:s", "cde"));
      assertEquals("abcde", tail.get("rmw:s"));

      JedisDataException notInteger =
          assertThrows(JedisDataException.class, () -> middle.incr("rmw:s"));
      assertEquals("ERR value is not an integer or out of range", notInteger.getMessage());
      assertEquals("abcde", tail.get("rmw:s"));
      middle.set("rmw:max", Long.toString(Long.MAX_VALUE));
      JedisDataException overflow =
          assertThrows(JedisDataException.class, () -> tail.incr("rmw:max"));
      assertEquals("ERR increment or decrement would overflow", overflow.getMessage());
      assertEquals(Long.toString(Long.MAX_VALUE), middle.get("rmw:max"));
      JedisDataException badArgument =
          assertThrows(
              JedisDataException.class,
              () -> middle.sendCommand(redis.clients.jedis.Protocol.Command.INCRBY, "rmw:n", "1x"));
      assertEquals("ERR value is not an integer or out of range", badArgument.getMessage());
      assertEquals("-5", tail.get("rmw:n"));
    }
  }

  @Test
  @DisplayName("connection and server commands; unknown commands leave the connection usable")
  void serverCommands() {
    try (Jedis jedis = head()) {
      assertEquals("PONG", jedis.ping());
      assertEquals("hi", jedis.echo("hi"));
      assertEquals("OK", jedis.select(0));
      assertThrows(JedisDataException.class, () -> jedis.select(1));
      assertEquals("OK", jedis.clientSetname("tester"));
      assertEquals("tester", jedis.clientGetname());
      assertTrue(jedis.clientId() > 0);
      String info = jedis.info();
      assertTrue(info.contains("# Replication"), info);
      assertTrue(info.contains("chain0:role=head,epoch="), info);
      assertTrue(info.contains("# Keyspace"), info);
      try (Jedis tail = tail()) {
        assertTrue(tail.info("replication").contains("chain0:role=tail"));
      }
      assertEquals(Map.of("save", ""), jedis.configGet("save"));
      assertEquals(Map.of("appendonly", "no"), jedis.configGet("appendonly"));
      assertTrue(jedis.commandCount() >= 20);
      JedisDataException unknown =
          assertThrows(
              JedisDataException.class, () -> jedis.sendCommand(() -> "FLUSHALL".getBytes(UTF_8)));
      assertTrue(
          unknown.getMessage().startsWith("ERR unknown command 'FLUSHALL'"), unknown.getMessage());
      assertEquals("PONG", jedis.ping());
    }
  }

  @Test
  @DisplayName("SCAN with MATCH and COUNT visits every key once; DBSIZE counts them")
  void scanAndDbsize() {
    try (Jedis jedis = tail()) {
      Set<String> written = new HashSet<>();
      for (int i = 0; i < 57; i++) {
        jedis.set("scan:" + i, "v");
        written.add("scan:" + i);
      }
      // Ordered one way as UTF-16 units and the other as UTF-8 bytes (the stores' order): a page
      // boundary between them must neither skip nor repeat one.
      for (String key : List.of("scan:\uE000", "scan:\uD83D\uDE00", "scan:\uFFFD")) {
        jedis.set(key, "v");
        written.add(key);
      }
      Set<String> seen = new HashSet<>();
      String cursor = ScanParams.SCAN_POINTER_START;
      int pages = 0;
      do {
        ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("scan:*").count(10));
        for (String key : page.getResult()) {
          assertTrue(seen.add(key), "seen twice: " + key);
        }
        cursor = page.getCursor();
        pages++;
      } while (!cursor.equals("0"));
      assertEquals(written, seen);
      assertTrue(pages >= 6, "pages: " + pages);
      Set<String> oneByOne = new HashSet<>();
      cursor = ScanParams.SCAN_POINTER_START;
      do {
        ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("scan:*").count(1));
        for (String key : page.getResult()) {
          assertTrue(oneByOne.add(key), "seen twice: " + key);
        }
        cursor = page.getCursor();
      } while (!cursor.equals("0"));
      assertEquals(written, oneByOne, "a page of one key at a time");
      assertTrue(jedis.dbSize() >= 60);
    }
  }

  @Test
  @DisplayName(
      "DBSIZE reuses a recent count, yet counts a connection's own writes at once and other"
          + " ports' writes within a second")
  void dbsizeCountsReused() {
    try (Jedis tail = tail();
        Jedis head = head()) {
      long before = tail.dbSize();
      assertEquals(before, tail.dbSize(), "nothing written: the same count");
      tail.set("dbsize:own", "v");
      assertEquals(before + 1, tail.dbSize(), "a write of this port is counted at once");
      head.set("dbsize:other", "v");
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(() -> tail.dbSize() == before + 2);
    }
  }

  @Test
  @DisplayName("a pipeline of 2,000 commands gets its replies in order")
  void pipelining() {
    try (Jedis jedis = tail()) {
      Pipeline pipeline = jedis.pipelined();
      List<Response<String>> sets = new ArrayList<>();
      List<Response<String>> gets = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        sets.add(pipeline.set("p:" + i, "v" + i));
        gets.add(pipeline.get("p:" + i));
      }
      pipeline.sync();
      for (int i = 0; i < 1000; i++) {
        assertEquals("OK", sets.get(i).get());
        assertEquals("v" + i, gets.get(i).get());
      }
    }
  }

  @Test
  @DisplayName(
      "pipelined writes apply in the order sent, also after commands that read before they write"
          + " (DEL, GETDEL, SET NX, SET GET)")
  void pipelinedWritesKeepTheirOrder() {
    try (Jedis middle = jedisAt(chain.members().get(1).id())) {
      Pipeline pipeline = middle.pipelined();
      List<Response<String>> finals = new ArrayList<>();
      List<Response<Long>> counters = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        String key = "order:" + i;
        pipeline.set(key, "old");
        pipeline.del(key);
        pipeline.set(key, "new");
        pipeline.getDel(key);
        pipeline.set(key, "a", SetParams.setParams().nx());
        pipeline.setGet(key, "b");
        pipeline.append(key, "c");
        finals.add(pipeline.get(key));
        pipeline.del("order:n" + i);
        pipeline.incr("order:n" + i);
        counters.add(pipeline.incr("order:n" + i));
      }
      pipeline.sync();
      for (int i = 0; i < 50; i++) {
        assertEquals("bc", finals.get(i).get(), "key order:" + i);
        assertEquals(2, counters.get(i).get(), "key order:n" + i);
      }
    }
  }

  @Test
  @DisplayName("HELLO 3 switches the connection to RESP3")
  void resp3() {
    int port = ports.get(0).port();
    try (Jedis jedis =
        new Jedis(
            new HostAndPort("127.0.0.1", port),
            DefaultJedisClientConfig.builder().protocol(RedisProtocol.RESP3).build())) {
      assertEquals("OK", jedis.set("r3", "x"));
      assertEquals("x", jedis.get("r3"));
      assertNull(jedis.get("r3:absent"));
      assertEquals(Map.of("save", ""), jedis.configGet("save"));
    }
  }
}

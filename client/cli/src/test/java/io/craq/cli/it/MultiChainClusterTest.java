package io.craq.cli.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ChainMaps;
import io.craq.cli.common.ExitCodes;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.FakeServersTest;
import io.craq.client.Versioned;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.ReadMode;
import io.craq.core.store.KeyOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster of several chains on real processes: a coordinator with {@code --chains 4 --replicas 3}
 * and four nodes as child JVMs on 127.0.0.1, driven through the client library and the {@code craq}
 * command line. One cluster serves every test (forming it takes most of their time), the leave
 * last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiChainClusterTest {
  private static final Duration FORM_TIMEOUT = Duration.ofSeconds(120);
  private static final int NODES = 4;
  private static final int CHAINS = 4;
  private static final int REPLICAS = 3;
  private static final int KEYS = 200;

  @TempDir static Path directory;
  private ProcessCluster cluster;

  @BeforeAll
  void start() throws Exception {
    cluster = new ProcessCluster(directory, 2000).withChains(CHAINS, REPLICAS);
    cluster.startCoordinator();
    for (int i = 1; i <= NODES; i++) {
      cluster.startNode("n" + i);
    }
    cluster.awaitChains(NODES, FORM_TIMEOUT);
    // The placement spreads the chains over the nodes that joined after the first ones: wait
    // until it is done (no chain moving, the nodes' memberships within one of each other).
    cluster.awaitCondition(
        "the chains spread over every node",
        FORM_TIMEOUT,
        () -> {
          ChainMap map = cluster.map();
          if (map == null || !ChainMaps.moving(map).isEmpty()) {
            return false;
          }
          List<Integer> loads =
              ChainMaps.nodes(map).stream().map(n -> ChainMaps.memberOf(map, n.id())).toList();
          return loads.size() == NODES
              && loads.stream().mapToInt(Integer::intValue).max().orElse(0)
                      - loads.stream().mapToInt(Integer::intValue).min().orElse(0)
                  <= 1;
        });
  }

  @AfterAll
  void stop() {
    cluster.close();
  }

  private static byte[] value(String key) {
    return ("value of " + key).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  @Order(1)
  @DisplayName(
      "4 chains of 3 over 4 nodes: 200 keys written, each read back at every member of its"
          + " chain, readall lists them all in key order, craq chain shows 4 chains of 3")
  void keysSpreadOverChains() {
    TreeMap<String, byte[]> written = new TreeMap<>(KeyOrder.INSTANCE);
    try (CraqClient client =
        CraqClient.connect(
            ClientConfig.defaults(cluster.coordinatorAddress()).withCallTimeoutMillis(10_000))) {
      for (int i = 0; i < KEYS; i++) {
        String key = "key-" + i;
        assertTrue(client.write(key, value(key)) > 0);
        written.put(key, value(key));
      }
      ChainMap map = client.map();
      assertEquals(CHAINS, map.chainCount());
      Map<Integer, Integer> perChain = new HashMap<>();
      for (String key : written.keySet()) {
        int chain = KeySlots.chainOf(key, CHAINS);
        perChain.merge(chain, 1, Integer::sum);
        ChainConfig config = map.chain(chain);
        assertEquals(REPLICAS, config.size(), "chain " + chain + ": " + config);
        for (Member member : config.members()) {
          Versioned read = client.readFrom(member.address(), key, ReadMode.STRONG, 0).orElseThrow();
          assertEquals(
              new String(written.get(key), StandardCharsets.UTF_8),
              new String(read.value(), StandardCharsets.UTF_8),
              key + " at " + member.id());
        }
      }
      assertEquals(CHAINS, perChain.size(), "every chain holds keys: " + perChain);

      List<String> listed = new ArrayList<>();
      client.readAll().forEach(entry -> listed.add(entry.key()));
      assertEquals(List.copyOf(written.keySet()), listed);
    }

    CraqRun chain = CraqRun.of("-c", cluster.coordinatorAddress(), "chain");
    assertEquals(0, chain.exitCode(), chain.out() + chain.err());
    String[] lines = chain.out().split("\n");
    assertTrue(
        lines[0].startsWith("map version ")
            && lines[0].endsWith(", 4 chains of 3 replicas, 4 nodes"),
        chain.out());
    for (int c = 0; c < CHAINS; c++) {
      String row = lines[2 + c];
      String[] cells = row.trim().split("\\s+");
      assertEquals(Integer.toString(c), cells[0], row);
      assertEquals(
          KeySlots.firstSlot(c, CHAINS) + "-" + (KeySlots.endSlot(c, CHAINS) - 1), cells[1], row);
      assertEquals(3 + REPLICAS, cells.length, "three members, none catching up: " + row);
    }
    assertEquals("no chain is moving", lines[lines.length - 1], chain.out());
    ChainMap map = cluster.map();
    assertTrue(ChainMaps.moving(map).isEmpty(), map.toString());
    for (ChainMaps.Node node : ChainMaps.nodes(map)) {
      assertEquals(
          CHAINS * REPLICAS / NODES,
          ChainMaps.memberOf(map, node.id()),
          node.id() + "'s chains: " + map);
    }

    CraqRun readall = CraqRun.of("-c", cluster.coordinatorAddress(), "readall");
    assertEquals(0, readall.exitCode(), readall.err());
    StringBuilder expected = new StringBuilder();
    written.forEach((key, bytes) ->
        expected
            .append(key)
            .append('\t')
            .append(new String(bytes, StandardCharsets.UTF_8))
            .append('\n'));
    assertEquals(expected.toString(), readall.out());
  }

  @Test
  @Order(2)
  @DisplayName(
      "craq mwrite of hash-tagged keys writes them all on their chain; keys of different chains"
          + " are refused with one clear line; a conditional mwrite with one stale version"
          + " changes nothing")
  void multiKeyWrites() {
    String name = "user:{42}:name";
    String mail = "user:{42}:mail";
    String phone = "user:{42}:phone";
    String coordinator = cluster.coordinatorAddress();
    CraqRun written =
        CraqRun.of("-c", coordinator, "mwrite", name, "Ada", mail, "ada@example.org", phone, "555");
    assertEquals(0, written.exitCode(), written.out() + written.err());
    assertEquals(name + "\t1\n" + mail + "\t1\n" + phone + "\t1\n", written.out());
    assertEquals(
        Map.of(name, "Ada", mail, "ada@example.org", phone, "555"),
        readAtEveryMember(List.of(name, mail, phone)));

    // Untagged keys of two chains: refused before anything is sent, in one line.
    String first = FakeServersTest.keyOfChain(0, CHAINS, "mw-");
    String second = FakeServersTest.keyOfChain(1, CHAINS, "mw-");
    CraqRun across = CraqRun.of("-c", coordinator, "mwrite", first, "a", second, "b");
    assertEquals(ExitCodes.INVALID_REQUEST, across.exitCode(), across.out() + across.err());
    assertEquals(
        List.of(
            "craq: keys '"
                + first
                + "' (chain "
                + KeySlots.chainOf(first, CHAINS)
                + ") and '"
                + second
                + "' (chain "
                + KeySlots.chainOf(second, CHAINS)
                + ") are on different chains: a multi-key write takes the keys of one chain;"
                + " give them a shared {hash tag}, as in user:{42}:name and user:{42}:mail"),
        across.errLines());
    assertEquals("", across.out());
    assertEquals(ExitCodes.NOT_FOUND, CraqRun.of("-c", coordinator, "read", first).exitCode());

    // name is at 1 as expected, mail is not at 0: nothing is written, name included.
    CraqRun stale =
        CraqRun.of(
            "-c",
            coordinator,
            "mwrite",
            "--if-version",
            name + "=1",
            "--if-version",
            mail + "=0",
            name,
            "Bob",
            mail,
            "bob@example.org");
    assertEquals(ExitCodes.VERSION_MISMATCH, stale.exitCode(), stale.out() + stale.err());
    assertEquals(1, stale.errLines().size(), stale.err());
    assertTrue(
        stale.err().contains("conditional write of key '" + mail + "' expected version 0"),
        stale.err());
    assertEquals(
        Map.of(name, "Ada", mail, "ada@example.org", phone, "555"),
        readAtEveryMember(List.of(name, mail, phone)));

    // The same with the right versions, and a delete: all of it applies.
    CraqRun fresh =
        CraqRun.of(
            "-c",
            coordinator,
            "mwrite",
            "--if-version",
            name + "=1",
            "--if-version",
            mail + "=1",
            name,
            "Bob",
            mail,
            "bob@example.org",
            "--delete",
            phone);
    assertEquals(0, fresh.exitCode(), fresh.out() + fresh.err());
    assertEquals(name + "\t2\n" + mail + "\t2\n" + phone + "\t2\n", fresh.out());
    assertEquals(
        Map.of(name, "Bob", mail, "bob@example.org"),
        readAtEveryMember(List.of(name, mail, phone)));
  }

  /**
   * The value of each key found by a strong read at every member of its chain, which must all
   * agree; keys absent everywhere are left out.
   */
  private Map<String, String> readAtEveryMember(List<String> keys) {
    Map<String, String> found = new HashMap<>();
    try (CraqClient client =
        CraqClient.connect(
            ClientConfig.defaults(cluster.coordinatorAddress()).withCallTimeoutMillis(10_000))) {
      ChainMap map = client.map();
      for (String key : keys) {
        List<String> seen = new ArrayList<>();
        for (Member member : map.chainFor(key).members()) {
          seen.add(
              client
                  .readFrom(member.address(), key, ReadMode.STRONG, 0)
                  .map(Versioned::valueAsString)
                  .orElse(null));
        }
        assertEquals(REPLICAS, seen.size(), key + ": " + map.chainFor(key));
        assertTrue(seen.stream().distinct().count() == 1, key + " at the members: " + seen);
        if (seen.get(0) != null) {
          found.put(key, seen.get(0));
        }
      }
    }
    return found;
  }

  @Test
  @Order(3)
  @DisplayName(
      "craq leave n4 --wait: n4's chains move to the other nodes first, then it is in no chain;"
          + " every key is still read at every member of its chain; an unknown node is refused")
  void nodeLeaves() throws InterruptedException {
    try (CraqClient client =
        CraqClient.connect(
            ClientConfig.defaults(cluster.coordinatorAddress()).withCallTimeoutMillis(10_000))) {
      for (int i = 0; i < KEYS; i++) {
        assertTrue(client.write("key-" + i, value("key-" + i)) > 0);
      }
      CraqRun leave =
          CraqRun.of(
              "-c", cluster.coordinatorAddress(), "leave", "n4", "--wait-seconds", "120", "--wait");
      assertEquals(0, leave.exitCode(), leave.out() + leave.err());
      assertTrue(leave.out().startsWith("n4 is leaving"), leave.out());
      assertTrue(leave.out().endsWith("n4 is in no chain: it can be stopped\n"), leave.out());
      ChainMap map = client.map();
      for (int c = 0; c < CHAINS; c++) {
        ChainConfig config = map.chain(c);
        assertTrue(!config.contains("n4") && config.size() == REPLICAS, map.toString());
      }
      assertTrue(map.poolNode("n4").leaving(), map.toString());
      cluster.killNode("n4");
      for (int i = 0; i < KEYS; i++) {
        String key = "key-" + i;
        for (Member member : map.chainFor(key).members()) {
          Versioned read = client.readFrom(member.address(), key, ReadMode.STRONG, 0).orElseThrow();
          assertEquals("value of " + key, new String(read.value(), StandardCharsets.UTF_8));
        }
      }
    }
    CraqRun unknown = CraqRun.of("-c", cluster.coordinatorAddress(), "leave", "n9");
    assertEquals(1, unknown.exitCode(), unknown.out() + unknown.err());
    assertTrue(unknown.err().contains("the cluster has no node n9"), unknown.err());
  }
}

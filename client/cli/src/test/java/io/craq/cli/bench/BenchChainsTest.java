package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ChainMaps;
import io.craq.client.FakeChainNode;
import io.craq.client.FakeEndpoint;
import io.craq.client.FakeNode;
import io.craq.client.FakeServersTest;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code craq bench} against a cluster of several chains: every request goes where the map says
 * (fake nodes refuse a key of a chain they are not in, and a write when they are not its head), the
 * keys spread evenly over the chains, and the tables name each node's place in the map.
 */
class BenchChainsTest extends FakeServersTest {
  private final FakeNode store = new FakeNode(() -> ChainConfig.EMPTY);
  private final Map<String, FakeEndpoint> byId = new HashMap<>();

  /** Fake nodes a, b, c, d and four chains of three over them, heads rotated. */
  private ChainMap fourChainsOfThree() {
    for (String id : List.of("a", "b", "c", "d")) {
      FakeEndpoint node =
          new FakeEndpoint(transport, new FakeChainNode(id, this::currentMap, store));
      nodes.add(node);
      byId.put(id, node);
    }
    ChainMap map =
        new ChainMap(
            9,
            3,
            List.of(
                chain("a", "b", "c"),
                chain("b", "c", "d"),
                chain("c", "d", "a"),
                chain("d", "a", "b")),
            FakeEndpoint.poolOf(
                List.of(
                    chain("a", "b", "c"),
                    chain("b", "c", "d"),
                    chain("c", "d", "a"),
                    chain("d", "a", "b"))));
    mapRef.set(map);
    return map;
  }

  private ChainConfig chain(String... ids) {
    List<Member> members = new ArrayList<>();
    for (String id : ids) {
      members.add(byId.get(id).member(id));
    }
    return new ChainConfig(1, members);
  }

  private CraqRun bench(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-c",
                coordinator.address(),
                "--json",
                "bench",
                "--duration",
                "300ms",
                "--warmup",
                "0",
                "--threads",
                "2",
                "--keys",
                "40",
                "--keep-keys"));
    args.addAll(List.of(extra));
    return CraqRun.of(args.toArray(String[]::new));
  }

  private static long number(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\": (\\d+)").matcher(json);
    assertTrue(m.find(), name + " in " + json);
    return Long.parseLong(m.group(1));
  }

  @Test
  @DisplayName(
      "writes go to the head of each key's chain and reads to its members: none is refused,"
          + " every head gets writes and every node reads")
  void routesByTheMap() {
    ChainMap map = fourChainsOfThree();
    CraqRun writes = bench("--workload", "write");
    assertEquals(0, writes.exitCode(), writes.err());
    assertEquals(0, number(writes.out(), "failures"), writes.out());
    assertTrue(number(writes.out(), "ops") > 0, writes.out());
    CraqRun reads = bench("--workload", "read");
    assertEquals(0, reads.exitCode(), reads.err());
    assertEquals(0, number(reads.out(), "failures"), reads.out());
    assertFalse(reads.out().contains("\"not found\""), "every key was preloaded: " + reads.out());
    for (String id : List.of("a", "b", "c", "d")) {
      FakeEndpoint node = byId.get(id);
      List<WriteRequest> written = node.received(WriteRequest.class);
      assertFalse(written.isEmpty(), id + " heads a chain and got writes");
      for (WriteRequest w : written) {
        assertEquals(id, map.chainFor(w.key()).head().id(), w.key() + " written at " + id);
      }
      List<ReadRequest> read = node.received(ReadRequest.class);
      assertFalse(read.isEmpty(), id + " got reads");
      for (ReadRequest r : read) {
        assertTrue(map.chainFor(r.key()).contains(id), r.key() + " read at " + id);
      }
    }
  }

  @Test
  @DisplayName("cas and mixed runs route their reads and writes by the map too")
  void casAndMixed() {
    fourChainsOfThree();
    CraqRun cas = bench("--workload", "cas");
    assertEquals(0, cas.exitCode(), cas.err());
    assertEquals(0, number(cas.out(), "failures"), cas.out());
    CraqRun mixed = bench("--workload", "mixed", "--write-rate", "200");
    assertEquals(0, mixed.exitCode(), mixed.err());
    Matcher failures = Pattern.compile("\"failures\": (\\d+)").matcher(mixed.out());
    int operations = 0;
    while (failures.find()) {
      assertEquals("0", failures.group(1), mixed.out());
      operations++;
    }
    assertEquals(2, operations, "a read and a write row: " + mixed.out());
  }

  @Test
  @DisplayName("CR mode reads only at the tail of each key's chain")
  void crReadsAtEachChainsTail() {
    ChainMap map = fourChainsOfThree();
    CraqRun reads = bench("--workload", "read", "--mode", "cr");
    assertEquals(0, reads.exitCode(), reads.err());
    assertEquals(0, number(reads.out(), "failures"), reads.out());
    for (String id : List.of("a", "b", "c", "d")) {
      for (ReadRequest r : byId.get(id).received(ReadRequest.class)) {
        assertEquals(id, map.chainFor(r.key()).tail().id(), r.key() + " read at " + id);
      }
    }
  }

  @Test
  @DisplayName(
      "the target names the nodes, chains and map version; the per-node table lists every node"
          + " of the map with its heads, middles and tails")
  void reportNamesTheMap() {
    fourChainsOfThree();
    CraqRun run = bench("--workload", "read");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("4 node(s), 4 chains of 3 replicas, map version 9"), run.out());
    Matcher nodes = Pattern.compile("\"node\": \"([a-d])\"").matcher(run.out());
    List<String> seen = new ArrayList<>();
    while (nodes.find()) {
      seen.add(nodes.group(1));
    }
    assertEquals(List.of("a", "b", "c", "d"), seen, run.out());
    assertTrue(
        run.out().contains("\"role\": \"h1 m1 t1\""),
        "the fakes have no counters, their place is known: " + run.out());
  }

  @Test
  @DisplayName(
      "a node's place: its role with one chain; with several, the chains it heads, is a middle"
          + " of and tails")
  void place() {
    ChainMap map = fourChainsOfThree();
    assertEquals("h1 m1 t1", BenchCommand.place(map, "a"));
    assertEquals("h1 m1 t1", BenchCommand.place(map, "d"));
    assertEquals("-", BenchCommand.place(map, "zz"));
    ChainMap one = FakeEndpoint.singleChainMap(chain("a", "b", "c"));
    assertEquals("head", BenchCommand.place(one, "a"));
    assertEquals("middle", BenchCommand.place(one, "b"));
    assertEquals("tail", BenchCommand.place(one, "c"));
    assertEquals("head+tail", BenchCommand.place(FakeEndpoint.singleChainMap(chain("d")), "d"));
    assertEquals(4, ChainMaps.nodes(map).size());
  }

  /** A map of chains over {@code pool}, each chain given by its members' ids, head first. */
  private static ChainMap mapOf(List<String> pool, boolean caughtUp, String... chains) {
    List<ChainConfig> configs = new ArrayList<>();
    for (String chain : chains) {
      List<Member> members = new ArrayList<>();
      for (String id : chain.split(",")) {
        members.add(new Member(id, id + ":1", 1, 1, caughtUp));
      }
      configs.add(new ChainConfig(1, members));
    }
    return new ChainMap(
        5,
        3,
        configs,
        pool.stream()
            .map(id -> new io.craq.core.message.PoolNode(id, id + ":1", 1, false))
            .toList());
  }

  @Test
  @DisplayName(
      "a spawned cluster of several chains is measured only once placed: every chain formed,"
          + " nothing moving, every node within one membership of the others")
  void spawnedClusterWaitsForPlacement() {
    List<String> four = List.of("a", "b", "c", "d");
    // Formed, but d is in no chain yet: the coordinator is about to move chains onto it.
    ChainMap late = mapOf(four, true, "a,b,c", "b,c,a", "c,a,b", "a,b,c");
    assertFalse(LocalCluster.settled(4).ready(late));
    assertTrue(
        LocalCluster.settled(4).progress(late).contains("d=0"),
        LocalCluster.settled(4).progress(late));
    // A chain with a fourth member: moving.
    ChainMap moving = mapOf(four, true, "a,b,c,d", "b,c,d", "c,d,a", "d,a,b");
    assertFalse(LocalCluster.settled(4).ready(moving));
    // A member still catching up: not formed.
    ChainMap catchingUp = mapOf(four, false, "a,b,c", "b,c,d", "c,d,a", "d,a,b");
    assertFalse(LocalCluster.settled(4).ready(catchingUp));
    ChainMap placed = mapOf(four, true, "a,b,c", "b,c,d", "c,d,a", "d,a,b");
    assertTrue(LocalCluster.settled(4).ready(placed));
    // Four chains of three over five nodes: 12 memberships, 3 or 2 each, is as even as it gets.
    ChainMap five =
        mapOf(List.of("a", "b", "c", "d", "e"), true, "a,b,c", "d,e,a", "b,c,d", "e,a,b");
    assertTrue(LocalCluster.settled(5).ready(five));
  }

  @Test
  @DisplayName(
      "keys: with one chain craq-bench/RUNID/0..N-1; with several, distinct and spread evenly"
          + " (each chain N/K, the first N%K one more)")
  void keysSpreadEvenly() {
    assertEquals(List.of("p/0", "p/1", "p/2"), List.of(CraqLoad.chooseKeys("p/", 3, 1)));
    for (int[] shape : new int[][] {{100, 6}, {1000, 9}, {7, 12}, {64, 1024}}) {
      int count = shape[0];
      int chains = shape[1];
      String[] keys = CraqLoad.chooseKeys("craq-bench/abcdef/", count, chains);
      assertEquals(count, keys.length);
      assertEquals(count, new HashSet<>(List.of(keys)).size(), "distinct");
      int[] perChain = new int[chains];
      for (String key : keys) {
        assertTrue(key.matches("craq-bench/abcdef/\\d+"), key);
        perChain[KeySlots.chainOf(key, chains)]++;
      }
      for (int c = 0; c < chains; c++) {
        assertEquals(count / chains + (c < count % chains ? 1 : 0), perChain[c], "chain " + c);
      }
    }
  }
}

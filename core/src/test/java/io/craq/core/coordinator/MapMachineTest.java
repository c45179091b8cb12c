package io.craq.core.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The coordinator of many chains: the pool, the map, placement applied per chain, persistence. */
class MapMachineTest {
  private static final int TIMEOUT = 10;

  private record Ref(int id) implements ClientRef {}

  private static List<String> ids(ChainConfig config) {
    return config.members().stream().map(Member::id).toList();
  }

  /**
   * Drives a machine the way nodes would: every tick, every up node says hello and heartbeats in
   * each chain it is a member of, reporting itself caught up {@code copyTicks} after it was added.
   * Checks the drain contract on every drain.
   */
  private static final class Cluster {
    final MapMachine machine;
    final Set<String> up = new LinkedHashSet<>();
    final Map<String, Long> incarnation = new HashMap<>();
    final int copyTicks;

    /** Per chain and node: the joinedEpoch seen, and the tick it was first seen. */
    final Map<String, long[]> joined = new HashMap<>();

    final List<ChainMap> persisted = new ArrayList<>();
    long tick;
    long seq;

    Cluster(CoordinatorSettings settings, ChainMap recovered, int copyTicks) {
      this.machine = new MapMachine(settings, recovered);
      this.copyTicks = copyTicks;
    }

    void start(String... ids) {
      for (String id : ids) {
        up.add(id);
        incarnation.merge(id, 1L, Long::sum);
      }
    }

    void stop(String id) {
      up.remove(id);
    }

    Effects step() {
      tick++;
      machine.tick();
      for (String id : up) {
        machine.onRequest(new Ref(0), new NodeHello(id, id + ":1", incarnation.get(id), 0));
        ChainMap map = machine.map();
        for (int c = 0; c < map.chainCount(); c++) {
          Member m = map.chain(c).member(id);
          if (m == null) {
            continue;
          }
          if (m.incarnation() != incarnation.get(id)) {
            // Restarted: it asks to re-join the chain that lists its earlier incarnation.
            machine.onRequest(
                new Ref(0),
                new Chained(c, new JoinRequest(id, id + ":1", -1, incarnation.get(id))));
            continue;
          }
          long[] seen = joined.get(c + "/" + id);
          if (seen == null || seen[0] != m.joinedEpoch()) {
            seen = new long[] {m.joinedEpoch(), tick};
            joined.put(c + "/" + id, seen);
          }
          boolean caughtUp = m.caughtUp() || tick - seen[1] >= copyTicks;
          machine.onRequest(
              new Ref(0), new Chained(c, new Heartbeat(id, map.chain(c).epoch(), ++seq, caughtUp)));
        }
      }
      return drain();
    }

    Effects drain() {
      Effects effects = machine.drain();
      for (ChainConfig chain : machine.map().chains()) {
        assertTrue(
            chain.size() == 0 || chain.members().stream().anyMatch(Member::caughtUp),
            "a chain without a complete copy: " + machine.map());
      }
      assertTrue(effects.persist().size() <= 1, "one map per drain: " + effects.persist());
      for (Effects.StoreOp op : effects.persist()) {
        ChainMap map = assertInstanceOf(Effects.PersistMap.class, op).map();
        if (!persisted.isEmpty()) {
          assertEquals(persisted.get(persisted.size() - 1).version() + 1, map.version());
        }
        persisted.add(map);
      }
      boolean pushes = false;
      for (Effects.Send send : effects.sends()) {
        Chained chained = assertInstanceOf(Chained.class, send.message(), "sends are wrapped");
        ConfigPush push = assertInstanceOf(ConfigPush.class, chained.message());
        assertEquals(machine.map().chain(chained.chain()).epoch() >= push.config().epoch(), true);
        pushes = true;
      }
      if (pushes) {
        assertEquals(1, effects.persist().size(), "a push follows the persisted map");
      }
      for (Effects.Reply reply : effects.replies()) {
        assertFalse(reply.message() instanceof Chained, "replies are never wrapped");
        if (reply.message() instanceof MapReply(ChainMap map)) {
          assertEquals(machine.map(), map, "a map reply carries the map as persisted");
        }
      }
      return effects;
    }

    ChainMap map() {
      return machine.map();
    }

    /** Steps until {@code done} holds, at most {@code ticks} times. */
    void stepUntil(int ticks, java.util.function.BooleanSupplier done, String what) {
      for (int i = 0; i < ticks && !done.getAsBoolean(); i++) {
        step();
      }
      assertTrue(done.getAsBoolean(), what + " within " + ticks + " ticks: " + machine.map());
    }
  }

  private static CoordinatorSettings several(int chains, int replicas, int moves) {
    return new CoordinatorSettings(TIMEOUT, 8, chains, replicas, moves);
  }

  private static int load(ChainMap map, String id) {
    int n = 0;
    for (ChainConfig chain : map.chains()) {
      if (chain.contains(id)) {
        n++;
      }
    }
    return n;
  }

  private static boolean settled(ChainMap map, int t) {
    return map.chains().stream()
        .allMatch(c -> c.size() == t && c.members().stream().allMatch(Member::caughtUp));
  }

  @Test
  @DisplayName(
      "A hello puts the node in the pool and is answered with the map, persisted first as the next"
          + " version; a map request gets the map; a hello that changes nothing persists nothing")
  void helloJoinsThePool() {
    MapMachine machine = new MapMachine(several(4, 3, 2), ChainMap.empty(4, 3));
    machine.onRequest(new Ref(1), new NodeHello("a", "a:1", 7, 0));
    machine.onRequest(new Ref(2), new MapRequest());
    Effects effects = machine.drain();
    ChainMap persisted = assertInstanceOf(Effects.PersistMap.class, effects.persist().get(0)).map();
    assertEquals(1, persisted.version());
    assertEquals(List.of(new PoolNode("a", "a:1", 7, false)), persisted.pool());
    assertEquals(persisted, ((MapReply) effects.replies().get(0).message()).map());
    assertEquals(persisted, ((MapReply) effects.replies().get(1).message()).map());

    machine.onRequest(new Ref(3), new NodeHello("a", "a:1", 7, 1));
    Effects again = machine.drain();
    assertTrue(again.persist().isEmpty());
    assertEquals(persisted, ((MapReply) again.replies().get(0).message()).map());

    machine.onRequest(new Ref(4), new NodeHello("a", "a:2", 7, 1));
    machine.onRequest(new Ref(5), new NodeHello("b", "a:2", 1, 1));
    Effects moved = machine.drain();
    assertEquals("a:2", machine.map().poolNode("a").address(), "an address change is recorded");
    ErrorReply taken = (ErrorReply) moved.replies().get(1).message();
    assertEquals(ErrorCode.INVALID_REQUEST, taken.code());
    assertTrue(taken.message().contains("already used by node a"), taken.message());
    assertNull(machine.map().poolNode("b"));
  }

  @Test
  @DisplayName(
      "A new cluster of several chains is laid out once no new node has said hello for a failure"
          + " timeout: every chain at once, heads rotated over all nodes that came, pushed in chain"
          + " envelopes after one persisted map")
  void newClusterLayout() {
    Cluster cluster = new Cluster(several(6, 3, 2), ChainMap.empty(6, 3), 3);
    cluster.start("a", "b");
    cluster.step();
    cluster.step();
    cluster.start("c");
    cluster.step(); // c says hello
    for (int i = 1; i < TIMEOUT; i++) {
      cluster.step();
      assertTrue(
          cluster.map().chains().stream().allMatch(c -> c.size() == 0),
          "waits for more nodes, tick " + i);
    }
    Effects laid = cluster.step(); // a failure timeout without a new node
    ChainMap map = cluster.map();
    List<String> nodes = List.of("a", "b", "c");
    for (int c = 0; c < 6; c++) {
      assertEquals(
          List.of(nodes.get(c % 3), nodes.get((c + 1) % 3), nodes.get((c + 2) % 3)),
          ids(map.chain(c)),
          "chain " + c);
      assertTrue(map.chain(c).head().caughtUp());
    }
    assertEquals(1, laid.persist().size());
    assertTrue(
        laid.sends().stream()
            .anyMatch(s -> s.message() instanceof Chained(int c, ConfigPush p) && c == 5));
    cluster.stepUntil(10, () -> settled(cluster.map(), 3), "every member caught up");
  }

  @Test
  @DisplayName(
      "A coordinator that expects N nodes lays a new cluster out as soon as N have said hello, even"
          + " with pauses between them longer than the quiet period")
  void layoutWaitsForTheExpectedNodes() {
    Cluster cluster = new Cluster(several(6, 3, 2).withExpectNodes(6), ChainMap.empty(6, 3), 3);
    List<String> nodes = List.of("a", "b", "c", "d", "e", "f");
    for (int i = 0; i < nodes.size(); i++) {
      cluster.start(nodes.get(i));
      for (int t = 0; t < 2 * TIMEOUT; t++) {
        cluster.step();
        boolean laidOut = cluster.map().chains().stream().anyMatch(c -> c.size() > 0);
        assertEquals(i == nodes.size() - 1 && t > 0, laidOut, "node " + i + " tick " + t);
      }
    }
    ChainMap map = cluster.map();
    for (int c = 0; c < 6; c++) {
      assertEquals(nodes.get(c), map.chain(c).head().id(), "every node heads one chain");
    }
  }

  @Test
  @DisplayName(
      "Nodes that keep arriving delay a new cluster's layout by at most five quiet periods"
          + " after the first hello")
  void layoutWaitsAtMostFiveTimeouts() {
    Cluster cluster = new Cluster(several(4, 2, 2), ChainMap.empty(4, 2), 2);
    cluster.start("a");
    int laidOutAt = -1;
    for (int i = 1; i <= 8 * TIMEOUT && laidOutAt < 0; i++) {
      if (i % (TIMEOUT - 1) == 0) {
        cluster.start("n" + i); // a new node just before each quiet period ends
      }
      cluster.step();
      if (cluster.map().chains().stream().anyMatch(c -> c.size() > 0)) {
        laidOutAt = i;
      }
    }
    assertTrue(
        laidOutAt >= 5 * TIMEOUT && laidOutAt <= 5 * TIMEOUT + 2, "laid out at " + laidOutAt);
  }

  @Test
  @DisplayName(
      "Fewer nodes than replicas: a new cluster waits for more for five quiet periods after the"
          + " first hello, then is laid out with chains as long as there are nodes")
  void layoutAfterTheTimeoutWithFewerNodes() {
    Cluster cluster = new Cluster(several(3, 3, 2), ChainMap.empty(3, 3), 2);
    cluster.start("a", "b");
    for (int i = 0; i < 5 * TIMEOUT - 1; i++) {
      cluster.step();
      assertTrue(cluster.map().chains().stream().allMatch(c -> c.size() == 0), "tick " + i);
    }
    cluster.stepUntil(10, () -> settled(cluster.map(), 2), "two members per chain");
  }

  @Test
  @DisplayName(
      "A node added to a balanced cluster gets chains moved onto it, one member added and caught"
          + " up before the one it replaces goes, at most movesMax chains at once")
  void growthMovesChains() {
    Cluster cluster = new Cluster(several(6, 2, 1), ChainMap.empty(6, 2), 3);
    cluster.start("a", "b", "c");
    cluster.stepUntil(TIMEOUT + 5, () -> settled(cluster.map(), 2), "laid out");
    cluster.start("d");
    int maxMoving = 0;
    for (int i = 0; i < 200; i++) {
      cluster.step();
      ChainMap map = cluster.map();
      int moving = 0;
      for (ChainConfig chain : map.chains()) {
        assertTrue(chain.members().stream().anyMatch(Member::caughtUp), "a complete copy");
        if (chain.size() > 2 || chain.members().stream().anyMatch(m -> !m.caughtUp())) {
          moving++;
        }
      }
      maxMoving = Math.max(maxMoving, moving);
    }
    ChainMap map = cluster.map();
    assertTrue(settled(map, 2), map.toString());
    for (String id : List.of("a", "b", "c", "d")) {
      assertEquals(3, load(map, id), id + " in " + map);
    }
    assertEquals(1, maxMoving, "movesMax");
  }

  @Test
  @DisplayName(
      "3 nodes with 6 chains of 3 grown to 6: the chains move and then swap until every node holds"
          + " two head or middle places (and heads at most two), never without a complete copy")
  void growthSpreadsRoles() {
    Cluster cluster = new Cluster(several(6, 3, 2), ChainMap.empty(6, 3), 3);
    cluster.start("a", "b", "c");
    cluster.stepUntil(TIMEOUT + 5, () -> settled(cluster.map(), 3), "laid out");
    cluster.start("d", "e", "f");
    List<String> nodes = List.of("a", "b", "c", "d", "e", "f");
    cluster.stepUntil(
        2000,
        () -> {
          ChainMap map = cluster.map();
          if (!settled(map, 3)) {
            return false;
          }
          for (String id : nodes) {
            long heads = map.chains().stream().filter(c -> ids(c).get(0).equals(id)).count();
            long nonTail =
                map.chains().stream()
                    .filter(c -> ids(c).indexOf(id) == 0 || ids(c).indexOf(id) == 1)
                    .count();
            if (load(map, id) != 3 || heads > 2 || nonTail != 2) {
              return false;
            }
          }
          return true;
        },
        "loads 3 and two non-tail places each");
    long version = cluster.map().version();
    for (int i = 0; i < 3 * TIMEOUT; i++) {
      cluster.step();
    }
    assertEquals(version, cluster.map().version(), "no more moves: " + cluster.map());
  }

  @Test
  @DisplayName(
      "A node asked to leave is moved off its chains first, then leaves the pool once it has"
          + " stopped saying hello for a failure timeout")
  void leaveMovesChainsOff() {
    Cluster cluster = new Cluster(several(4, 2, 2), ChainMap.empty(4, 2), 2);
    cluster.start("a", "b", "c");
    cluster.stepUntil(TIMEOUT + 5, () -> settled(cluster.map(), 2), "laid out");
    cluster.machine.onRequest(new Ref(9), new LeaveRequest("b"));
    Effects asked = cluster.drain();
    assertTrue(((MapReply) asked.replies().get(0).message()).map().poolNode("b").leaving());
    cluster.stepUntil(
        60, () -> load(cluster.map(), "b") == 0 && settled(cluster.map(), 2), "b moved off");
    assertTrue(cluster.map().poolNode("b").leaving(), "its hellos do not register it again");
    assertEquals(4, load(cluster.map(), "a"));
    assertEquals(4, load(cluster.map(), "c"));
    cluster.stop("b");
    cluster.stepUntil(TIMEOUT + 2, () -> cluster.map().poolNode("b") == null, "b left the pool");
  }

  @Test
  @DisplayName(
      "A coordinator restarted from a stored map continues a move: once the new member caught up,"
          + " the extra member goes; nothing moves before a failure timeout")
  void restartContinuesAMove() {
    List<PoolNode> pool = new ArrayList<>();
    for (String id : List.of("a", "b", "c")) {
      pool.add(new PoolNode(id, id + ":1", 1, false));
    }
    ChainConfig moving =
        new ChainConfig(
            9,
            List.of(
                new Member("a", "a:1", 1, 1, true),
                new Member("b", "b:1", 2, 1, true),
                new Member("c", "c:1", 9, 1, false)));
    ChainConfig other =
        new ChainConfig(
            5, List.of(new Member("b", "b:1", 1, 1, true), new Member("c", "c:1", 2, 1, true)));
    ChainMap stored = new ChainMap(20, 2, List.of(moving, other), pool);
    Cluster cluster = new Cluster(several(2, 2, 2), stored, 3);
    cluster.start("a", "b", "c");
    // a failure timeout before placement acts, then one more while b's lease runs out
    cluster.stepUntil(
        2 * TIMEOUT + 5,
        () -> cluster.map().chain(0).size() == 2 && cluster.map().chain(0).contains("c"),
        "the move finished");
    assertEquals(List.of("a", "c"), ids(cluster.map().chain(0)), "b was the most loaded");
    assertTrue(
        cluster.tick >= 2 * TIMEOUT,
        "not before a failure timeout and the leaving member's lease: tick " + cluster.tick);
    assertEquals(21, cluster.persisted.get(0).version());
  }

  @Test
  @DisplayName(
      "A restarted coordinator of several chains counts members as live but places nothing on a"
          + " pool node it has not heard from")
  void restartWaitsForThePool() {
    List<PoolNode> pool = new ArrayList<>();
    for (String id : List.of("a", "b", "c")) {
      pool.add(new PoolNode(id, id + ":1", 1, false));
    }
    ChainConfig ab =
        new ChainConfig(
            3, List.of(new Member("a", "a:1", 1, 1, true), new Member("b", "b:1", 1, 1, true)));
    ChainMap stored = new ChainMap(4, 2, List.of(ab, ab, ab), pool);
    Cluster cluster = new Cluster(several(3, 2, 2), stored, 2);
    cluster.start("a", "b"); // c stays down
    for (int i = 0; i < 40; i++) {
      cluster.step();
    }
    for (int c = 0; c < 3; c++) {
      assertEquals(List.of("a", "b"), ids(cluster.map().chain(c)));
    }
    assertTrue(cluster.persisted.isEmpty(), "nothing changed: " + cluster.persisted);
  }

  @Test
  @DisplayName(
      "One chain with the old settings behaves as the single chain did: every node that says"
          + " hello becomes a member; unwrapped chain requests, joins and heartbeats are chain 0's")
  void oneChainAsBefore() {
    Cluster cluster = new Cluster(new CoordinatorSettings(TIMEOUT, 8), ChainMap.empty(1, 8), 2);
    cluster.start("a");
    cluster.step(); // hello
    cluster.step();
    assertEquals(List.of("a"), ids(cluster.map().chain(0)), "placed at the next tick");
    cluster.start("b", "c");
    cluster.stepUntil(10, () -> cluster.map().chain(0).size() == 3, "b and c members");
    cluster.stepUntil(10, () -> settled(cluster.map(), 3), "caught up");

    MapMachine machine = cluster.machine;
    long epoch = machine.map().chain(0).epoch();
    machine.onRequest(new Ref(1), new ChainRequest());
    machine.onRequest(new Ref(2), new Heartbeat("a", epoch, 1, true));
    machine.onRequest(new Ref(3), new JoinRequest("c", "c:1", -1, 2)); // c restarted
    List<Effects.Reply> replies = cluster.drain().replies();
    assertEquals(machine.map().chain(0).epoch(), epoch + 1);
    assertEquals(epoch, ((ChainReply) replies.get(0).message()).config().epoch());
    assertTrue(((HeartbeatReply) replies.get(1).message()).member());
    HeartbeatReply joined = (HeartbeatReply) replies.get(2).message();
    assertEquals(epoch + 1, joined.config().member("c").joinedEpoch());
    assertEquals(2, machine.map().poolNode("c").incarnation(), "the restart is in the pool");

    cluster.stop("c");
    cluster.stepUntil(TIMEOUT + 3, () -> !cluster.map().chain(0).contains("c"), "c failed out");
    assertNotNull(cluster.map().poolNode("c"), "a silent node stays in the pool");
  }

  @Test
  @DisplayName(
      "A join from a node the pool does not know adds it to the pool; a chain that does not exist"
          + " and unwrapped chain requests of several chains are refused")
  void requestsOfSeveralChains() {
    MapMachine machine = new MapMachine(several(2, 2, 2), ChainMap.empty(2, 2));
    machine.onRequest(new Ref(1), new Chained(1, new JoinRequest("x", "x:1", -1, 3)));
    machine.onRequest(new Ref(2), new Chained(2, new Heartbeat("x", 1, 1, true)));
    machine.onRequest(new Ref(3), new ChainRequest());
    machine.onRequest(new Ref(4), new Heartbeat("x", 1, 1, true));
    machine.onRequest(new Ref(5), new Chained(0, new ChainRequest()));
    machine.onRequest(new Ref(6), new Message.StatsRequest());
    Effects effects = machine.drain();
    ChainMap map = ((Effects.PersistMap) effects.persist().get(0)).map();
    assertEquals(new PoolNode("x", "x:1", 3, false), map.poolNode("x"));
    assertEquals(List.of("x"), ids(map.chain(1)));
    List<Effects.Reply> replies = effects.replies();
    assertInstanceOf(HeartbeatReply.class, replies.get(0).message());
    assertEquals(ErrorCode.INVALID_REQUEST, ((ErrorReply) replies.get(1).message()).code());
    assertEquals(ErrorCode.UNSUPPORTED, ((ErrorReply) replies.get(2).message()).code());
    assertEquals(ErrorCode.INVALID_REQUEST, ((ErrorReply) replies.get(3).message()).code());
    assertInstanceOf(ChainReply.class, replies.get(4).message());
    assertEquals(ErrorCode.INVALID_REQUEST, ((ErrorReply) replies.get(5).message()).code());
  }

  @Test
  @DisplayName(
      "A new incarnation clears a node's leaving mark; a stored map with another chain count is"
          + " refused")
  void restartClearsLeaving() {
    MapMachine machine = new MapMachine(several(2, 2, 2), ChainMap.empty(2, 2));
    machine.onRequest(new Ref(1), new NodeHello("a", "a:1", 1, 0));
    machine.onRequest(new Ref(2), new LeaveRequest("a"));
    machine.drain();
    assertTrue(machine.map().poolNode("a").leaving());
    machine.onRequest(new Ref(3), new NodeHello("a", "a:1", 1, 0));
    assertTrue(machine.map().poolNode("a").leaving(), "same incarnation: still leaving");
    machine.onRequest(new Ref(4), new NodeHello("a", "a:1", 2, 0));
    assertFalse(machine.map().poolNode("a").leaving());
    machine.drain();

    assertThrows(
        IllegalArgumentException.class,
        () -> new MapMachine(several(3, 2, 2), ChainMap.empty(2, 2)));
  }

  @Test
  @DisplayName(
      "After a takeover no member leaves a chain by the placement until the quiet period ended")
  void quietPeriodHoldsRemovals() {
    Cluster cluster = new Cluster(several(2, 2, 2), ChainMap.empty(2, 2), 1);
    cluster.start("a", "b", "c");
    cluster.stepUntil(TIMEOUT + 5, () -> settled(cluster.map(), 2), "laid out");
    cluster.machine.takeOver(30);
    cluster.machine.onRequest(new Ref(1), new LeaveRequest("a"));
    cluster.drain();
    for (int i = 0; i < 29; i++) {
      cluster.step();
      assertTrue(load(cluster.map(), "a") > 0, "tick " + i);
    }
    cluster.stepUntil(
        TIMEOUT + 10,
        () -> load(cluster.map(), "a") == 0,
        "a moved off after the quiet and its leases");
  }

  @Test
  @DisplayName(
      "Seeded churn: nodes crash, restart and leave while chains move; every chain keeps a"
          + " complete copy, and once the churn stops the placement settles balanced")
  void churnSettles() {
    Long one = Long.getLong("craq.seed");
    long base = one != null ? one : new java.util.Random().nextLong() & 0xffff_ffffL;
    int cases = one != null ? 1 : Integer.getInteger("craq.churn.cases", 40);
    System.out.println(
        "MapMachineTest.churnSettles: seeds "
            + base
            + ".."
            + (base + cases - 1)
            + " (replay: -Dcraq.seed=N)");
    for (long seed = base; seed < base + cases; seed++) {
      java.util.Random random = new java.util.Random(seed);
      int chains = 1 + random.nextInt(8);
      int replicas = 1 + random.nextInt(3);
      int nodes = 2 + random.nextInt(5);
      Cluster cluster =
          new Cluster(
              several(chains, replicas, 1 + random.nextInt(2)),
              ChainMap.empty(chains, replicas),
              1 + random.nextInt(4));
      List<String> all = new ArrayList<>();
      for (int i = 0; i < nodes; i++) {
        all.add("n" + i);
      }
      cluster.start(all.toArray(String[]::new));
      Set<String> left = new java.util.HashSet<>();
      String context = "seed " + seed;
      cluster.step(); // every node said hello
      for (int round = 0; round < 30; round++) {
        String id = all.get(random.nextInt(nodes));
        double r = random.nextDouble();
        if (r < 0.3 && cluster.up.size() > 1) {
          cluster.stop(id);
        } else if (r < 0.7 && !left.contains(id)) {
          cluster.stop(id);
          cluster.start(id); // a restart: a new incarnation
        } else if (r < 0.8
            && left.size() < nodes - 1
            && cluster.up.contains(id)
            && cluster.map().poolNode(id) != null
            && cluster.map().poolNode(id).incarnation() == cluster.incarnation.get(id)) {
          // (A leave asked before the pool knows of a restart would be undone by the restart.)
          cluster.machine.onRequest(new Ref(1), new LeaveRequest(id));
          left.add(id);
        } else if (!left.contains(id) && !cluster.up.contains(id)) {
          cluster.start(id);
        }
        int ticks = random.nextInt(3 * TIMEOUT);
        for (int t = 0; t < ticks; t++) {
          cluster.step();
        }
      }
      // Every node that did not leave comes back; the leaving ones stop once they are off.
      for (String id : all) {
        if (!left.contains(id) && !cluster.up.contains(id)) {
          cluster.start(id);
        }
      }
      int eligible = nodes - left.size();

      int t = Math.min(replicas, eligible);
      cluster.stepUntil(
          4000,
          () -> {
            for (String id : left) {
              if (load(cluster.map(), id) == 0) {
                cluster.stop(id);
              }
            }
            ChainMap map = cluster.map();
            if (!settled(map, t) || map.pool().size() != eligible) {
              return false;
            }
            for (String id : cluster.up) {
              PoolNode node = map.poolNode(id);
              if (node == null || node.incarnation() != cluster.incarnation.get(id)) {
                return false; // its restart is not known yet
              }
            }
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (PoolNode node : map.pool()) {
              min = Math.min(min, load(map, node.id()));
              max = Math.max(max, load(map, node.id()));
            }
            return max - min <= 1;
          },
          context);
      // Balanced loads; role moves (which keep the loads within one) may follow, and must end:
      // then nothing changes.
      long steps = -1;
      for (int round = 0; round < 40 && steps != cluster.persisted.size(); round++) {
        steps = cluster.persisted.size();
        for (int i = 0; i < 3 * TIMEOUT; i++) {
          cluster.step();
        }
      }
      assertEquals(
          steps,
          cluster.persisted.size(),
          context
              + ": settled means nothing changes: "
              + cluster.persisted.subList((int) steps - 1, cluster.persisted.size()));
      assertTrue(settled(cluster.map(), t), context + ": " + cluster.map());
    }
  }
}

package io.craq.core.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Check;
import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Effects.CommitVersion;
import io.craq.core.Effects.DiscardAllDirty;
import io.craq.core.Effects.PutVersion;
import io.craq.core.chain.ChainSlice;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.CatchUpBatch;
import io.craq.core.message.Message.CatchUpRequest;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.ModelStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A node of many chains driven by hand: routing, envelopes, machines, joins, drain sequences. */
class NodeHostTest {
  static final String SELF = "n1";
  static final String ADDRESS = "127.0.0.1:7001";
  static final long INCARNATION = 7;
  static final Member PEER = new Member("n2", "127.0.0.1:7002", 1, 1, true);
  static final NodeSettings SETTINGS = NodeSettings.defaults();

  record Ref(int id) implements ClientRef {}

  /** A host over a model store; {@link #drain} applies its store changes at once. */
  static final class TestHost {
    final ModelStore store;
    final NodeHost host;

    TestHost(long incarnation, ModelStore store) {
      this.store = store;
      this.host = new NodeHost(SELF, ADDRESS, SETTINGS, -1, incarnation, store, store.allDirty());
    }

    TestHost() {
      this(INCARNATION, new ModelStore());
    }

    Effects drain() {
      Effects effects = host.drain();
      store.applyAll(effects.persist());
      host.checkInvariants();
      return effects;
    }

    /** One request, drained: the only reply. */
    Message ask(Message request) {
      host.onClientRequest(new Ref(0), request);
      Effects effects = drain();
      assertEquals(1, effects.replies().size(), "one reply: " + effects.replies());
      return effects.replies().get(0).message();
    }

    /** Ticks, and grants every machine that sent a heartbeat as a member its lease. */
    void tickAndLease() {
      host.tick();
      for (Effects.Send send : drain().sends()) {
        if (send.message() instanceof Chained c && c.message() instanceof Heartbeat hb) {
          ChainConfig config = host.machine(c.chain()).config();
          if (config.contains(SELF)) {
            host.onMessage(
                new Chained(
                    c.chain(),
                    new HeartbeatReply(SELF, hb.seq(), true, host.machine(c.chain()).config())));
          }
        }
      }
      drain();
    }
  }

  /** This node as a chain member of this run, caught up. */
  static Member self(long joinedEpoch) {
    return new Member(SELF, ADDRESS, joinedEpoch, INCARNATION, true);
  }

  /** This node as a chain member of an earlier run. */
  static Member earlierSelf() {
    return new Member(SELF, ADDRESS, 1, INCARNATION - 1, true);
  }

  static ChainConfig chain(long epoch, Member... members) {
    return new ChainConfig(epoch, List.of(members));
  }

  /** A map of {@code chains.length} chains over this node and {@link #PEER}. */
  static ChainMap map(long version, ChainConfig... chains) {
    return new ChainMap(
        version,
        3,
        List.of(chains),
        List.of(
            new PoolNode(SELF, ADDRESS, INCARNATION, false),
            new PoolNode(PEER.id(), PEER.address(), 1, false)));
  }

  /** The first key {@code prefix<i>} of {@code chain} of {@code chains}. */
  static String keyOf(int chain, int chains, String prefix) {
    for (int i = 0; ; i++) {
      if (KeySlots.chainOf(prefix + i, chains) == chain) {
        return prefix + i;
      }
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static WriteRequest write(String key) {
    return new WriteRequest(key, bytes("v-" + key), false, Message.ANY_VERSION);
  }

  static List<Message> sent(Effects effects) {
    return effects.sends().stream().map(Effects.Send::message).toList();
  }

  static List<Message> replies(Effects effects) {
    return effects.replies().stream().map(Effects.Reply::message).toList();
  }

  /** The messages of chain {@code chain}'s envelopes among {@code effects}' sends. */
  static List<Message> sentIn(Effects effects, int chain) {
    List<Message> out = new ArrayList<>();
    for (Message message : sent(effects)) {
      if (message instanceof Chained c && c.chain() == chain) {
        out.add(c.message());
      }
    }
    return out;
  }

  /**
   * A host whose map (version 3, four chains) makes it the only member of chains 0 and 2, with
   * leases.
   */
  static TestHost soleMemberOfChains0And2() {
    TestHost t = new TestHost();
    t.host.onMessage(
        new MapReply(map(3, chain(1, self(1)), chain(1, PEER), chain(1, self(1)), chain(0))));
    t.drain();
    t.tickAndLease();
    assertEquals("c0=head+tail,c2=head+tail", t.host.role(), "set-up");
    return t;
  }

  @Test
  @DisplayName(
      "before any map, the node refuses keys UNAVAILABLE (it has not heard from the coordinator),"
          + " answers a map request with version 0 and creates no machine for a push")
  void beforeAnyMapItRefuses() {
    TestHost t = new TestHost();
    ErrorReply write = assertInstanceOf(ErrorReply.class, t.ask(write("k")));
    assertEquals(ErrorCode.UNAVAILABLE, write.code());
    assertTrue(write.message().contains("has not heard from the coordinator yet"), write.message());
    ErrorReply read =
        assertInstanceOf(ErrorReply.class, t.ask(new ReadRequest("k", ReadMode.STRONG, 0)));
    assertEquals(ErrorCode.UNAVAILABLE, read.code());
    assertEquals(1, t.host.counters().readsRefused(), "a read the host refused is counted");
    assertEquals(
        ErrorCode.UNAVAILABLE,
        assertInstanceOf(ErrorReply.class, t.ask(new ReadAllRequest("", 10))).code());
    assertEquals(0, assertInstanceOf(MapReply.class, t.ask(new MapRequest())).map().version());

    t.host.onMessage(new Chained(0, new ConfigPush(chain(1, self(1)))));
    assertTrue(t.host.machines().isEmpty(), "no chain count, no slice: the map comes first");
    assertEquals(1, t.host.messagesDropped());
    assertEquals("outside", t.host.role());
  }

  @Test
  @DisplayName(
      "the node says hello to the coordinator, unwrapped, at its first tick and every heartbeat"
          + " interval, with the version of the newest map it knows")
  void helloEveryHeartbeatInterval() {
    TestHost t = new TestHost();
    t.host.tick();
    Effects first = t.drain();
    assertEquals(
        List.of(
            new Effects.Send(Effects.COORDINATOR, new NodeHello(SELF, ADDRESS, INCARNATION, 0))),
        first.sends());
    for (int i = 1; i < SETTINGS.heartbeatIntervalTicks(); i++) {
      t.host.tick();
      assertTrue(t.drain().sends().isEmpty(), "nothing until the interval has passed");
    }
    t.host.onMessage(new MapReply(map(4, chain(0))));
    t.host.onMessage(new MapReply(map(2, chain(0)))); // older: ignored
    t.host.tick();
    assertEquals(List.of(new NodeHello(SELF, ADDRESS, INCARNATION, 4)), sent(t.drain()));
    assertEquals(4, t.host.map().version());
  }

  @Test
  @DisplayName(
      "a map creates a machine for every chain that lists this node, over that chain's slice;"
          + " an older map changes nothing; a newer one hands each machine its configuration")
  void mapCreatesMachinesForListedChains() {
    TestHost t = new TestHost();
    t.host.onMessage(
        new MapReply(map(3, chain(0), chain(2, PEER, self(2)), chain(0), chain(1, self(1)))));
    t.drain();
    assertEquals(List.of(1, 3), List.copyOf(t.host.machines().keySet()));
    assertEquals(new ChainSlice(1, 4), t.host.machine(1).slice());
    assertEquals(new ChainSlice(3, 4), t.host.machine(3).slice());
    assertEquals(NodeMachine.JoinPolicy.NEVER, t.host.machine(1).joinPolicy());
    assertTrue(t.host.machine(3).isMember());

    t.host.onMessage(new MapReply(map(2, chain(1, self(1)), chain(0), chain(0), chain(0))));
    assertNull(t.host.machine(0), "an older map is ignored");

    ChainConfig moved = chain(5, PEER);
    t.host.onMessage(new MapReply(map(9, chain(0), chain(0), chain(0), moved)));
    t.drain();
    assertEquals(moved, t.host.machine(3).config(), "the machine took its chain's new config");
    assertFalse(t.host.machine(3).isMember());
  }

  @Test
  @DisplayName(
      "a push of a chain that lists this node creates its machine; a push of a chain that"
          + " does not, or of a chain that does not exist, is dropped")
  void pushCreatesMachine() {
    TestHost t = new TestHost();
    t.host.onMessage(new MapReply(map(3, chain(0), chain(0), chain(0))));
    t.host.onMessage(new Chained(1, new ConfigPush(chain(4, PEER))));
    assertNull(t.host.machine(1));
    t.host.onMessage(new Chained(7, new ConfigPush(chain(4, self(4)))));
    assertEquals(2, t.host.messagesDropped());

    t.host.onMessage(new Chained(2, new ConfigPush(chain(4, self(4)))));
    t.drain();
    NodeMachine created = t.host.machine(2);
    assertNotNull(created);
    assertEquals(new ChainSlice(2, 3), created.slice());
    assertEquals(4, created.config().epoch());
    assertTrue(created.isMember());
    assertEquals(NodeMachine.JoinPolicy.NEVER, created.joinPolicy());
  }

  @Test
  @DisplayName(
      "a client key goes to the machine of its chain; a key of a chain this node is not a"
          + " member of is refused WRONG_CHAIN naming the chain, with the map version as hint")
  void keysRoutedToTheirChain() {
    TestHost t = soleMemberOfChains0And2();
    String k0 = keyOf(0, 4, "a");
    String k1 = keyOf(1, 4, "b");
    String k2 = keyOf(2, 4, "c");

    t.host.onClientRequest(new Ref(1), write(k0));
    t.host.onClientRequest(new Ref(2), write(k2));
    t.host.onClientRequest(new Ref(3), write(k1));
    Effects effects = t.drain();
    ErrorReply refused = assertInstanceOf(ErrorReply.class, replies(effects).get(0));
    assertEquals(ErrorCode.WRONG_CHAIN, refused.code());
    assertEquals("3", refused.hint());
    assertTrue(refused.message().contains("chain 1"), refused.message());
    assertEquals(
        List.of(
            new PutVersion(new VersionRecord(k0, 1, false, bytes("v-" + k0)), false),
            new PutVersion(new VersionRecord(k2, 1, false, bytes("v-" + k2)), false)),
        effects.persist(),
        "each key written by its own chain's machine, in chain order");

    t.host.onPersisted(t.host.drainSequence());
    t.drain();
    ReadReply read =
        assertInstanceOf(ReadReply.class, t.ask(new ReadRequest(k2, ReadMode.STRONG, 0)));
    assertEquals(1, read.version());
    assertEquals(
        ErrorCode.WRONG_CHAIN,
        assertInstanceOf(ErrorReply.class, t.ask(new ReadRequest(k1, ReadMode.EVENTUAL, 0)))
            .code());

    // Chain 2 moves off this node: its machine stays, idle, and the node refuses its keys.
    t.host.onMessage(new Chained(2, new ConfigPush(chain(2, PEER))));
    ErrorReply moved = assertInstanceOf(ErrorReply.class, t.ask(write(k2)));
    assertEquals(ErrorCode.WRONG_CHAIN, moved.code());
    assertNotNull(t.host.machine(2));
  }

  @Test
  @DisplayName(
      "everything a machine sends goes in its chain's envelope, requests to the coordinator"
          + " included; replies are not wrapped; envelopes that arrive go to their chain's machine")
  void sendsAreWrappedRepliesAreNot() {
    TestHost t = new TestHost();
    String k1 = keyOf(1, 2, "w");
    t.host.onMessage(new MapReply(map(3, chain(0), chain(1, self(1), PEER))));
    t.host.tick();
    Effects effects = t.drain();
    for (Effects.Send send : effects.sends()) {
      if (!(send.message() instanceof NodeHello)) {
        Chained chained = assertInstanceOf(Chained.class, send.message());
        assertEquals(1, chained.chain());
      }
    }
    Heartbeat heartbeat = (Heartbeat) sentIn(effects, 1).get(0);
    t.host.onMessage(
        new Chained(1, new HeartbeatReply(SELF, heartbeat.seq(), true, chain(1, self(1), PEER))));
    t.drain();
    assertTrue(t.host.machine(1).hasLease(), "the wrapped heartbeat reply reached chain 1");

    t.host.onClientRequest(new Ref(1), write(k1));
    Effects written = t.drain();
    Propagate propagate = (Propagate) sentIn(written, 1).get(0);
    assertEquals(k1, propagate.versions().get(0).key());
    assertEquals(PEER.id(), written.sends().get(0).to().id());

    t.host.onPersisted(t.host.drainSequence());
    t.host.onMessage(
        new Chained(
            1,
            new Message.Commit(1, PEER.id(), List.of(new io.craq.core.message.KeyVersion(k1, 1)))));
    Effects committed = t.drain();
    assertEquals(List.of(new WriteReply(k1, 1)), replies(committed), "the reply is bare");

    t.host.onMessage(new Chained(0, new ConfigPush(chain(3, PEER))));
    t.host.onMessage(new HeartbeatReply(SELF, 1, true, chain(1, self(1))));
    assertEquals(2, t.host.messagesDropped(), "no machine for chain 0; bare chain messages");
  }

  @Test
  @DisplayName(
      "a restarted node whose chain lists its earlier run asks to join that chain until the"
          + " coordinator places it, then never again; a freshly placed machine never asks")
  void onlyARestartedNodeAsksToJoin() {
    TestHost t = new TestHost();
    t.host.onMessage(new MapReply(map(3, chain(1, earlierSelf(), PEER), chain(1, self(1)))));
    assertEquals(NodeMachine.JoinPolicy.UNTIL_PLACED, t.host.machine(0).joinPolicy());
    assertEquals(NodeMachine.JoinPolicy.NEVER, t.host.machine(1).joinPolicy());
    List<JoinRequest> joins = new ArrayList<>();
    for (int i = 0; i < SETTINGS.heartbeatIntervalTicks() * 4; i++) {
      t.host.tick();
      Effects effects = t.drain();
      for (Message m : sentIn(effects, 0)) {
        if (m instanceof JoinRequest join) {
          joins.add(join);
        }
      }
      assertTrue(
          sentIn(effects, 1).stream().noneMatch(JoinRequest.class::isInstance),
          "the placed machine does not ask");
      assertTrue(
          effects.sends().stream().noneMatch(s -> s.message() instanceof JoinRequest),
          "no bare join");
    }
    assertTrue(joins.size() >= 2, "it keeps asking while not placed: " + joins);
    assertEquals(new JoinRequest(SELF, ADDRESS, -1, INCARNATION), joins.get(0));

    // Placed at the tail behind the peer, then removed: it never asks again.
    t.host.onMessage(new Chained(0, new ConfigPush(chain(2, PEER, self(2).withCaughtUp(false)))));
    t.host.onMessage(new Chained(0, new ConfigPush(chain(3, PEER))));
    for (int i = 0; i < SETTINGS.heartbeatIntervalTicks() * 4; i++) {
      t.host.tick();
      assertTrue(
          sentIn(t.drain(), 0).stream().noneMatch(JoinRequest.class::isInstance),
          "placed once: the coordinator decides from now on");
    }
  }

  @Test
  @DisplayName(
      "a restarted node stops asking to join a chain once the chain no longer lists its earlier"
          + " run: the coordinator removed it, and placement decides whether it comes back")
  void restartedNodeStopsAskingWhenItsEarlierRunIsGone() {
    TestHost t = new TestHost();
    t.host.onMessage(new MapReply(map(3, chain(1, earlierSelf(), PEER))));
    t.host.tick();
    assertTrue(sentIn(t.drain(), 0).stream().anyMatch(JoinRequest.class::isInstance));
    t.host.onMessage(new Chained(0, new ConfigPush(chain(2, PEER))));
    for (int i = 0; i < SETTINGS.heartbeatIntervalTicks() * 4; i++) {
      t.host.tick();
      List<Message> chain0 = sentIn(t.drain(), 0);
      assertTrue(chain0.isEmpty(), "silent until placed: " + chain0);
    }
    assertFalse(t.host.machine(0).placedBefore());
  }

  @Test
  @DisplayName(
      "a machine whose chain dropped this node neither asks to join nor heartbeats; given the"
          + " chain back, it drops its slice's dirty versions and catches up from its predecessor")
  void removedMachineWaitsAndRejoinsWhenListed() {
    TestHost t = new TestHost();
    String k0 = keyOf(0, 2, "r");
    t.host.onMessage(new MapReply(map(3, chain(2, PEER, self(2)), chain(0))));
    t.drain();
    // caught up from the peer (empty), then a version arrives dirty
    t.host.onMessage(new Chained(0, new CatchUpBatch(2, PEER.id(), 1, List.of(), true)));
    t.host.onMessage(
        new Chained(
            0, new Propagate(2, PEER.id(), List.of(new VersionRecord(k0, 1, false, bytes("x"))))));
    t.drain();
    assertEquals(1, t.host.machine(0).dirtyCount());

    t.host.onMessage(new Chained(0, new ConfigPush(chain(3, PEER))));
    t.drain();
    for (int i = 0; i < SETTINGS.heartbeatIntervalTicks() * 4; i++) {
      t.host.tick();
      List<Message> chain0 = sentIn(t.drain(), 0);
      assertTrue(chain0.isEmpty(), "an idle machine is silent: " + chain0);
    }

    Member back = new Member(SELF, ADDRESS, 4, INCARNATION, false);
    t.host.onMessage(new Chained(0, new ConfigPush(chain(4, PEER, back))));
    Effects rejoined = t.drain();
    assertEquals(List.of(new DiscardAllDirty(new ChainSlice(0, 2))), rejoined.persist());
    CatchUpRequest request = (CatchUpRequest) sentIn(rejoined, 0).get(0);
    assertEquals(4, request.epoch());
    assertEquals(PEER.id(), rejoined.sends().get(0).to().id());
    assertEquals("catching-up", t.host.role());
  }

  @Test
  @DisplayName(
      "a restarted node keeps its recovered dirty versions per chain: a machine placed behind"
          + " another drops its chain's (and only those), a chain created later gets its share")
  void recoveredDirtyVersionsSplitByChain() {
    ModelStore store = new ModelStore();
    String k0 = keyOf(0, 2, "d");
    String k1 = keyOf(1, 2, "e");
    store.apply(new PutVersion(new VersionRecord(k0, 1, false, bytes("x")), false));
    store.apply(new PutVersion(new VersionRecord(k1, 1, false, bytes("y")), false));
    TestHost t = new TestHost(INCARNATION, store);
    t.host.onMessage(new MapReply(map(3, chain(1, earlierSelf(), PEER), chain(0))));
    assertEquals(1, t.host.machine(0).dirtyCount(), "chain 0's share only");
    assertNull(t.host.machine(1));

    // Placed behind the peer: chain 0's dirty versions go, chain 1's stay in the store.
    Member placed = new Member(SELF, ADDRESS, 2, INCARNATION, false);
    t.host.onMessage(new Chained(0, new ConfigPush(chain(2, PEER, placed))));
    Effects effects = t.drain();
    assertEquals(List.of(new DiscardAllDirty(new ChainSlice(0, 2))), effects.persist());
    assertEquals(
        List.of(new VersionRecord(k1, 1, false, bytes("y"))), t.store.allDirty(), "chain 1 kept");

    // Chain 1 given to this node alone: its share, kept until now, is the only copy there is.
    t.host.onMessage(new Chained(1, new ConfigPush(chain(4, self(4)))));
    assertEquals(List.of(new CommitVersion(k1, 1)), t.drain().persist());
  }

  @Test
  @DisplayName(
      "the host's drain sequence covers every machine: each completion reaches each machine with"
          + " its own sequence of that drain, a machine created after some drains included")
  void drainSequencesMapOntoEachMachine() {
    TestHost t = soleMemberOfChains0And2();
    long before = t.host.drainSequence();
    String k0 = keyOf(0, 4, "s");
    String k2 = keyOf(2, 4, "t");
    String k3 = keyOf(3, 4, "u");

    t.host.onClientRequest(new Ref(1), write(k0));
    t.drain();
    long first = t.host.drainSequence();
    t.host.onClientRequest(new Ref(2), write(k2));
    t.drain();
    long second = t.host.drainSequence();
    assertEquals(before + 2, second);
    t.drain();
    assertEquals(second, t.host.drainSequence(), "a drain without store changes is not numbered");

    t.host.onPersisted(first);
    assertEquals(List.of(new WriteReply(k0, 1)), replies(t.drain()), "only the first drain's");
    t.host.onPersisted(second);
    assertEquals(List.of(new WriteReply(k2, 1)), replies(t.drain()));

    // A machine created now starts its own sequence at 0; the host's goes on.
    t.host.onMessage(new Chained(3, new ConfigPush(chain(1, self(1)))));
    t.tickAndLease();
    t.host.onClientRequest(new Ref(3), write(k3));
    t.host.onClientRequest(new Ref(4), write(k0));
    Effects both = t.drain();
    assertEquals(2, both.persist().size());
    assertEquals(k0, ((PutVersion) both.persist().get(0)).version().key(), "chain order");
    t.host.onPersisted(t.host.drainSequence());
    assertEquals(List.of(new WriteReply(k0, 2), new WriteReply(k3, 1)), replies(t.drain()));

    assertThrows(
        Check.InvariantViolation.class, () -> t.host.onPersisted(t.host.drainSequence() + 1));
  }

  @Test
  @DisplayName(
      "read-all and chain requests name their chain in an envelope; a bare one is fine with one"
          + " chain and refused with several; a chain without a machine is WRONG_CHAIN")
  void readAllAndChainRequestsNameAChain() {
    TestHost t = soleMemberOfChains0And2();
    String k0 = keyOf(0, 4, "p");
    String k2 = keyOf(2, 4, "q");
    t.host.onClientRequest(new Ref(1), write(k0));
    t.host.onClientRequest(new Ref(2), write(k2));
    t.drain();
    t.host.onPersisted(t.host.drainSequence());
    t.drain();

    ReadAllReply page =
        assertInstanceOf(ReadAllReply.class, t.ask(new Chained(2, new ReadAllRequest("", 100))));
    assertEquals(List.of(k2), page.entries().stream().map(VersionRecord::key).toList());
    assertEquals(
        1,
        assertInstanceOf(ChainReply.class, t.ask(new Chained(0, new ChainRequest())))
            .config()
            .epoch());
    ErrorReply absent =
        assertInstanceOf(ErrorReply.class, t.ask(new Chained(1, new ReadAllRequest("", 10))));
    assertEquals(ErrorCode.WRONG_CHAIN, absent.code());
    assertEquals("3", absent.hint());
    ErrorReply bare = assertInstanceOf(ErrorReply.class, t.ask(new ReadAllRequest("", 10)));
    assertEquals(ErrorCode.INVALID_REQUEST, bare.code());
    assertTrue(
        bare.message().contains("4 chains") && bare.message().contains("name a chain"),
        bare.message());
    assertEquals(
        ErrorCode.INVALID_REQUEST,
        assertInstanceOf(ErrorReply.class, t.ask(new Chained(0, write(k0)))).code());

    TestHost single = new TestHost();
    single.host.onMessage(new MapReply(map(2, chain(1, self(1)))));
    single.drain();
    assertEquals(
        chain(1, self(1)),
        assertInstanceOf(ChainReply.class, single.ask(new ChainRequest())).config());
  }

  @Test
  @DisplayName(
      "stats sum every machine's counters under the same names; the epoch is the machine's with"
          + " one machine, the map version with several")
  void statsSumMachines() {
    TestHost t = soleMemberOfChains0And2();
    t.ask(new ReadRequest(keyOf(0, 4, "x"), ReadMode.STRONG, 0));
    t.ask(new ReadRequest(keyOf(2, 4, "y"), ReadMode.STRONG, 0));
    t.ask(new ReadRequest(keyOf(2, 4, "z"), ReadMode.EVENTUAL, 0));
    t.ask(new ReadRequest(keyOf(1, 4, "w"), ReadMode.STRONG, 0)); // refused by the host
    StatsReply stats = assertInstanceOf(StatsReply.class, t.ask(new StatsRequest()));
    assertEquals(SELF, stats.nodeId());
    assertEquals(3, stats.epoch(), "the map version");
    assertEquals("c0=head+tail,c2=head+tail", stats.role());
    assertEquals(NodeCounters.NAMES, List.copyOf(stats.counters().keySet()));
    assertEquals(3, stats.counters().get(NodeCounters.READS_CLEAN));
    assertEquals(1, stats.counters().get(NodeCounters.READS_REFUSED));
    assertEquals(
        t.host.machine(0).counters().readsClean() + t.host.machine(2).counters().readsClean(),
        t.host.counters().readsClean());

    TestHost single = new TestHost();
    single.host.onMessage(new MapReply(map(8, chain(0), chain(5, self(5)))));
    single.drain();
    StatsReply one = assertInstanceOf(StatsReply.class, single.ask(new StatsRequest()));
    assertEquals(5, one.epoch(), "the machine's epoch");
    assertEquals("head+tail", one.role());
  }

  @Test
  @DisplayName(
      "a machine of one chain refuses a key of another chain WRONG_CHAIN and pages only its keys")
  void machineServesOnlyItsSlice() {
    ModelStore store = new ModelStore();
    String mine = keyOf(1, 2, "m");
    String other = keyOf(0, 2, "o");
    store.apply(new PutVersion(new VersionRecord(mine, 1, false, bytes("a")), true));
    store.apply(new PutVersion(new VersionRecord(other, 1, false, bytes("b")), true));
    NodeMachine machine =
        new NodeMachine(
            SELF,
            ADDRESS,
            SETTINGS,
            -1,
            INCARNATION,
            store,
            List.of(),
            new ChainSlice(1, 2),
            NodeMachine.JoinPolicy.NEVER);
    machine.onMessage(new ConfigPush(chain(1, self(1))));
    machine.onClientRequest(new Ref(1), write(other));
    machine.onClientRequest(new Ref(2), new ReadRequest(other, ReadMode.EVENTUAL, 0));
    Effects effects = machine.drain();
    for (Message reply : replies(effects)) {
      assertEquals(ErrorCode.WRONG_CHAIN, assertInstanceOf(ErrorReply.class, reply).code());
    }
    assertEquals(2, effects.replies().size());
    assertTrue(effects.persist().isEmpty());
    assertEquals(
        List.of(new VersionRecord(mine, 1, false, bytes("a"))), machine.committedSnapshot());
  }
}

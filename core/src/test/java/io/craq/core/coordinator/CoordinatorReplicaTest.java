package io.craq.core.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Leadership rules of a coordinator among several: takeover epoch, lease, fencing, redirects. */
class CoordinatorReplicaTest {
  private static final CoordinatorSettings SETTINGS = new CoordinatorSettings(10, 8);
  private static final ChainConfig STORED_CHAIN =
      new ChainConfig(
          7,
          List.of(
              new Member("a", "a:1", 1, 1, true),
              new Member("b", "b:1", 2, 1, true),
              new Member("c", "c:1", 3, 1, true)));

  /** One chain, as stored: replicas as the settings say, every member in the pool. */
  private static final ChainMap STORED =
      new ChainMap(
          5,
          SETTINGS.replicas(),
          List.of(STORED_CHAIN),
          List.of(
              new PoolNode("a", "a:1", 1, false),
              new PoolNode("b", "b:1", 1, false),
              new PoolNode("c", "c:1", 1, false)));

  private record Ref(int id) implements ClientRef {}

  private static List<String> ids(ChainConfig config) {
    return config.members().stream().map(Member::id).toList();
  }

  private static ChainConfig chain0(CoordinatorReplica replica) {
    return replica.map().chain(0);
  }

  private static Message heartbeat(String id, long epoch, long seq) {
    return new Chained(0, new Heartbeat(id, epoch, seq, true));
  }

  @Test
  @DisplayName("A standby answers NOT_LEADER naming the leader's address, or an empty hint")
  void standbyRedirects() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.onRequest(new Ref(1), new ChainRequest(), 0);
    ErrorReply none = (ErrorReply) replica.drain().replies().get(0).message();
    assertEquals(ErrorCode.NOT_LEADER, none.code());
    assertEquals("", none.hint());

    replica.leaderAddress("10.0.0.2:1234");
    replica.onRequest(new Ref(2), new ChainRequest(), 0);
    ErrorReply redirect = (ErrorReply) replica.drain().replies().get(0).message();
    assertEquals(ErrorCode.NOT_LEADER, redirect.code());
    assertEquals("10.0.0.2:1234", redirect.hint());
  }

  @Test
  @DisplayName(
      "A new leader installs the next epoch with the same members and pushes it to all of them,"
          + " persisted first")
  void takeOverBumpsTheEpoch() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    Effects effects = replica.drain();
    assertEquals(8, chain0(replica).epoch());
    assertEquals(STORED_CHAIN.members(), chain0(replica).members());
    assertEquals(1, effects.persist().size(), "one map: " + effects.persist());
    Effects.PersistMap persisted =
        assertInstanceOf(Effects.PersistMap.class, effects.persist().get(0));
    assertEquals(8, persisted.map().chain(0).epoch());
    assertEquals(STORED.version() + 1, persisted.map().version());
    assertEquals(
        3,
        effects.sends().stream()
            .filter(s -> s.message() instanceof Chained(int c, ConfigPush push) && c == 0)
            .count());
  }

  @Test
  @DisplayName("A new leader of several chains bumps the epoch of every one of them, in one map")
  void takeOverBumpsEveryChain() {
    CoordinatorSettings settings = new CoordinatorSettings(10, 8, 3, 3, 2);
    List<ChainConfig> chains = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      chains.add(new ChainConfig(10 + c, STORED_CHAIN.members()));
    }
    ChainMap stored = new ChainMap(9, 3, chains, STORED.pool());
    CoordinatorReplica replica = new CoordinatorReplica(settings, 20, 30);
    replica.lead(stored, true, 0);
    Effects effects = replica.drain();
    assertEquals(1, effects.persist().size());
    ChainMap persisted = ((Effects.PersistMap) effects.persist().get(0)).map();
    for (int c = 0; c < 3; c++) {
      assertEquals(11 + c, persisted.chain(c).epoch());
      int chain = c;
      assertEquals(
          3,
          effects.sends().stream()
              .filter(s -> s.message() instanceof Chained(int x, ConfigPush p) && x == chain)
              .count());
    }
    assertEquals(persisted, replica.map());
  }

  @Test
  @DisplayName("A stored map with another chain count than the settings is refused")
  void chainCountMismatchRefused() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS.withChains(2, 3), 20, 30);
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> replica.lead(STORED, true, 0));
    assertTrue(e.getMessage().contains("1 chains"), e.getMessage());
    assertFalse(replica.leading());
  }

  @Test
  @DisplayName("Resuming without a takeover keeps the stored epoch and sends nothing")
  void resumeKeepsTheEpoch() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, CoordinatorReplica.FOREVER, 30);
    replica.lead(STORED, false, 0);
    assertTrue(replica.drain().isEmpty());
    assertEquals(7, chain0(replica).epoch());
    assertEquals(STORED, replica.map());
    assertTrue(replica.acting(1_000_000_000L));
  }

  @Test
  @DisplayName(
      "The leader lease runs from the send time of the last confirmed store request; when it"
          + " ends the replica refuses members, steps down and asks to leave the election once")
  void leaseEndsLeadership() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 100);
    replica.drain();
    replica.confirmed(110);
    assertTrue(replica.acting(129));
    assertFalse(replica.acting(130));

    // A paused leader wakes with requests queued: they are refused, not answered as leader.
    replica.onRequest(new Ref(1), heartbeat("a", 8, 1), 500);
    ErrorReply refused = (ErrorReply) replica.drain().replies().get(0).message();
    assertEquals(ErrorCode.NOT_LEADER, refused.code());

    replica.tick(500);
    assertFalse(replica.leading());
    assertTrue(replica.takeReleaseRequest());
    assertFalse(replica.takeReleaseRequest());
    replica.confirmed(500); // a late confirmation does not bring leadership back
    assertFalse(replica.acting(501));
  }

  @Test
  @DisplayName("A confirmation sent before the lease was granted does not shorten it")
  void leaseOnlyGrows() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, false, 100);
    replica.confirmed(50);
    assertTrue(replica.acting(119));
  }

  @Test
  @DisplayName("While acting, member requests reach the machine and are answered by it")
  void leaderAnswers() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    replica.drain();
    replica.onRequest(new Ref(1), heartbeat("a", 8, 1), 1);
    HeartbeatReply reply = (HeartbeatReply) replica.drain().replies().get(0).message();
    assertTrue(reply.member());
    assertEquals(8, reply.config().epoch());
  }

  @Test
  @DisplayName("Fenced by another coordinator's write: stands by at once and asks to be released")
  void fencedStepsDown() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    replica.fenced("the configuration changed under us");
    assertFalse(replica.leading());
    assertTrue(replica.takeReleaseRequest());
    replica.onRequest(new Ref(1), new ChainRequest(), 1);
    ErrorReply refused = (ErrorReply) replica.drain().replies().get(0).message();
    assertTrue(refused.message().contains("the configuration changed under us"), refused.message());
  }

  @Test
  @DisplayName(
      "With a lease longer than the session, a new leader counts members as heard until the old"
          + " leader's lease has ended, then a full failure timeout more")
  void newLeaderWaitsOutTheOldLease() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 100, 40);
    assertEquals(70, replica.quietTicks()); // 100 + 10 - 40
    replica.lead(STORED, true, 0);
    replica.drain();
    // Only a heartbeats to the new leader; b and c are silent.
    for (long t = 1; t <= 70 + SETTINGS.failureTimeoutTicks(); t++) {
      replica.confirmed(t);
      replica.tick(t);
      replica.onRequest(new Ref(1), heartbeat("a", chain0(replica).epoch(), t), t);
    }
    assertEquals(List.of("a", "b", "c"), ids(chain0(replica)), "nobody removed yet");
    replica.confirmed(81);
    replica.tick(81);
    assertEquals(List.of("a"), ids(chain0(replica)));
  }

  @Test
  @DisplayName(
      "Frozen (store unreachable): heartbeats and chain requests are answered from the last stored"
          + " configuration, joins refused UNAVAILABLE, nobody removed; the lease still ends it")
  void frozenKeepsTheChainServing() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    ChainMap stored = replica.map();
    replica.persisted(stored);
    replica.drain();
    replica.storeLost();
    assertTrue(replica.frozen());
    for (long t = 1; t < 20; t++) {
      replica.tick(t);
    }
    replica.onRequest(new Ref(1), heartbeat("a", 8, 1), 19);
    replica.onRequest(new Ref(2), new Chained(0, new JoinRequest("d", "d:1", -1, 1)), 19);
    replica.onRequest(new Ref(3), new Chained(0, new ChainRequest()), 19);
    replica.onRequest(new Ref(4), new NodeHello("d", "d:1", 1, 0), 19);
    replica.onRequest(new Ref(5), new LeaveRequest("a"), 19);
    replica.onRequest(new Ref(6), new Chained(1, new ChainRequest()), 19);
    replica.onRequest(new Ref(7), new ChainRequest(), 19);
    replica.onRequest(new Ref(8), new JoinRequest("d", "d:1", -1, 1), 19);
    List<Effects.Reply> replies = replica.drain().replies();
    HeartbeatReply heartbeat = (HeartbeatReply) replies.get(0).message();
    assertTrue(heartbeat.member());
    assertEquals(stored.chain(0), heartbeat.config());
    assertEquals(ErrorCode.UNAVAILABLE, ((ErrorReply) replies.get(1).message()).code());
    assertEquals(stored.chain(0), ((ChainReply) replies.get(2).message()).config());
    assertEquals(stored, ((MapReply) replies.get(3).message()).map());
    assertEquals(ErrorCode.UNAVAILABLE, ((ErrorReply) replies.get(4).message()).code());
    assertEquals(ErrorCode.INVALID_REQUEST, ((ErrorReply) replies.get(5).message()).code());
    assertEquals(stored.chain(0), ((ChainReply) replies.get(6).message()).config());
    assertEquals(ErrorCode.UNAVAILABLE, ((ErrorReply) replies.get(7).message()).code());
    assertEquals(stored, replica.map(), "nothing changes while frozen");

    replica.tick(20);
    assertFalse(replica.leading());
  }

  @Test
  @DisplayName("Leading again after a freeze takes over with a newer epoch than the stored one")
  void freezeEndsWithATakeover() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    ChainMap stored = replica.map();
    replica.persisted(stored);
    replica.drain();
    replica.storeLost();
    replica.lead(stored, true, 5);
    assertFalse(replica.frozen());
    assertEquals(stored.chain(0).epoch() + 1, chain0(replica).epoch());
    assertEquals(stored.version() + 1, replica.map().version());
    assertTrue(replica.acting(24));
  }

  @Test
  @DisplayName(
      "During a new leader's quiet period a member may not leave on request (the old leader may"
          + " still renew its lease); afterwards it may")
  void noLeaveDuringTheQuietPeriod() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 100, 40); // quiet 70 ticks
    replica.lead(STORED, true, 0);
    replica.drain();
    replica.onRequest(new Ref(1), new Chained(0, new LeaveRequest("b")), 1);
    List<Effects.Reply> refused = replica.drain().replies();
    assertEquals(1, refused.size(), "one answer: " + refused);
    assertEquals(ErrorCode.UNAVAILABLE, ((ErrorReply) refused.get(0).message()).code());
    assertEquals(List.of("a", "b", "c"), ids(chain0(replica)));
    for (long t = 1; t <= 70; t++) {
      replica.confirmed(t);
      replica.tick(t);
      for (String id : List.of("a", "b", "c")) {
        replica.onRequest(new Ref(2), heartbeat(id, chain0(replica).epoch(), t), t);
      }
    }
    replica.drain();
    replica.onRequest(new Ref(3), new Chained(0, new LeaveRequest("b")), 71);
    replica.drain();
    awaitRelease(replica, "b", 71);
    assertEquals(List.of("a", "c"), ids(chain0(replica)));
  }

  /**
   * Ticks {@code replica} from {@code tick} until {@code id} has left chain 0 (a failure timeout
   * after its leave), with the store confirming and the other members heard every tick.
   */
  private static long awaitRelease(CoordinatorReplica replica, String id, long tick) {
    long t = tick;
    while (chain0(replica).contains(id) && t <= tick + SETTINGS.failureTimeoutTicks() + 1) {
      t++;
      replica.confirmed(t);
      replica.tick(t);
      for (Member m : chain0(replica).members()) {
        if (!m.id().equals(id)) {
          replica.onRequest(new Ref(9), heartbeat(m.id(), chain0(replica).epoch(), t), t);
        }
      }
      replica.drain();
    }
    assertFalse(chain0(replica).contains(id), id + " left within a failure timeout");
    return t;
  }

  @Test
  @DisplayName(
      "Frozen after a change whose write had an unknown outcome: a member that change removed"
          + " gets no lease renewal (the next leader may start from that map)")
  void frozenDoesNotRenewAMemberMaybeRemoved() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    replica.persisted(replica.map());
    replica.drain();
    replica.onRequest(new Ref(1), new Chained(0, new LeaveRequest("b")), 1);
    replica.drain();
    long t =
        awaitRelease(replica, "b", 1); // the driver writes this map, and the outcome is unknown
    replica.storeLost();
    replica.onRequest(new Ref(2), heartbeat("b", 8, 1), t);
    replica.onRequest(new Ref(3), heartbeat("a", 8, 1), t);
    List<Effects.Reply> replies = replica.drain().replies();
    assertFalse(((HeartbeatReply) replies.get(0).message()).member());
    assertTrue(((HeartbeatReply) replies.get(1).message()).member());
  }
}

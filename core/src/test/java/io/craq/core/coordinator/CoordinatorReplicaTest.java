package io.craq.core.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Leadership rules of a coordinator among several: takeover epoch, lease, fencing, redirects. */
class CoordinatorReplicaTest {
  private static final CoordinatorSettings SETTINGS = new CoordinatorSettings(10, 8);
  private static final ChainConfig STORED =
      new ChainConfig(
          7,
          List.of(
              new Member("a", "a:1", 1, 1, true),
              new Member("b", "b:1", 2, 1, true),
              new Member("c", "c:1", 3, 1, true)));

  private record Ref(int id) implements ClientRef {}

  private static List<String> ids(ChainConfig config) {
    return config.members().stream().map(Member::id).toList();
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
    assertEquals(8, replica.config().epoch());
    assertEquals(STORED.members(), replica.config().members());
    Effects.PersistConfig persisted =
        assertInstanceOf(Effects.PersistConfig.class, effects.persist().get(0));
    assertEquals(8, persisted.config().epoch());
    assertEquals(
        3, effects.sends().stream().filter(s -> s.message() instanceof ConfigPush).count());
  }

  @Test
  @DisplayName("Resuming without a takeover keeps the stored epoch and sends nothing")
  void resumeKeepsTheEpoch() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, CoordinatorReplica.FOREVER, 30);
    replica.lead(STORED, false, 0);
    assertTrue(replica.drain().isEmpty());
    assertEquals(7, replica.config().epoch());
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
    replica.onRequest(new Ref(1), new Heartbeat("a", 8, 1, true), 500);
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
    replica.onRequest(new Ref(1), new Heartbeat("a", 8, 1, true), 1);
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
      replica.onRequest(new Ref(1), new Heartbeat("a", replica.config().epoch(), t, true), t);
    }
    assertEquals(List.of("a", "b", "c"), ids(replica.config()), "nobody removed yet");
    replica.confirmed(81);
    replica.tick(81);
    assertEquals(List.of("a"), ids(replica.config()));
  }

  @Test
  @DisplayName(
      "Frozen (store unreachable): heartbeats and chain requests are answered from the last stored"
          + " configuration, joins refused UNAVAILABLE, nobody removed; the lease still ends it")
  void frozenKeepsTheChainServing() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    ChainConfig stored = replica.config();
    replica.persisted(stored);
    replica.drain();
    replica.storeLost();
    assertTrue(replica.frozen());
    for (long t = 1; t < 20; t++) {
      replica.tick(t);
    }
    replica.onRequest(new Ref(1), new Heartbeat("a", 8, 1, true), 19);
    replica.onRequest(new Ref(2), new JoinRequest("d", "d:1", -1, 1), 19);
    replica.onRequest(new Ref(3), new ChainRequest(), 19);
    List<Effects.Reply> replies = replica.drain().replies();
    HeartbeatReply heartbeat = (HeartbeatReply) replies.get(0).message();
    assertTrue(heartbeat.member());
    assertEquals(stored, heartbeat.config());
    assertEquals(ErrorCode.UNAVAILABLE, ((ErrorReply) replies.get(1).message()).code());
    assertEquals(stored, ((ChainReply) replies.get(2).message()).config());

    replica.tick(20);
    assertFalse(replica.leading());
  }

  @Test
  @DisplayName("Leading again after a freeze takes over with a newer epoch than the stored one")
  void freezeEndsWithATakeover() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20, 30);
    replica.lead(STORED, true, 0);
    ChainConfig stored = replica.config();
    replica.persisted(stored);
    replica.drain();
    replica.storeLost();
    replica.lead(stored, true, 5);
    assertFalse(replica.frozen());
    assertEquals(stored.epoch() + 1, replica.config().epoch());
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
    replica.onRequest(new Ref(1), new LeaveRequest("b"), 1);
    List<Effects.Reply> refused = replica.drain().replies();
    assertEquals(1, refused.size(), "one answer: " + refused);
    assertEquals(ErrorCode.UNAVAILABLE, ((ErrorReply) refused.get(0).message()).code());
    assertEquals(List.of("a", "b", "c"), ids(replica.config()));
    for (long t = 1; t <= 70; t++) {
      replica.confirmed(t);
      replica.tick(t);
      for (String id : List.of("a", "b", "c")) {
        replica.onRequest(new Ref(2), new Heartbeat(id, replica.config().epoch(), t, true), t);
      }
    }
    replica.drain();
    replica.onRequest(new Ref(3), new LeaveRequest("b"), 71);
    replica.drain();
    assertEquals(List.of("a", "c"), ids(replica.config()));
  }
}

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
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
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

  @Test
  @DisplayName("A standby answers NOT_LEADER naming the leader's address, or an empty hint")
  void standbyRedirects() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20);
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
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20);
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
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, CoordinatorReplica.FOREVER);
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
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20);
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
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20);
    replica.lead(STORED, false, 100);
    replica.confirmed(50);
    assertTrue(replica.acting(119));
  }

  @Test
  @DisplayName("While acting, member requests reach the machine and are answered by it")
  void leaderAnswers() {
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20);
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
    CoordinatorReplica replica = new CoordinatorReplica(SETTINGS, 20);
    replica.lead(STORED, true, 0);
    replica.fenced("the configuration changed under us");
    assertFalse(replica.leading());
    assertTrue(replica.takeReleaseRequest());
    replica.onRequest(new Ref(1), new ChainRequest(), 1);
    ErrorReply refused = (ErrorReply) replica.drain().replies().get(0).message();
    assertTrue(refused.message().contains("the configuration changed under us"), refused.message());
  }
}

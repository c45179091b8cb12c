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
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The coordinator's membership rules (CRAQ §2.5, CR §3), one test per rule. */
class CoordinatorMachineRulesTest {
  private static final CoordinatorSettings SETTINGS = new CoordinatorSettings(10, 8);

  private record Ref(int id) implements ClientRef {}

  private static List<String> ids(ChainConfig config) {
    return config.members().stream().map(Member::id).toList();
  }

  /** A coordinator with members joined in order, all reported caught up. */
  private static CoordinatorMachine chainOf(String... ids) {
    CoordinatorMachine c = new CoordinatorMachine(SETTINGS, ChainConfig.EMPTY);
    for (String id : ids) {
      c.onRequest(new Ref(0), new JoinRequest(id, id + ":1", -1, 1));
      c.onRequest(new Ref(0), new Heartbeat(id, c.config().epoch(), 1, true));
    }
    c.drain();
    return c;
  }

  @Test
  @DisplayName(
      "Nodes join at the tail by default and at any position when asked; each change "
          + "is a new epoch, persisted before it is pushed to every member")
  void joinsGrowEpochAndPersistBeforePush() {
    CoordinatorMachine c = chainOf("a", "b");
    long before = c.config().epoch();
    c.onRequest(new Ref(1), new JoinRequest("x", "x:1", 1, 1));
    Effects effects = c.drain();
    assertEquals(List.of("a", "x", "b"), ids(c.config()));
    assertTrue(c.config().epoch() > before);
    assertInstanceOf(Effects.PersistConfig.class, effects.persist().get(0));
    assertEquals(
        3, effects.sends().stream().filter(s -> s.message() instanceof ConfigPush).count());
    assertInstanceOf(HeartbeatReply.class, effects.replies().get(0).message());
  }

  @Test
  @DisplayName("A member silent for longer than the failure timeout is removed")
  void silentMemberRemoved() {
    CoordinatorMachine c = chainOf("a", "b", "c");
    for (int t = 0; t <= SETTINGS.failureTimeoutTicks() + 1; t++) {
      c.tick();
      c.onRequest(new Ref(0), new Heartbeat("a", c.config().epoch(), t, true));
      c.onRequest(new Ref(0), new Heartbeat("c", c.config().epoch(), t, true));
    }
    assertEquals(List.of("a", "c"), ids(c.config()));
  }

  @Test
  @DisplayName("The last member holding a complete copy is never failed out, nor let leave")
  void lastCompleteCopyStays() {
    CoordinatorMachine c = chainOf("a");
    c.onRequest(new Ref(0), new JoinRequest("b", "b:1", -1, 1)); // b is still catching up
    for (int t = 0; t <= SETTINGS.failureTimeoutTicks() * 3; t++) {
      c.tick();
      c.onRequest(new Ref(0), new Heartbeat("b", c.config().epoch(), t, false));
    }
    assertTrue(c.config().contains("a"), "a holds the only complete copy");
    c.drain();
    c.onRequest(new Ref(2), new LeaveRequest("a"));
    ErrorReply refusal = (ErrorReply) c.drain().replies().get(0).message();
    assertEquals(ErrorCode.UNAVAILABLE, refusal.code());
  }

  @Test
  @DisplayName(
      "A restarted holder of the only complete copy, not placed yet, reports itself not caught"
          + " up: the coordinator keeps it as the complete copy, never fails it out while the"
          + " others copy, and puts it back at the head when it joins")
  void unplacedRestartKeepsTheCompleteCopy() {
    CoordinatorMachine c = chainOf("a");
    c.onRequest(new Ref(0), new JoinRequest("b", "b:1", -1, 1)); // b is still catching up
    c.onRequest(new Ref(0), new JoinRequest("c", "c:1", -1, 1)); // so is c
    // a restarts; its heartbeat reaches the coordinator before its join (lost, or late). The
    // new run ignores the earlier run's entry until placed, so it says it is not caught up.
    c.onRequest(new Ref(1), new Heartbeat("a", c.config().epoch(), 1, false));
    assertTrue(c.config().member("a").caughtUp(), "a's store still holds the complete copy");
    assertEquals("a", c.config().head().id());
    ChainConfig persisted = null;
    for (Effects.StoreOp op : c.drain().persist()) {
      persisted = ((Effects.PersistConfig) op).config();
    }
    // The coordinator restarts, and a crashes again before its join is placed: b and c copy
    // on, a stays silent for several failure timeouts.
    CoordinatorMachine restarted =
        new CoordinatorMachine(SETTINGS, persisted == null ? c.config() : persisted);
    for (int t = 0; t <= SETTINGS.failureTimeoutTicks() * 3; t++) {
      restarted.tick();
      restarted.onRequest(new Ref(2), new Heartbeat("b", restarted.config().epoch(), t, false));
      restarted.onRequest(new Ref(2), new Heartbeat("c", restarted.config().epoch(), t, false));
      restarted.drain();
    }
    assertTrue(restarted.config().contains("a"), "the only complete copy is never failed out");
    assertEquals("a", restarted.config().head().id(), "no member still copying becomes head");
    assertTrue(restarted.config().member("a").caughtUp());
    // a's next run joins: it goes back to the head as the complete copy, b and c copy again.
    long bJoined = restarted.config().member("b").joinedEpoch();
    restarted.onRequest(new Ref(3), new JoinRequest("a", "a:1", -1, 3));
    assertEquals(List.of("a", "b", "c"), ids(restarted.config()));
    assertTrue(restarted.config().member("a").caughtUp());
    assertTrue(restarted.config().member("b").joinedEpoch() > bJoined);
  }

  @Test
  @DisplayName(
      "A duplicated join is answered with the current chain; a restart (new "
          + "incarnation) moves the member to the tail with a new joined epoch")
  void duplicateJoinVersusRestart() {
    CoordinatorMachine c = chainOf("a", "b", "c");
    ChainConfig before = c.config();
    c.onRequest(new Ref(0), new JoinRequest("a", "a:1", -1, 1));
    assertEquals(before, c.config());
    c.onRequest(new Ref(0), new JoinRequest("a", "a:1", -1, 2));
    assertEquals(List.of("b", "c", "a"), ids(c.config()));
    assertEquals(c.config().epoch(), c.config().member("a").joinedEpoch());
  }

  @Test
  @DisplayName(
      "The returning holder of the only complete copy goes to the head, and the members "
          + "still copying start again (they may hold dirty versions it never made durable)")
  void returningCompleteCopyRestartsTheCopies() {
    CoordinatorMachine c = chainOf("a");
    c.onRequest(new Ref(0), new JoinRequest("b", "b:1", -1, 1)); // b is still catching up
    c.onRequest(new Ref(0), new JoinRequest("c", "c:1", -1, 1)); // so is c
    long bJoined = c.config().member("b").joinedEpoch();
    c.onRequest(new Ref(0), new JoinRequest("a", "a:1", -1, 2)); // a restarted
    assertEquals(List.of("a", "b", "c"), ids(c.config()));
    assertTrue(c.config().member("b").joinedEpoch() > bJoined);
    assertEquals(c.config().epoch(), c.config().member("b").joinedEpoch());
    assertEquals(c.config().epoch(), c.config().member("c").joinedEpoch());
    assertTrue(c.config().member("a").caughtUp() && !c.config().member("b").caughtUp());

    CoordinatorMachine caughtUp = chainOf("a", "b");
    long joined = caughtUp.config().member("b").joinedEpoch();
    caughtUp.onRequest(new Ref(0), new JoinRequest("a", "a:1", -1, 2));
    assertEquals(
        joined,
        caughtUp.config().member("b").joinedEpoch(),
        "a caught-up member keeps its join when another one restarts");
  }

  @Test
  @DisplayName("The head is always a caught-up member when one exists")
  void headIsCaughtUp() {
    CoordinatorMachine c = chainOf("a", "b");
    c.onRequest(new Ref(0), new JoinRequest("x", "x:1", 0, 1));
    assertEquals("a", c.config().head().id(), "x asked for the head but has nothing yet");
  }

  @Test
  @DisplayName(
      "When the head leaves and a caught-up member passes members still copying to "
          + "become head, those start their copy again (they were upstream of it and may hold "
          + "dirty versions it lacks)")
  void caughtUpMemberPassingCopiesRestartsThem() {
    CoordinatorMachine c = chainOf("a");
    c.onRequest(new Ref(0), new JoinRequest("b", "b:1", -1, 1)); // b is still catching up
    c.onRequest(new Ref(0), new JoinRequest("c", "c:1", -1, 1));
    c.onRequest(new Ref(0), new Heartbeat("c", c.config().epoch(), 1, true)); // c caught up
    assertEquals(List.of("a", "b", "c"), ids(c.config()));
    long bJoined = c.config().member("b").joinedEpoch();
    long cJoined = c.config().member("c").joinedEpoch();
    c.onRequest(new Ref(0), new LeaveRequest("a"));
    assertEquals(List.of("a", "b", "c"), ids(c.config()), "a stays until its lease has ended");
    awaitRelease(c, "a");
    assertEquals(List.of("c", "b"), ids(c.config()));
    assertTrue(c.config().member("b").joinedEpoch() > bJoined, "b copies again");
    assertEquals(cJoined, c.config().member("c").joinedEpoch(), "c keeps its data");
  }

  @Test
  @DisplayName("A restarted coordinator resumes the persisted chain, caught-up flags included")
  void restartResumes() {
    CoordinatorMachine c = chainOf("a", "b");
    ChainConfig persisted = null;
    c.onRequest(new Ref(0), new JoinRequest("x", "x:1", -1, 1));
    for (Effects.StoreOp op : c.drain().persist()) {
      persisted = ((Effects.PersistConfig) op).config();
    }
    CoordinatorMachine restarted = new CoordinatorMachine(SETTINGS, persisted);
    assertEquals(persisted, restarted.config());
    assertTrue(restarted.config().member("a").caughtUp());
    assertTrue(!restarted.config().member("x").caughtUp());
  }

  @Test
  @DisplayName(
      "Placement adds at the tail in the next epoch (the first member of an empty chain caught up,"
          + " the others copying) with the checks of a join")
  void admitAddsAtTheTail() {
    CoordinatorMachine c = new CoordinatorMachine(SETTINGS, ChainConfig.EMPTY);
    assertTrue(c.admit("a", "a:1", 1));
    assertTrue(c.config().member("a").caughtUp(), "nothing to copy in an empty chain");
    assertTrue(c.admit("b", "b:1", 1));
    Member b = c.config().member("b");
    assertEquals(List.of("a", "b"), ids(c.config()));
    assertEquals(c.config().epoch(), b.joinedEpoch());
    assertFalse(b.caughtUp());
    Effects effects = c.drain();
    assertEquals(2, effects.persist().size());
    assertTrue(effects.replies().isEmpty(), "nobody asked");

    ChainConfig before = c.config();
    assertFalse(c.admit("b", "b:2", 2), "already a member");
    assertFalse(c.admit("x", "a:1", 1), "address used by a");
    assertEquals(before, c.config());
    assertTrue(c.drain().isEmpty());

    CoordinatorMachine full = new CoordinatorMachine(new CoordinatorSettings(10, 2), before);
    assertFalse(full.admit("x", "x:1", 1), "membersMax");
  }

  @Test
  @DisplayName(
      "Placement removes a member unless it is the last one, holds the only complete copy, or the"
          + " quiet period after a takeover runs")
  void removeRefusals() {
    CoordinatorMachine c = chainOf("a");
    assertFalse(c.remove("a"), "the last member");
    assertTrue(c.admit("b", "b:1", 1));
    assertFalse(c.remove("a"), "the only complete copy while b copies");
    assertFalse(c.remove("x"), "no member");
    assertTrue(c.remove("b"), "a member still copying may go");
    awaitRelease(c, "b");
    assertEquals(List.of("a"), ids(c.config()));

    CoordinatorMachine quiet = chainOf("a", "b", "c");
    quiet.takeOver(5);
    for (int t = 0; t < 5; t++) {
      assertFalse(quiet.remove("b"), "quiet period, tick " + t);
      quiet.tick();
    }
    assertTrue(quiet.remove("b"));
    awaitRelease(quiet, "b");
    assertEquals(List.of("a", "c"), ids(quiet.config()));
  }

  @Test
  @DisplayName(
      "A member being removed gets no new read lease, and leaves only a failure timeout later")
  void removalWaitsOutTheLease() {
    CoordinatorMachine c = chainOf("a", "b", "c");
    c.drain();
    assertTrue(c.remove("b"));
    assertTrue(c.releasing("b"));
    for (int t = 0; t <= SETTINGS.failureTimeoutTicks(); t++) {
      assertEquals(List.of("a", "b", "c"), ids(c.config()), "tick " + t);
      c.onRequest(new Ref(t), new Heartbeat("b", c.config().epoch(), t, true));
      HeartbeatReply reply = (HeartbeatReply) c.drain().replies().get(0).message();
      assertFalse(reply.member(), "no lease renewed for b at tick " + t);
      heartbeatOthers(c, "b");
      c.tick();
    }
    assertEquals(List.of("a", "c"), ids(c.config()));
    assertFalse(c.releasing("b"));
  }

  /** Ticks {@code c} until {@code id}'s release is over, the other members heard every tick. */
  private static void awaitRelease(CoordinatorMachine c, String id) {
    for (int t = 0; t <= SETTINGS.failureTimeoutTicks() + 1 && c.config().contains(id); t++) {
      heartbeatOthers(c, id);
      c.tick();
    }
    assertFalse(c.config().contains(id), id + " left within a failure timeout");
  }

  private static void heartbeatOthers(CoordinatorMachine c, String except) {
    for (Member m : c.config().members()) {
      if (!m.id().equals(except)) {
        c.onRequest(new Ref(-1), new Heartbeat(m.id(), c.config().epoch(), 0, m.caughtUp()));
      }
    }
    c.drain();
  }

  @Test
  @DisplayName(
      "A release does not end while the other complete copies have gone silent: the member being"
          + " released stays, and is the chain's last complete copy once the others are failed out")
  void releaseKeepsTheLastLiveCopy() {
    CoordinatorMachine c = chainOf("b", "n", "a");
    c.drain();
    assertTrue(c.remove("a"));
    for (int t = 0; t <= 2 * SETTINGS.failureTimeoutTicks() + 2; t++) {
      if (t < 3) {
        heartbeatOthers(c, "a"); // b and n answer a little, then crash
      }
      c.onRequest(new Ref(t), new Heartbeat("a", c.config().epoch(), t, true));
      c.drain();
      c.tick();
      assertTrue(c.config().contains("a"), "a let go while b and n were silent, tick " + t);
    }
    assertEquals(List.of("a"), ids(c.config()), "b and n failed out, a holds the data");
  }
}

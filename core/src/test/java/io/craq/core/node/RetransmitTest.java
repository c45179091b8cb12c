package io.craq.core.node;

import static io.craq.core.node.NodeMachineRulesTest.B;
import static io.craq.core.node.NodeMachineRulesTest.CHAIN;
import static io.craq.core.node.NodeMachineRulesTest.bytes;
import static io.craq.core.node.NodeMachineRulesTest.drain;
import static io.craq.core.node.NodeMachineRulesTest.member;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Retransmission of versions the successor has not acknowledged: after {@code retransmitTicks} at
 * first, then backing off while nothing comes back, and following the measured commit round trip,
 * so a slow (saturated) chain is not flooded with copies of what is already on its way.
 */
class RetransmitTest {
  private static final int BASE = NodeSettings.defaults().retransmitTicks();
  private static final int MAX = BASE * NodeMachine.RETRANSMIT_TIMEOUT_FACTOR_MAX;

  /** One tick with the lease kept (heartbeats answered); returns the versions sent downstream. */
  private static List<KeyVersion> tick(NodeMachine m) {
    m.tick();
    Effects effects = drain(m);
    List<KeyVersion> propagated = new ArrayList<>();
    for (Effects.Send send : effects.sends()) {
      if (send.message() instanceof Heartbeat heartbeat) {
        m.onMessage(new HeartbeatReply(heartbeat.nodeId(), heartbeat.seq(), true, CHAIN));
      } else if (send.message() instanceof Propagate propagate) {
        propagate.versions().forEach(v -> propagated.add(new KeyVersion(v.key(), v.version())));
      }
    }
    drain(m);
    return propagated;
  }

  /** Ticks at which {@code kv} was sent again, over {@code ticks} ticks. */
  private static List<Long> resendTicks(NodeMachine m, KeyVersion kv, int ticks) {
    List<Long> at = new ArrayList<>();
    for (int i = 0; i < ticks; i++) {
      if (tick(m).contains(kv)) {
        at.add(m.now());
      }
    }
    return at;
  }

  private static void propagate(NodeMachine middle, String key, long version) {
    middle.onMessage(
        new Propagate(
            5, "a", List.of(new VersionRecord(key, version, false, bytes(key + version)))));
    drain(middle);
  }

  @Test
  @DisplayName(
      "an unacknowledged version is resent after retransmitTicks, then at doubling "
          + "intervals up to 16x while nothing comes back; each resend is counted")
  void backsOffWithoutAnswers() {
    NodeMachine middle = member(B, CHAIN);
    long sent = middle.now();
    propagate(middle, "k", 1);
    List<Long> at = resendTicks(middle, new KeyVersion("k", 1), 2 * MAX + 4 * BASE);
    List<Long> expected = new ArrayList<>();
    long t = sent;
    for (long timeout = BASE;
        t + timeout <= sent + 2 * MAX + 4 * BASE;
        timeout = Math.min(MAX, timeout * 2)) {
      t += timeout;
      expected.add(t);
    }
    assertEquals(expected, at, "resend ticks (base " + BASE + ", max " + MAX + ")");
    assertEquals(at.size(), middle.counters().versionsResent());
    assertEquals(MAX, middle.retransmitTimeoutTicks());
  }

  @Test
  @DisplayName(
      "after commits come back in about R ticks, the timeout is 4R: a slow chain gets "
          + "no resends, and a commit after a resend resets the backoff")
  void followsTheCommitRoundTrip() {
    NodeMachine middle = member(B, CHAIN);
    int roundTrip = BASE; // slower than the base timeout allows for: 4R > BASE
    for (int i = 1; i <= 12; i++) {
      propagate(middle, "j", i);
      for (int t = 0; t < roundTrip - 1; t++) {
        tick(middle);
      }
      // Commit just before the base timeout: a sample, not a resend.
      middle.onMessage(new Commit(5, "c", List.of(new KeyVersion("j", i))));
      drain(middle);
      tick(middle);
    }
    long timeout = middle.retransmitTimeoutTicks();
    assertTrue(timeout >= 3L * roundTrip && timeout <= 4L * roundTrip, "timeout " + timeout);
    assertEquals(0, middle.counters().versionsResent());

    long sent = middle.now();
    propagate(middle, "k", 1);
    List<Long> at = resendTicks(middle, new KeyVersion("k", 1), (int) timeout);
    assertEquals(List.of(sent + timeout), at, "one resend, at the adaptive timeout");
    assertEquals(1, middle.counters().versionsResent());
  }
}

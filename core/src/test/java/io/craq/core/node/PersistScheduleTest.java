package io.craq.core.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.DiscardAllDirty;
import io.craq.core.chain.ChainSlice;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.Durable;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PersistScheduleTest {
  static final Member PEER = new Member("n2", "n2");

  @Test
  @DisplayName(
      "versions passed down a chain go out at once, in their chain's envelope too; the drain's"
          + " other sends wait for the store change they depend on")
  void wrappedPropagatesGoAtOnce() {
    Effects.Send bare =
        new Effects.Send(
            PEER,
            new Propagate(1, "n1", List.of(new VersionRecord("a", 1, false, new byte[] {1}))));
    Effects.Send wrapped =
        new Effects.Send(
            PEER,
            new Chained(
                3,
                new Propagate(1, "n1", List.of(new VersionRecord("b", 1, false, new byte[] {2})))));
    Effects.Send durable =
        new Effects.Send(
            PEER, new Chained(3, new Durable(1, "n1", List.of(new KeyVersion("b", 1)))));
    Effects effects =
        new Effects(
            new ArrayList<>(List.of(new DiscardAllDirty(new ChainSlice(3, 4)))),
            new ArrayList<>(List.of(bare, wrapped, durable)),
            new ArrayList<>());
    PersistSchedule schedule = new PersistSchedule();
    PersistSchedule.Plan plan = schedule.plan(effects, 1);
    assertEquals(List.of(bare, wrapped), plan.propagates());
    assertTrue(plan.now().isEmpty(), "the Durable waits for the discard");
    assertEquals(List.of(durable), schedule.done(plan.group().id()).sends());
  }
}

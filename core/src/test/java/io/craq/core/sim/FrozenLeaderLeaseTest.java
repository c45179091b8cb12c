package io.craq.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Effects.PersistMap;
import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.PoolNode;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A leader whose write of a configuration that removes a member has an unknown outcome freezes
 * ({@link CoordinatorReplica#storeLost}) and answers heartbeats from the last configuration it
 * knows to be stored. Found by the ZooKeeper-mode simulation (seed 2272), replayed here on the
 * replica alone.
 */
class FrozenLeaderLeaseTest {
  private record Ref(String nodeId) implements ClientRef {}

  private static Member member(String id) {
    return new Member(id, id, 1, 1, true);
  }

  @Test
  @DisplayName(
      "A frozen leader does not renew the read lease of a member its unacknowledged write removed")
  void frozenLeaderDoesNotRenewARemovedMember() {
    CoordinatorReplica replica = new CoordinatorReplica(new CoordinatorSettings(16, 16), 30, 20);
    ChainConfig chain = new ChainConfig(7, List.of(member("n2"), member("n3"), member("n4")));
    List<PoolNode> pool =
        List.of(
            new PoolNode("n2", "n2", 1, false),
            new PoolNode("n3", "n3", 1, false),
            new PoolNode("n4", "n4", 1, false));
    long clock = 0;
    replica.lead(new ChainMap(12, 16, List.of(chain), pool), true, clock);
    ChainMap takeOverMap = persistOf(replica.drain());
    assertNotNull(takeOverMap, "set-up: the takeover epoch is written first");
    ChainConfig takeOver = takeOverMap.chain(0);
    replica.persisted(takeOverMap); // the driver's conditional write succeeded

    // n2 and n3 keep saying hello and beating; n4 is silent until the leader removes it.
    ChainConfig removal = null;
    for (int seq = 1; seq < 100 && removal == null; seq++) {
      clock++;
      replica.confirmed(clock); // the store answers the leader session
      replica.tick(clock);
      for (String id : List.of("n2", "n3")) {
        replica.onRequest(new Ref(id), new NodeHello(id, id, 1, takeOverMap.version()), clock);
        replica.onRequest(
            new Ref(id), new Chained(0, new Heartbeat(id, takeOver.epoch(), seq, true)), clock);
      }
      ChainMap written = persistOf(replica.drain());
      if (written != null && !written.chain(0).contains("n4")) {
        removal = written.chain(0);
      }
      // else no write, or one of the pool alone: the driver's write of it gets no answer yet
    }
    assertNotNull(removal, "set-up: the silent member is removed");

    // The driver's conditional write of that configuration gets no answer: it may be stored.
    replica.storeLost();
    assertTrue(replica.frozen() && replica.acting(clock), "set-up: frozen, under its lease");

    // n4 was cut off, not dead: its heartbeat gets through to the frozen leader.
    replica.onRequest(
        new Ref("n4"), new Chained(0, new Heartbeat("n4", takeOver.epoch(), 1, true)), clock);
    Effects effects = replica.drain();
    assertEquals(1, effects.replies().size(), "one answer");
    HeartbeatReply reply = (HeartbeatReply) effects.replies().get(0).message();
    // An answer in n4's epoch that says it is a member renews n4's read lease. If the write went
    // through, the next leader (or this one, after reading the store again) takes over from a
    // configuration without n4 and moves the chain on, counting only its members as heard from:
    // n4, the tail of its epoch, then serves reads the new chain has overwritten.
    assertFalse(
        reply.member() && reply.config().epoch() < removal.epoch(),
        "the frozen leader renewed the lease of n4 in epoch "
            + reply.config().epoch()
            + ", though epoch "
            + removal.epoch()
            + " without n4 may be stored");
  }

  /** The last map the drain persists, or null if it persists none. */
  private static ChainMap persistOf(Effects effects) {
    ChainMap last = null;
    for (Effects.StoreOp op : effects.persist()) {
      last = ((PersistMap) op).map();
    }
    return last;
  }
}

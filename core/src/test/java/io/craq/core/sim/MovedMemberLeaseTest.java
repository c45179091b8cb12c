package io.craq.core.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.chain.KeySlots;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.coordinator.MapMachine;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.node.NodeHost;
import io.craq.core.node.NodeMachine;
import io.craq.core.node.NodeSettings;
import io.craq.core.store.ModelStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A chain moved off a node that keeps running (a balance move onto a new node): the node must not
 * serve strong reads of the chain's keys from its old copy once the chain has moved on without it,
 * even when it has not heard of the new configuration (its link from the coordinator is lost). The
 * many-chain simulation checks the same as an invariant on every stored map (no member is removed
 * while it holds a read lease in the chain); this replays it by hand: three nodes, two chains of
 * two, every message delivered at once except those from the coordinator to the moved node.
 */
class MovedMemberLeaseTest {
  private static final NodeSettings SETTINGS =
      new NodeSettings(3, 12, 8, 120, 15, 8, 15, 64, 64, 64, 1024);

  private record NodeRef(String id, int chain) implements ClientRef {}

  private record Client(int id) implements ClientRef {}

  /** A message on its way: to a node or the coordinator, with who asked when it is a request. */
  private record Envelope(String from, String to, ClientRef ref, Message message) {}

  /** Three node hosts and the coordinator; store changes are durable at once. */
  private static final class Cluster {
    final MapMachine coordinator =
        new MapMachine(new CoordinatorSettings(16, 16, 2, 2, 1), ChainMap.empty(2, 2));
    ChainMap persisted = ChainMap.empty(2, 2);
    final Map<String, NodeHost> hosts = new LinkedHashMap<>();
    final Map<String, ModelStore> stores = new LinkedHashMap<>();
    final Map<Integer, Message> answers = new LinkedHashMap<>();
    final ArrayDeque<Envelope> queue = new ArrayDeque<>();
    Predicate<Envelope> drop = e -> false;

    /** Called with the map before and after each persisted change. */
    java.util.function.BiConsumer<ChainMap, ChainMap> onPersist = (a, b) -> {};

    long now;
    long incarnations;

    void start(String id) {
      ModelStore store = new ModelStore();
      stores.put(id, store);
      hosts.put(id, new NodeHost(id, id, SETTINGS, -1, ++incarnations, store, store.allDirty()));
      hosts.get(id).advanceTo(now);
    }

    void performHost(String id) {
      NodeHost host = hosts.get(id);
      for (int round = 0; round < 100; round++) {
        Effects effects = host.drain();
        if (effects.isEmpty()) {
          return;
        }
        stores.get(id).applyAll(effects.persist());
        host.onPersisted(host.drainSequence());
        for (Effects.Send send : effects.sends()) {
          if (Effects.COORDINATOR.equals(send.to())) {
            int chain = send.message() instanceof Chained c ? c.chain() : -1;
            queue.add(new Envelope(id, "coordinator", new NodeRef(id, chain), send.message()));
          } else {
            queue.add(new Envelope(id, send.to().id(), null, send.message()));
          }
        }
        for (Effects.Reply reply : effects.replies()) {
          answers.put(((Client) reply.ref()).id(), reply.message());
        }
      }
      throw new AssertionError("set-up: " + id + " keeps producing effects");
    }

    void performCoordinator() {
      Effects effects = coordinator.drain();
      for (Effects.StoreOp op : effects.persist()) {
        ChainMap before = persisted;
        persisted = ((Effects.PersistMap) op).map();
        onPersist.accept(before, persisted);
      }
      for (Effects.Send send : effects.sends()) {
        queue.add(new Envelope("coordinator", send.to().id(), null, send.message()));
      }
      for (Effects.Reply reply : effects.replies()) {
        NodeRef ref = (NodeRef) reply.ref();
        queue.add(new Envelope("coordinator", ref.id(), ref, reply.message()));
      }
    }

    void pump() {
      for (int guard = 0; !queue.isEmpty(); guard++) {
        assertTrue(guard < 100_000, "set-up: messages keep flowing");
        Envelope e = queue.poll();
        if (drop.test(e)) {
          continue;
        }
        if (e.to().equals("coordinator")) {
          coordinator.onRequest(e.ref(), e.message());
          performCoordinator();
          continue;
        }
        NodeHost host = hosts.get(e.to());
        if (e.from().equals("coordinator") && e.ref() instanceof NodeRef ref) {
          // An answer: the node's driver hands it back in the chain it asked about.
          if (e.message() instanceof ErrorReply) {
            continue;
          }
          host.onMessage(ref.chain() >= 0 ? new Chained(ref.chain(), e.message()) : e.message());
        } else {
          host.onMessage(e.message());
        }
        performHost(e.to());
      }
    }

    void ticks(int count) {
      for (int i = 0; i < count; i++) {
        now++;
        coordinator.tick();
        performCoordinator();
        for (String id : hosts.keySet()) {
          hosts.get(id).advanceTo(now);
          performHost(id);
        }
        pump();
      }
    }

    Message request(String node, int client, Message request) {
      hosts.get(node).onClientRequest(new Client(client), request);
      performHost(node);
      pump();
      return answers.get(client);
    }
  }

  @Test
  @DisplayName(
      "A node a chain was moved off, cut from the coordinator, serves no strong read older than a"
          + " write the chain acknowledged without it")
  void movedOffNodeServesNoStaleRead() {
    Cluster c = new Cluster();
    c.start("a");
    c.start("b");
    c.ticks(40); // both chains laid out on a and b, caught up
    // The first map that takes a running member out of a chain: from then on the coordinator's
    // messages to that node are lost (its link from the coordinator is cut).
    int[] moved = {-1};
    String[] movedNode = {null};
    c.onPersist =
        (before, after) -> {
          for (int chain = 0; chain < after.chainCount() && movedNode[0] == null; chain++) {
            for (Member m : before.chain(chain).members()) {
              if (!after.chain(chain).contains(m.id())) {
                moved[0] = chain;
                movedNode[0] = m.id();
                c.drop = e -> e.from().equals("coordinator") && e.to().equals(m.id());
              }
            }
          }
        };
    c.start("c"); // a new node: a chain moves onto it, then off the most loaded node
    for (int i = 0; i < 100 && movedNode[0] == null; i++) {
      c.ticks(1);
    }
    assertNotNull(movedNode[0], "set-up: a chain moved off a or b");
    int chain = moved[0];
    String off = movedNode[0];
    NodeMachine stale = c.hosts.get(off).machine(chain);
    assertTrue(
        stale.isMember(), "set-up: " + off + " still believes it is a member of chain " + chain);
    assertFalse(
        stale.hasLease(),
        off
            + " still holds a read lease in chain "
            + chain
            + ", which the chain moved on without it");

    // A write of a key of that chain, at its new head: acknowledged without the moved node.
    String key = keyOf(chain);
    ChainConfig now = c.persisted.chain(chain);
    Message written =
        c.request(
            now.head().id(),
            1,
            new WriteRequest(
                key, "v1".getBytes(StandardCharsets.UTF_8), false, Message.ANY_VERSION));
    for (int i = 0; i < 3 && written == null; i++) {
      c.ticks(1);
      written = c.answers.get(1);
    }
    WriteReply ack =
        assertInstanceOf(WriteReply.class, written, "set-up: the write is acknowledged");

    // A client whose map is older still reads at the moved node.
    Message read = c.request(off, 2, new ReadRequest(key, ReadMode.STRONG, 0));
    if (read instanceof ReadReply reply) {
      assertTrue(
          reply.found() && reply.version() >= ack.version(),
          off
              + " was moved off chain "
              + chain
              + " (now "
              + now
              + ") and, still holding its read lease there, answered a strong read of "
              + key
              + " with "
              + (reply.found() ? "version " + reply.version() : "absent")
              + " after version "
              + ack.version()
              + " was acknowledged");
    }
  }

  /** A key of {@code chain} in a cluster of two chains. */
  private static String keyOf(int chain) {
    for (int i = 0; ; i++) {
      String key = "key-" + i;
      if (KeySlots.chainOf(key, 2) == chain) {
        return key;
      }
    }
  }
}

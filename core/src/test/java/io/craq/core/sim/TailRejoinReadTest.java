package io.craq.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.coordinator.CoordinatorMachine;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.node.NodeMachine;
import io.craq.core.node.NodeSettings;
import io.craq.core.store.ModelStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A tail that committed a version, served it, and lost the commit marker in a crash (markers are
 * made durable lazily) before its predecessor heard of the commit, comes back before the
 * coordinator removed it: it re-joins at the tail and catches up from its predecessor, which holds
 * the version only dirty. Found by the ZooKeeper-mode simulation (seed 1000), where a new leader's
 * quiet period keeps a crashed member listed longer; replayed here by hand, step by step.
 */
class TailRejoinReadTest {
  private static final NodeSettings SETTINGS =
      new NodeSettings(3, 12, 8, 120, 15, 8, 15, 64, 64, 64, 1024);

  /** A two-node chain and its coordinator, messages delivered by hand. */
  private static final class Cluster {
    final CoordinatorMachine coordinator =
        new CoordinatorMachine(new CoordinatorSettings(16, 16), ChainConfig.EMPTY);
    final Map<String, NodeMachine> nodes = new LinkedHashMap<>();
    final Map<String, List<Effects.StoreOp>> log = new LinkedHashMap<>();
    final Map<String, ModelStore> stores = new LinkedHashMap<>();
    final Map<String, Boolean> persistsAtOnce = new LinkedHashMap<>();
    final Map<Integer, Message> answers = new LinkedHashMap<>();
    final ArrayDeque<Object[]> queue = new ArrayDeque<>();
    Predicate<Object[]> drop = m -> false;
    long incarnations;

    record NodeRef(String id) implements ClientRef {}

    record Client(int id) implements ClientRef {}

    void start(String id, ModelStore store) {
      stores.put(id, store);
      log.putIfAbsent(id, new ArrayList<>());
      persistsAtOnce.put(id, true);
      nodes.put(id, new NodeMachine(id, id, SETTINGS, -1, ++incarnations, store, store.allDirty()));
    }

    /** Performs a node's effects: its store changes first (durable at once, if so set). */
    void perform(String id) {
      NodeMachine m = nodes.get(id);
      Effects effects = m.drain();
      stores.get(id).applyAll(effects.persist());
      log.get(id).addAll(effects.persist());
      if (persistsAtOnce.get(id)) {
        m.onPersisted(m.drainSequence());
        effects = merge(effects, m.drain());
      }
      for (Effects.Send send : effects.sends()) {
        queue.add(new Object[] {id, send.to().id(), send.message()});
      }
      for (Effects.Reply reply : effects.replies()) {
        answers.put(((Client) reply.ref()).id(), reply.message());
      }
    }

    /** Lets a node whose store writes were held report them done. */
    void persisted(String id) {
      persistsAtOnce.put(id, true);
      NodeMachine m = nodes.get(id);
      m.onPersisted(m.drainSequence());
      perform(id);
    }

    private static Effects merge(Effects a, Effects b) {
      a.persist().addAll(b.persist());
      a.sends().addAll(b.sends());
      a.replies().addAll(b.replies());
      return a;
    }

    void performCoordinator() {
      Effects effects = coordinator.drain();
      for (Effects.Send send : effects.sends()) {
        queue.add(new Object[] {"coordinator", send.to().id(), send.message()});
      }
      for (Effects.Reply reply : effects.replies()) {
        queue.add(new Object[] {"coordinator", ((NodeRef) reply.ref()).id(), reply.message()});
      }
    }

    void pump() {
      for (int guard = 0; !queue.isEmpty(); guard++) {
        assertTrue(guard < 10_000, "set-up: messages keep flowing");
        Object[] m = queue.poll();
        if (drop.test(m)) {
          continue;
        }
        String from = (String) m[0];
        String to = (String) m[1];
        Message message = (Message) m[2];
        if (to.equals("coordinator")) {
          coordinator.onRequest(new NodeRef(from), (Message.CoordinatorRequest) message);
          performCoordinator();
        } else if (nodes.containsKey(to)) {
          if (message instanceof Message.NodeMessage nodeMessage) {
            nodes.get(to).onMessage(nodeMessage);
            perform(to);
          }
        }
      }
    }

    void ticks(int count) {
      for (int i = 0; i < count; i++) {
        coordinator.tick();
        performCoordinator();
        for (String id : nodes.keySet()) {
          nodes.get(id).tick();
          perform(id);
        }
        pump();
      }
    }

    Message request(String node, int client, Message.NodeRequest request) {
      nodes.get(node).onClientRequest(new Client(client), request);
      perform(node);
      pump();
      return answers.get(client);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String value(Message reply) {
    ReadReply read = assertInstanceOf(ReadReply.class, reply, "a read answer");
    return read.found() ? new String(read.value(), StandardCharsets.UTF_8) : null;
  }

  @Test
  @DisplayName(
      "A tail that served a version and lost its commit marker in a crash does not let an older"
          + " version be read after it re-joins")
  void rejoinedTailDoesNotServeAnOlderVersion() {
    Cluster c = new Cluster();
    c.start("n2", new ModelStore());
    c.ticks(10); // n2 joins first: the head
    c.start("n1", new ModelStore());
    c.ticks(30); // n1 joins at the tail and catches up
    assertEquals(List.of("n2", "n1"), ids(c.coordinator.config()), "set-up: n2 -> n1");

    assertInstanceOf(
        WriteReply.class,
        c.request("n2", 1, new WriteRequest("k", bytes("v1"), false, Message.ANY_VERSION)),
        "set-up: v1 written");

    // The tail's messages to the head are lost from now on: n1 commits v2, n2 never hears of it.
    c.drop = m -> m[0].equals("n1") && m[1].equals("n2");
    c.request("n2", 2, new WriteRequest("k", bytes("v2"), false, Message.ANY_VERSION));
    assertEquals("v2", value(c.request("n1", 3, new ReadRequest("k", ReadMode.STRONG, 0))));

    // n1 crashes: its store keeps everything but the last commit marker (not forced yet).
    List<Effects.StoreOp> kept = new ArrayList<>(c.log.get("n1"));
    int lastMarker = -1;
    for (int i = 0; i < kept.size(); i++) {
      if (kept.get(i) instanceof Effects.CommitVersion commit && commit.key().equals("k")) {
        lastMarker = i;
      }
    }
    assertTrue(lastMarker >= 0, "set-up: n1 committed k");
    kept.remove(lastMarker);
    ModelStore recovered = new ModelStore();
    recovered.applyAll(kept);
    c.log.put("n1", new ArrayList<>(kept));
    c.drop = m -> false;
    c.queue.clear();
    // It restarts before the coordinator's failure timeout: re-joins at the tail and catches up
    // from n2 (caught up once the pages are durable); its store writes after that are held, and
    // n2's word that the copied v2 is durable there is lost, so n1 cannot commit v2 yet.
    c.drop = m -> m[0].equals("n2") && m[1].equals("n1") && m[2] instanceof Message.Durable;
    c.start("n1", recovered);
    for (int i = 0;
        i < 40 && !(c.nodes.get("n1").isMember() && !c.nodes.get("n1").isCatchingUp());
        i++) {
      c.ticks(1);
    }
    c.persistsAtOnce.put("n1", false);
    c.ticks(4); // heartbeats: n1's lease
    assertTrue(
        c.nodes.get("n1").isMember()
            && !c.nodes.get("n1").isCatchingUp()
            && c.nodes.get("n1").hasLease(),
        "set-up: n1 back, serving");
    assertEquals(List.of("n2", "n1"), ids(c.coordinator.config()), "set-up: n1 is the tail again");

    Message read = c.request("n2", 4, new ReadRequest("k", ReadMode.STRONG, 0));
    if (read instanceof ReadReply) {
      assertEquals("v2", value(read), "v2 was read before: an older value must not be read now");
    }
    c.drop = m -> false;
    c.persisted("n1");
    c.pump();
    // n2 resends v2 (and that it is durable there) after its retransmit timeout: n1 commits it.
    Message last = c.request("n2", 5, new ReadRequest("k", ReadMode.STRONG, 0));
    for (int i = 0; i < 60 && !(last instanceof ReadReply); i++) {
      c.ticks(1);
      last = c.request("n2", 6 + i, new ReadRequest("k", ReadMode.STRONG, 0));
    }
    assertEquals("v2", value(last));
  }

  private static List<String> ids(ChainConfig config) {
    return config.members().stream().map(m -> m.id()).toList();
  }
}

package io.craq.core.node;

import static io.craq.core.node.NodeCounters.CATCH_UP_KEYS_RECEIVED;
import static io.craq.core.node.NodeCounters.CATCH_UP_PAGES_RECEIVED;
import static io.craq.core.node.NodeCounters.PROPAGATED_VERSIONS_RECEIVED;
import static io.craq.core.node.NodeCounters.PROPAGATIONS_RECEIVED;
import static io.craq.core.node.NodeCounters.READS_AFTER_QUERY;
import static io.craq.core.node.NodeCounters.READS_CLEAN;
import static io.craq.core.node.NodeCounters.READS_DIRTY;
import static io.craq.core.node.NodeCounters.READS_REFUSED;
import static io.craq.core.node.NodeCounters.VERSIONS_COMMITTED;
import static io.craq.core.node.NodeCounters.VERSIONS_RESENT;
import static io.craq.core.node.NodeCounters.VERSION_QUERIES_REFUSED;
import static io.craq.core.node.NodeCounters.VERSION_QUERIES_SENT;
import static io.craq.core.node.NodeCounters.VERSION_QUERIES_SERVED;
import static io.craq.core.node.NodeCounters.VERSION_QUERY_KEYS_SENT;
import static io.craq.core.node.NodeCounters.VERSION_QUERY_KEYS_SERVED;
import static io.craq.core.node.NodeCounters.WRITES_ACCEPTED;
import static io.craq.core.node.NodeMachineRulesTest.A;
import static io.craq.core.node.NodeMachineRulesTest.B;
import static io.craq.core.node.NodeMachineRulesTest.C;
import static io.craq.core.node.NodeMachineRulesTest.CHAIN;
import static io.craq.core.node.NodeMachineRulesTest.bytes;
import static io.craq.core.node.NodeMachineRulesTest.drain;
import static io.craq.core.node.NodeMachineRulesTest.durable;
import static io.craq.core.node.NodeMachineRulesTest.machine;
import static io.craq.core.node.NodeMachineRulesTest.member;
import static io.craq.core.node.NodeMachineRulesTest.only;
import static io.craq.core.node.NodeMachineRulesTest.replies;
import static io.craq.core.node.NodeMachineRulesTest.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Message.CatchUpBatch;
import io.craq.core.message.Message.CatchUpRequest;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.VersionQuery;
import io.craq.core.message.Message.VersionReply;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.node.NodeMachineRulesTest.Ref;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Each counter of {@link NodeCounters} moves when, and only when, its event happens: every test
 * compares the whole snapshot before and after one input.
 */
class NodeCountersTest {

  /** Asserts that exactly the counters in {@code moved} changed, by exactly those amounts. */
  private static void assertMoved(
      NodeCounters before, NodeMachine machine, Map<String, Long> moved) {
    Map<String, Long> after = machine.counters().toMap();
    Map<String, Long> earlier = before.toMap();
    for (String name : NodeCounters.NAMES) {
      assertEquals(
          moved.getOrDefault(name, 0L),
          after.get(name) - earlier.get(name),
          name + " moved wrongly; before " + earlier + ", after " + after);
    }
  }

  private static void assertNothingMoved(NodeCounters before, NodeMachine machine) {
    assertMoved(before, machine, Map.of());
  }

  private static VersionRecord version(String key, long version, String value) {
    return new VersionRecord(key, version, false, bytes(value));
  }

  /** A middle node holding k@1 committed and k@2 dirty. */
  private static NodeMachine middleWithDirtyKey() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(
        new Propagate(5, "a", List.of(version("k", 1, "old"), version("k", 2, "new"))));
    middle.onMessage(new Commit(5, "c", List.of(new KeyVersion("k", 1))));
    drain(middle);
    return middle;
  }

  @Test
  @DisplayName("a new machine counts nothing; the names are fixed, distinct and in record order")
  void freshMachine() {
    NodeMachine fresh = machine("b", -1, 1);
    assertEquals(NodeCounters.ZERO, fresh.counters());
    assertEquals(NodeCounters.NAMES, List.copyOf(fresh.counters().toMap().keySet()));
    assertEquals(NodeCounters.class.getRecordComponents().length, NodeCounters.NAMES.size());
    assertTrue(NodeCounters.NAMES.size() <= StatsReply.COUNTERS_MAX);
    NodeCounters.NAMES.forEach(StatsReply::checkCounterName);
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: a strong read of a clean key at a middle node is answered locally "
          + "and counts as clean, and so does a read of an absent key")
  void cleanReadAtMiddle() {
    NodeMachine middle = middleWithDirtyKey();
    middle.onMessage(new Commit(5, "c", List.of(new KeyVersion("k", 2))));
    drain(middle);
    NodeCounters before = middle.counters();
    middle.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.STRONG, 0));
    middle.onClientRequest(new Ref(2), new ReadRequest("absent", ReadMode.STRONG, 0));
    Effects effects = drain(middle);
    assertTrue(sent(effects).isEmpty(), "no version query for a clean key");
    assertEquals(2, replies(effects).stream().filter(ReadReply.class::isInstance).count());
    assertMoved(before, middle, Map.of(READS_CLEAN, 2L));
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: strong reads of dirty keys send one batched version query (counted "
          + "once, with its keys) and count as after-query reads only when the tail has answered")
  void dirtyReadNeedsVersionQuery() {
    NodeMachine middle = middleWithDirtyKey();
    middle.onMessage(new Propagate(5, "a", List.of(version("j", 1, "j1"))));
    drain(middle);
    NodeCounters before = middle.counters();
    middle.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.STRONG, 0));
    middle.onClientRequest(new Ref(2), new ReadRequest("j", ReadMode.STRONG, 0));
    Effects effects = drain(middle);
    VersionQuery query = only(sent(effects), VersionQuery.class);
    assertEquals(List.of("k", "j"), query.keys());
    assertTrue(effects.replies().isEmpty());
    assertMoved(before, middle, Map.of(VERSION_QUERIES_SENT, 1L, VERSION_QUERY_KEYS_SENT, 2L));

    before = middle.counters();
    middle.onMessage(
        new VersionReply(
            5,
            "c",
            query.queryId(),
            List.of(new KeyVersion("k", 1), new KeyVersion("j", 0)),
            null));
    assertEquals(2, replies(drain(middle)).stream().filter(ReadReply.class::isInstance).count());
    assertMoved(before, middle, Map.of(READS_AFTER_QUERY, 2L));
  }

  @Test
  @DisplayName(
      "a read whose version query is refused by the tail, or times out, counts as " + "refused")
  void failedVersionQueryRefusesRead() {
    NodeMachine middle = middleWithDirtyKey();
    middle.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.STRONG, 0));
    VersionQuery query = only(sent(drain(middle)), VersionQuery.class);
    NodeCounters before = middle.counters();
    middle.onMessage(new VersionReply(5, "c", query.queryId(), List.of(), ErrorCode.NOT_TAIL));
    assertInstanceOf(ErrorReply.class, only(replies(drain(middle)), ErrorReply.class));
    assertMoved(before, middle, Map.of(READS_REFUSED, 1L));

    middle.onClientRequest(new Ref(2), new ReadRequest("k", ReadMode.STRONG, 0));
    drain(middle);
    before = middle.counters();
    middle.advanceTo(middle.now() + NodeSettings.defaults().versionQueryTimeoutTicks());
    assertEquals(ErrorCode.UNAVAILABLE, only(replies(drain(middle)), ErrorReply.class).code());
    // Meanwhile the successor never acknowledged k@2 either: it was sent again, once.
    assertMoved(before, middle, Map.of(READS_REFUSED, 1L, VERSIONS_RESENT, 1L));
  }

  @Test
  @DisplayName(
      "CRAQ §2.4: eventual and bounded reads that return a dirty version count as "
          + "dirty and ask nobody; of a clean key they count as clean; beyond the bound a bounded "
          + "read asks the tail")
  void eventualAndBoundedReads() {
    NodeMachine middle = middleWithDirtyKey();
    NodeCounters before = middle.counters();
    middle.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.EVENTUAL, 0));
    middle.onClientRequest(new Ref(2), new ReadRequest("k", ReadMode.BOUNDED, 1));
    Effects effects = drain(middle);
    assertTrue(sent(effects).isEmpty());
    assertTrue(
        replies(effects).stream()
            .allMatch(r -> r instanceof ReadReply read && read.dirty() && read.version() == 2),
        replies(effects).toString());
    assertMoved(before, middle, Map.of(READS_DIRTY, 2L));

    before = middle.counters();
    middle.onClientRequest(new Ref(3), new ReadRequest("k", ReadMode.BOUNDED, 0));
    only(sent(drain(middle)), VersionQuery.class);
    assertMoved(before, middle, Map.of(VERSION_QUERIES_SENT, 1L, VERSION_QUERY_KEYS_SENT, 1L));

    middle.onMessage(new Propagate(5, "a", List.of(version("clean", 1, "c"))));
    middle.onMessage(new Commit(5, "c", List.of(new KeyVersion("clean", 1))));
    drain(middle);
    before = middle.counters();
    middle.onClientRequest(new Ref(4), new ReadRequest("clean", ReadMode.EVENTUAL, 0));
    drain(middle);
    assertMoved(before, middle, Map.of(READS_CLEAN, 1L));
  }

  @Test
  @DisplayName("reads refused for want of a lease or for a bad key count as refused")
  void refusedReads() {
    NodeMachine tail = member(C, CHAIN);
    NodeCounters before = tail.counters();
    tail.onClientRequest(new Ref(1), new ReadRequest("", ReadMode.STRONG, 0));
    assertEquals(ErrorCode.INVALID_REQUEST, only(replies(drain(tail)), ErrorReply.class).code());
    assertMoved(before, tail, Map.of(READS_REFUSED, 1L));

    tail.advanceTo(tail.now() + NodeSettings.defaults().leaseTicks());
    drain(tail);
    before = tail.counters();
    tail.onClientRequest(new Ref(2), new ReadRequest("k", ReadMode.STRONG, 0));
    assertEquals(ErrorCode.UNAVAILABLE, only(replies(drain(tail)), ErrorReply.class).code());
    assertMoved(before, tail, Map.of(READS_REFUSED, 1L));
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: the tail serves version queries (queries and keys counted) and its "
          + "own strong reads are clean; a non-tail or a stale-epoch query is counted as refused")
  void tailServesVersionQueries() {
    NodeMachine tail = member(C, CHAIN);
    tail.onMessage(new Propagate(5, "b", List.of(version("k", 1, "x"))));
    drain(tail);
    durable(tail, "b", new KeyVersion("k", 1));
    drain(tail);
    NodeCounters before = tail.counters();
    tail.onMessage(new VersionQuery(5, "a", 9, List.of("k", "absent")));
    VersionReply reply = only(sent(drain(tail)), VersionReply.class);
    assertEquals(List.of(new KeyVersion("k", 1), new KeyVersion("absent", 0)), reply.versions());
    assertMoved(before, tail, Map.of(VERSION_QUERIES_SERVED, 1L, VERSION_QUERY_KEYS_SERVED, 2L));

    before = tail.counters();
    tail.onMessage(new VersionQuery(4, "a", 10, List.of("k")));
    assertEquals(ErrorCode.STALE_EPOCH, only(sent(drain(tail)), VersionReply.class).error());
    assertMoved(before, tail, Map.of(VERSION_QUERIES_REFUSED, 1L));

    before = tail.counters();
    tail.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.STRONG, 0));
    assertEquals(1, only(replies(drain(tail)), ReadReply.class).version());
    assertMoved(before, tail, Map.of(READS_CLEAN, 1L));

    NodeMachine middle = member(B, CHAIN);
    before = middle.counters();
    middle.onMessage(new VersionQuery(5, "a", 11, List.of("k")));
    assertEquals(ErrorCode.NOT_TAIL, only(sent(drain(middle)), VersionReply.class).error());
    assertMoved(before, middle, Map.of(VERSION_QUERIES_REFUSED, 1L));
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: a write numbered by the head counts as accepted; refused writes count "
          + "nothing; the commit coming back counts one committed version")
  void headAcceptsAndCommits() {
    NodeMachine head = member(A, CHAIN);
    NodeCounters before = head.counters();
    head.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    only(sent(drain(head)), Propagate.class);
    assertMoved(before, head, Map.of(WRITES_ACCEPTED, 1L));

    before = head.counters();
    head.onClientRequest(new Ref(2), new WriteRequest("k", bytes("y"), false, 0));
    assertEquals(ErrorCode.VERSION_MISMATCH, only(replies(drain(head)), ErrorReply.class).code());
    assertNothingMoved(before, head);

    NodeMachine middle = member(B, CHAIN);
    NodeCounters middleBefore = middle.counters();
    middle.onClientRequest(new Ref(3), new WriteRequest("k", bytes("z"), false, -1));
    assertEquals(ErrorCode.NOT_HEAD, only(replies(drain(middle)), ErrorReply.class).code());
    assertNothingMoved(middleBefore, middle);

    before = head.counters();
    head.onMessage(new Commit(5, "b", List.of(new KeyVersion("k", 1))));
    assertEquals(new WriteReply("k", 1), only(replies(drain(head)), WriteReply.class));
    assertMoved(before, head, Map.of(VERSIONS_COMMITTED, 1L));

    before = head.counters();
    head.onMessage(new Commit(5, "b", List.of(new KeyVersion("k", 1))));
    drain(head);
    assertNothingMoved(before, head);
  }

  @Test
  @DisplayName(
      "propagations are counted once per message acted on, versions only when new; "
          + "the tail also commits each new version; stale or misrouted ones count nothing")
  void propagations() {
    NodeMachine middle = member(B, CHAIN);
    Propagate two = new Propagate(5, "a", List.of(version("k", 1, "x"), version("j", 1, "y")));
    NodeCounters before = middle.counters();
    middle.onMessage(two);
    drain(middle);
    assertMoved(
        before, middle, Map.of(PROPAGATIONS_RECEIVED, 1L, PROPAGATED_VERSIONS_RECEIVED, 2L));

    before = middle.counters();
    middle.onMessage(two); // a retransmission
    drain(middle);
    assertMoved(before, middle, Map.of(PROPAGATIONS_RECEIVED, 1L));

    before = middle.counters();
    middle.onMessage(new Propagate(4, "a", List.of(version("k", 2, "z"))));
    middle.onMessage(new Propagate(5, "c", List.of(version("k", 2, "z"))));
    drain(middle);
    assertNothingMoved(before, middle);

    NodeMachine tail = member(C, CHAIN);
    before = tail.counters();
    tail.onMessage(new Propagate(5, "b", List.of(version("k", 1, "x"))));
    drain(tail);
    durable(tail, "b", new KeyVersion("k", 1));
    only(sent(drain(tail)), Commit.class);
    assertMoved(
        before,
        tail,
        Map.of(
            PROPAGATIONS_RECEIVED, 1L, PROPAGATED_VERSIONS_RECEIVED, 1L, VERSIONS_COMMITTED, 1L));
  }

  @Test
  @DisplayName("CR §3: a middle node that becomes the tail counts the versions it commits")
  void newTailCountsCommits() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new Propagate(5, "a", List.of(version("k", 1, "x"), version("j", 1, "y"))));
    drain(middle);
    durable(middle, "a", new KeyVersion("k", 1), new KeyVersion("j", 1));
    drain(middle);
    NodeCounters before = middle.counters();
    middle.onMessage(new ConfigPush(new ChainConfig(6, List.of(A, B))));
    drain(middle);
    assertMoved(before, middle, Map.of(VERSIONS_COMMITTED, 2L));
  }

  @Test
  @DisplayName(
      "CR §3: a joining node counts each catch-up page it applies and the keys in it; a page"
          + " of an older request moves nothing")
  void catchUpPages() {
    NodeMachine joiner = machine("c", -1, 1);
    joiner.tick();
    joiner.onMessage(new ConfigPush(CHAIN));
    joiner.onMessage(new HeartbeatReply("c", 1, true, CHAIN));
    CatchUpRequest first = only(sent(drain(joiner)), CatchUpRequest.class);
    NodeCounters before = joiner.counters();
    joiner.onMessage(
        new CatchUpBatch(
            5,
            "b",
            first.requestId(),
            List.of(
                new KeyRecord("k1", version("k1", 3, "one"), List.of()),
                new KeyRecord("k2", version("k2", 1, "two"), List.of())),
            false));
    CatchUpRequest second = only(sent(drain(joiner)), CatchUpRequest.class);
    assertMoved(
        before,
        joiner,
        Map.of(CATCH_UP_PAGES_RECEIVED, 1L, CATCH_UP_KEYS_RECEIVED, 2L, VERSIONS_COMMITTED, 2L));

    before = joiner.counters();
    joiner.onMessage(
        new CatchUpBatch(
            5,
            "b",
            first.requestId(),
            List.of(new KeyRecord("k9", version("k9", 1, "late"), List.of())),
            false));
    drain(joiner);
    assertNothingMoved(before, joiner);

    joiner.onMessage(
        new CatchUpBatch(
            5,
            "b",
            second.requestId(),
            List.of(new KeyRecord("k3", version("k3", 2, "three"), List.of())),
            true));
    drain(joiner);
    assertMoved(
        before,
        joiner,
        Map.of(CATCH_UP_PAGES_RECEIVED, 1L, CATCH_UP_KEYS_RECEIVED, 1L, VERSIONS_COMMITTED, 1L));
    joiner.onPersisted(joiner.drainSequence());
    assertFalse(joiner.isCatchingUp(), "the last page, once durable, ends the catch-up");
  }

  @Test
  @DisplayName(
      "a StatsRequest is answered in any state with the node's id, epoch, role and "
          + "exactly its counters, and moves no counter itself")
  void statsRequest() {
    NodeMachine outside = machine("b", -1, 1);
    outside.onClientRequest(new Ref(1), new StatsRequest());
    assertEquals(
        new StatsReply("b", 0, "outside", NodeCounters.ZERO.toMap()),
        only(replies(drain(outside)), StatsReply.class));

    NodeMachine middle = middleWithDirtyKey();
    middle.onClientRequest(new Ref(2), new ReadRequest("k", ReadMode.EVENTUAL, 0));
    drain(middle);
    NodeCounters before = middle.counters();
    middle.onClientRequest(new Ref(3), new StatsRequest());
    StatsReply reply = only(replies(drain(middle)), StatsReply.class);
    assertEquals(new StatsReply("b", 5, "middle", before.toMap()), reply);
    assertEquals(1, reply.counters().get(READS_DIRTY));
    assertEquals(2, reply.counters().get(PROPAGATED_VERSIONS_RECEIVED));
    assertNothingMoved(before, middle);

    assertEquals("head", member(A, CHAIN).role());
    assertEquals("tail", member(C, CHAIN).role());
    assertEquals("head+tail", member(A, new ChainConfig(5, List.of(A))).role());

    NodeMachine joiner = machine("c", -1, 1);
    joiner.tick();
    joiner.onMessage(new ConfigPush(CHAIN));
    joiner.onMessage(new HeartbeatReply("c", 1, true, CHAIN));
    drain(joiner);
    joiner.onClientRequest(new Ref(4), new StatsRequest());
    StatsReply catchingUp = only(replies(drain(joiner)), StatsReply.class);
    assertEquals("catching-up", catchingUp.role());
    assertEquals(5, catchingUp.epoch());
  }
}

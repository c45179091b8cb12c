package io.craq.core.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.Durable;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.VersionQuery;
import io.craq.core.message.Message.VersionReply;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.ModelStore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * One test per rule of the paper, on single node machines driven by hand. The helpers are shared
 * with {@link NodeCountersTest}.
 */
class NodeMachineRulesTest {
  static final Member A = new Member("a", "a", 1, 1, true);
  static final Member B = new Member("b", "b", 1, 1, true);
  static final Member C = new Member("c", "c", 1, 1, true);
  static final ChainConfig CHAIN = new ChainConfig(5, List.of(A, B, C));

  record Ref(int id) implements ClientRef {}

  /** Each test machine's store: what it asked for, applied as it is drained. */
  private static final Map<NodeMachine, ModelStore> STORES =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /** A new machine over an empty store (see {@link #drain}). */
  static NodeMachine machine(String id, int joinPosition, long incarnation) {
    ModelStore store = new ModelStore();
    NodeMachine m =
        new NodeMachine(
            id, id, NodeSettings.defaults(), joinPosition, incarnation, store, List.of());
    STORES.put(m, store);
    return m;
  }

  /**
   * Drains the machine's effects and applies its store changes to its store at once (the driver may
   * make them visible before they are durable).
   */
  static Effects drain(NodeMachine m) {
    Effects effects = m.drain();
    STORES.get(m).applyAll(effects.persist());
    return effects;
  }

  /** A machine that is a caught-up member of {@link #CHAIN} with a lease. */
  static NodeMachine member(Member self, ChainConfig chain) {
    NodeMachine m = machine(self.id(), -1, 1);
    m.tick(); // sends join + heartbeat 1
    m.onMessage(new ConfigPush(chain));
    // catch-up request to the predecessor (if any) answered with an empty, final page
    Effects effects = drain(m);
    for (Effects.Send send : effects.sends()) {
      if (send.message() instanceof Message.CatchUpRequest request) {
        m.onMessage(
            new Message.CatchUpBatch(
                chain.epoch(), send.to().id(), request.requestId(), List.of(), true));
      }
    }
    m.onMessage(new HeartbeatReply(self.id(), 1, true, chain));
    drain(m);
    assertTrue(m.hasLease() && m.isMember() && !m.isCatchingUp(), "set-up: a serving member");
    return m;
  }

  /**
   * The driver made the drained store writes durable, and the predecessor {@code from} says {@code
   * versions} are durable up to it.
   */
  static void durable(NodeMachine m, String from, KeyVersion... versions) {
    m.onPersisted(m.drainSequence());
    m.onMessage(new Durable(m.config().epoch(), from, List.of(versions)));
  }

  /**
   * The middle of {@link #CHAIN} holding k@1 and j@1, both durable in its store; k@1 is also known
   * durable above it, j@1 is not.
   */
  static NodeMachine middleWithKDurable() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(
        new Propagate(
            5,
            "a",
            List.of(
                new VersionRecord("k", 1, false, bytes("x")),
                new VersionRecord("j", 1, false, bytes("y")))));
    drain(middle);
    durable(middle, "a", new KeyVersion("k", 1));
    drain(middle);
    return middle;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static <T> T only(List<?> items, Class<T> type) {
    List<?> matching = items.stream().filter(type::isInstance).toList();
    assertEquals(1, matching.size(), "expected one " + type.getSimpleName() + " in " + items);
    return type.cast(matching.get(0));
  }

  static List<Message> sent(Effects effects) {
    return effects.sends().stream().map(Effects.Send::message).toList();
  }

  static List<Message> replies(Effects effects) {
    return effects.replies().stream().map(Effects.Reply::message).toList();
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: the head numbers a write one above the highest version it holds, "
          + "dirty included, and forwards it without waiting for the previous one to commit")
  void headNumbersFromHighestDirtyVersion() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    head.onClientRequest(new Ref(2), new WriteRequest("k", bytes("y"), false, -1));
    Effects effects = drain(head);
    Propagate propagate = only(sent(effects), Propagate.class);
    assertEquals(
        List.of(1L, 2L), propagate.versions().stream().map(VersionRecord::version).toList());
    assertTrue(effects.replies().isEmpty(), "no client is answered before the commit");
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: a write is answered only when its commit comes back up, and the "
          + "commit is persisted before it is passed on")
  void writeAnsweredAfterCommit() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    drain(head);
    head.onMessage(new Commit(5, "b", List.of(new KeyVersion("k", 1))));
    Effects effects = drain(head);
    assertEquals(new WriteReply("k", 1), only(replies(effects), WriteReply.class));
    assertInstanceOf(Effects.CommitVersion.class, effects.persist().get(0));
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: the tail commits a version, and sends the commit up, once it is "
          + "durable in its own store and in every store above it, whichever is known last")
  void tailCommitsOnceDurableEverywhere() {
    VersionRecord x = new VersionRecord("k", 1, false, bytes("x"));
    NodeMachine tail = member(C, CHAIN);
    tail.onMessage(new Propagate(5, "b", List.of(x)));
    Effects effects = drain(tail);
    assertEquals(List.of(new Effects.PutVersion(x, false)), effects.persist());
    assertTrue(effects.sends().isEmpty(), "nothing is committed before it is durable");
    tail.onPersisted(tail.drainSequence());
    assertTrue(drain(tail).isEmpty(), "durable here, but not yet known durable above");
    tail.onMessage(new Durable(5, "b", List.of(new KeyVersion("k", 1))));
    effects = drain(tail);
    assertEquals(List.of(new Effects.CommitVersion("k", 1)), effects.persist());
    assertEquals(List.of(new KeyVersion("k", 1)), only(sent(effects), Commit.class).versions());
    assertEquals(0, tail.dirtyCount());

    NodeMachine other = member(C, CHAIN); // the other order: durable above first
    other.onMessage(new Propagate(5, "b", List.of(x)));
    other.onMessage(new Durable(5, "b", List.of(new KeyVersion("k", 1))));
    assertTrue(sent(drain(other)).isEmpty(), "not yet durable at the tail itself");
    other.onPersisted(other.drainSequence());
    assertEquals(
        List.of(new KeyVersion("k", 1)), only(sent(drain(other)), Commit.class).versions());
  }

  @Test
  @DisplayName(
      "Parallel persistence: a middle node sends a version on before its own store "
          + "write is durable, and tells its successor it is durable only when it is so here and "
          + "at every node above")
  void middleForwardsAtOnceAndPassesDurabilityOn() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new Propagate(5, "a", List.of(new VersionRecord("k", 1, false, bytes("x")))));
    Effects effects = drain(middle);
    assertEquals(1, only(sent(effects), Propagate.class).versions().size());
    assertInstanceOf(Effects.PutVersion.class, effects.persist().get(0));
    middle.onPersisted(middle.drainSequence());
    assertTrue(drain(middle).isEmpty(), "the head has not said it is durable there");
    middle.onMessage(new Durable(5, "a", List.of(new KeyVersion("k", 1))));
    Durable passed = only(sent(drain(middle)), Durable.class);
    assertEquals(List.of(new KeyVersion("k", 1)), passed.versions());
    assertEquals("b", passed.from());
  }

  @Test
  @DisplayName(
      "Parallel persistence: only the store writes drained before onPersisted count "
          + "as durable; a version accepted after the drain waits for the next one")
  void onlyDrainedWritesAreDurable() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new Ref(1), new WriteRequest("a", bytes("x"), false, -1));
    drain(head);
    head.onClientRequest(new Ref(2), new WriteRequest("b", bytes("y"), false, -1));
    head.onPersisted(head.drainSequence()); // the write of "b" was not drained, so not persisted
    Effects effects = drain(head);
    assertEquals(List.of(new KeyVersion("a", 1)), only(sent(effects), Durable.class).versions());
    head.onPersisted(head.drainSequence());
    assertEquals(
        List.of(new KeyVersion("b", 1)), only(sent(drain(head)), Durable.class).versions());
  }

  @Test
  @DisplayName("A chain of one answers a write once its store write is durable")
  void soleNodeAnswersAfterItsWrite() {
    Member solo = new Member("a", "a", 1, 1, true);
    NodeMachine node = member(solo, new ChainConfig(5, List.of(solo)));
    node.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    assertTrue(drain(node).replies().isEmpty());
    node.onPersisted(node.drainSequence());
    Effects effects = drain(node);
    assertEquals(new WriteReply("k", 1), only(replies(effects), WriteReply.class));
    assertEquals(List.of(new Effects.CommitVersion("k", 1)), effects.persist());
  }

  @Test
  @DisplayName(
      "The store holds the data: a key stays in memory while something is in flight "
          + "for it and leaves once its commit is stored; reads of it then come from the store")
  void keysLeaveMemoryOnceStored() {
    Member solo = new Member("a", "a", 1, 1, true);
    NodeMachine node = member(solo, new ChainConfig(5, List.of(solo)));
    node.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    drain(node);
    assertEquals(1, node.keysInMemory(), "a dirty version is in flight");
    node.onPersisted(node.drainSequence());
    drain(node); // the reply and the commit marker
    assertEquals(1, node.keysInMemory(), "the commit marker is not stored yet");
    node.onPersisted(node.drainSequence());
    assertEquals(0, node.keysInMemory());
    node.checkInvariants();

    node.onClientRequest(new Ref(2), new ReadRequest("k", ReadMode.STRONG, 0));
    ReadReply read = only(replies(drain(node)), ReadReply.class);
    assertEquals(1, read.version());
    assertEquals("x", new String(read.value(), StandardCharsets.UTF_8));
    assertEquals(0, node.keysInMemory(), "a read does not bring a key into memory");
    node.onClientRequest(new Ref(3), new WriteRequest("k", bytes("y"), false, 1));
    drain(node);
    assertEquals(1, node.keysInMemory(), "the next write numbers from the stored version");
    node.onPersisted(node.drainSequence());
    assertEquals(new WriteReply("k", 2), only(replies(drain(node)), WriteReply.class));
  }

  @Test
  @DisplayName(
      "A node that becomes head (its predecessor failed) has nothing above it: what it "
          + "holds durably is passed on as durable")
  void newHeadReleasesDurability() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new Propagate(5, "a", List.of(new VersionRecord("k", 1, false, bytes("x")))));
    drain(middle);
    middle.onPersisted(middle.drainSequence());
    drain(middle);
    middle.onMessage(new ConfigPush(new ChainConfig(6, List.of(B, C))));
    Effects effects = drain(middle);
    assertEquals(List.of(new KeyVersion("k", 1)), only(sent(effects), Durable.class).versions());
    assertEquals(1, only(sent(effects), Propagate.class).versions().size(), "resent first");
    List<Message> order = sent(effects);
    assertTrue(
        order.indexOf(only(order, Propagate.class)) < order.indexOf(only(order, Durable.class)),
        "a version before its durability");
  }

  @Test
  @DisplayName(
      "A catch-up page is followed by which of its dirty versions are durable up to the "
          + "source")
  void catchUpPageThenDurability() {
    NodeMachine middle = middleWithKDurable();
    middle.onMessage(new Message.CatchUpRequest(5, "c", 1, "", 100));
    List<Message> out = sent(drain(middle));
    assertInstanceOf(Message.CatchUpBatch.class, out.get(0));
    assertEquals(List.of(new KeyVersion("k", 1)), ((Durable) out.get(1)).versions());
  }

  @Test
  @DisplayName(
      "CRAQ §2.3: a strong read of a dirty key asks the tail and returns exactly the "
          + "version the tail has committed, never the dirty one")
  void dirtyStrongReadAsksTail() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(
        new Propagate(
            5,
            "a",
            List.of(
                new VersionRecord("k", 1, false, bytes("old")),
                new VersionRecord("k", 2, false, bytes("new")))));
    middle.onMessage(new Commit(5, "c", List.of(new KeyVersion("k", 1))));
    drain(middle);
    middle.onClientRequest(new Ref(7), new ReadRequest("k", ReadMode.STRONG, 0));
    Effects effects = drain(middle);
    VersionQuery query = only(sent(effects), VersionQuery.class);
    assertEquals(List.of("k"), query.keys());
    assertTrue(effects.replies().isEmpty());
    middle.onMessage(
        new VersionReply(5, "c", query.queryId(), List.of(new KeyVersion("k", 1)), null));
    ReadReply reply = only(replies(drain(middle)), ReadReply.class);
    assertEquals("old", new String(reply.value(), StandardCharsets.UTF_8));
    assertEquals(1, reply.version());
  }

  @Test
  @DisplayName(
      "CRAQ §2.4: an eventual read returns the newest version even if dirty; a bounded "
          + "read does so only within its bound")
  void eventualAndBoundedReads() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(
        new Propagate(
            5,
            "a",
            List.of(
                new VersionRecord("k", 1, false, bytes("v1")),
                new VersionRecord("k", 2, false, bytes("v2")))));
    drain(middle);
    middle.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.EVENTUAL, 0));
    ReadReply eventual = only(replies(drain(middle)), ReadReply.class);
    assertEquals(2, eventual.version());
    assertTrue(eventual.dirty());
    middle.onClientRequest(new Ref(2), new ReadRequest("k", ReadMode.BOUNDED, 2));
    assertEquals(2, only(replies(drain(middle)), ReadReply.class).version());
    middle.onClientRequest(new Ref(3), new ReadRequest("k", ReadMode.BOUNDED, 1));
    assertInstanceOf(
        VersionQuery.class, sent(drain(middle)).get(0), "beyond the bound the read becomes strong");
  }

  @Test
  @DisplayName("CRAQ §2.3: only the real tail answers a version query")
  void nonTailRefusesVersionQuery() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new VersionQuery(5, "a", 9, List.of("k")));
    VersionReply reply = only(sent(drain(middle)), VersionReply.class);
    assertEquals(ErrorCode.NOT_TAIL, reply.error());
  }

  @Test
  @DisplayName("CRAQ §2.5: a message from an older epoch is never acted on")
  void staleEpochIgnored() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new Propagate(4, "a", List.of(new VersionRecord("k", 1, false, bytes("x")))));
    Effects effects = drain(middle);
    assertTrue(effects.persist().isEmpty() && effects.sends().isEmpty(), effects.toString());
  }

  @Test
  @DisplayName(
      "CR §3: when the tail fails, its predecessor commits its dirty versions and "
          + "sends the commits up")
  void newTailCommitsDirty() {
    NodeMachine middle = middleWithKDurable();
    middle.onMessage(new ConfigPush(new ChainConfig(6, List.of(A, B))));
    Effects effects = drain(middle);
    assertEquals(List.of(new Effects.CommitVersion("k", 1)), effects.persist());
    assertEquals(List.of(new KeyVersion("k", 1)), only(sent(effects), Commit.class).versions());
    // j@1 is not known durable at the head yet: it commits when that comes
    middle.onMessage(new Durable(6, "a", List.of(new KeyVersion("j", 1))));
    assertEquals(
        List.of(new KeyVersion("j", 1)), only(sent(drain(middle)), Commit.class).versions());
  }

  @Test
  @DisplayName(
      "CR §3: when a middle node fails, its predecessor resends every dirty version to "
          + "the new successor")
  void predecessorResendsToNewSuccessor() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    drain(head);
    head.onMessage(new ConfigPush(new ChainConfig(6, List.of(A, C))));
    Effects effects = drain(head);
    Propagate resend = only(sent(effects), Propagate.class);
    assertEquals(6, resend.epoch());
    assertEquals(1, resend.versions().get(0).version());
  }

  @Test
  @DisplayName(
      "A restarted node does not act on its earlier run's place in the chain (it may "
          + "have sent on versions it never made durable): it waits for the coordinator to place it")
  void restartedNodeIgnoresItsEarlierRunsEntry() {
    NodeMachine restarted =
        machine("a", -1, 2); // incarnation 2; the chain still lists incarnation 1 as head
    restarted.tick();
    restarted.onMessage(new ConfigPush(CHAIN));
    restarted.onMessage(new HeartbeatReply("a", 1, true, CHAIN));
    drain(restarted);
    assertTrue(!restarted.isMember() && !restarted.hasLease(), restarted.role());
    restarted.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    assertEquals(ErrorCode.NOT_HEAD, only(replies(drain(restarted)), ErrorReply.class).code());
    restarted.advanceTo(restarted.now() + NodeSettings.defaults().heartbeatIntervalTicks() * 2L);
    assertTrue(
        sent(drain(restarted)).stream()
            .anyMatch(m -> m instanceof Message.JoinRequest j && j.incarnation() == 2),
        "it keeps asking to join");
  }

  @Test
  @DisplayName("A commit for a version the node never held deletes nothing")
  void unknownCommitKeepsData() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new Propagate(5, "a", List.of(new VersionRecord("k", 1, false, bytes("x")))));
    drain(middle);
    middle.onMessage(new Commit(5, "c", List.of(new KeyVersion("k", 7))));
    assertTrue(drain(middle).persist().isEmpty());
    assertEquals(1, middle.dirtyCount());
  }

  @Test
  @DisplayName(
      "Lease: without a heartbeat answer for the lease period a node stops serving "
          + "strong reads")
  void noLeaseNoStrongRead() {
    NodeMachine tail = member(C, CHAIN);
    tail.advanceTo(tail.now() + NodeSettings.defaults().leaseTicks());
    drain(tail);
    tail.onClientRequest(new Ref(1), new ReadRequest("k", ReadMode.STRONG, 0));
    ErrorReply reply = only(replies(drain(tail)), ErrorReply.class);
    assertEquals(ErrorCode.UNAVAILABLE, reply.code());
  }

  @Test
  @DisplayName("CRAQ §4.1: a conditional write is refused while the key has dirty versions")
  void conditionalRefusedWhileDirty() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new Ref(1), new WriteRequest("k", bytes("x"), false, -1));
    drain(head);
    head.onClientRequest(new Ref(2), new WriteRequest("k", bytes("y"), false, 0));
    ErrorReply reply = only(replies(drain(head)), ErrorReply.class);
    assertEquals(ErrorCode.VERSION_MISMATCH, reply.code());
  }

  @Test
  @DisplayName(
      "CR §3: a joining node serves no reads until it has caught up from its "
          + "predecessor, page by page, continuing after the last key it received")
  void joinCatchesUpInPagesBeforeServing() {
    NodeMachine joiner = machine("c", -1, 1);
    joiner.tick();
    joiner.onMessage(new ConfigPush(CHAIN));
    joiner.onMessage(new HeartbeatReply("c", 1, true, CHAIN));
    Message.CatchUpRequest first = only(sent(drain(joiner)), Message.CatchUpRequest.class);
    assertEquals("", first.afterKey());
    joiner.onClientRequest(new Ref(1), new ReadRequest("k1", ReadMode.STRONG, 0));
    assertEquals(ErrorCode.UNAVAILABLE, only(replies(drain(joiner)), ErrorReply.class).code());

    VersionRecord k1 = new VersionRecord("k1", 3, false, bytes("one"));
    joiner.onMessage(
        new Message.CatchUpBatch(
            5,
            "b",
            first.requestId(),
            List.of(new io.craq.core.message.KeyRecord("k1", k1, List.of())),
            false));
    Message.CatchUpRequest second = only(sent(drain(joiner)), Message.CatchUpRequest.class);
    assertEquals("k1", second.afterKey());
    joiner.onMessage(new Message.CatchUpBatch(5, "b", second.requestId(), List.of(), true));
    drain(joiner);
    joiner.onClientRequest(new Ref(2), new ReadRequest("k1", ReadMode.STRONG, 0));
    assertEquals(
        ErrorCode.UNAVAILABLE,
        only(replies(drain(joiner)), ErrorReply.class).code(),
        "caught up only once the pages are durable");
    joiner.onPersisted(joiner.drainSequence());
    joiner.onClientRequest(new Ref(3), new ReadRequest("k1", ReadMode.STRONG, 0));
    ReadReply reply = only(replies(drain(joiner)), ReadReply.class);
    assertEquals(3, reply.version());
  }

  @Test
  @DisplayName(
      "A node answers a catch-up request with at most catchUpKeysMax keys, clean and "
          + "dirty versions included")
  void catchUpPagesAreBounded() {
    NodeMachine middle = member(B, CHAIN);
    List<VersionRecord> versions = new java.util.ArrayList<>();
    int keysMax = NodeSettings.defaults().catchUpKeysMax();
    for (int i = 0; i < keysMax + 5; i++) {
      versions.add(new VersionRecord(String.format("k%05d", i), 1, false, bytes("v")));
    }
    middle.onMessage(new Propagate(5, "a", versions));
    drain(middle);
    middle.onMessage(new Message.CatchUpRequest(5, "c", 1, "", 1_000_000));
    Message.CatchUpBatch page = only(sent(drain(middle)), Message.CatchUpBatch.class);
    assertEquals(keysMax, page.keys().size());
    assertTrue(!page.done());
    assertEquals(1, page.keys().get(0).dirty().size(), "dirty versions travel with the page");
  }
}

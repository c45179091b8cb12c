package io.craq.core.node;

import static io.craq.core.node.NodeMachineRulesTest.A;
import static io.craq.core.node.NodeMachineRulesTest.B;
import static io.craq.core.node.NodeMachineRulesTest.C;
import static io.craq.core.node.NodeMachineRulesTest.CHAIN;
import static io.craq.core.node.NodeMachineRulesTest.bytes;
import static io.craq.core.node.NodeMachineRulesTest.drain;
import static io.craq.core.node.NodeMachineRulesTest.durable;
import static io.craq.core.node.NodeMachineRulesTest.member;
import static io.craq.core.node.NodeMachineRulesTest.only;
import static io.craq.core.node.NodeMachineRulesTest.replies;
import static io.craq.core.node.NodeMachineRulesTest.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.Limits;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Message;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The single-chain mini-transaction (CRAQ §4.2) on node machines driven by hand. */
class MultiWriteRulesTest {
  private static final List<KeyVersion> GROUP =
      List.of(new KeyVersion("j", 1), new KeyVersion("k", 1));
  private static final VersionRecord K1 = new VersionRecord("k", 1, false, bytes("x"), GROUP);
  private static final VersionRecord J1 = new VersionRecord("j", 1, false, bytes("y"), GROUP);

  private static WriteRequest put(String key, String value) {
    return new WriteRequest(key, bytes(value), false, Message.ANY_VERSION);
  }

  private static MultiWriteRequest multi(WriteRequest... writes) {
    return new MultiWriteRequest(List.of(writes));
  }

  private static ErrorReply refusal(NodeMachine m, Message.NodeRequest request) {
    m.onClientRequest(new NodeMachineRulesTest.Ref(9), request);
    return only(replies(drain(m)), ErrorReply.class);
  }

  @Test
  @DisplayName(
      "The head gives each key its next version in one step and sends the versions, each "
          + "carrying the whole group, in one message; the client is answered once they commit")
  void headNumbersAndSendsTheGroupTogether() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new NodeMachineRulesTest.Ref(1), put("k", "old"));
    drain(head);
    head.onClientRequest(new NodeMachineRulesTest.Ref(2), multi(put("k", "x"), put("j", "y")));
    Effects effects = drain(head);
    Propagate propagate = only(sent(effects), Propagate.class);
    List<KeyVersion> group = List.of(new KeyVersion("j", 1), new KeyVersion("k", 2));
    assertEquals(
        List.of(
            new VersionRecord("k", 2, false, bytes("x"), group),
            new VersionRecord("j", 1, false, bytes("y"), group)),
        propagate.versions());
    assertTrue(effects.replies().isEmpty(), "no answer before the commit");

    head.onMessage(new Commit(5, "b", List.of(new KeyVersion("k", 2), new KeyVersion("j", 1))));
    List<Message> answers = replies(drain(head));
    assertTrue(answers.contains(new Message.WriteReply("k", 1)), answers.toString());
    assertEquals(
        new MultiWriteReply(List.of(new KeyVersion("k", 2), new KeyVersion("j", 1))),
        only(answers, MultiWriteReply.class),
        "versions in the order of the request");
  }

  @Test
  @DisplayName(
      "While a multi-key write is in flight, the head takes no other write of its keys "
          + "(BUSY): a newer version committing first would show part of it")
  void keysOfAWriteInFlightAreBusy() {
    NodeMachine head = member(A, CHAIN);
    head.onClientRequest(new NodeMachineRulesTest.Ref(1), multi(put("k", "x"), put("j", "y")));
    drain(head);
    assertEquals(ErrorCode.BUSY, refusal(head, put("k", "z")).code());
    assertEquals(ErrorCode.BUSY, refusal(head, multi(put("i", "z"), put("j", "z"))).code());
    head.onClientRequest(new NodeMachineRulesTest.Ref(3), put("i", "free"));
    assertEquals(1, only(sent(drain(head)), Propagate.class).versions().size(), "other keys go");

    head.onMessage(new Commit(5, "b", List.of(new KeyVersion("k", 1), new KeyVersion("j", 1))));
    drain(head);
    head.onClientRequest(new NodeMachineRulesTest.Ref(4), put("k", "after"));
    assertEquals(
        List.of(new VersionRecord("k", 2, false, bytes("after"))),
        only(sent(drain(head)), Propagate.class).versions(),
        "committed: the key takes writes again");
  }

  @Test
  @DisplayName(
      "All or nothing at the head: one failed condition, a duplicate key, too many keys or "
          + "values over the limit refuse the whole write, and nothing is sent")
  void refusalsWriteNothing() {
    NodeMachine head = member(A, CHAIN);
    ErrorReply mismatch =
        refusal(
            head, multi(put("k", "x"), new WriteRequest("j", bytes("y"), false, 3), put("i", "z")));
    assertEquals(ErrorCode.VERSION_MISMATCH, mismatch.code());
    assertTrue(mismatch.message().contains("key j"), mismatch.message());
    assertEquals(
        ErrorCode.INVALID_REQUEST, refusal(head, multi(put("k", "x"), put("k", "y"))).code());
    List<WriteRequest> many = new ArrayList<>();
    for (int i = 0; i <= Limits.MULTI_WRITE_KEYS_MAX; i++) {
      many.add(put("key" + i, "v"));
    }
    assertEquals(ErrorCode.INVALID_REQUEST, refusal(head, new MultiWriteRequest(many)).code());
    byte[] half = new byte[NodeSettings.defaults().valueBytesMax() / 2 + 1];
    assertEquals(
        ErrorCode.INVALID_REQUEST,
        refusal(
                head,
                multi(
                    new WriteRequest("k", half, false, -1), new WriteRequest("j", half, false, -1)))
            .code());
    assertEquals(ErrorCode.INVALID_REQUEST, refusal(head, new MultiWriteRequest(List.of())).code());
    head.onClientRequest(new NodeMachineRulesTest.Ref(5), put("k", "x"));
    assertEquals(
        1L,
        only(sent(drain(head)), Propagate.class).versions().get(0).version(),
        "no version was used by the refused writes");
  }

  @Test
  @DisplayName(
      "The tail commits the versions of a multi-key write in one step, once every one of "
          + "them is durable here and above; until then a strong read sees none of them")
  void tailCommitsTheGroupTogether() {
    NodeMachine tail = member(C, CHAIN);
    tail.onMessage(new Propagate(5, "b", List.of(K1, J1)));
    drain(tail);
    durable(tail, "b", new KeyVersion("k", 1));
    assertTrue(sent(drain(tail)).isEmpty(), "j@1 is not yet durable above: nothing commits");
    tail.onClientRequest(new NodeMachineRulesTest.Ref(1), new ReadRequest("k", ReadMode.STRONG, 0));
    assertFalse(only(replies(drain(tail)), ReadReply.class).found(), "k is not committed yet");

    tail.onMessage(new Message.Durable(5, "b", List.of(new KeyVersion("j", 1))));
    Effects effects = drain(tail);
    assertEquals(
        GROUP, only(sent(effects), Commit.class).versions(), "both commits go up in one message");
    assertEquals(0, tail.dirtyCount());
    assertEquals(1, tail.counters().multiWritesCommitted());
  }

  @Test
  @DisplayName(
      "A node catching up is caught up only once every page is durable in its store: the "
          + "versions of a multi-key write may come in two pages, two store batches, and a copy "
          + "holding one of them must never count as complete")
  void caughtUpOnlyOnceEveryPageIsDurable() {
    NodeMachine joining = NodeMachineRulesTest.machine("c", -1, 1);
    joining.tick();
    joining.onMessage(new Message.ConfigPush(CHAIN));
    Message.CatchUpRequest first = only(sent(drain(joining)), Message.CatchUpRequest.class);
    joining.onMessage(
        new Message.CatchUpBatch(
            5, "b", first.requestId(), List.of(new KeyRecord("j", null, List.of(J1))), false));
    Message.CatchUpRequest second = only(sent(drain(joining)), Message.CatchUpRequest.class);
    joining.onMessage(
        new Message.CatchUpBatch(
            5, "b", second.requestId(), List.of(new KeyRecord("k", null, List.of(K1))), true));
    drain(joining);
    assertTrue(joining.isCatchingUp(), "the last page is not durable yet");
    joining.advanceTo(joining.now() + NodeSettings.defaults().heartbeatIntervalTicks());
    Message.Heartbeat heartbeat = only(sent(drain(joining)), Message.Heartbeat.class);
    assertFalse(heartbeat.caughtUp(), "no heartbeat says caught up before the pages are durable");

    joining.onPersisted(joining.drainSequence());
    assertFalse(joining.isCatchingUp(), "every page durable: caught up");
  }

  @Test
  @DisplayName(
      "A resend of one version of a multi-key write takes the rest of its group along, so "
          + "a node never holds part of one")
  void retransmitSendsTheWholeGroup() {
    NodeMachine middle = member(B, CHAIN);
    middle.onMessage(new Propagate(5, "a", List.of(K1, J1)));
    assertEquals(2, only(sent(drain(middle)), Propagate.class).versions().size());
    middle.advanceTo(middle.now() + middle.retransmitTimeoutTicks() + 1);
    Propagate resent = only(sent(drain(middle)), Propagate.class);
    assertEquals(2, resent.versions().size(), resent.toString());
    assertTrue(resent.versions().containsAll(List.of(K1, J1)));
  }
}

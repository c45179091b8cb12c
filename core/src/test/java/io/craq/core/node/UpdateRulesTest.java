package io.craq.core.node;

import static io.craq.core.node.NodeMachineRulesTest.A;
import static io.craq.core.node.NodeMachineRulesTest.B;
import static io.craq.core.node.NodeMachineRulesTest.C;
import static io.craq.core.node.NodeMachineRulesTest.CHAIN;
import static io.craq.core.node.NodeMachineRulesTest.bytes;
import static io.craq.core.node.NodeMachineRulesTest.drain;
import static io.craq.core.node.NodeMachineRulesTest.member;
import static io.craq.core.node.NodeMachineRulesTest.only;
import static io.craq.core.node.NodeMachineRulesTest.replies;
import static io.craq.core.node.NodeMachineRulesTest.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Effects;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Message;
import io.craq.core.message.Message.AppendRequest;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.IncrementRequest;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.UpdateReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.VersionRecord;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Increment and append (CRAQ §4.1 read-modify-write) at the head, driven by hand. */
class UpdateRulesTest {
  private int nextRef = 1;

  private static WriteRequest put(String key, String value) {
    return new WriteRequest(key, bytes(value), false, Message.ANY_VERSION);
  }

  private static IncrementRequest incr(String key, long delta) {
    return new IncrementRequest(key, delta);
  }

  private static AppendRequest append(String key, String suffix) {
    return new AppendRequest(key, bytes(suffix));
  }

  /** Sends {@code request} to {@code m} and returns the versions it propagated. */
  private List<VersionRecord> send(NodeMachine m, Message.NodeRequest request) {
    m.onClientRequest(new NodeMachineRulesTest.Ref(nextRef++), request);
    Effects effects = drain(m);
    assertTrue(effects.replies().isEmpty(), "no answer before the commit: " + effects.replies());
    return only(sent(effects), Propagate.class).versions();
  }

  /** The successor commits {@code key@version} at the head; returns the answers. */
  private static List<Message> commit(NodeMachine head, String key, long version) {
    head.onMessage(new Commit(CHAIN.epoch(), "b", List.of(new KeyVersion(key, version))));
    return replies(drain(head));
  }

  private ErrorReply refusal(NodeMachine m, Message.NodeRequest request) {
    m.onClientRequest(new NodeMachineRulesTest.Ref(nextRef++), request);
    Effects effects = drain(m);
    assertTrue(sent(effects).isEmpty(), "a refusal sends nothing: " + sent(effects));
    return only(effects.replies().stream().map(Effects.Reply::message).toList(), ErrorReply.class);
  }

  @Test
  @DisplayName(
      "An increment of an absent key starts from 0, of an integer adds to it, of a deleted key"
          + " starts from 0 again; each is written as a new version in decimal and answered with"
          + " the new integer once committed")
  void incrementAbsentIntegerDeleted() {
    NodeMachine head = member(A, CHAIN);
    assertEquals(List.of(new VersionRecord("n", 1, false, bytes("5"))), send(head, incr("n", 5)));
    assertEquals(List.of(new UpdateReply("n", 1, 5)), commit(head, "n", 1));

    assertEquals(
        List.of(new VersionRecord("n", 2, false, bytes("-95"))), send(head, incr("n", -100)));
    assertEquals(List.of(new UpdateReply("n", 2, -95)), commit(head, "n", 2));

    send(head, new WriteRequest("n", new byte[0], true, Message.ANY_VERSION));
    commit(head, "n", 3);
    assertEquals(List.of(new VersionRecord("n", 4, false, bytes("7"))), send(head, incr("n", 7)));
    assertEquals(List.of(new UpdateReply("n", 4, 7)), commit(head, "n", 4));

    send(head, put("m", "-9223372036854775808"));
    commit(head, "m", 1);
    send(head, incr("m", Long.MAX_VALUE));
    assertEquals(List.of(new UpdateReply("m", 2, -1)), commit(head, "m", 2));
  }

  @Test
  @DisplayName(
      "A value that is not an integer as Redis reads it is refused with NOT_AN_INTEGER, and an"
          + " overflow too, each with Redis's wording; nothing is written and no version used")
  void notAnIntegerAndOverflow() {
    NodeMachine head = member(A, CHAIN);
    long version = 0;
    for (String bad : List.of("abc", "", " 1", "1 ", "+1", "01", "-0", "1.5", "0x10")) {
      send(head, put("s", bad));
      commit(head, "s", ++version);
      ErrorReply refused = refusal(head, incr("s", 1));
      assertEquals(ErrorCode.NOT_AN_INTEGER, refused.code(), bad);
      assertEquals("value is not an integer or out of range", refused.message(), bad);
    }
    send(head, put("big", "9223372036854775807"));
    commit(head, "big", 1);
    ErrorReply overflow = refusal(head, incr("big", 1));
    assertEquals(ErrorCode.NOT_AN_INTEGER, overflow.code());
    assertEquals("increment or decrement would overflow", overflow.message());
    send(head, put("small", "-9223372036854775807"));
    commit(head, "small", 1);
    assertEquals(
        "increment or decrement would overflow", refusal(head, incr("small", -2)).message());
    assertEquals(
        List.of(new VersionRecord("big", 2, false, bytes("9223372036854775806"))),
        send(head, incr("big", -1)),
        "the refused increments used no version");
  }

  @Test
  @DisplayName(
      "Increments build on the newest version, dirty included: three in flight write 1, 3, -7"
          + " as versions 1, 2, 3, and one commit of the last answers each with its own result")
  void chainedIncrementsOnDirtyVersions() {
    NodeMachine head = member(A, CHAIN);
    assertEquals(List.of(new VersionRecord("n", 1, false, bytes("1"))), send(head, incr("n", 1)));
    assertEquals(List.of(new VersionRecord("n", 2, false, bytes("3"))), send(head, incr("n", 2)));
    send(head, put("n", "x"));
    assertEquals(ErrorCode.NOT_AN_INTEGER, refusal(head, incr("n", 1)).code(), "dirty 'x'");
    send(head, put("n", "-10"));
    assertEquals(List.of(new VersionRecord("n", 5, false, bytes("-7"))), send(head, incr("n", 3)));

    List<Message> answers = commit(head, "n", 5);
    assertEquals(5, answers.size(), answers.toString());
    assertTrue(answers.contains(new UpdateReply("n", 1, 1)), answers.toString());
    assertTrue(answers.contains(new UpdateReply("n", 2, 3)), answers.toString());
    assertTrue(answers.contains(new Message.WriteReply("n", 3)), answers.toString());
    assertTrue(answers.contains(new UpdateReply("n", 5, -7)), answers.toString());
  }

  @Test
  @DisplayName(
      "An append to an absent key writes the suffix, to an existing or dirty one the newest"
          + " value followed by it; answered with the new length in bytes")
  void appendAbsentAndExisting() {
    NodeMachine head = member(A, CHAIN);
    assertEquals(
        List.of(new VersionRecord("log", 1, false, bytes("ab"))), send(head, append("log", "ab")));
    assertEquals(
        List.of(new VersionRecord("log", 2, false, bytes("abcde"))),
        send(head, append("log", "cde")));
    assertEquals(
        List.of(new VersionRecord("log", 3, false, bytes("abcde"))),
        send(head, append("log", "")),
        "an empty suffix still writes a version");
    List<Message> answers = commit(head, "log", 3);
    assertTrue(answers.contains(new UpdateReply("log", 1, 2)), answers.toString());
    assertTrue(answers.contains(new UpdateReply("log", 2, 5)), answers.toString());
    assertTrue(answers.contains(new UpdateReply("log", 3, 5)), answers.toString());
    assertEquals(
        List.of(new VersionRecord("log", 4, false, bytes("abcde€"))),
        send(head, append("log", "€")));
    assertEquals(List.of(new UpdateReply("log", 4, 8)), commit(head, "log", 4));
  }

  @Test
  @DisplayName(
      "A result over the value limit is refused (INVALID_REQUEST naming the limit), as is a"
          + " suffix over it; nothing is written")
  void resultOverTheValueLimit() {
    NodeMachine head = member(A, CHAIN);
    int limit = NodeSettings.defaults().valueBytesMax();
    head.onClientRequest(
        new NodeMachineRulesTest.Ref(nextRef++),
        new WriteRequest("big", new byte[limit - 1], false, Message.ANY_VERSION));
    drain(head);
    commit(head, "big", 1);
    ErrorReply tooLong = refusal(head, append("big", "ab"));
    assertEquals(ErrorCode.INVALID_REQUEST, tooLong.code());
    assertTrue(tooLong.message().contains("the limit is " + limit), tooLong.message());
    assertTrue(tooLong.message().contains((limit + 1) + " bytes"), tooLong.message());
    assertEquals(
        ErrorCode.INVALID_REQUEST,
        refusal(head, new AppendRequest("other", new byte[limit + 1])).code());
    head.onClientRequest(new NodeMachineRulesTest.Ref(nextRef++), append("big", "a"));
    assertEquals(limit, only(sent(drain(head)), Propagate.class).versions().get(0).value().length);
  }

  @Test
  @DisplayName(
      "While a multi-key write of the key is in flight, increments and appends of it are BUSY")
  void busyDuringAMultiKeyWrite() {
    NodeMachine head = member(A, CHAIN);
    send(head, new MultiWriteRequest(List.of(put("k", "1"), put("j", "y"))));
    assertEquals(ErrorCode.BUSY, refusal(head, incr("k", 1)).code());
    assertEquals(ErrorCode.BUSY, refusal(head, append("j", "z")).code());
    head.onMessage(new Commit(5, "b", List.of(new KeyVersion("k", 1), new KeyVersion("j", 1))));
    drain(head);
    assertEquals(List.of(new VersionRecord("k", 2, false, bytes("2"))), send(head, incr("k", 1)));
  }

  @Test
  @DisplayName(
      "A node that is not the head refuses increments and appends as it refuses writes (NOT_HEAD,"
          + " the head's address as hint), and so does the tail")
  void refusedAtANonHead() {
    for (NodeMachine other : List.of(member(B, CHAIN), member(C, CHAIN))) {
      ErrorReply refused = refusal(other, incr("n", 1));
      assertEquals(ErrorCode.NOT_HEAD, refused.code());
      assertEquals(A.address(), refused.hint());
      assertEquals(ErrorCode.NOT_HEAD, refusal(other, append("n", "x")).code());
    }
  }

  @Test
  @DisplayName(
      "An increment in flight when the head leaves the chain is answered AMBIGUOUS, as a write")
  void ambiguousOnFailover() {
    NodeMachine head = member(A, CHAIN);
    send(head, incr("n", 1));
    head.onMessage(new Message.ConfigPush(new ChainConfig(6, List.of(B, C))));
    ErrorReply answer = only(replies(drain(head)), ErrorReply.class);
    assertEquals(ErrorCode.AMBIGUOUS, answer.code());
  }

  @Test
  @DisplayName(
      "Appends to a large value each put a whole new value in flight: past the head's byte budget"
          + " they are refused BUSY (nothing written), and so are other writes, until commits free"
          + " the budget")
  void appendsStopAtTheInFlightByteBudget() {
    NodeSettings settings = NodeSettings.defaults();
    NodeMachine head = member(A, CHAIN);
    int base = settings.valueBytesMax() / 2;
    send(head, new WriteRequest("big", new byte[base], false, Message.ANY_VERSION));
    commit(head, "big", 1);

    // The k-th append in flight holds base + k bytes: they fit while the sum stays in the budget.
    long expected = 0;
    long sum = 0;
    while (sum + base + expected + 1 <= settings.pendingBytesMax()) {
      expected++;
      sum += base + expected;
    }
    assertTrue(expected > 1 && expected < 1000, "budget of " + expected + " appends");
    for (int i = 1; i <= expected; i++) {
      assertEquals(base + i, send(head, append("big", "x")).get(0).value().length);
    }
    ErrorReply busy = refusal(head, append("big", "x"));
    assertEquals(ErrorCode.BUSY, busy.code());
    assertTrue(busy.message().contains("bytes of writes in flight"), busy.message());
    ErrorReply other = refusal(head, new WriteRequest("k", new byte[base], false, -1));
    assertEquals(ErrorCode.BUSY, other.code());
    assertEquals(
        ErrorCode.BUSY,
        refusal(head, new MultiWriteRequest(List.of(put("k", "x".repeat(base)), put("j", "y"))))
            .code());
    head.checkInvariants();

    // The first append commits (version 2): its bytes are freed, and the next append fits.
    assertEquals(1, commit(head, "big", 2).size());
    assertEquals(base + expected + 1, send(head, append("big", "x")).get(0).value().length);
    head.checkInvariants();
    // All commit: the budget is empty again.
    assertEquals(expected, commit(head, "big", expected + 2).size());
    head.checkInvariants();
    send(head, put("k", "v"));
  }
}

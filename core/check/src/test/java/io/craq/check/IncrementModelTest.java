package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Increments (CRAQ §4.1 read-modify-write) in the kv model, the log format and the recorder. */
class IncrementModelTest {
  private final KvModel model = new KvModel();
  private final List<Operation> operations = new ArrayList<>();

  private IncrementModelTest op(long p, long invoke, long complete, Input in, Output out) {
    operations.add(Operation.ok(p, Ops.KEY, in, invoke, complete, out));
    return this;
  }

  private IncrementModelTest incr(long p, long invoke, long complete, long delta, long result) {
    return op(p, invoke, complete, Input.increment(delta), Output.incremented(result));
  }

  private Verdict verdict() {
    return LinearizabilityChecker.checkKey(Ops.KEY, operations, model, Ops.BUDGET).verdict();
  }

  @Test
  @DisplayName(
      "the model's step: absent and deleted count as 0, the sum is returned, a value that is not"
          + " canonical or a sum that overflows cannot succeed; an unknown outcome changes nothing"
          + " then")
  void step() {
    assertEquals("5", model.step("", Input.increment(5), Output.incremented(5)));
    assertEquals("-3", model.step("2", Input.increment(-5), Output.incremented(-3)));
    assertEquals(null, model.step("2", Input.increment(-5), Output.incremented(3)));
    assertEquals("7", model.step("2", Input.increment(5), Output.done()), "no result reported");
    assertEquals("", model.step("4", Input.delete(), Output.done()));
    for (String bad : List.of("x", "01", "+1", "-0", " 1", "1 ", "9223372036854775808")) {
      assertEquals(null, model.step(bad, Input.increment(1), Output.incremented(1)), bad);
      assertEquals(bad, model.step(bad, Input.increment(1), null), bad);
    }
    assertEquals(
        null,
        model.step(
            Long.toString(Long.MAX_VALUE), Input.increment(1), Output.incremented(Long.MIN_VALUE)));
    assertEquals(
        "-9223372036854775808",
        model.step(
            "-9223372036854775807", Input.increment(-1), Output.incremented(Long.MIN_VALUE)));
    assertEquals("8", model.step("8", Input.read(), Output.read("8")));
    assertEquals("8x", model.step("8", Input.append("x"), Output.done()));
  }

  @Test
  @DisplayName("two concurrent increments may be ordered either way, each seeing the other or not")
  void concurrentIncrementsLinearizable() {
    incr(1, 0, 10, 1, 2).incr(2, 1, 9, 1, 1);
    op(3, 11, 12, Input.read(), Output.read("2"));
    assertEquals(Verdict.LINEARIZABLE, verdict());
  }

  @Test
  @DisplayName(
      "two increments that both return 1 are not linearizable: each would have to come first")
  void lostUpdateIsIllegal() {
    incr(1, 0, 10, 1, 1).incr(2, 1, 9, 1, 1);
    assertEquals(Verdict.ILLEGAL, verdict());
  }

  @Test
  @DisplayName(
      "an increment that returns a sum older than a completed increment's (a stale base) is not"
          + " linearizable")
  void staleBaseIsIllegal() {
    incr(1, 0, 1, 5, 5).incr(2, 2, 3, 1, 6).incr(3, 4, 5, 1, 6);
    assertEquals(Verdict.ILLEGAL, verdict());
  }

  @Test
  @DisplayName(
      "a read must see every increment completed before it; an unknown increment may count or not")
  void readsAndUnknownIncrements() {
    incr(1, 0, 1, 3, 3);
    operations.add(Operation.info(2, Ops.KEY, Input.increment(10), 2));
    op(3, 4, 5, Input.read(), Output.read("13"));
    op(4, 6, 7, Input.read(), Output.read("13"));
    assertEquals(Verdict.LINEARIZABLE, verdict());
    op(5, 8, 9, Input.read(), Output.read("3"));
    assertEquals(Verdict.ILLEGAL, verdict(), "the unknown increment cannot be undone");
  }

  @Test
  @DisplayName(
      "increments mixed with appends and writes: an append makes the value a non-integer and a"
          + " later successful increment is not linearizable")
  void appendThenIncrement() {
    op(1, 0, 1, Input.write("4"), Output.done());
    op(1, 2, 3, Input.append("x"), Output.done());
    incr(2, 4, 5, 1, 5);
    assertEquals(Verdict.ILLEGAL, verdict());
  }

  @Test
  @DisplayName(
      "the log format: :incr with the delta, :result on the :ok; read back and checked by the kv"
          + " model, which rejects a lost update")
  void logFormat() throws IOException {
    String text =
        """
        INFO  jepsen.util - 1\t:invoke\t:incr\t1\t:key\tc\t:time\t0
        INFO  jepsen.util - 2\t:invoke\t:incr\t1\t:key\tc\t:time\t1
        INFO  jepsen.util - 2\t:ok\t:incr\t1\t:key\tc\t:time\t9\t:result\t1
        INFO  jepsen.util - 1\t:ok\t:incr\t1\t:key\tc\t:time\t10\t:result\t1
        """;
    History history = HistoryLog.read(new BufferedReader(new StringReader(text)), "test");
    assertEquals(
        List.of(
            Operation.ok(2, "c", Input.increment(1), 1, 9, Output.incremented(1)),
            Operation.ok(1, "c", Input.increment(1), 0, 10, Output.incremented(1))),
        history.operations());
    CheckReport report = LinearizabilityChecker.check(history, model, Ops.BUDGET);
    assertTrue(!report.noneIllegal(), report.toString());
    assertEquals(history.operations(), readBack(history).operations());
  }

  @Test
  @DisplayName("the recorder records increments with their result, and appends")
  void recorder() {
    long[] clock = {0};
    HistoryRecorder recorder = new HistoryRecorder(() -> clock[0]++);
    recorder.increment(1, "c", 4).okIncremented(4, 1);
    recorder.append(1, "s", "ab").ok();
    recorder.increment(2, "c", 1).fail();
    assertEquals(
        List.of(
            Operation.ok(1, "c", Input.increment(4), 0, 1, Output.incremented(4, 1)),
            Operation.ok(1, "s", Input.append("ab"), 2, 3, Output.done()),
            Operation.fail(2, "c", Input.increment(1), 4, 5)),
        recorder.history().operations());
  }

  @Test
  @DisplayName("an increment's delta is a 64-bit integer and only its output carries a value")
  void inputAndOutputChecks() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Input(OpKind.INCREMENT, "x", null, Input.NO_VERSION));
    assertEquals(-7, Input.increment(-7).delta());
    assertThrows(IllegalStateException.class, () -> Input.write("1").delta());
    assertThrows(
        IllegalArgumentException.class,
        () -> Operation.ok(1, "c", Input.increment(1), 0, 1, new Output("x", -1, true)));
    assertThrows(
        IllegalArgumentException.class,
        () -> Operation.ok(1, "c", Input.write("1"), 0, 1, Output.incremented(1)));
  }

  private static History readBack(History history) throws IOException {
    return HistoryLog.read(
        new BufferedReader(new StringReader(HistoryLog.toText(history))), "test");
  }
}

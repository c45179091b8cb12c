package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Hand-made histories with multi-key writes: all or nothing, or caught. */
class TransactionCheckTest {

  /** Builds a history over any keys, with times as plain numbers. */
  private static final class Tx {
    private final List<Operation> operations = new ArrayList<>();

    /** A multi-key write; {@code writes} alternates key and value (null: delete). */
    Tx multi(long id, long process, long invoke, long complete, Outcome outcome, String... writes) {
      Map<String, String> map = new LinkedHashMap<>();
      for (int i = 0; i < writes.length; i += 2) {
        map.put(writes[i], writes[i + 1]);
      }
      map.forEach((key, value) -> {
        Input input = value == null ? Input.delete() : Input.write(value);
        long end = outcome == Outcome.INFO ? Operation.INFINITY : complete;
        Output output = outcome == Outcome.OK ? Output.done() : null;
        operations.add(new Operation(process, key, input, invoke, end, outcome, output, id));
      });
      return this;
    }

    Tx read(long process, String key, long invoke, long complete, String value) {
      operations.add(
          Operation.ok(process, key, Input.read(), invoke, complete, Output.read(value)));
      return this;
    }

    Tx read(long process, String key, long invoke, long complete, String value, long version) {
      operations.add(
          Operation.ok(process, key, Input.read(), invoke, complete, Output.read(value, version)));
      return this;
    }

    Tx add(Operation operation) {
      operations.add(operation);
      return this;
    }

    Tx write(long process, String key, long invoke, long complete, String value) {
      operations.add(
          Operation.ok(process, key, Input.write(value), invoke, complete, Output.done()));
      return this;
    }

    Tx write(long process, String key, long invoke, long complete, String value, long version) {
      operations.add(
          Operation.ok(process, key, Input.write(value), invoke, complete, Output.done(version)));
      return this;
    }

    CheckReport check() {
      return LinearizabilityChecker.check(new History(operations), new RegisterModel(), Ops.BUDGET);
    }
  }

  private static void assertPasses(CheckReport report) {
    assertEquals(0, report.count(Verdict.UNKNOWN), report::summary);
    assertTrue(report.noneIllegal(), report::failureMessage);
  }

  /** Exactly one violation, of {@code kind}, by transaction {@code id}; every key linearizable. */
  private static TransactionViolation assertTorn(
      CheckReport report, long id, TransactionViolation.Kind kind) {
    assertFalse(report.noneIllegal(), report::summary);
    assertEquals(0, report.count(Verdict.ILLEGAL), report::failureMessage);
    assertEquals(1, report.violations().size(), report::failureMessage);
    TransactionViolation violation = report.violations().get(0);
    assertEquals(id, violation.transaction(), violation::explanation);
    assertEquals(kind, violation.kind(), violation::explanation);
    assertTrue(
        violation.explanation().startsWith("transaction " + id + " (p"), violation.explanation());
    assertTrue(report.failureMessage().contains(violation.explanation()));
    return violation;
  }

  @Test
  @DisplayName("a multi-key write seen in full, before and after it, passes")
  void allOrNothingPasses() {
    CheckReport report =
        new Tx()
            .read(2, "a", 1, 2, null)
            .read(2, "b", 3, 4, null)
            .multi(1, 1, 10, 20, Outcome.OK, "a", "a1", "b", "b1")
            .read(2, "a", 12, 13, null) // before its instant
            .read(2, "b", 14, 15, null)
            .read(3, "b", 15, 16, "b1") // after it
            .read(3, "a", 17, 18, "a1")
            .read(4, "a", 30, 31, "a1") // final reads
            .read(4, "b", 32, 33, "b1")
            .check();
    assertPasses(report);
    assertEquals(1, report.transactions());
    assertEquals(
        "keys 2: linearizable 2, illegal 0, unknown 0; transactions 1: torn 0", report.summary());
  }

  @Test
  @DisplayName("torn: a read of b misses the write after a read of a saw it, both during the write")
  void tornBySequentialReads() {
    CheckReport report =
        new Tx()
            .multi(7, 1, 10, 100, Outcome.OK, "a", "a1", "b", "b1")
            .read(2, "a", 20, 30, "a1")
            .read(2, "b", 40, 50, null)
            .check();
    TransactionViolation violation = assertTorn(report, 7, TransactionViolation.Kind.TORN_READS);
    assertEquals("a", violation.first().key());
    assertEquals(40, violation.second().invokeNanos());
    assertTrue(violation.explanation().contains("p2 READ -> \"a1\" [20..30] on a"));
    assertTrue(violation.explanation().contains("p2 READ -> absent [40..50] on b"));
  }

  @Test
  @DisplayName("the same reads the other way round are fine: the write happened between them")
  void sequentialReadsTheOtherWayPass() {
    assertPasses(
        new Tx()
            .multi(7, 1, 10, 100, Outcome.OK, "a", "a1", "b", "b1")
            .read(2, "b", 20, 30, null)
            .read(2, "a", 40, 50, "a1")
            .check());
  }

  @Test
  @DisplayName("torn, seen through a later write of a: it came after the multi-key write")
  void tornThroughLaterWrite() {
    CheckReport report =
        new Tx()
            .multi(3, 1, 10, 100, Outcome.OK, "a", "a1", "b", "b1")
            .read(2, "a", 20, 21, "a1")
            .write(4, "a", 22, 23, "a2")
            .read(5, "a", 24, 25, "a2")
            .read(5, "b", 40, 50, null)
            .check();
    TransactionViolation violation = assertTorn(report, 3, TransactionViolation.Kind.TORN_READS);
    assertEquals(21, violation.first().completeNanos()); // the earliest read that saw it
  }

  @Test
  @DisplayName("torn by versions, where values repeat and say nothing")
  void tornByVersions() {
    CheckReport report =
        new Tx()
            .write(1, "a", 1, 2, "same", 1)
            .write(1, "b", 3, 4, "same", 1)
            .add(member(5, 2, "a", "same", 2))
            .add(member(5, 2, "b", "same", 2))
            .read(3, "a", 20, 30, "same", 2)
            .read(3, "b", 40, 50, "same", 1)
            .check();
    assertTorn(report, 5, TransactionViolation.Kind.TORN_READS);
  }

  private static Operation member(long id, long process, String key, String value, long version) {
    return new Operation(
        process, key, Input.write(value), 10, 100, Outcome.OK, Output.done(version), id);
  }

  @Test
  @DisplayName(
      "no false alarm from one of several linearizations: concurrent writes of a are unordered")
  void unorderedWritesNoAlarm() {
    // One linearization of a puts the single write x before the multi-key write (then the read of
    // x misses it, after the read of b saw it); another puts it after: legal.
    assertPasses(
        new Tx()
            .multi(1, 1, 10, 100, Outcome.OK, "a", "t", "b", "tb")
            .write(2, "a", 10, 100, "x")
            .read(3, "b", 20, 21, "tb")
            .read(3, "a", 30, 31, "x")
            .check());
  }

  @Test
  @DisplayName("torn in the final reads: an unknown write shows on b but not on a at the end")
  void tornInFinalReads() {
    CheckReport report =
        new Tx()
            .write(1, "a", 1, 2, "a0")
            .multi(9, 2, 10, 20, Outcome.INFO, "a", "a1", "b", "b1")
            .read(3, "a", 200, 201, "a0")
            .read(3, "b", 202, 203, "b1")
            .check();
    TransactionViolation violation =
        assertTorn(report, 9, TransactionViolation.Kind.TORN_FINAL_READS);
    assertEquals("b", violation.first().key());
    assertEquals("a", violation.second().key());
  }

  @Test
  @DisplayName("the same reads are fine while writes are still being sent: they are not final")
  void notFinalWhileWritesGoOn() {
    assertPasses(
        new Tx()
            .write(1, "a", 1, 2, "a0")
            .multi(9, 2, 10, 20, Outcome.INFO, "a", "a1", "b", "b1")
            .read(3, "a", 200, 201, "a0")
            .read(3, "b", 202, 203, "b1")
            .write(4, "c", 204, 205, "c1")
            .check());
  }

  @Test
  @DisplayName("a failed multi-key write partly visible: the key and the transaction are named")
  void failedPartlyVisible() {
    CheckReport report =
        new Tx()
            .multi(4, 1, 10, 20, Outcome.FAIL, "a", "a1", "b", "b1")
            .read(2, "a", 30, 31, "a1")
            .read(2, "b", 32, 33, null)
            .check();
    assertFalse(report.noneIllegal());
    assertEquals(1, report.count(Verdict.ILLEGAL), report::failureMessage);
    assertEquals("a", report.illegal().get(0).key());
    assertEquals(1, report.violations().size(), report::failureMessage);
    TransactionViolation violation = report.violations().get(0);
    assertEquals(TransactionViolation.Kind.FAILED_VISIBLE, violation.kind());
    assertTrue(violation.explanation().startsWith("transaction 4 (p1: WRITE \"a1\" on a"));
  }

  @Test
  @DisplayName("an unknown-outcome multi-key write seen in full passes, and so does one never seen")
  void unknownInFullOrNotAtAllPasses() {
    assertPasses(
        new Tx()
            .multi(1, 1, 10, 20, Outcome.INFO, "a", "a1", "b", null)
            .write(2, "b", 1, 2, "b0")
            .read(3, "b", 30, 31, "b0") // not yet
            .read(3, "a", 32, 33, "a1") // happened in between
            .read(3, "b", 34, 35, null)
            .write(4, "c", 36, 37, "c1") // not final reads: at the end, this would be torn
            .check());
    assertPasses(
        new Tx()
            .multi(1, 1, 10, 20, Outcome.INFO, "a", "a1", "b", "b1")
            .read(3, "a", 30, 31, null)
            .read(3, "b", 32, 33, null)
            .check());
  }

  @Test
  @DisplayName(
      "an unknown-outcome multi-key write never seen raises no alarm, even when later writes of"
          + " one key are seen before a read of the other misses it")
  void unknownNeverSeenNoAlarm() {
    assertPasses(
        new Tx()
            .multi(1, 1, 10, 20, Outcome.INFO, "a", "a1", "b", "b1")
            .write(2, "a", 30, 31, "a2")
            .read(3, "a", 40, 41, "a2")
            .read(3, "b", 50, 51, null)
            .read(3, "a", 60, 61, "a2") // final reads
            .read(3, "b", 62, 63, null)
            .check());
  }

  @Test
  @DisplayName("an unknown-outcome multi-key write seen on a, then missed on b, is torn")
  void unknownPartlyVisibleTorn() {
    TransactionViolation violation =
        assertTorn(
            new Tx()
                .multi(2, 1, 10, 20, Outcome.INFO, "a", "a1", "b", "b1")
                .read(3, "a", 30, 31, "a1")
                .read(3, "b", 32, 33, null)
                .write(4, "c", 34, 35, "c1") // not final reads: the check needs no quiet store
                .check(),
            2,
            TransactionViolation.Kind.TORN_READS);
    assertTrue(violation.explanation().contains("unknown [10..inf]"), violation.explanation());
  }

  @Test
  @DisplayName("two multi-key writes ordered one way on a and the other way on b are caught")
  void orderedDifferently() {
    CheckReport report =
        new Tx()
            .multi(1, 1, 10, 100, Outcome.OK, "a", "x1", "b", "y1")
            .multi(2, 2, 10, 100, Outcome.OK, "a", "x2", "b", "y2")
            .read(3, "a", 20, 21, "x1")
            .read(3, "a", 30, 31, "x2")
            .read(4, "b", 20, 21, "y2")
            .read(4, "b", 30, 31, "y1")
            .check();
    TransactionViolation violation = assertTorn(report, 1, TransactionViolation.Kind.ORDER);
    assertEquals(2, violation.first().transaction());
  }

  @Test
  @DisplayName("the command's report names the torn transaction, in text and JSON")
  void commandReport() throws Exception {
    Path file = Files.createTempFile("torn", ".log");
    try {
      History history =
          new History(
              List.of(
                  new Operation(1, "a", Input.write("a1"), 10, 100, Outcome.OK, Output.done(), 7),
                  new Operation(1, "b", Input.write("b1"), 10, 100, Outcome.OK, Output.done(), 7),
                  Operation.ok(2, "a", Input.read(), 20, 30, Output.read("a1")),
                  Operation.ok(2, "b", Input.read(), 40, 50, Output.read(null))));
      HistoryLog.write(history, file);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code =
          HistoryCheck.run(
              file,
              CheckOptions.defaults(),
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      String text = out.toString(StandardCharsets.UTF_8);
      assertEquals(HistoryCheck.NOT_LINEARIZABLE, code, text);
      assertTrue(text.contains("transaction 7: NOT ALL OR NOTHING (torn-reads)"), text);
      assertTrue(
          text.contains("verdict: NOT LINEARIZABLE (0 keys, 1 transaction not all or nothing)"),
          text);
      out.reset();
      code =
          HistoryCheck.run(
              file,
              CheckOptions.defaults().withJson(true),
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      String json = out.toString(StandardCharsets.UTF_8);
      assertEquals(HistoryCheck.NOT_LINEARIZABLE, code, json);
      assertTrue(
          json.contains(
              "\"transactions\":1,\"torn\":1,\"violations\":[{\"transaction\":7,"
                  + "\"kind\":\"torn-reads\""),
          json);
    } finally {
      Files.deleteIfExists(file);
    }
  }
}

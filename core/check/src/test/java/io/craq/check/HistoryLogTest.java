package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Histories survive the log format, and the reference formats read as documented. */
class HistoryLogTest {

  private static History read(String text) throws IOException {
    return HistoryLog.read(new BufferedReader(new StringReader(text)), "test");
  }

  @Test
  @DisplayName("writing then reading gives back the same operations, every kind and outcome")
  void roundTrip() throws IOException {
    History history =
        new History(
            List.of(
                Operation.ok(1, "k 1", Input.write("a b\t\"c\"\\"), 10, 20, Output.done(1)),
                Operation.ok(2, "k 1", Input.read(), 15, 25, Output.read("a b\t\"c\"\\", 1)),
                Operation.ok(3, "k2", Input.read(), 15, 15, Output.read(null)),
                Operation.ok(3, "k2", Input.write("nil"), 15, 16, Output.done()),
                Operation.ok(4, "k2", Input.cas(null, "x"), 30, 40, Output.notApplied()),
                Operation.ok(5, "k2", Input.writeIfVersion(0, "y"), 30, 41, Output.done(1)),
                Operation.fail(6, "k2", Input.delete(), 50, 60),
                Operation.info(7, "k2", Input.cas("x", "z"), 55),
                Operation.ok(7, "k2", Input.read(), 56, 57, Output.read("")),
                Operation.ok(8, "k3", Input.append("s"), 1, 2, Output.done()),
                Operation.ok(9, "c", Input.increment(-5), 3, 4, Output.incremented(-5, 1)),
                Operation.ok(9, "c", Input.increment(Long.MAX_VALUE), 5, 6, Output.done()),
                Operation.fail(10, "c", Input.increment(2), 5, 7),
                Operation.info(11, "c", Input.increment(3), 8)));
    History back = read(HistoryLog.toText(history));
    assertEquals(sorted(history), sorted(back));
  }

  @Test
  @DisplayName("random histories round-trip")
  void randomRoundTrip() throws IOException {
    for (int seed = 0; seed < 20; seed++) {
      Random random = new Random(seed);
      History history =
          RandomRegisterHistories.realize(
              RandomRegisterHistories.shells(random, 2, 30), null, random.nextBoolean());
      assertEquals(sorted(history), sorted(read(HistoryLog.toText(history))), "seed " + seed);
    }
  }

  @Test
  @DisplayName(
      "unmodified jepsen register lines read with line numbers as time and info at infinity")
  void jepsenRegister() throws IOException {
    History history =
        read(
            """
            INFO  jepsen.util - 3\t:invoke\t:write\t4
            INFO  jepsen.util - 0\t:invoke\t:cas\t[4 1]
            INFO  jepsen.util - 3\t:ok\t:write\t4
            INFO  jepsen.util - 0\t:info\t:cas\t:timed-out
            INFO  jepsen.util - 5\t:invoke\t:read\tnil
            INFO  jepsen.util - 5\t:ok\t:read\tnil
            INFO  jepsen.util - 6\t:invoke\t:read\tnil
            """);
    assertEquals(
        List.of(
            Operation.ok(3, HistoryLog.DEFAULT_KEY, Input.write("4"), 1, 3, Output.done()),
            Operation.info(0, HistoryLog.DEFAULT_KEY, Input.cas("4", "1"), 2),
            Operation.ok(5, HistoryLog.DEFAULT_KEY, Input.read(), 5, 6, Output.read(null)),
            Operation.info(6, HistoryLog.DEFAULT_KEY, Input.read(), 7)),
        history.operations());
  }

  @Test
  @DisplayName("kv EDN lines read with their keys")
  void kvLines() throws IOException {
    History history =
        read(
            """
            {:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
            {:process 1, :type :invoke, :f :get, :key "4", :value nil}
            {:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}
            {:process 1, :type :ok, :f :get, :key "4", :value ""}
            """);
    assertEquals(
        List.of(
            Operation.ok(0, "4", Input.append("x 0 1 y"), 1, 3, Output.done()),
            Operation.ok(1, "4", Input.read(), 2, 4, Output.read(""))),
        history.operations());
  }

  @Test
  @DisplayName("a malformed event line is refused with its line number")
  void malformed() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class, () -> read("INFO  jepsen.util - 3\t:ok\t:write\t4\n"));
    assertTrue(
        error.getMessage().startsWith("test:1: completion without invoke"), error.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> read("INFO  jepsen.util - 3\t:invoke\t:write\t\"unterminated\n"));
  }

  @Test
  @DisplayName(
      "multi-key writes round-trip: members linked by :txn, every outcome, with and without"
          + " versions, next to single-key operations of the same process")
  void multiKeyRoundTrip() throws IOException {
    History history =
        new History(
            List.of(
                Operation.ok(1, "a{1}", Input.write("x"), 10, 20, Output.done(3)).inTransaction(1),
                Operation.ok(1, "b{1}", Input.delete(), 10, 20, Output.done(9)).inTransaction(1),
                Operation.ok(1, "a{1}", Input.read(), 20, 21, Output.read("x", 3)),
                Operation.ok(2, "a{1}", Input.write("y"), 12, 12, Output.done()).inTransaction(2),
                Operation.ok(2, "c{1}", Input.write("z w"), 12, 12, Output.done()).inTransaction(2),
                Operation.fail(3, "a{1}", Input.write("f"), 30, 40).inTransaction(3),
                Operation.fail(3, "b{1}", Input.write("g"), 30, 40).inTransaction(3),
                Operation.info(4, "a{1}", Input.write("u"), 50).inTransaction(4),
                Operation.info(4, "c{1}", Input.delete(), 50).inTransaction(4),
                Operation.ok(5, "b{1}", Input.write("s"), 5, 60, Output.done()).inTransaction(5)));
    String text = HistoryLog.toText(history);
    assertTrue(text.contains("\t:txn\t4"), text);
    History back = read(text);
    assertEquals(sorted(history), sorted(back));
    assertEquals(history.transactions(), back.transactions());
  }

  @Test
  @DisplayName(
      "a hand-written multi-key write without times: its members share the first invoke and"
          + " completion line's number")
  void multiKeyLineNumbers() throws IOException {
    History history =
        read(
            """
            INFO  jepsen.util - 2\t:invoke\t:write\tx\t:key\ta\t:txn\t7
            INFO  jepsen.util - 2\t:invoke\t:delete\tnil\t:key\tb\t:txn\t7
            INFO  jepsen.util - 3\t:invoke\t:read\tnil\t:key\ta
            INFO  jepsen.util - 2\t:ok\t:write\tx\t:key\ta\t:txn\t7
            INFO  jepsen.util - 2\t:ok\t:delete\tnil\t:key\tb\t:txn\t7
            INFO  jepsen.util - 3\t:ok\t:read\tx\t:key\ta
            """);
    assertEquals(
        List.of(
            Operation.ok(2, "a", Input.write("x"), 1, 4, Output.done()).inTransaction(7),
            Operation.ok(2, "b", Input.delete(), 1, 4, Output.done()).inTransaction(7),
            Operation.ok(3, "a", Input.read(), 3, 6, Output.read("x"))),
        history.operations());
  }

  @Test
  @DisplayName(
      "only the members of one multi-key write may be in flight together, and they must agree")
  void multiKeyMisuseRefused() {
    IllegalArgumentException other =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                read(
                    """
                    INFO  jepsen.util - 2\t:invoke\t:write\tx\t:key\ta\t:txn\t7
                    INFO  jepsen.util - 2\t:invoke\t:write\ty\t:key\tb\t:txn\t8
                    """));
    assertTrue(
        other.getMessage().startsWith("test:2: process 2 invokes twice"), other.getMessage());
    IllegalArgumentException sameKey =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                read(
                    """
                    INFO  jepsen.util - 2\t:invoke\t:write\tx\t:key\ta\t:txn\t7
                    INFO  jepsen.util - 2\t:invoke\t:write\ty\t:key\ta\t:txn\t7
                    """));
    assertTrue(sameKey.getMessage().startsWith("test:2:"), sameKey.getMessage());
    IllegalArgumentException differ =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                read(
                    """
                    INFO  jepsen.util - 2\t:invoke\t:write\tx\t:key\ta\t:txn\t7\t:time\t1
                    INFO  jepsen.util - 2\t:invoke\t:write\ty\t:key\tb\t:txn\t7\t:time\t1
                    INFO  jepsen.util - 2\t:ok\t:write\tx\t:key\ta\t:txn\t7\t:time\t5
                    INFO  jepsen.util - 2\t:fail\t:write\ty\t:key\tb\t:txn\t7\t:time\t5
                    """));
    assertTrue(
        differ.getMessage().startsWith("test: the members of transaction 7 differ"),
        differ.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> read("INFO  jepsen.util - 2\t:invoke\t:write\tx\t:key\ta\t:txn\t0\n"));
    assertThrows(
        IllegalArgumentException.class,
        () -> Operation.ok(1, "a", Input.read(), 1, 2, Output.read(null)).inTransaction(3));
  }

  @Test
  @DisplayName("overlapping operations of one process are refused by the writer")
  void overlapRefused() {
    History history =
        new History(
            List.of(
                Operation.ok(1, "k", Input.write("a"), 0, 10, Output.done()),
                Operation.ok(1, "k", Input.write("b"), 5, 15, Output.done())));
    assertThrows(IllegalArgumentException.class, () -> HistoryLog.toText(history));
  }

  static List<Operation> sorted(History history) {
    return history.operations().stream()
        .sorted((a, b) -> a.describe().concat(a.key()).compareTo(b.describe().concat(b.key())))
        .toList();
  }
}

package io.craq.check;

import static io.craq.check.Verdict.ILLEGAL;
import static io.craq.check.Verdict.LINEARIZABLE;
import static io.craq.check.Verdict.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** What the checker accepts and refuses, one claim per test, on hand-made histories. */
class CheckerSpecificationTest {

  @Nested
  @DisplayName("real-time order")
  class RealTime {
    @Test
    @DisplayName("an empty history is linearizable")
    void empty() {
      assertEquals(LINEARIZABLE, new Ops().verdict());
    }

    @Test
    @DisplayName("a read of a never-written key sees it absent")
    void initialAbsent() {
      assertEquals(LINEARIZABLE, new Ops().read(0, 0, 1, null).verdict());
      assertEquals(ILLEGAL, new Ops().read(0, 0, 1, "x").verdict());
    }

    @Test
    @DisplayName("a read concurrent with a write may see either value")
    void concurrentReadSeesEither() {
      assertEquals(
          LINEARIZABLE,
          new Ops().write(0, 0, 1, "a").write(1, 2, 6, "b").read(2, 3, 4, "a").verdict());
      assertEquals(
          LINEARIZABLE,
          new Ops().write(0, 0, 1, "a").write(1, 2, 6, "b").read(2, 3, 4, "b").verdict());
    }

    @Test
    @DisplayName(
        "a read that starts after a write completed must not see an older value (stale read)")
    void staleRead() {
      assertEquals(
          ILLEGAL, new Ops().write(0, 0, 1, "a").write(1, 2, 3, "b").read(2, 4, 5, "a").verdict());
    }

    @Test
    @DisplayName(
        "a read must not see a write invoked after the read completed (read from the future)")
    void futureRead() {
      assertEquals(ILLEGAL, new Ops().read(0, 0, 1, "a").write(1, 2, 3, "a").verdict());
    }

    @Test
    @DisplayName("an operation invoked at the very time another completes counts as concurrent")
    void tiesAreConcurrent() {
      assertEquals(LINEARIZABLE, new Ops().read(0, 0, 5, "a").write(1, 5, 6, "a").verdict());
    }

    @Test
    @DisplayName("once a read saw the new value, a later read must not see the old one")
    void noFlipFlop() {
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .write(1, 2, 20, "b")
              .read(2, 3, 4, "b")
              .read(3, 5, 6, "a")
              .verdict());
    }
  }

  @Nested
  @DisplayName("operations with unknown outcome (info)")
  class Unknown {
    @Test
    @DisplayName("may take effect: a later read may see an unknown write")
    void mayHappen() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .info(1, 2, Input.write("b"))
              .read(2, 50, 51, "b")
              .verdict());
    }

    @Test
    @DisplayName("may never take effect: later reads may keep seeing the old value")
    void mayNeverHappen() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .info(1, 2, Input.write("b"))
              .read(2, 50, 51, "a")
              .read(3, 60, 61, "a")
              .verdict());
    }

    @Test
    @DisplayName("may take effect long after the client gave up, between any two later operations")
    void mayHappenLate() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .info(1, 0, Input.write("b"))
              .write(0, 10, 11, "a")
              .read(2, 20, 21, "a")
              .read(3, 30, 31, "b")
              .verdict());
    }

    @Test
    @DisplayName("takes effect at most once: seen, then unseen, then seen again is illegal")
    void atMostOnce() {
      assertEquals(
          ILLEGAL,
          new Ops()
              .info(1, 0, Input.write("b"))
              .read(2, 10, 11, "b")
              .write(0, 20, 21, "a")
              .read(3, 30, 31, "a")
              .read(4, 40, 41, "b")
              .verdict());
    }

    @Test
    @DisplayName("cannot take effect before its invoke")
    void notBeforeInvoke() {
      assertEquals(ILLEGAL, new Ops().read(2, 0, 1, "b").info(1, 5, Input.write("b")).verdict());
    }

    @Test
    @DisplayName("several unknown writes may apply in any order, or some not at all")
    void anyOrderAnySubset() {
      Ops ops =
          new Ops()
              .info(1, 0, Input.write("x"))
              .info(2, 1, Input.write("y"))
              .info(3, 2, Input.write("z"));
      assertEquals(LINEARIZABLE, ops.read(4, 10, 11, "z").read(5, 12, 13, "x").verdict());
      assertEquals(
          ILLEGAL,
          new Ops()
              .info(1, 0, Input.write("x"))
              .info(2, 1, Input.write("y"))
              .read(4, 10, 11, "y")
              .read(5, 12, 13, "x")
              .read(6, 14, 15, "y")
              .verdict());
    }

    @Test
    @DisplayName("an unknown compare-and-set applies only if its expected value is there")
    void unknownCas() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .info(1, 2, Input.cas("a", "b"))
              .read(2, 10, 11, "b")
              .verdict());
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .info(1, 2, Input.cas("z", "b"))
              .read(2, 10, 11, "b")
              .verdict());
    }

    @Test
    @DisplayName("an unknown read constrains nothing")
    void unknownRead() {
      assertEquals(
          LINEARIZABLE,
          new Ops().write(0, 0, 1, "a").info(1, 2, Input.read()).read(2, 10, 11, "a").verdict());
    }
  }

  @Nested
  @DisplayName("failed operations")
  class Failed {
    @Test
    @DisplayName("a failed write never happened: reading its value is illegal")
    void readOfFailedWrite() {
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .fail(1, 2, 3, Input.write("b"))
              .read(2, 4, 5, "b")
              .verdict());
    }

    @Test
    @DisplayName("a failed write that nobody read leaves a linearizable history")
    void unreadFailedWrite() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .fail(1, 2, 3, Input.write("b"))
              .read(2, 4, 5, "a")
              .verdict());
    }
  }

  @Nested
  @DisplayName("compare-and-set, versions and deletes")
  class Conditional {
    @Test
    @DisplayName("a compare-and-set that applied must have found its expected value")
    void casApplied() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(1, 2, 3, Input.cas("a", "b"), Output.done())
              .read(2, 4, 5, "b")
              .verdict());
      assertEquals(
          ILLEGAL,
          new Ops().write(0, 0, 1, "a").ok(1, 2, 3, Input.cas("z", "b"), Output.done()).verdict());
    }

    @Test
    @DisplayName("a compare-and-set reported not applied must not have found its expected value")
    void casNotApplied() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(1, 2, 3, Input.cas("z", "b"), Output.notApplied())
              .read(2, 4, 5, "a")
              .verdict());
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(1, 2, 3, Input.cas("a", "b"), Output.notApplied())
              .verdict());
    }

    @Test
    @DisplayName("versions count writes and deletes per key: 1, 2, 3 ...")
    void versionsCount() {
      Ops ops =
          new Ops()
              .ok(0, 0, 1, Input.write("a"), Output.done(1))
              .ok(0, 2, 3, Input.delete(), Output.done(2))
              .ok(1, 4, 5, Input.read(), Output.read(null, 2))
              .ok(0, 6, 7, Input.write("b"), Output.done(3));
      assertEquals(LINEARIZABLE, ops.verdict());
      assertEquals(
          ILLEGAL,
          new Ops()
              .ok(0, 0, 1, Input.write("a"), Output.done(1))
              .ok(1, 4, 5, Input.read(), Output.read("a", 2))
              .verdict());
    }

    @Test
    @DisplayName("a version-conditioned write applies only at its expected version")
    void writeIfVersion() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(1, 2, 3, Input.writeIfVersion(1, "b"), Output.done(2))
              .ok(2, 4, 5, Input.writeIfVersion(1, "c"), Output.notApplied())
              .read(3, 6, 7, "b")
              .verdict());
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .write(0, 2, 3, "b")
              .ok(1, 4, 5, Input.writeIfVersion(1, "c"), Output.done())
              .verdict());
    }

    @Test
    @DisplayName("two concurrent writes conditioned on the same version cannot both apply")
    void conditionalWritesExclude() {
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(1, 2, 5, Input.writeIfVersion(1, "b"), Output.done())
              .ok(2, 2, 5, Input.writeIfVersion(1, "c"), Output.done())
              .verdict());
    }

    @Test
    @DisplayName("a read after a delete sees the key absent")
    void delete() {
      assertEquals(
          LINEARIZABLE,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(0, 2, 3, Input.delete(), Output.done())
              .read(1, 4, 5, null)
              .verdict());
      assertEquals(
          ILLEGAL,
          new Ops()
              .write(0, 0, 1, "a")
              .ok(0, 2, 3, Input.delete(), Output.done())
              .read(1, 4, 5, "a")
              .verdict());
    }
  }

  @Nested
  @DisplayName("reporting")
  class Reporting {
    @Test
    @DisplayName(
        "an illegal key's explanation names the key, the longest prefix and the stuck operation")
    void explanation() {
      KeyResult result =
          new Ops().write(0, 0, 1, "a").write(1, 2, 3, "b").read(2, 4, 5, "a").check();
      assertEquals(ILLEGAL, result.verdict());
      String text = result.explanation();
      assertTrue(text.startsWith("key k: not linearizable"), text);
      assertTrue(text.contains("Longest linearizable prefix: 2 operations"), text);
      assertTrue(text.contains("p2 READ -> \"a\" [4..5]"), text);
    }

    @Test
    @DisplayName("keys are checked separately and counted per verdict")
    void perKeySummary() {
      List<Operation> operations = new ArrayList<>();
      operations.add(Operation.ok(0, "good", Input.write("a"), 0, 1, Output.done()));
      operations.add(Operation.ok(1, "good", Input.read(), 2, 3, Output.read("a")));
      operations.add(Operation.ok(2, "bad", Input.read(), 2, 3, Output.read("a")));
      CheckReport report =
          LinearizabilityChecker.check(new History(operations), new RegisterModel(), Ops.BUDGET);
      assertEquals(2, report.keysChecked());
      assertEquals(1, report.count(LINEARIZABLE));
      assertEquals(1, report.count(ILLEGAL));
      assertEquals("bad", report.illegal().get(0).key());
      assertEquals("keys 2: linearizable 1, illegal 1, unknown 0", report.summary());
    }

    @Test
    @DisplayName("a search that outgrows its budget is UNKNOWN, not ILLEGAL, and stops in time")
    void budget() {
      // 24 concurrent writes, then a read of a value nobody wrote: proving it illegal means
      // trying every subset of the writes.
      Ops ops = new Ops();
      for (int i = 0; i < 24; i++) {
        ops.write(i, 0, 100, "w" + i);
      }
      ops.read(99, 200, 201, "nobody");
      long start = System.nanoTime();
      KeyResult result =
          LinearizabilityChecker.checkKey(
              Ops.KEY, ops.history().operations(), new RegisterModel(), Duration.ofMillis(200));
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(UNKNOWN, result.verdict(), result.explanation());
      assertTrue(elapsedMillis < 2_000, "took " + elapsedMillis + " ms");
    }
  }
}

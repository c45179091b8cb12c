package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.check.RandomTransactionHistories.Part;
import io.craq.check.RandomTransactionHistories.Realized;
import io.craq.check.RandomTransactionHistories.Shell;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Randomized validation of the multi-key write check: no false alarms on histories of a correct
 * store with atomic multi-key writes, and torn multi-key writes caught. Seeded: the base seed is
 * printed; replay with {@code -Dcraq.seed=N} (iteration i uses seed N + i, so the failing seed
 * given in a message runs first).
 */
class RandomTransactionHistoriesTest {
  private static final Duration BUDGET_PER_KEY = Duration.ofSeconds(10);
  private static final int LEGAL_RUNS = 300;
  private static final int TORN_RUNS = 200;
  private static long baseSeed;

  @BeforeAll
  static void chooseSeed() {
    String property = System.getProperty("craq.seed");
    baseSeed = property != null ? Long.parseLong(property) : new Random().nextLong();
    System.out.println(
        "RandomTransactionHistoriesTest base seed "
            + baseSeed
            + " (replay: -Dcraq.seed="
            + baseSeed
            + ")");
  }

  private static CheckReport check(History history) {
    return LinearizabilityChecker.check(history, new RegisterModel(), BUDGET_PER_KEY);
  }

  @Test
  @DisplayName(
      "histories of a store with atomic multi-key writes pass, with versions or without, and"
          + " read back from the log unchanged")
  void legalHistoriesPass() throws IOException {
    int transactions = 0;
    for (int i = 0; i < LEGAL_RUNS; i++) {
      long seed = baseSeed + i;
      Random random = new Random(seed);
      History history =
          RandomTransactionHistories.realize(
                  RandomTransactionHistories.shells(random, 1 + random.nextInt(2), 60),
                  null,
                  null,
                  random.nextBoolean())
              .history();
      transactions += history.transactions().size();
      CheckReport report = check(history);
      assertEquals(
          0, report.count(Verdict.UNKNOWN), () -> "seed " + seed + ": " + report.unknown());
      assertTrue(
          report.noneIllegal(),
          () ->
              "false alarm, replay with -Dcraq.seed="
                  + seed
                  + "\n"
                  + report.failureMessage()
                  + "\n"
                  + HistoryLog.toText(history));
      History back =
          HistoryLog.read(
              new BufferedReader(new StringReader(HistoryLog.toText(history))), "seed " + seed);
      assertEquals(HistoryLogTest.sorted(history), HistoryLogTest.sorted(back), "seed " + seed);
    }
    System.out.println(
        "legal with multi-key writes: " + LEGAL_RUNS + " histories, " + transactions + " writes");
  }

  @Test
  @DisplayName(
      "a read that misses a multi-key write after a read of another of its keys saw it is caught")
  void tornReadCaught() {
    int planted = 0;
    int byTransactionCheck = 0;
    for (int i = 0; i < TORN_RUNS; i++) {
      long seed = baseSeed + i;
      Random random = new Random(seed);
      List<Shell> shells = RandomTransactionHistories.shells(random, 1, 60);
      Realized realized = RandomTransactionHistories.realize(shells, null, null, true);
      Optional<History> torn = plantTornRead(realized, shells, random);
      if (torn.isEmpty()) {
        continue;
      }
      planted++;
      CheckReport report = check(torn.get());
      assertFalse(
          report.noneIllegal(),
          () ->
              "torn read missed, replay with -Dcraq.seed="
                  + seed
                  + ": "
                  + report.summary()
                  + "\n"
                  + HistoryLog.toText(torn.get()));
      if (report.violations().stream()
          .anyMatch(v -> v.kind() == TransactionViolation.Kind.TORN_READS)) {
        byTransactionCheck++;
      }
    }
    System.out.println(
        "torn read: planted in "
            + planted
            + " of "
            + TORN_RUNS
            + ", "
            + byTransactionCheck
            + " caught by the all-or-nothing check (the others already by a key)");
    assertTrue(planted >= TORN_RUNS / 4, "too few histories to plant in: " + planted);
    assertTrue(byTransactionCheck > 0, "the all-or-nothing check never caught a torn read");
  }

  @Test
  @DisplayName("a multi-key write the store applied on only some keys is caught in the final reads")
  void tornWriteCaughtInFinalReads() {
    int planted = 0;
    int byTransactionCheck = 0;
    for (int i = 0; i < TORN_RUNS; i++) {
      long seed = baseSeed + i;
      Random random = new Random(seed);
      List<Shell> shells = RandomTransactionHistories.shells(random, 1, 60);
      Optional<Part> victim = Optional.empty();
      Shell torn = null;
      List<Shell> candidates = new ArrayList<>(shells);
      Collections.shuffle(candidates, random);
      // Unknown-outcome writes first: a key alone shows the tear of one that completed.
      candidates.sort(Comparator.comparing(c -> c.outcome != Outcome.INFO));
      List<Shell> byEffect = byEffect(shells);
      for (Shell shell : candidates) {
        victim = certainlyVisibleTear(shell, shells, byEffect);
        if (victim.isPresent()) {
          torn = shell;
          break;
        }
      }
      if (torn == null) {
        continue;
      }
      planted++;
      String key = victim.get().key();
      long transaction = torn.transaction;
      History history = RandomTransactionHistories.realize(shells, torn, key, false).history();
      CheckReport report = check(history);
      assertFalse(
          report.noneIllegal(),
          () ->
              "torn write missed (transaction "
                  + transaction
                  + " dropped on "
                  + key
                  + "), replay with -Dcraq.seed="
                  + seed
                  + ": "
                  + report.summary()
                  + "\n"
                  + HistoryLog.toText(history));
      if (!report.violations().isEmpty()) {
        byTransactionCheck++;
      }
    }
    System.out.println(
        "torn write: planted in "
            + planted
            + " of "
            + TORN_RUNS
            + ", "
            + byTransactionCheck
            + " caught by the all-or-nothing check (the others already by a key)");
    assertTrue(planted >= TORN_RUNS / 4, "too few histories to plant in: " + planted);
    assertTrue(byTransactionCheck > 0, "the all-or-nothing check never caught a torn write");
  }

  // ------------------------------------------------------------------ planting

  /**
   * Picks a multi-key write T (ok, versions reported), a read r1 of one of its keys that saw T's
   * version or a later one, and a read r2 of another of its keys invoked after r1 completed that
   * saw T's write (with {@code concurrentOnly}, one invoked before T completed); makes r2 return
   * the value and version the key had just before T instead.
   */
  private static Optional<History> plantTornRead(
      Realized realized, List<Shell> shells, Random random) {
    // Preferably a read r2 invoked while T is still running: then no key alone shows the tear.
    Optional<History> concurrent = plantTornRead(realized, shells, random, true);
    return concurrent.isPresent() ? concurrent : plantTornRead(realized, shells, random, false);
  }

  private static Optional<History> plantTornRead(
      Realized realized, List<Shell> shells, Random random, boolean concurrentOnly) {
    List<Shell> transactions = new ArrayList<>();
    for (Shell shell : shells) {
      if (shell.transaction != Operation.NO_TRANSACTION
          && shell.outcome == Outcome.OK
          && shell.parts.size() > 1) {
        transactions.add(shell);
      }
    }
    Collections.shuffle(transactions, random);
    List<Operation> reads =
        realized.history().operations().stream()
            .filter(o -> o.input().kind() == OpKind.READ && o.outcome() == Outcome.OK)
            .toList();
    for (Shell t : transactions) {
      List<Operation> members = realized.operations().get(t);
      for (Operation m1 : members) {
        for (Operation m2 : members) {
          if (m1 == m2) {
            continue;
          }
          for (Operation r1 : reads) {
            if (!r1.key().equals(m1.key()) || r1.output().version() < m1.output().version()) {
              continue;
            }
            for (Operation r2 : reads) {
              if (r2.key().equals(m2.key())
                  && r2.invokeNanos() > r1.completeNanos()
                  && (r2.invokeNanos() < t.complete || !concurrentOnly)
                  && r2.output().version() == m2.output().version()) {
                RegisterModel.State previous = realized.before().get(t).get(m2.key());
                List<Operation> ops = new ArrayList<>(realized.history().operations());
                ops.set(
                    ops.indexOf(r2),
                    Operation.ok(
                        r2.process(),
                        r2.key(),
                        r2.input(),
                        r2.invokeNanos(),
                        r2.completeNanos(),
                        Output.read(previous.value(), previous.version())));
                return Optional.of(new History(ops));
              }
            }
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * If dropping {@code shell}'s write of some key K1 certainly shows: the shell is a multi-key
   * write that took effect, the last write to take effect on K1 and on another of its keys K2
   * (where it writes a value, which the final read of K2 returns), and the write before it on K1
   * (or the initial state) certainly came before it: it completed before the shell was invoked and
   * left a value only it wrote. Then the final read of K1 returns that older value, which no order
   * explains. Returns K1's part.
   */
  private static Optional<Part> certainlyVisibleTear(
      Shell shell, List<Shell> shells, List<Shell> byEffect) {
    if (shell.transaction == Operation.NO_TRANSACTION
        || shell.effectAt < 0
        || shell.parts.size() < 2) {
      return Optional.empty();
    }
    List<Part> last = new ArrayList<>();
    for (Part part : shell.parts) {
      if (lastEffectOn(part.key(), byEffect) == shell) {
        last.add(part);
      }
    }
    boolean visibleElsewhere = false;
    for (Part part : last) {
      visibleElsewhere |= part.input().kind() == OpKind.WRITE;
    }
    if (last.size() < 2 || !visibleElsewhere) {
      return Optional.empty();
    }
    for (Part part : last) {
      boolean othersWrite =
          last.stream().anyMatch(p -> p != part && p.input().kind() == OpKind.WRITE);
      Shell previous = previousEffectOn(part.key(), shell, byEffect);
      if (othersWrite && certainlyBefore(previous, part.key(), shell, shells)) {
        return Optional.of(part);
      }
    }
    return Optional.empty();
  }

  /** The shells that take effect, in the order the store applies them (as realize does). */
  private static List<Shell> byEffect(List<Shell> shells) {
    return shells.stream()
        .filter(s -> s.effectAt >= 0)
        .sorted(Comparator.comparingLong((Shell s) -> s.effectAt))
        .toList();
  }

  private static Shell lastEffectOn(String key, List<Shell> byEffect) {
    Shell last = null;
    for (Shell s : byEffect) {
      if (s.isWrite() && writes(s, key)) {
        last = s;
      }
    }
    return last;
  }

  private static Shell previousEffectOn(String key, Shell shell, List<Shell> byEffect) {
    Shell previous = null;
    for (Shell s : byEffect) {
      if (s == shell) {
        return previous;
      }
      if (s.isWrite() && writes(s, key)) {
        previous = s;
      }
    }
    throw new AssertionError("the shell takes no effect");
  }

  /**
   * {@code previous} (null: the initial state) left a value only it produced on {@code key} and
   * completed before {@code shell} was invoked.
   */
  private static boolean certainlyBefore(
      Shell previous, String key, Shell shell, List<Shell> shells) {
    if (previous == null) {
      return shells.stream()
          .noneMatch(s ->
              s.outcome != Outcome.FAIL
                  && s.parts.stream()
                      .anyMatch(p -> p.key().equals(key) && p.input().kind() == OpKind.DELETE));
    }
    if (previous.outcome != Outcome.OK || previous.complete >= shell.invoke) {
      return false;
    }
    return previous.parts.stream()
        .anyMatch(p -> p.key().equals(key) && p.input().kind() == OpKind.WRITE);
  }

  private static boolean writes(Shell shell, String key) {
    return shell.parts.stream().anyMatch(p -> p.key().equals(key));
  }
}

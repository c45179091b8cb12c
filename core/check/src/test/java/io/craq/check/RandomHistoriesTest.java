package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.check.RandomRegisterHistories.Shell;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Randomized validation of the checker: no false alarms on histories of a correct register, and
 * every planted anomaly caught. Seeded: the base seed is printed; replay with {@code -Dcraq.seed=N}
 * (iteration i uses seed N + i, so the failing seed given in a message runs first).
 */
class RandomHistoriesTest {
  private static final Duration BUDGET_PER_KEY = Duration.ofSeconds(10);
  private static final int LEGAL_RUNS = 300;
  private static final int ANOMALY_RUNS = 150;
  private static long baseSeed;

  @BeforeAll
  static void chooseSeed() {
    String property = System.getProperty("craq.seed");
    baseSeed = property != null ? Long.parseLong(property) : new Random().nextLong();
    System.out.println(
        "RandomHistoriesTest base seed " + baseSeed + " (replay: -Dcraq.seed=" + baseSeed + ")");
  }

  @Test
  @DisplayName(
      "histories of a correct register are linearizable, with unknown and failed operations")
  void legalHistoriesPass() {
    int operations = 0;
    for (int i = 0; i < LEGAL_RUNS; i++) {
      long seed = baseSeed + i;
      Random random = new Random(seed);
      History history =
          RandomRegisterHistories.realize(
              RandomRegisterHistories.shells(random, 3, 40 + random.nextInt(60)),
              null,
              random.nextBoolean());
      operations += history.size();
      CheckReport report =
          LinearizabilityChecker.check(history, new RegisterModel(), BUDGET_PER_KEY);
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
    }
    System.out.println("legal: " + LEGAL_RUNS + " histories, " + operations + " operations");
  }

  @Test
  @DisplayName("a stale read (older than a write completed before the read began) is caught")
  void staleReadCaught() {
    assertPlantedCaught("stale read", (history, random) -> plantStaleRead(history, random));
  }

  @Test
  @DisplayName("a lost acknowledged write (the store dropped it, later reads show it) is caught")
  void lostWriteCaught() {
    int planted = 0;
    for (int i = 0; i < ANOMALY_RUNS; i++) {
      long seed = baseSeed + i;
      Random random = new Random(seed);
      List<Shell> shells = RandomRegisterHistories.shells(random, 1, 40 + random.nextInt(40));
      List<Shell> writes =
          new ArrayList<>(
              shells.stream()
                  .filter(s -> s.outcome == Outcome.OK && s.input.kind() == OpKind.WRITE)
                  .toList());
      Collections.shuffle(writes, random);
      // Lose the first write whose loss later reads certainly show; most losses are invisible.
      History history = null;
      for (Shell lost : writes) {
        History candidate = RandomRegisterHistories.realize(shells, lost, false);
        if (certainlyIllegalAfterLoss(
            candidate, candidate.operations().get(shells.indexOf(lost)))) {
          history = candidate;
          break;
        }
      }
      if (history == null) {
        continue;
      }
      planted++;
      assertCaught("lost write", seed, history);
    }
    System.out.println("lost write: planted in " + planted + " of " + ANOMALY_RUNS);
    assertTrue(planted >= ANOMALY_RUNS / 4, "too few histories showed the loss: " + planted);
  }

  @Test
  @DisplayName("a read of a failed write's value is caught")
  void readOfFailedWriteCaught() {
    assertPlantedCaught(
        "read of failed write",
        (history, random) -> {
          List<Operation> ops = history.operations();
          List<Operation> failed =
              ops.stream()
                  .filter(o -> o.outcome() == Outcome.FAIL && o.input().value() != null)
                  .toList();
          if (failed.isEmpty()) {
            return Optional.empty();
          }
          Operation write = failed.get(random.nextInt(failed.size()));
          return replaceRead(
              history, random, r -> r.invokeNanos() > write.invokeNanos(), write.input().value());
        });
  }

  @Test
  @DisplayName("a read from the future (of a write invoked after the read completed) is caught")
  void futureReadCaught() {
    assertPlantedCaught(
        "read from the future",
        (history, random) -> {
          List<Operation> ops = history.operations();
          List<Operation> writes =
              ops.stream()
                  .filter(o -> o.outcome() != Outcome.FAIL && o.input().value() != null)
                  .toList();
          if (writes.isEmpty()) {
            return Optional.empty();
          }
          Operation write = writes.get(random.nextInt(writes.size()));
          return replaceRead(
              history, random, r -> r.completeNanos() < write.invokeNanos(), write.input().value());
        });
  }

  // ------------------------------------------------------------------ planting

  private static void assertPlantedCaught(
      String anomaly, BiFunction<History, Random, Optional<History>> plant) {
    int planted = 0;
    for (int i = 0; i < ANOMALY_RUNS; i++) {
      long seed = baseSeed + i;
      Random random = new Random(seed);
      History legal =
          RandomRegisterHistories.realize(
              RandomRegisterHistories.shells(random, 1, 40 + random.nextInt(40)),
              null,
              random.nextBoolean());
      Optional<History> bad = plant.apply(legal, random);
      if (bad.isPresent()) {
        planted++;
        assertCaught(anomaly, seed, bad.get());
      }
    }
    System.out.println(anomaly + ": planted in " + planted + " of " + ANOMALY_RUNS);
    assertTrue(planted >= ANOMALY_RUNS / 2, "too few histories to plant in: " + planted);
  }

  private static void assertCaught(String anomaly, long seed, History history) {
    CheckReport report = LinearizabilityChecker.check(history, new RegisterModel(), BUDGET_PER_KEY);
    assertEquals(
        1,
        report.count(Verdict.ILLEGAL),
        () ->
            anomaly
                + " missed, replay with "
                + "-Dcraq.seed="
                + seed
                + ": "
                + report.summary()
                + "\n"
                + HistoryLog.toText(history));
  }

  /**
   * Stale read: a read returns value v although some write that certainly replaced v (it began
   * after every write of v had completed) completed before the read began.
   */
  private static Optional<History> plantStaleRead(History history, Random random) {
    List<Operation> ops = history.operations();
    List<String> written =
        ops.stream()
            .filter(o -> o.outcome() != Outcome.FAIL)
            .map(o -> o.input().value())
            .filter(Objects::nonNull)
            .toList();
    if (written.isEmpty()) {
      return Optional.empty();
    }
    String value = written.get(random.nextInt(written.size()));
    long producedBy = lastCompletionOfProducers(ops, value);
    Optional<Operation> replacement =
        ops.stream()
            .filter(o -> definitelyReplaces(o, value) && o.invokeNanos() > producedBy)
            .min((a, b) -> Long.compare(a.completeNanos(), b.completeNanos()));
    if (replacement.isEmpty()) {
      return Optional.empty();
    }
    long replacedAt = replacement.get().completeNanos();
    return replaceRead(history, random, r -> r.invokeNanos() > replacedAt, value);
  }

  /**
   * After losing {@code write}, the history is certainly illegal when some read that began after
   * the write completed returned a value every producer of which completed before the write began.
   */
  private static boolean certainlyIllegalAfterLoss(History history, Operation write) {
    List<Operation> ops = history.operations();
    for (Operation read : ops) {
      if (read.outcome() != Outcome.OK
          || read.input().kind() != OpKind.READ
          || read.invokeNanos() <= write.completeNanos()) {
        continue;
      }
      // For an absent value the producers are the deletes (and the initial state, before all).
      long producedBy = lastCompletionOfProducers(ops, read.output().value());
      if (producedBy < write.invokeNanos()) {
        return true;
      }
    }
    return false;
  }

  /** The latest completion among operations that may set {@code value}; infinity if unknown. */
  private static long lastCompletionOfProducers(List<Operation> ops, String value) {
    long last = Long.MIN_VALUE;
    for (Operation o : ops) {
      if (o.outcome() == Outcome.FAIL) {
        continue;
      }
      boolean produces =
          value == null
              ? o.input().kind() == OpKind.DELETE
              : value.equals(o.input().value()) && o.input().kind() != OpKind.READ;
      if (produces) {
        last = Math.max(last, o.completeNanos());
      }
    }
    return last;
  }

  /** An OK operation that certainly changed the key to something other than {@code value}. */
  private static boolean definitelyReplaces(Operation o, String value) {
    if (o.outcome() != Outcome.OK || !o.output().applied()) {
      return false;
    }
    return switch (o.input().kind()) {
      case WRITE, CAS, WRITE_IF_VERSION -> !o.input().value().equals(value);
      case DELETE -> true;
      case READ, APPEND, INCREMENT -> false;
    };
  }

  /** Makes one OK read matching {@code which} return {@code value}; empty if there is none. */
  private static Optional<History> replaceRead(
      History history, Random random, Predicate<Operation> which, String value) {
    List<Operation> ops = new ArrayList<>(history.operations());
    List<Integer> candidates = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      Operation o = ops.get(i);
      if (o.outcome() == Outcome.OK
          && o.input().kind() == OpKind.READ
          && which.test(o)
          && !Objects.equals(o.output().value(), value)) {
        candidates.add(i);
      }
    }
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    int index = candidates.get(random.nextInt(candidates.size()));
    Operation read = ops.get(index);
    ops.set(
        index,
        Operation.ok(
            read.process(),
            read.key(),
            read.input(),
            read.invokeNanos(),
            read.completeNanos(),
            Output.read(value)));
    return Optional.of(new History(ops));
  }
}

package io.craq.core.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.craq.check.CheckReport;
import io.craq.check.History;
import io.craq.check.KvModel;
import io.craq.check.LinearizabilityChecker;
import io.craq.check.Operation;
import io.craq.check.Outcome;
import io.craq.check.RegisterModel;
import io.craq.check.Verdict;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The deterministic cluster simulation: a whole cluster in one thread over a seeded network with
 * faults. Every run's history must be linearizable per key and the nodes must converge after
 * healing.
 *
 * <p>Replay one seed: {@code bin/test -pl core -am -Dtest=SimulationTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcraq.seed=N}. Run many: {@code -Dcraq.sim.seeds=5000
 * -Dcraq.sim.seedBase=100000} (see the README). Every test runs all its seeds and then fails, if
 * any failed, naming each failing seed with the first line of its failure and giving the whole
 * message (trace included) of the first one.
 *
 * <p>ZooKeeper mode ({@link #zooKeeperRuns}: 2 or 3 coordinators over a simulated ZooKeeper, see
 * {@link Simulation}) runs {@value #ZOOKEEPER_SEEDS} seeds here; a long run takes the same
 * properties, on that test alone: {@code bin/test -pl core -am -Dtest=SimulationTest#zooKeeperRuns
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcraq.sim.seeds=5000 -Dcraq.sim.seedBase=100000} (about
 * a tenth of a second per seed). A failure names its seed; replay it with {@code
 * -Dtest=SimulationTest#zooKeeperRuns -Dcraq.seed=N}, and {@code -Dcraq.sim.trace=true} prints
 * every event as it comes ({@code -Dcraq.sim.traceKey=K} adds the store writes and read answers of
 * key K, {@code -Dcraq.sim.traceNode=N} every message to or from node N).
 *
 * <p>Many chains ({@link #manyChains}: 2 to 6 chains of 3 members over 5 to 7 nodes that join and
 * leave the pool, a third of the seeds over ZooKeeper) runs {@value #MANY_CHAINS_SEEDS} seeds here;
 * the shape of each run is drawn from its seed ({@link SimOptions#manyChains}).
 */
// Long runs (-Dcraq.sim.seeds) last as long as asked: the build's default timeout does not apply.
@Timeout(value = 12, unit = TimeUnit.HOURS)
class SimulationTest {
  private static final long SEED_BASE = 1000;
  private static final int ZOOKEEPER_SEEDS = 150;
  private static final int MANY_CHAINS_SEEDS = 100;

  @Test
  @DisplayName("Without faults, a 3-node chain is linearizable and converges")
  void faultFreeRuns() {
    Campaign campaign = new Campaign("fault-free");
    for (long seed : seeds(5)) {
      campaign.run(seed, SimOptions.faultFree(3));
    }
    campaign.finish();
  }

  @Test
  @DisplayName(
      "Under crashes, pauses, partitions, lossy links, coordinator restarts, joins and "
          + "leaves, every history is linearizable and the chain converges after healing")
  void faultyRuns() {
    runAll("standard", 100, seed -> SimOptions.standard(3 + (int) (Math.abs(seed) % 3)));
  }

  @Test
  @DisplayName(
      "When the last caught-up member crashes and restarts with its store while the "
          + "others are still catching up, histories stay linearizable")
  void lastCaughtUpMemberCrashes() {
    runAll("harsh", 100, seed -> SimOptions.harsh(3));
  }

  @Test
  @DisplayName(
      "With 2 or 3 coordinators over ZooKeeper, under coordinator crashes, a leader paused past"
          + " its session, coordinators cut from the store or from nodes, store outages and the"
          + " standard faults, every history is linearizable, the chain converges, and no epoch"
          + " ever holds two configurations")
  void zooKeeperRuns() {
    runAll("zookeeper", ZOOKEEPER_SEEDS, SimulationTest::zooKeeperOptions);
  }

  @Test
  @DisplayName(
      "With 2 to 6 chains of 3 over 5 to 7 nodes, under the standard faults (a third of the seeds"
          + " with coordinators over ZooKeeper and their faults), nodes joining the pool (chains"
          + " move onto them) and leaving it (chains move off first), every history is"
          + " linearizable, every chain converges and the map ends balanced")
  void manyChains() {
    runAll("many chains", MANY_CHAINS_SEEDS, SimOptions::manyChains);
  }

  /** 3 to 5 nodes, 2 or 3 coordinators, session and lease drawn from the seed. */
  static SimOptions zooKeeperOptions(long seed) {
    int nodes = 3 + (int) (Math.abs(seed) % 3);
    int coordinators = 2 + (int) (Math.abs(seed / 3) % 2);
    return SimOptions.zookeeper(nodes, coordinators, seed);
  }

  /** Runs {@code count} seeds (or the one given with -Dcraq.seed) of one mode. */
  private static void runAll(String name, int count, LongFunction<SimOptions> options) {
    Campaign campaign = new Campaign(name);
    long[] seeds = seeds(Integer.getInteger("craq.sim.seeds", count));
    System.out.printf("simulation (%s): %d seeds from %d%n", name, seeds.length, seeds[0]);
    for (long seed : seeds) {
      SimOptions shape = options.apply(seed);
      if (seeds.length == 1) {
        System.out.println("seed " + seed + ": " + shape.describe());
      }
      campaign.run(seed, shape);
    }
    campaign.finish();
  }

  private static long[] seeds(int count) {
    String replay = System.getProperty("craq.seed");
    if (replay != null && !replay.isBlank()) {
      return new long[] {Long.parseLong(replay.trim())};
    }
    long base = Long.getLong("craq.sim.seedBase", SEED_BASE);
    return LongStream.range(base, base + count).toArray();
  }

  /** The seeds of one test: totals, and every failure with its seed. */
  private static final class Campaign {
    final String name;
    long firstSeed = -1;
    int seeds;
    int zookeeper;
    long ops;
    long keys;
    long counterKeys;
    long transactions;
    long unknown;
    final Map<String, Integer> faults = new TreeMap<>();
    final Map<String, Integer> events = new TreeMap<>();
    final List<String> failures = new ArrayList<>();
    String firstFailure;

    Campaign(String name) {
      this.name = name;
    }

    void run(long seed, SimOptions options) {
      if (firstSeed < 0) {
        firstSeed = seed;
      }
      seeds++;
      zookeeper += options.zookeeper() ? 1 : 0;
      try {
        SimResult result = new Simulation(seed, options).run();
        Checked checked = assertRunOk(result);
        CheckReport report = checked.registers();
        ops += result.history().size();
        keys += report.keysChecked();
        counterKeys += checked.counters().keysChecked();
        transactions += report.transactions();
        unknown += report.count(Verdict.UNKNOWN) + checked.counters().count(Verdict.UNKNOWN);
        result.faults().forEach((k, v) -> faults.merge(k, v, Integer::sum));
        result.events().forEach((k, v) -> events.merge(k, v, Integer::sum));
      } catch (AssertionError | RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        String firstLine = message.lines().findFirst().orElse("");
        String line =
            firstLine.startsWith("seed " + seed)
                ? firstLine
                : "seed " + seed + " (" + options.describe() + "): " + firstLine;
        System.out.println("FAILED " + line);
        failures.add(line);
        if (firstFailure == null) {
          StringWriter out = new StringWriter();
          if (e instanceof AssertionError) {
            out.append(message);
          } else {
            // a machine's own check (or a crash) inside the run: where it broke matters
            e.printStackTrace(new PrintWriter(out));
          }
          firstFailure = "seed " + seed + ", replay: -Dcraq.seed=" + seed + "\n" + out;
        }
      }
    }

    void finish() {
      System.out.printf(
          "simulation (%s): %d seeds from %d%s, %d operations, %d keys, %d counter keys and %d"
              + " multi-key writes checked, %d unknown, %d failed, faults %s%n",
          name,
          seeds,
          firstSeed,
          zookeeper > 0 ? " (" + zookeeper + " with zookeeper)" : "",
          ops,
          keys,
          counterKeys,
          transactions,
          unknown,
          failures.size(),
          faults);
      if (!events.isEmpty()) {
        System.out.printf("simulation (%s): events %s%n", name, events);
      }
      if (!failures.isEmpty()) {
        fail(
            failures.size()
                + " of "
                + seeds
                + " seeds failed:\n  "
                + String.join("\n  ", failures)
                + "\nThe first:\n"
                + firstFailure);
      }
    }
  }

  /** The verdicts of one run: register keys, and counter keys (kv model). */
  private record Checked(CheckReport registers, CheckReport counters) {}

  private static Checked assertRunOk(SimResult result) {
    String replay = " (replay: -Dcraq.seed=" + result.seed() + ")";
    // Counter keys (increments and appends) against the kv model, the others as registers.
    Map<Boolean, List<Operation>> byModel =
        result.history().operations().stream()
            .collect(Collectors.partitioningBy(o -> Simulation.isCounterKey(o.key())));
    CheckReport counters =
        LinearizabilityChecker.check(
            new History(byModel.get(true)), new KvModel(), Duration.ofSeconds(10));
    assertTrue(
        counters.noneIllegal(),
        "seed "
            + result.seed()
            + " not linearizable (counter keys, kv model)"
            + replay
            + "\n"
            + counters.failureMessage());
    CheckReport report =
        LinearizabilityChecker.check(
            new History(byModel.get(false)), new RegisterModel(), Duration.ofSeconds(10));
    assertTrue(
        report.noneIllegal(),
        "seed " + result.seed() + " not linearizable" + replay + "\n" + report.failureMessage());
    if (counters.count(Verdict.UNKNOWN) > 0) {
      System.out.println(
          "seed "
              + result.seed()
              + ": "
              + counters.count(Verdict.UNKNOWN)
              + " counter key(s) unknown (checker budget exceeded)");
    }
    if (report.count(Verdict.UNKNOWN) > 0) {
      // Unknown (budget exceeded) says nothing either way: reported apart; only illegal fails.
      System.out.println(
          "seed "
              + result.seed()
              + ": "
              + report.count(Verdict.UNKNOWN)
              + " key(s) unknown (checker budget exceeded)");
    }
    assertTrue(
        result.settled(),
        "seed "
            + result.seed()
            + " did not settle after healing ("
            + result.problem()
            + ")"
            + replay
            + "\n"
            + result.trace());
    assertTrue(
        result.converged(),
        "seed " + result.seed() + " " + result.problem() + replay + "\n" + result.trace());
    assertTrue(result.history().count(Outcome.OK) > 0, "no operation succeeded" + replay);
    return new Checked(report, counters);
  }
}

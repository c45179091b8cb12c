package io.craq.core.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.check.CheckReport;
import io.craq.check.LinearizabilityChecker;
import io.craq.check.Outcome;
import io.craq.check.RegisterModel;
import io.craq.check.Verdict;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 * -Dcraq.sim.seedBase=100000} (see the README).
 *
 * <p>ZooKeeper mode ({@link #zooKeeperRuns}: 2 or 3 coordinators over a simulated ZooKeeper, see
 * {@link Simulation}) runs {@value #ZOOKEEPER_SEEDS} seeds here; a long run takes the same
 * properties, on that test alone: {@code bin/test -pl core -am -Dtest=SimulationTest#zooKeeperRuns
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcraq.sim.seeds=5000 -Dcraq.sim.seedBase=100000} (about
 * a tenth of a second per seed). A failure names its seed; replay it with {@code
 * -Dtest=SimulationTest#zooKeeperRuns -Dcraq.seed=N}, and {@code -Dcraq.sim.trace=true} prints
 * every event as it comes ({@code -Dcraq.sim.traceKey=K} adds the store writes and read answers of
 * key K).
 */
// Long runs (-Dcraq.sim.seeds) last as long as asked: the build's default timeout does not apply.
@Timeout(value = 12, unit = TimeUnit.HOURS)
class SimulationTest {
  private static final long SEED_BASE = 1000;
  private static final int ZOOKEEPER_SEEDS = 150;

  @Test
  @DisplayName("Without faults, a 3-node chain is linearizable and converges")
  void faultFreeRuns() {
    for (long seed : seeds(5)) {
      SimResult result = new Simulation(seed, SimOptions.faultFree(3)).run();
      assertRunOk(result);
    }
  }

  @Test
  @DisplayName(
      "Under crashes, pauses, partitions, lossy links, coordinator restarts, joins and "
          + "leaves, every history is linearizable and the chain converges after healing")
  void faultyRuns() {
    long ops = 0;
    long keys = 0;
    long unknown = 0;
    java.util.Map<String, Integer> faults = new java.util.TreeMap<>();
    long[] seeds = seeds(Integer.getInteger("craq.sim.seeds", 100));
    for (long seed : seeds) {
      int nodes = 3 + (int) (Math.abs(seed) % 3);
      SimResult result = new Simulation(seed, SimOptions.standard(nodes)).run();
      CheckReport report = assertRunOk(result);
      ops += result.history().size();
      keys += report.keysChecked();
      unknown += report.count(Verdict.UNKNOWN);
      result.faults().forEach((k, v) -> faults.merge(k, v, Integer::sum));
    }
    System.out.printf(
        "simulation: %d seeds from %d, %d operations, %d keys checked, 0 illegal,"
            + " %d unknown, faults %s%n",
        seeds.length, seeds[0], ops, keys, unknown, faults);
  }

  @Test
  @DisplayName(
      "When the last caught-up member crashes and restarts with its store while the "
          + "others are still catching up, histories stay linearizable")
  void lastCaughtUpMemberCrashes() {
    long ops = 0;
    long[] seeds = seeds(Integer.getInteger("craq.sim.seeds", 100));
    for (long seed : seeds) {
      SimResult result = new Simulation(seed, SimOptions.harsh(3)).run();
      assertRunOk(result);
      ops += result.history().size();
    }
    System.out.printf(
        "simulation (harsh): %d seeds, %d operations, 0 illegal%n", seeds.length, ops);
  }

  @Test
  @DisplayName(
      "With 2 or 3 coordinators over ZooKeeper, under coordinator crashes, a leader paused past"
          + " its session, coordinators cut from the store or from nodes, store outages and the"
          + " standard faults, every history is linearizable, the chain converges, and no epoch"
          + " ever holds two configurations")
  void zooKeeperRuns() {
    long ops = 0;
    long keys = 0;
    long unknown = 0;
    java.util.Map<String, Integer> faults = new java.util.TreeMap<>();
    java.util.Map<String, Integer> events = new java.util.TreeMap<>();
    long[] seeds = seeds(Integer.getInteger("craq.sim.seeds", ZOOKEEPER_SEEDS));
    for (long seed : seeds) {
      SimOptions options = zooKeeperOptions(seed);
      SimResult result = new Simulation(seed, options).run();
      CheckReport report = assertRunOk(result);
      ops += result.history().size();
      keys += report.keysChecked();
      unknown += report.count(Verdict.UNKNOWN);
      result.faults().forEach((k, v) -> faults.merge(k, v, Integer::sum));
      result.events().forEach((k, v) -> events.merge(k, v, Integer::sum));
    }
    System.out.printf(
        "simulation (zookeeper): %d seeds from %d, %d operations, %d keys checked, 0 illegal,"
            + " %d unknown, 0 invariant failures, faults %s%n",
        seeds.length, seeds[0], ops, keys, unknown, faults);
    System.out.printf("simulation (zookeeper): coordinator events %s%n", events);
  }

  /** 3 to 5 nodes, 2 or 3 coordinators, session and lease drawn from the seed. */
  static SimOptions zooKeeperOptions(long seed) {
    int nodes = 3 + (int) (Math.abs(seed) % 3);
    int coordinators = 2 + (int) (Math.abs(seed / 3) % 2);
    return SimOptions.zookeeper(nodes, coordinators, seed);
  }

  private static long[] seeds(int count) {
    String replay = System.getProperty("craq.seed");
    if (replay != null && !replay.isBlank()) {
      return new long[] {Long.parseLong(replay.trim())};
    }
    long base = Long.getLong("craq.sim.seedBase", SEED_BASE);
    return LongStream.range(base, base + count).toArray();
  }

  private static CheckReport assertRunOk(SimResult result) {
    String replay = " (replay: -Dcraq.seed=" + result.seed() + ")";
    CheckReport report =
        LinearizabilityChecker.check(result.history(), new RegisterModel(), Duration.ofSeconds(10));
    assertTrue(
        report.noneIllegal(),
        "seed " + result.seed() + " not linearizable" + replay + "\n" + report.failureMessage());
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
        "seed " + result.seed() + " did not settle after healing" + replay + "\n" + result.trace());
    assertTrue(result.converged(), "seed " + result.seed() + " did not converge" + replay);
    assertTrue(result.history().count(Outcome.OK) > 0, "no operation succeeded" + replay);
    return report;
  }
}

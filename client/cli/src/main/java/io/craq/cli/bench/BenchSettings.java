package io.craq.cli.bench;

import io.craq.client.ReadConsistency;
import io.craq.core.chain.KeySlots;
import io.craq.core.coordinator.CoordinatorSettings;
import java.time.Duration;
import java.util.Locale;

/**
 * The validated settings of one {@code craq bench} run (see docs/BENCH.md). Immutable.
 *
 * @param coordinator the coordinator of a running cluster; null when {@code spawnNodes > 0}
 * @param spawnNodes nodes of a local cluster to start (0 = use {@code coordinator})
 * @param store the spawned nodes' store: {@code lmdb} or {@code memory}
 * @param chains chains of the spawned cluster ({@code craq-coordinator --chains}); 0 = not given
 *     (the coordinator's default, one chain)
 * @param replicas members of each spawned chain ({@code --replicas}); 0 = not given (3 with several
 *     chains; with one chain, every node)
 * @param writesPerSecond the fixed write rate of the mixed workload (0 otherwise)
 * @param inFlight requests in flight per thread (forced to 1 for {@code cas})
 */
record BenchSettings(
    String coordinator,
    int spawnNodes,
    String store,
    int chains,
    int replicas,
    Workload workload,
    Mode mode,
    ReadConsistency consistency,
    int valueBytes,
    int keys,
    int threads,
    int inFlight,
    double writesPerSecond,
    Duration duration,
    Duration warmup,
    boolean echoBaseline,
    String jsonFile,
    long timeoutMillis) {

  static final int SPAWN_NODES_MAX = 20;
  static final int THREADS_MAX = 4_096;
  static final int IN_FLIGHT_MAX = 1_024;
  static final int VALUE_BYTES_MAX = 1 << 20;
  static final int REPLICAS_MAX = CoordinatorSettings.defaults().membersMax();

  /** What the client threads do. */
  enum Workload {
    /** Only reads, at {@code --consistency}. */
    READ,
    /** Only unconditional writes, at the head. */
    WRITE,
    /** Reads by every thread, plus writes at a fixed rate (CRAQ Fig. 6). */
    MIXED,
    /**
     * Test-and-set, one at a time per thread: read the version, write if it is still that one (CRAQ
     * Fig. 5).
     */
    CAS;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Where reads go. */
  enum Mode {
    /** CRAQ: reads spread over every member (CRAQ §2.3). */
    CRAQ,
    /** Basic chain replication: reads only at the tail. */
    CR;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  BenchSettings {
    check(
        spawnNodes >= 0 && spawnNodes <= SPAWN_NODES_MAX,
        "--spawn must be 1-" + SPAWN_NODES_MAX + ", got " + spawnNodes);
    check(spawnNodes > 0 || coordinator != null, "give -c ADDRESS or --spawn N");
    check(
        spawnNodes > 0 || (chains == 0 && replicas == 0),
        "--chains and --replicas shape a spawned cluster (--spawn N); a running one has its own");
    check(
        chains >= 0 && chains <= KeySlots.CHAINS_MAX,
        "--chains must be 1-" + KeySlots.CHAINS_MAX + ", got " + chains);
    check(
        replicas >= 0 && replicas <= REPLICAS_MAX,
        "--replicas must be 1-" + REPLICAS_MAX + ", got " + replicas);
    check(
        store.equals("lmdb") || store.equals("memory"),
        "--store must be lmdb or memory, got '" + store + "'");
    check(
        valueBytes >= 0 && valueBytes <= VALUE_BYTES_MAX,
        "--value-bytes must be 0-" + VALUE_BYTES_MAX + ", got " + valueBytes);
    check(keys >= 1, "--keys must be >= 1, got " + keys);
    check(
        threads >= 1 && threads <= THREADS_MAX,
        "--threads must be 1-" + THREADS_MAX + ", got " + threads);
    check(
        inFlight >= 1 && inFlight <= IN_FLIGHT_MAX,
        "--in-flight must be 1-" + IN_FLIGHT_MAX + ", got " + inFlight);
    check(
        workload != Workload.MIXED || writesPerSecond > 0,
        "the mixed workload needs --write-rate N (writes per second, > 0)");
    check(
        workload == Workload.MIXED || writesPerSecond == 0,
        "--write-rate applies only to --workload mixed");
    check(!duration.isNegative() && !duration.isZero(), "--duration must be > 0");
    check(!warmup.isNegative(), "--warmup must be >= 0");
    check(timeoutMillis > 0, "--timeout-millis must be > 0, got " + timeoutMillis);
  }

  /** Requests in flight per thread as run: CAS is one read-then-write at a time. */
  int inFlightEffective() {
    return workload == Workload.CAS ? 1 : inFlight;
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * Parses a duration: {@code 10s}, {@code 500ms}, {@code 2m}, or a bare number of seconds.
   *
   * @throws IllegalArgumentException naming the accepted forms
   */
  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return millis(Double.parseDouble(t.substring(0, t.length() - 1)) * 1_000);
      }
      if (t.endsWith("m")) {
        return millis(Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000);
      }
      return millis(Double.parseDouble(t) * 1_000);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration; use e.g. 10s, 500ms, 2m or a number of seconds");
    }
  }

  private static Duration millis(double millis) {
    if (!Double.isFinite(millis) || millis < 0 || millis > Long.MAX_VALUE / 2.0) {
      throw new NumberFormatException("out of range");
    }
    return Duration.ofMillis(Math.round(millis));
  }
}

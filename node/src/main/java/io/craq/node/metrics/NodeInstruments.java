package io.craq.node.metrics;

import io.craq.core.message.Message;
import io.craq.core.message.Message.Chained;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;

/**
 * The histograms the node driver feeds as it works: request latency per operation, store writes
 * (time and size), log forces, inputs per round. Off until {@link #enable()} ({@link NodeMetrics}
 * enables and registers them when {@code --metrics-listen} is given): a node without metrics pays
 * one volatile read per event. On, each event costs an observation (the Prometheus client's
 * lock-free histogram, classic buckets only, no exemplars) and a clock read.
 *
 * <p>Thread-safe: the loop, the store thread and transport threads observe concurrently.
 */
public final class NodeInstruments {
  /** Latency buckets in seconds: 50 µs to 10 s. */
  private static final double[] SECONDS =
      new double[] {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
        1, 2.5, 5, 10
      };

  /** Size buckets: 1 to 4096, doubling. */
  private static final double[] SIZES =
      new double[] {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};

  private final Histogram requestSeconds =
      Histogram.builder()
          .name("craq_node_request_duration_seconds")
          .help(
              "Time from a request's arrival at the node to its reply, by operation (read, write,"
                  + " multi_write, read_all, chain, stats, map, ...); refusals included")
          .labelNames("operation")
          .classicOnly()
          .classicUpperBounds(SECONDS)
          .withoutExemplars()
          .build();

  private final Histogram storeApplySeconds =
      Histogram.builder()
          .name("craq_node_store_apply_duration_seconds")
          .help(
              "Time of one store write (the group commit of everything queued for the store), by"
                  + " whether it was forced to disk (sync=true) or carried commit markers only")
          .labelNames("sync")
          .classicOnly()
          .classicUpperBounds(SECONDS)
          .withoutExemplars()
          .build();

  private final Histogram storeApplyOps =
      Histogram.builder()
          .name("craq_node_store_apply_ops")
          .help("Changes (versions, commit markers, deletions) in one store write: the group size")
          .classicOnly()
          .classicUpperBounds(SIZES)
          .withoutExemplars()
          .build();

  private final Histogram logForceSeconds =
      Histogram.builder()
          .name("craq_node_log_force_duration_seconds")
          .help(
              "Time of the write-ahead log forces (fdatasync) of one store write; stores without a"
                  + " log (memory) observe none")
          .classicOnly()
          .classicUpperBounds(SECONDS)
          .withoutExemplars()
          .build();

  private final Histogram roundInputs =
      Histogram.builder()
          .name("craq_node_round_inputs")
          .help(
              "Inputs (requests and chain messages) the node's state machine took in one round,"
                  + " rounds with none included")
          .classicOnly()
          .classicUpperBounds(SIZES)
          .withoutExemplars()
          .build();

  private volatile boolean enabled;

  private final DistributionDataPoint storeSynced = storeApplySeconds.labelValues("true");
  private final DistributionDataPoint storeUnsynced = storeApplySeconds.labelValues("false");

  /** The latency series of each request type, made once per type. */
  private final ClassValue<DistributionDataPoint> byType =
      new ClassValue<>() {
        @Override
        protected DistributionDataPoint computeValue(Class<?> type) {
          return requestSeconds.labelValues(operation(type));
        }
      };

  /** From now on the histograms are fed. */
  public void enable() {
    enabled = true;
  }

  /** True once {@link #enable()} was called. */
  public boolean enabled() {
    return enabled;
  }

  /** Registers every histogram with {@code registry}. */
  public void registerWith(PrometheusRegistry registry) {
    registry.register(requestSeconds);
    registry.register(storeApplySeconds);
    registry.register(storeApplyOps);
    registry.register(logForceSeconds);
    registry.register(roundInputs);
  }

  /**
   * The series to observe {@code request}'s latency in (a chain's envelope: its content's), or null
   * while not enabled.
   */
  public DistributionDataPoint requestTimer(Message request) {
    if (!enabled) {
      return null;
    }
    Message inner = request instanceof Chained chained ? chained.message() : request;
    return byType.get(inner.getClass());
  }

  /**
   * A request that arrived at {@code arrivalNanos} ({@link System#nanoTime}) and was to be counted
   * in {@code timer} ({@link #requestTimer}; null: not counted) has been answered.
   */
  public static void replied(DistributionDataPoint timer, long arrivalNanos) {
    if (timer != null) {
      timer.observe((System.nanoTime() - arrivalNanos) / 1e9);
    }
  }

  /** A store write of {@code ops} changes took {@code nanos}; {@code force}: it was synced. */
  public void storeApplied(long nanos, int ops, boolean force) {
    if (!enabled) {
      return;
    }
    (force ? storeSynced : storeUnsynced).observe(nanos / 1e9);
    storeApplyOps.observe(ops);
  }

  /** A store write forced the log, which took {@code nanos} in all. */
  public void logForced(long nanos) {
    if (!enabled) {
      return;
    }
    logForceSeconds.observe(nanos / 1e9);
  }

  /** A round of the state machine took {@code inputs} inputs. */
  public void round(int inputs) {
    if (!enabled) {
      return;
    }
    roundInputs.observe(inputs);
  }

  /**
   * The operation label of a request type: {@code ReadAllRequest} is {@code read_all}, {@code
   * MultiWriteRequest} {@code multi_write}; types added later get theirs the same way.
   */
  static String operation(Class<?> type) {
    String name = type.getSimpleName();
    if (name.endsWith("Request")) {
      name = name.substring(0, name.length() - "Request".length());
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        out.append('_');
      }
      out.append(Character.toLowerCase(c));
    }
    return out.isEmpty() ? "unknown" : out.toString().toLowerCase(Locale.ROOT);
  }
}

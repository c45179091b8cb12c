package io.craq.cli.bench;

import io.craq.cli.bench.BenchReport.Rate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Latencies and failures of one kind of operation ({@code read}, {@code write}, {@code cas}, {@code
 * echo}). Recording is thread-safe and wait-free (completions arrive on transport threads); the
 * progress thread takes one interval per second and, once the warmup is over, adds it to the total
 * and keeps its throughput ({@link #rates()}, the chart's throughput over time).
 */
final class Meter {
  /** Latencies are recorded in microseconds, up to one minute, with 3 significant digits. */
  static final long LATENCY_MICROS_MAX = 60_000_000L;

  private final String name;
  private final Recorder recorder = new Recorder(LATENCY_MICROS_MAX, 3);
  private final Histogram total = new Histogram(LATENCY_MICROS_MAX, 3);
  private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, LongAdder> notes = new ConcurrentHashMap<>();

  /** Throughput of every interval of the measured time, in order; guarded by {@code this}. */
  private final List<Rate> rates = new ArrayList<>();

  private volatile boolean measuring;
  private Histogram interval;
  private long intervalStartNanos = System.nanoTime();
  private long measureStartNanos;

  Meter(String name) {
    this.name = name;
  }

  String name() {
    return name;
  }

  /** Records one completed operation that took {@code nanos}. */
  void success(long nanos) {
    recorder.recordValue(Math.min(LATENCY_MICROS_MAX, Math.max(0, nanos / 1_000)));
  }

  /** Counts one failed operation under {@code kind} (an error code or exception name). */
  void failure(String kind) {
    if (measuring) {
      failures.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }
  }

  /** Counts an outcome that is neither success nor failure, e.g. a CAS conflict, not found. */
  void note(String kind) {
    if (measuring) {
      notes.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }
  }

  /**
   * Ends the current interval (called once a second by the progress thread only) and returns its
   * histogram; while measuring, adds it to the total and its throughput to {@link #rates()}.
   */
  synchronized Histogram endInterval() {
    long now = System.nanoTime();
    interval = recorder.getIntervalHistogram(interval);
    if (measuring) {
      total.add(interval);
      if (now > intervalStartNanos) {
        rates.add(
            new Rate(
                (now - measureStartNanos) / 1e9,
                interval.getTotalCount() / ((now - intervalStartNanos) / 1e9)));
      }
    }
    intervalStartNanos = now;
    return interval;
  }

  /** Starts counting towards the result: the warmup ends. */
  synchronized void startMeasuring() {
    endInterval();
    measureStartNanos = intervalStartNanos;
    measuring = true;
  }

  /** Stops counting towards the result, after taking what was recorded since the last interval. */
  synchronized void stopMeasuring() {
    endInterval();
    measuring = false;
  }

  synchronized Histogram total() {
    return total.copy();
  }

  /**
   * The throughput of each interval of the measured time: one a second, the last one ending when
   * the measurement stops (shorter if the duration is not a whole number of seconds).
   */
  synchronized List<Rate> rates() {
    return List.copyOf(rates);
  }

  long failureCount() {
    return failures.values().stream().mapToLong(LongAdder::sum).sum();
  }

  Map<String, Long> failuresByKind() {
    return snapshot(failures);
  }

  Map<String, Long> notesByKind() {
    return snapshot(notes);
  }

  private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}

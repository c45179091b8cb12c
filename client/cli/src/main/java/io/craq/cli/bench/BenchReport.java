package io.craq.cli.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * The result of one {@code craq bench} run: the text table printed at the end, the same content as
 * JSON ({@code --json FILE}), and what {@link BenchPlot} draws ({@code --plot FILE}). Pure data and
 * formatting, so tests build it by hand.
 */
record BenchReport(
    String date,
    Map<String, Object> settings,
    String target,
    List<Phase> phases,
    List<NodeCounterRow> nodeCounters,
    Load load) {

  /** The counters of the per-node table, in its column order, with their headings. */
  static final List<String[]> NODE_COUNTER_COLUMNS =
      List.of(
          new String[] {"reads_clean", "clean"},
          new String[] {"reads_after_query", "after query"},
          new String[] {"reads_dirty", "dirty"},
          new String[] {"reads_refused", "refused"},
          new String[] {"version_queries_sent", "queries sent"},
          new String[] {"version_queries_served", "queries served"},
          new String[] {"writes_accepted", "writes"},
          new String[] {"versions_committed", "committed"},
          new String[] {"versions_resent", "resent"},
          new String[] {"store_transactions", "store txns"},
          new String[] {"store_apply_micros", "store us"});

  /**
   * How one chain member's counters grew during the measured time (see NodeCounters in core), or
   * why they are unknown ({@code error} set, {@code counters} empty).
   */
  record NodeCounterRow(
      String node, String address, String role, Map<String, Long> counters, String error) {
    static NodeCounterRow failed(String node, String address, String error) {
      return new NodeCounterRow(node, address, "?", Map.of(), error);
    }
  }

  /**
   * Levels of the latency curve per halving of the distance to 100%: 5 gives 0, 10, ... 50, 55, ...
   * 75, 77.5, ... percent, about 17 points per decimal nine.
   */
  static final int PERCENTILE_TICKS_PER_HALF_DISTANCE = 5;

  /**
   * Throughput of one interval (about a second) of the measured time.
   *
   * @param seconds the end of the interval, in seconds since the measurement started
   */
  record Rate(double seconds, double opsPerSecond) {}

  /** Latency distribution: {@code percentile}% of operations took at most {@code millis}. */
  record PercentilePoint(double percentile, double millis) {}

  /**
   * One kind of operation, measured after the warmup. Latencies in milliseconds.
   *
   * @param perSecond throughput of each second of the measured time
   * @param percentiles the latency distribution, by increasing percentile below 100 (the 100th is
   *     {@code max}); empty when nothing completed
   */
  record OpResult(
      String op,
      long ops,
      double seconds,
      double p50,
      double p95,
      double p99,
      double p999,
      double max,
      long failures,
      Map<String, Long> failuresByKind,
      Map<String, Long> notes,
      List<Rate> perSecond,
      List<PercentilePoint> percentiles) {

    static OpResult of(
        String op,
        Histogram latencyMicros,
        double seconds,
        List<Rate> perSecond,
        long failures,
        Map<String, Long> failuresByKind,
        Map<String, Long> notes) {
      long ops = latencyMicros.getTotalCount();
      return new OpResult(
          op,
          ops,
          seconds,
          percentile(latencyMicros, ops, 50),
          percentile(latencyMicros, ops, 95),
          percentile(latencyMicros, ops, 99),
          percentile(latencyMicros, ops, 99.9),
          ops == 0 ? Double.NaN : latencyMicros.getMaxValue() / 1000.0,
          failures,
          failuresByKind,
          notes,
          List.copyOf(perSecond),
          percentiles(latencyMicros));
    }

    private static double percentile(Histogram h, long count, double p) {
      return count == 0 ? Double.NaN : h.getValueAtPercentile(p) / 1000.0;
    }

    /** HdrHistogram's percentile iteration without its last point, 100% (the max, {@code max}). */
    private static List<PercentilePoint> percentiles(Histogram latencyMicros) {
      List<PercentilePoint> points = new ArrayList<>();
      if (latencyMicros.getTotalCount() == 0) {
        return points;
      }
      for (HistogramIterationValue v :
          latencyMicros.percentiles(PERCENTILE_TICKS_PER_HALF_DISTANCE)) {
        double level = v.getPercentileLevelIteratedTo();
        if (level < 100) {
          points.add(new PercentilePoint(level, v.getValueIteratedTo() / 1000.0));
        }
      }
      return List.copyOf(points);
    }

    double opsPerSecond() {
      return seconds > 0 ? ops / seconds : Double.NaN;
    }
  }

  /** CPU used by one process during the measurement. */
  record CpuRow(String process, long pid, double cpuSeconds, double per1000Ops) {}

  /**
   * One measured phase: the CRAQ workload, or the echo baseline.
   *
   * @param name {@code craq} or {@code echo baseline}
   */
  record Phase(String name, List<OpResult> ops, List<CpuRow> cpu) {
    long totalOps() {
      return ops.stream().mapToLong(OpResult::ops).sum();
    }

    double totalOpsPerSecond() {
      return ops.stream().mapToDouble(OpResult::opsPerSecond).filter(Double::isFinite).sum();
    }
  }

  /** The machine's load, so a reader can judge a noisy run. */
  record Load(int cores, double loadAverageBefore, double loadAverageAfter) {}

  /** Throughput of each CRAQ operation divided by the echo baseline's, when both ran. */
  Map<String, Double> ratios() {
    Map<String, Double> ratios = new LinkedHashMap<>();
    Phase echo = phase("echo baseline");
    Phase craq = phase("craq");
    if (echo == null || craq == null || !(echo.totalOpsPerSecond() > 0)) {
      return ratios;
    }
    for (OpResult op : craq.ops()) {
      ratios.put(op.op(), op.opsPerSecond() / echo.totalOpsPerSecond());
    }
    OpResult echoOp = echo.ops().get(0);
    OpResult first = craq.ops().isEmpty() ? null : craq.ops().get(0);
    if (first != null && echoOp.p50() > 0) {
      ratios.put(first.op() + " p50 latency (x echo)", first.p50() / echoOp.p50());
    }
    return ratios;
  }

  Phase phase(String name) {
    return phases.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
  }

  /** The human-readable table. */
  void printTable(PrintWriter out) {
    out.println();
    out.println("craq bench, " + date + ": " + target);
    out.println("settings: " + describeSettings());
    for (Phase phase : phases) {
      out.println();
      out.printf(
          Locale.ROOT,
          "%-14s %10s %11s %8s %8s %8s %9s %8s %8s%n",
          phase.name(),
          "ops",
          "ops/s",
          "p50 ms",
          "p95 ms",
          "p99 ms",
          "p99.9 ms",
          "max ms",
          "failed");
      for (OpResult op : phase.ops()) {
        out.printf(
            Locale.ROOT,
            "%-14s %10d %11.0f %8s %8s %8s %9s %8s %8d%n",
            op.op(),
            op.ops(),
            op.opsPerSecond(),
            ms(op.p50()),
            ms(op.p95()),
            ms(op.p99()),
            ms(op.p999()),
            ms(op.max()),
            op.failures());
        if (!op.failuresByKind().isEmpty()) {
          out.println("               failures: " + op.failuresByKind());
        }
        if (!op.notes().isEmpty()) {
          out.println("               also: " + op.notes());
        }
      }
      out.println("  CPU seconds per 1000 operations (" + phase.totalOps() + " operations):");
      for (CpuRow row : phase.cpu()) {
        out.printf(
            Locale.ROOT,
            "    %-20s pid %-8d %8.2f s CPU %10.4f s/1000 ops%n",
            row.process(),
            row.pid(),
            row.cpuSeconds(),
            row.per1000Ops());
      }
    }
    Map<String, Double> ratios = ratios();
    if (!ratios.isEmpty()) {
      out.println();
      out.println("ratio to the echo baseline (same threads, in-flight and message size):");
      ratios.forEach((op, ratio) -> out.printf(Locale.ROOT, "  %-22s %.3f%n", op, ratio));
    }
    printNodeCounters(out);
    out.printf(
        Locale.ROOT,
        "machine: %d cores, load average %.2f before, %.2f after%n",
        load.cores(),
        load.loadAverageBefore(),
        load.loadAverageAfter());
    out.flush();
  }

  private void printNodeCounters(PrintWriter out) {
    if (nodeCounters.isEmpty()) {
      return;
    }
    out.println();
    out.println(
        "per-node counters during the measured time (reads by how they were answered; "
            + "version queries; writes numbered at the head):");
    StringBuilder heading =
        new StringBuilder(String.format(Locale.ROOT, "  %-12s %-12s", "node", "role"));
    for (String[] column : NODE_COUNTER_COLUMNS) {
      heading.append(String.format(Locale.ROOT, " %14s", column[1]));
    }
    out.println(heading);
    for (NodeCounterRow row : nodeCounters) {
      StringBuilder line =
          new StringBuilder(String.format(Locale.ROOT, "  %-12s %-12s", row.node(), row.role()));
      if (row.error() != null) {
        line.append(" unknown: ").append(row.error());
      } else {
        for (String[] column : NODE_COUNTER_COLUMNS) {
          Long value = row.counters().get(column[0]);
          line.append(String.format(Locale.ROOT, " %14s", value == null ? "-" : value));
        }
      }
      out.println(line);
    }
  }

  /** The settings as {@code key=value} words, as in the table's {@code settings:} line. */
  String describeSettings() {
    List<String> parts = new ArrayList<>();
    settings.forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(" ", parts);
  }

  private static String ms(double millis) {
    if (!Double.isFinite(millis)) {
      return "-";
    }
    return String.format(Locale.ROOT, millis < 10 ? "%.3f" : "%.1f", millis);
  }

  /** The same content as the table, as one JSON object. */
  String toJson() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("tool", "craq bench");
    root.put("date", date);
    root.put("target", target);
    root.put("settings", settings);
    List<Object> phaseList = new ArrayList<>();
    for (Phase phase : phases) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("name", phase.name());
      List<Object> ops = new ArrayList<>();
      for (OpResult op : phase.ops()) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("op", op.op());
        o.put("ops", op.ops());
        o.put("seconds", op.seconds());
        o.put("opsPerSecond", op.opsPerSecond());
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("p50", op.p50());
        latency.put("p95", op.p95());
        latency.put("p99", op.p99());
        latency.put("p999", op.p999());
        latency.put("max", op.max());
        o.put("latencyMillis", latency);
        o.put("failures", op.failures());
        o.put("failuresByKind", new LinkedHashMap<>(op.failuresByKind()));
        o.put("notes", new LinkedHashMap<>(op.notes()));
        List<Object> perSecond = new ArrayList<>();
        for (Rate rate : op.perSecond()) {
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("seconds", rate.seconds());
          r.put("opsPerSecond", rate.opsPerSecond());
          perSecond.add(r);
        }
        o.put("perSecond", perSecond);
        ops.add(o);
      }
      p.put("operations", ops);
      List<Object> cpu = new ArrayList<>();
      for (CpuRow row : phase.cpu()) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("process", row.process());
        c.put("pid", row.pid());
        c.put("cpuSeconds", row.cpuSeconds());
        c.put("cpuSecondsPer1000Ops", row.per1000Ops());
        cpu.add(c);
      }
      p.put("cpu", cpu);
      phaseList.add(p);
    }
    root.put("phases", phaseList);
    root.put("ratiosToEcho", new LinkedHashMap<String, Object>(ratios()));
    List<Object> counters = new ArrayList<>();
    for (NodeCounterRow row : nodeCounters) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("node", row.node());
      c.put("address", row.address());
      c.put("role", row.role());
      if (row.error() != null) {
        c.put("error", row.error());
      } else {
        c.put("counters", new LinkedHashMap<String, Object>(row.counters()));
      }
      counters.add(c);
    }
    root.put("perNodeCounters", counters);
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("cores", load.cores());
    machine.put("loadAverageBefore", load.loadAverageBefore());
    machine.put("loadAverageAfter", load.loadAverageAfter());
    root.put("machine", machine);
    return JsonOut.render(root);
  }
}

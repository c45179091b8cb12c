package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.bench.BenchReport.CpuRow;
import io.craq.cli.bench.BenchReport.Load;
import io.craq.cli.bench.BenchReport.NodeCounterRow;
import io.craq.cli.bench.BenchReport.OpResult;
import io.craq.cli.bench.BenchReport.PercentilePoint;
import io.craq.cli.bench.BenchReport.Phase;
import io.craq.cli.bench.BenchReport.Rate;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The final table and its JSON twin, from hand-made results. */
class BenchReportTest {

  private static Histogram latencies(long... micros) {
    Histogram h = new Histogram(Meter.LATENCY_MICROS_MAX, 3);
    for (long m : micros) {
      h.recordValue(m);
    }
    return h;
  }

  private static BenchReport report() {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("workload", "read");
    settings.put("threads", 32);
    OpResult read =
        OpResult.of(
            "read",
            latencies(100, 200, 300, 400, 10_000),
            2.0,
            List.of(new Rate(1.0, 3.0), new Rate(2.0, 2.0)),
            1,
            Map.of("UNAVAILABLE", 1L),
            Map.of());
    OpResult echo =
        OpResult.of(
            "echo",
            latencies(50, 50, 50, 50, 50, 50, 50, 50, 50, 50),
            2.0,
            List.of(new Rate(1.0, 5.0), new Rate(2.0, 5.0)),
            0,
            Map.of(),
            Map.of());
    Phase craq =
        new Phase(
            "craq",
            List.of(read),
            List.of(
                new CpuRow("n1", 42, 0.5, 100.0), new CpuRow("bench (this JVM)", 7, 0.25, 50.0)));
    Phase baseline =
        new Phase(
            "echo baseline",
            List.of(echo),
            List.of(new CpuRow("bench + echo server", 7, 0.1, 10.0)));
    Map<String, Long> tail = new LinkedHashMap<>();
    tail.put("reads_clean", 120L);
    tail.put("reads_after_query", 0L);
    tail.put("version_queries_served", 37L);
    List<NodeCounterRow> nodes =
        List.of(
            new NodeCounterRow("n3", "127.0.0.1:3", "tail", tail, null),
            NodeCounterRow.failed("n2", "127.0.0.1:2", "after: no answer within 5000 ms"));
    return new BenchReport(
        "2026-11-26T12:00:00Z",
        settings,
        "spawned memory cluster",
        List.of(craq, baseline),
        nodes,
        new Load(2, 1.5, Double.NaN));
  }

  @Test
  @DisplayName(
      "percentiles come from the histogram, in milliseconds, and throughput is ops / seconds")
  void opResult() {
    OpResult read = report().phases().get(0).ops().get(0);
    assertEquals(5, read.ops());
    assertEquals(2.5, read.opsPerSecond());
    assertEquals(0.3, read.p50(), 0.001);
    assertEquals(10.0, read.max(), 0.01);
  }

  @Test
  @DisplayName("an operation that never completed has no percentiles, not zeros")
  void emptyResult() {
    OpResult none = OpResult.of("write", latencies(), 1.0, List.of(), 3, Map.of(), Map.of());
    assertEquals(0, none.ops());
    assertTrue(Double.isNaN(none.p50()));
    assertTrue(Double.isNaN(none.max()));
    assertEquals(List.of(), none.percentiles());
  }

  @Test
  @DisplayName("the latency curve rises with the percentile, below 100%, from the histogram")
  void percentileCurve() {
    long[] micros = new long[1000];
    for (int i = 0; i < micros.length; i++) {
      micros[i] = (i + 1) * 10L; // 10 us ... 10 ms, evenly
    }
    List<PercentilePoint> curve =
        OpResult.of("read", latencies(micros), 1.0, List.of(), 0, Map.of(), Map.of()).percentiles();
    assertTrue(curve.size() > 20, curve.toString());
    assertEquals(0.0, curve.get(0).percentile());
    assertTrue(
        curve.getLast().percentile() >= 99.9 && curve.getLast().percentile() < 100,
        curve.toString());
    for (int i = 1; i < curve.size(); i++) {
      assertTrue(curve.get(i).percentile() > curve.get(i - 1).percentile(), curve.toString());
      assertTrue(curve.get(i).millis() >= curve.get(i - 1).millis(), curve.toString());
    }
    PercentilePoint median =
        curve.stream().filter(p -> p.percentile() == 50).findFirst().orElseThrow();
    assertEquals(5.0, median.millis(), 0.01);
  }

  @Test
  @DisplayName("ratios divide throughput by the echo baseline's, and p50 latency by echo's")
  void ratios() {
    Map<String, Double> ratios = report().ratios();
    assertEquals(0.5, ratios.get("read"), 1e-9);
    assertEquals(6.0, ratios.get("read p50 latency (x echo)"), 0.05);
  }

  @Test
  @DisplayName("the table has every column, the CPU rows, the ratios and the per-node counters")
  void table() {
    StringWriter text = new StringWriter();
    report().printTable(new PrintWriter(text));
    String table = text.toString();
    for (String expected :
        List.of(
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "ops/s",
            "read",
            "echo baseline",
            "n1",
            "pid 42",
            "s/1000 ops",
            "UNAVAILABLE",
            "ratio to the echo baseline",
            "per-node counters during the measured time",
            "queries served",
            "2 cores")) {
      assertTrue(table.contains(expected), "missing '" + expected + "' in:\n" + table);
    }
    // One row per node: the tail's numbers under their headings (absent counters as '-'), the
    // node that did not answer with its reason.
    assertTrue(
        table.matches("(?s).*\\n  n3 +tail +120 +0 +- +- +- +37 +- +- +- +- +-\\n.*"), table);
    assertTrue(
        table.contains("  n2           ?            unknown: after: no answer within 5000 ms"),
        table);
  }

  @Test
  @DisplayName("the JSON holds the same numbers; NaN becomes null")
  void json() {
    String json = report().toJson();
    assertTrue(json.contains("\"opsPerSecond\": 2.5"), json);
    assertTrue(json.contains("\"p50\": 0.3"), json);
    assertTrue(json.contains("\"cpuSecondsPer1000Ops\": 100"), json);
    assertTrue(json.contains("\"UNAVAILABLE\": 1"), json);
    String flat = json.replaceAll("\\s+", " ");
    assertTrue(
        flat.contains(
            "\"perNodeCounters\": [ { \"node\": \"n3\", \"address\": \"127.0.0.1:3\","
                + " \"role\": \"tail\", \"counters\": { \"reads_clean\": 120,"),
        json);
    assertTrue(flat.contains("\"error\": \"after: no answer within 5000 ms\""), json);
    assertTrue(json.contains("\"loadAverageAfter\": null"), json);
    assertTrue(json.contains("\"read\": 0.5"), json);
    assertTrue(
        json.replaceAll("\\s+", " ")
            .contains(
                "\"perSecond\": [ { \"seconds\": 1,"
                    + " \"opsPerSecond\": 3 }, { \"seconds\": 2, \"opsPerSecond\": 2 } ]"),
        json);
    assertFalse(json.contains("NaN"), json);
  }

  @Test
  @DisplayName("JSON strings are escaped")
  void escaping() {
    assertEquals(
        "{\n  \"a\\\"b\": \"line\\nnext\\\\\"\n}\n",
        JsonOut.render(Map.of("a\"b", "line\nnext\\")));
  }
}

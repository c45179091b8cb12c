package io.craq.cli.bench;

import io.craq.cli.bench.ResultsTable.Row;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The summary of a reproduction of the CRAQ paper's experiments ({@code bin/craq-paper}): per
 * figure, the numbers measured here (its results table), the ratios CRAQ-N / CR-3 beside the
 * paper's (its published numbers, in the same columns), and whether each ratio reaches the target
 * the reproduction sets for it. Markdown, on stdout and in the run's summary.md.
 *
 * <p>Both tables have the columns figure, mode, nodes, valueBytes, writeRate, op, opsPerSecond,
 * p50Millis, p99Millis, failures; {@code -} is a value that does not exist. The runs table
 * (optional) has a row per bench run with its name and the machine's CPU busy share.
 */
final class PaperSummary {
  /**
   * What CRAQ-3 reads must reach over CR-3 in figure 5: reads served by every node of three,
   * against reads at the tail only; the paper has 2.91.
   */
  static final double FIG5_CRAQ3_TARGET = 2.8;

  /** What CRAQ-7 reads must reach over CR-3 in figure 5; the paper has 6.76. */
  static final double FIG5_CRAQ7_TARGET = 6.5;

  /**
   * What CRAQ-3 reads must reach over CR-3 in figure 6 at the highest write rate: with writes the
   * non-tail nodes must ask the tail for dirty keys; the paper has 1.95 at 250 writes/s.
   */
  static final double FIG6_LOADED_TARGET = 1.9;

  /**
   * What 6 nodes must reach over 3 in the scale-out figure, for reads and for writes: chains spread
   * over twice the nodes, hence twice the links, with some loss to imbalance and overhead.
   */
  static final double SCALEOUT_6_TARGET = 1.7;

  /** What 9 nodes must reach over 3 in the scale-out figure, for reads and for writes. */
  static final double SCALEOUT_9_TARGET = 2.4;

  /** The replication factor of the scale-out figure's chains. */
  static final int SCALEOUT_REPLICAS = 3;

  /** A mixed run whose writes reached less than this share of the rate asked was starved. */
  static final double WRITES_STARVED_BELOW = 0.9;

  /** The capacity the paper's rates are for: its nodes' 100 Mbit/s links. */
  static final double PAPER_LINK_BITS = 100_000_000;

  /**
   * How the runs were made, as the reproduction was told.
   *
   * @param date when the summary is written, as its title shows it
   * @param caps figure to its nodes' egress cap, in tc's syntax (e.g. fig5 to 1mbit)
   * @param capBits figure to that cap in bits per second
   * @param queue the tbf queue length (tc syntax)
   * @param chainTrafficFirst whether the nodes' chain traffic went before read replies
   * @param scaleWrites whether the paper's write rates were scaled by cap / 100 Mbit/s when run
   * @param figures the figures run: fig5, fig6, fig7, fig9, scaleout
   * @param chains the chain lengths, in the order run
   * @param writeRates the paper's write rates of figures 6 and 7, besides 0
   * @param failedRuns the runs that produced no results
   * @param scaleoutNodes the node counts of the scale-out figure, in the order run
   * @param scaleoutChainsPerNode chains per node of the scale-out figure (chains = nodes x this)
   */
  record Settings(
      String date,
      Map<String, String> caps,
      Map<String, Long> capBits,
      String queue,
      boolean chainTrafficFirst,
      String store,
      String duration,
      String warmup,
      int threads,
      int inFlight,
      int keys,
      int writeThreads,
      boolean scaleWrites,
      int cores,
      String loadBefore,
      String loadAfter,
      Set<String> figures,
      List<String> chains,
      List<String> writeRates,
      List<String> failedRuns,
      List<String> scaleoutNodes,
      int scaleoutChainsPerNode) {
    String cap(String figure) {
      return caps.getOrDefault(figure, "-");
    }
  }

  private final Settings settings;
  private final ResultsTable ours;
  private final ResultsTable paper;
  private final ResultsTable runs;
  private final StringBuilder text = new StringBuilder();

  private PaperSummary(
      Settings settings, ResultsTable ours, ResultsTable paper, ResultsTable runs) {
    this.settings = settings;
    this.ours = ours;
    this.paper = paper;
    this.runs = runs;
  }

  /** The summary of {@code ours} against {@code paper}; {@code runs} may be null (no CPU). */
  static String render(
      Settings settings, ResultsTable ours, ResultsTable paper, ResultsTable runs) {
    return new PaperSummary(settings, ours, paper, runs).render();
  }

  private String render() {
    Settings s = settings;
    line("# CRAQ paper reproduction: " + s.date());
    line("");
    line(
        "Per-node egress cap (tc tbf, queue "
            + s.queue()
            + (s.chainTrafficFirst() ? ", chain traffic first (pfifo_fast bands)" : ", one FIFO")
            + "): **fig5 "
            + s.cap("fig5")
            + ", fig6 "
            + s.cap("fig6")
            + ", fig7 "
            + s.cap("fig7")
            + ", fig9 "
            + s.cap("fig9")
            + (s.figures().contains("scaleout") ? ", scaleout " + s.cap("scaleout") : "")
            + "**; coordinator and client links uncapped.");
    line(
        "Store "
            + s.store()
            + ", duration "
            + s.duration()
            + ", warmup "
            + s.warmup()
            + ", reads: "
            + s.threads()
            + " threads x "
            + s.inFlight()
            + " in flight, "
            + s.keys()
            + " keys.");
    line(
        "Write rates (fig6/fig7): "
            + (s.scaleWrites()
                ? "the paper's rates scaled by cap / 100 Mbit/s when run (the table gives both)"
                : "as given, unscaled")
            + ".");
    line(
        "Machine: "
            + s.cores()
            + " cores; load average (1/5/15 min) before: "
            + s.loadBefore()
            + ", after: "
            + s.loadAfter()
            + ".");
    line(
        "Paper: 100 Mbit/s links; compare the ratios, not the absolute numbers (ours are scaled"
            + " by the cap).");
    if (s.figures().contains("fig5")) {
      figure5();
    }
    for (String figure : List.of("fig6", "fig7")) {
      if (s.figures().contains(figure)) {
        readsAsWritesIncrease(figure);
      }
    }
    if (s.figures().contains("fig9")) {
      figure9();
    }
    if (s.figures().contains("scaleout")) {
      scaleout();
    }
    line("");
    if (!s.failedRuns().isEmpty()) {
      line("**Failed runs (no results):** " + String.join(" ", s.failedRuns()));
    } else {
      line(
          "All runs produced results. Per-run output and JSON: runs/; machine CPU busy % per run:"
              + " runs.tsv.");
    }
    line(
        "Failures counted by the bench (timeouts, refusals) are in the failures column of"
            + " results.tsv.");
    return text.toString();
  }

  private void figure5() {
    String cr3 = ops(ours, "fig5", "cr", "3", "500", "0", "read");
    String paperCr3 = ops(paper, "fig5", "cr", "3", "500", "0", "read");
    line("");
    line(
        "## Fig. 5: read throughput, 500-byte values (egress "
            + settings.cap("fig5")
            + " per node)");
    line("");
    line(
        "| chain | CRAQ reads/s | CR reads/s | CPU busy (CRAQ run) | CRAQ-N / CR-3 |"
            + " paper CRAQ-N / CR-3 | target |");
    line("|---|---|---|---|---|---|---|");
    for (String n : settings.chains()) {
      String craq = ops(ours, "fig5", "craq", n, "500", "0", "read");
      String ratio = ratio(craq, cr3);
      String paperRatio = ratio(ops(paper, "fig5", "craq", n, "500", "0", "read"), paperCr3);
      String target =
          switch (n) {
            case "3" -> verdict(ratio, FIG5_CRAQ3_TARGET);
            case "7" -> verdict(ratio, FIG5_CRAQ7_TARGET);
            default -> "-";
          };
      line(
          "| "
              + n
              + " | "
              + thousands(craq)
              + " | "
              + thousands(ops(ours, "fig5", "cr", n, "500", "0", "read"))
              + " | "
              + busy("fig5-craq-n" + n + "-v500-w0")
              + " | "
              + ratio
              + " | "
              + paperRatio
              + " | "
              + target
              + " |");
    }
    if (cr3 == null) {
      line("(no CR-3 run: --chains has no 3, so no ratios)");
    }
  }

  /** Figures 6 and 7: reads of CRAQ-3 and CR-3 as the write rate grows. */
  private void readsAsWritesIncrease(String figure) {
    String valueBytes = figure.equals("fig7") ? "5000" : "500";
    if (ops(ours, figure, "craq", "3", valueBytes, "0", "read") == null
        && ops(ours, figure, "cr", "3", valueBytes, "0", "read") == null) {
      return;
    }
    line("");
    line(
        "## "
            + (figure.equals("fig6") ? "Fig. 6" : "Fig. 7")
            + ": reads as writes increase,"
            + " 3 nodes, "
            + valueBytes
            + "-byte values (egress "
            + settings.cap(figure)
            + " per node)");
    line("");
    line(
        "| writes/s: paper's (asked here) | CRAQ-3 reads/s | CR-3 reads/s |"
            + " writes/s done (CRAQ / CR run) | write p50 ms (CRAQ / CR run) | CRAQ-3 / CR-3 | paper"
            + " | target |");
    line("|---|---|---|---|---|---|---|---|");
    List<String> rates = new ArrayList<>();
    rates.add("0");
    rates.addAll(settings.writeRates());
    String highest =
        settings.writeRates().isEmpty()
            ? null
            : settings.writeRates().get(settings.writeRates().size() - 1);
    for (String w : rates) {
      String craq = ops(ours, figure, "craq", "3", valueBytes, w, "read");
      String cr = ops(ours, figure, "cr", "3", valueBytes, w, "read");
      String ratio = ratio(craq, cr);
      String paperRatio =
          ratio(
              ops(paper, figure, "craq", "3", valueBytes, w, "read"),
              ops(paper, figure, "cr", "3", valueBytes, w, "read"));
      String target =
          figure.equals("fig6") && w.equals(highest) ? verdict(ratio, FIG6_LOADED_TARGET) : "-";
      String writesDone = ops(ours, figure, "craq", "3", valueBytes, w, "write");
      String asked = w.equals("0") ? "0" : askedRate(figure, w);
      Optional<Double> done = number(writesDone);
      if (!w.equals("0")
          && done.isPresent()
          && done.get() < WRITES_STARVED_BELOW * Double.parseDouble(asked)) {
        target += " (writes starved: " + thousands(writesDone) + " of " + asked + "/s done)";
      }
      line(
          "| "
              + w
              + " ("
              + asked
              + ") | "
              + thousands(craq)
              + " | "
              + thousands(cr)
              + " | "
              + thousands(writesDone)
              + " / "
              + thousands(ops(ours, figure, "cr", "3", valueBytes, w, "write"))
              + " | "
              + cell(figure, "craq", "3", valueBytes, w, "write", "p50Millis")
              + " / "
              + cell(figure, "cr", "3", valueBytes, w, "write", "p50Millis")
              + " | "
              + ratio
              + " | "
              + paperRatio
              + " | "
              + target
              + " |");
    }
  }

  private void figure9() {
    line("");
    line("## Fig. 9: writes, 500-byte values (egress " + settings.cap("fig9") + " per node)");
    line("");
    line(
        "| chain | writes/s ("
            + settings.writeThreads()
            + " clients) | p50 ms | p99 ms |"
            + " unloaded (1 client) writes/s | p50 ms | p99 ms |");
    line("|---|---|---|---|---|---|---|");
    for (String n : settings.chains()) {
      line(
          "| "
              + n
              + " | "
              + thousands(ops(ours, "fig9", "craq", n, "500", "-", "write"))
              + " | "
              + cell("fig9", "craq", n, "500", "-", "write", "p50Millis")
              + " | "
              + cell("fig9", "craq", n, "500", "-", "write", "p99Millis")
              + " | "
              + thousands(ops(ours, "fig9", "craq-unloaded", n, "500", "-", "write"))
              + " | "
              + cell("fig9", "craq-unloaded", n, "500", "-", "write", "p50Millis")
              + " | "
              + cell("fig9", "craq-unloaded", n, "500", "-", "write", "p99Millis")
              + " |");
    }
    line("");
    line(
        "(The paper's write figures are not in paper.tsv: no published numbers were"
            + " transcribed.)");
  }

  /**
   * The scale-out figure: total reads and total writes of clusters of N nodes with chains spread
   * over them (R = 3), against those of 3 nodes.
   */
  private void scaleout() {
    Settings s = settings;
    line("");
    line(
        "## Scale-out: chains of "
            + SCALEOUT_REPLICAS
            + " over N nodes, "
            + s.scaleoutChainsPerNode()
            + " chain(s) per node, 500-byte values (egress "
            + s.cap("scaleout")
            + " per node)");
    line("");
    line(
        "| nodes | chains | reads/s | reads x 3 nodes | target | writes/s | writes x 3 nodes |"
            + " target | CPU busy (read / write run) |");
    line("|---|---|---|---|---|---|---|---|---|");
    String reads3 = ops(ours, "scaleout", "craq", "3", "500", "-", "read");
    String writes3 = ops(ours, "scaleout", "craq", "3", "500", "-", "write");
    for (String n : s.scaleoutNodes()) {
      String reads = ops(ours, "scaleout", "craq", n, "500", "-", "read");
      String writes = ops(ours, "scaleout", "craq", n, "500", "-", "write");
      String readRatio = ratio(reads, reads3);
      String writeRatio = ratio(writes, writes3);
      Double target =
          switch (n) {
            case "6" -> SCALEOUT_6_TARGET;
            case "9" -> SCALEOUT_9_TARGET;
            default -> null;
          };
      String run = "scaleout-craq-n" + n + "-v500-w-";
      line(
          "| "
              + n
              + " | "
              + chainsOf(n)
              + " | "
              + thousands(reads)
              + " | "
              + readRatio
              + " | "
              + (target == null ? "-" : verdict(readRatio, target))
              + " | "
              + thousands(writes)
              + " | "
              + writeRatio
              + " | "
              + (target == null ? "-" : verdict(writeRatio, target))
              + " | "
              + busy(run + "-read")
              + " / "
              + busy(run + "-write")
              + " |");
    }
    if (reads3 == null && writes3 == null) {
      line("(no 3-node run, so no ratios)");
    }
  }

  /** The chains of the scale-out cluster of {@code nodes} nodes, or {@code -}. */
  private String chainsOf(String nodes) {
    try {
      return Integer.toString(Integer.parseInt(nodes) * settings.scaleoutChainsPerNode());
    } catch (NumberFormatException e) {
      return "-";
    }
  }

  /**
   * The writes per second the bench was asked for, for the paper's rate {@code paperRate}: scaled
   * by the figure's cap / 100 Mbit/s (unless the rates ran unscaled), to 4 significant digits.
   */
  String askedRate(String figure, String paperRate) {
    if (!settings.scaleWrites()) {
      return paperRate;
    }
    Long bits = settings.capBits().get(figure);
    if (bits == null) {
      return "-";
    }
    return significant(Double.parseDouble(paperRate) * bits / PAPER_LINK_BITS, 4);
  }

  private void line(String line) {
    text.append(line).append('\n');
  }

  private static boolean matches(
      Row row,
      String figure,
      String mode,
      String nodes,
      String valueBytes,
      String writeRate,
      String op) {
    return figure.equals(row.get("figure"))
        && mode.equals(row.get("mode"))
        && nodes.equals(row.get("nodes"))
        && valueBytes.equals(row.get("valueBytes"))
        && writeRate.equals(row.get("writeRate"))
        && op.equals(row.get("op"));
  }

  /** The operations per second of the first row of {@code table} for a run, or null if none. */
  static String ops(
      ResultsTable table,
      String figure,
      String mode,
      String nodes,
      String valueBytes,
      String writeRate,
      String op) {
    for (Row row : table.rows()) {
      if (matches(row, figure, mode, nodes, valueBytes, writeRate, op)) {
        return row.get("opsPerSecond");
      }
    }
    return null;
  }

  /** A column of the last row of ours for a run, as written there, or {@code -}. */
  private String cell(
      String figure,
      String mode,
      String nodes,
      String valueBytes,
      String writeRate,
      String op,
      String column) {
    String value = null;
    for (Row row : ours.rows()) {
      if (matches(row, figure, mode, nodes, valueBytes, writeRate, op)) {
        value = row.get(column);
      }
    }
    return value == null || value.isEmpty() ? "-" : value;
  }

  /** The machine's CPU busy share during the run named {@code run}, or {@code -}. */
  private String busy(String run) {
    if (runs == null
        || !runs.columns().contains("run")
        || !runs.columns().contains("machineCpuBusyPct")) {
      return "-";
    }
    String value = null;
    for (Row row : runs.rows()) {
      if (run.equals(row.get("run"))) {
        value = row.get("machineCpuBusyPct") + "%";
      }
    }
    return value == null ? "-" : value;
  }

  private static Optional<Double> number(String text) {
    if (text == null || text.isEmpty() || text.equals("-")) {
      return Optional.empty();
    }
    try {
      double value = Double.parseDouble(text);
      return Double.isFinite(value) ? Optional.of(value) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** A number rounded to a whole one (half to even), with thousands separators; or {@code -}. */
  static String thousands(String text) {
    return number(text)
        .map(x ->
            String.format(
                Locale.ROOT,
                "%,d",
                new BigDecimal(x).setScale(0, RoundingMode.HALF_EVEN).toBigInteger()))
        .orElse("-");
  }

  /** {@code a / b} with two decimals (half to even), or {@code -} without both or with b <= 0. */
  static String ratio(String a, String b) {
    Optional<Double> x = number(a);
    Optional<Double> y = number(b);
    if (x.isEmpty() || y.isEmpty() || y.get() <= 0) {
      return "-";
    }
    return new BigDecimal(x.get() / y.get()).setScale(2, RoundingMode.HALF_EVEN).toPlainString();
  }

  /** Whether a ratio (as {@link #ratio} writes it) reaches {@code target}. */
  static String verdict(String ratio, double target) {
    Optional<Double> r = number(ratio);
    if (r.isEmpty()) {
      return "no data";
    }
    return r.get() >= target
        ? String.format(Locale.ROOT, "PASS (>= %.1fx)", target)
        : String.format(Locale.ROOT, "MISS (< %.1fx)", target);
  }

  /**
   * {@code x} to {@code digits} significant digits without trailing zeros, in plain notation while
   * its exponent is from -4 to digits - 1, else as {@code 1.5e+07}.
   */
  static String significant(double x, int digits) {
    if (x == 0) {
      return "0";
    }
    BigDecimal rounded = new BigDecimal(x).round(new MathContext(digits, RoundingMode.HALF_EVEN));
    int exponent = rounded.precision() - rounded.scale() - 1;
    if (exponent < -4 || exponent >= digits) {
      BigDecimal mantissa = rounded.movePointLeft(exponent).stripTrailingZeros();
      return mantissa.toPlainString()
          + String.format(Locale.ROOT, "e%s%02d", exponent < 0 ? "-" : "+", Math.abs(exponent));
    }
    return rounded.stripTrailingZeros().toPlainString();
  }
}

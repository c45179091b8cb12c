package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ExitCodes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary of bin/craq-paper, from sample result tables. */
class PaperSummaryTest {
  /** The paper's published numbers, as bin/craq-paper writes them to paper.tsv. */
  static final String PAPER_TSV =
      """
      figure\tmode\tnodes\tvalueBytes\twriteRate\top\topsPerSecond\tp50Millis\tp99Millis\tfailures
      fig5\tcr\t3\t500\t0\tread\t20552\t-\t-\t-
      fig5\tcraq\t3\t500\t0\tread\t59882\t-\t-\t-
      fig5\tcraq\t5\t500\t0\tread\t99466\t-\t-\t-
      fig5\tcraq\t7\t500\t0\tread\t138833\t-\t-\t-
      fig6\tcraq\t3\t500\t0\tread\t59882\t-\t-\t-
      fig6\tcraq\t3\t500\t250\tread\t39873\t-\t-\t-
      fig6\tcr\t3\t500\t0\tread\t20552\t-\t-\t-
      fig6\tcr\t3\t500\t250\tread\t20500\t-\t-\t-
      fig7\tcraq\t3\t5000\t0\tread\t6808\t-\t-\t-
      fig7\tcr\t3\t5000\t0\tread\t2275\t-\t-\t-
      """;

  static final String HEADER =
      "figure\tmode\tnodes\tvalueBytes\twriteRate\top\topsPerSecond"
          + "\tp50Millis\tp99Millis\tfailures";

  /** A run of bin/craq-paper with its defaults, every figure, chains 3 5 7. */
  static PaperSummary.Settings settings(List<String> chains, List<String> failed) {
    return new PaperSummary.Settings(
        "2026-11-26 16:10 UTC",
        Map.of("fig5", "1mbit", "fig6", "2mbit", "fig7", "20mbit", "fig9", "100mbit"),
        Map.of("fig5", 1_000_000L, "fig6", 2_000_000L, "fig7", 20_000_000L, "fig9", 100_000_000L),
        "100ms",
        false,
        "lmdb",
        "10s",
        "3s",
        64,
        4,
        100,
        32,
        true,
        2,
        "5.1 4.9 4.0",
        "6.0 5.2 4.3",
        new LinkedHashSet<>(List.of("fig5", "fig6", "fig7", "fig9")),
        chains,
        List.of("50", "100", "150", "200", "250"),
        failed,
        List.of("3", "6", "9"),
        1);
  }

  static ResultsTable table(String name, String text) throws Exception {
    return ResultsTable.parse(name, text.lines().toList());
  }

  /** The results of three merged runs on a 2-core machine (the sample of docs/paper). */
  static ResultsTable sampleResults() throws Exception {
    try (InputStream in = PaperSummaryTest.class.getResourceAsStream("/paper/results.tsv")) {
      return table("results.tsv", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  static final String RUNS_TSV =
      """
      run\tfigure\tmode\tnodes\tvalueBytes\twriteRate\tegressRate\texitCode\tseconds\tmachineCpuBusyPct\tclusterCpuSeconds\tquietWaitSeconds
      fig5-craq-n3-v500-w0\tfig5\tcraq\t3\t500\t0\t1mbit\t0\t17\t46\t9.1\t0
      fig5-craq-n5-v500-w0\tfig5\tcraq\t5\t500\t0\t1mbit\t0\t17\t52\t12.0\t0
      fig5-craq-n7-v500-w0\tfig5\tcraq\t7\t500\t0\t1mbit\t0\t18\t74\t15.5\t1
      """;

  @Test
  @DisplayName(
      "every figure's table: our numbers, ratios beside the paper's, PASS against the"
          + " targets, starved writes named, fig9's loaded and unloaded writes")
  void sampleRun() throws Exception {
    String summary =
        PaperSummary.render(
            settings(List.of("3", "5", "7"), List.of()),
            sampleResults(),
            table("paper.tsv", PAPER_TSV),
            table("runs.tsv", RUNS_TSV));
    String expected =
        """
        # CRAQ paper reproduction: 2026-11-26 16:10 UTC

        Per-node egress cap (tc tbf, queue 100ms, one FIFO): **fig5 1mbit, fig6 2mbit, fig7 20mbit, fig9 100mbit**; coordinator and client links uncapped.
        Store lmdb, duration 10s, warmup 3s, reads: 64 threads x 4 in flight, 100 keys.
        Write rates (fig6/fig7): the paper's rates scaled by cap / 100 Mbit/s when run (the table gives both).
        Machine: 2 cores; load average (1/5/15 min) before: 5.1 4.9 4.0, after: 6.0 5.2 4.3.
        Paper: 100 Mbit/s links; compare the ratios, not the absolute numbers (ours are scaled by the cap).

        ## Fig. 5: read throughput, 500-byte values (egress 1mbit per node)

        | chain | CRAQ reads/s | CR reads/s | CPU busy (CRAQ run) | CRAQ-N / CR-3 | paper CRAQ-N / CR-3 | target |
        |---|---|---|---|---|---|---|
        | 3 | 590 | 209 | 46% | 2.82 | 2.91 | PASS (>= 2.8x) |
        | 5 | 965 | 208 | 52% | 4.61 | 4.84 | - |
        | 7 | 1,395 | 209 | 74% | 6.67 | 6.76 | PASS (>= 6.5x) |

        ## Fig. 6: reads as writes increase, 3 nodes, 500-byte values (egress 2mbit per node)

        | writes/s: paper's (asked here) | CRAQ-3 reads/s | CR-3 reads/s | writes/s done (CRAQ / CR run) | write p50 ms (CRAQ / CR run) | CRAQ-3 / CR-3 | paper | target |
        |---|---|---|---|---|---|---|---|
        | 0 (0) | 1,177 | 415 | - / - | - / - | 2.84 | 2.91 | - |
        | 50 (1) | 1,173 | 417 | 1 / 1 | 497.151 / 167.295 | 2.81 | - | - |
        | 100 (2) | 1,162 | 417 | 2 / 2 | 764.927 / 166.271 | 2.79 | - | - |
        | 150 (3) | 1,159 | 413 | 3 / 3 | 679.935 / 168.959 | 2.80 | - | - |
        | 200 (4) | 1,156 | 415 | 4 / 4 | 791.039 / 167.551 | 2.78 | - | - |
        | 250 (5) | 1,155 | 415 | 5 / 5 | 788.479 / 166.911 | 2.78 | 1.95 | PASS (>= 1.9x) |

        ## Fig. 7: reads as writes increase, 3 nodes, 5000-byte values (egress 20mbit per node)

        | writes/s: paper's (asked here) | CRAQ-3 reads/s | CR-3 reads/s | writes/s done (CRAQ / CR run) | write p50 ms (CRAQ / CR run) | CRAQ-3 / CR-3 | paper | target |
        |---|---|---|---|---|---|---|---|
        | 0 (0) | 1,404 | 471 | - / - | - / - | 2.98 | 2.99 | - |
        | 50 (10) | 1,381 | 472 | 10 / 10 | 563.711 / 104.063 | 2.93 | - | - |
        | 100 (20) | 1,350 | 470 | 20 / 20 | 583.167 / 141.439 | 2.87 | - | - |
        | 150 (30) | 1,324 | 470 | 30 / 30 | 461.567 / 128.703 | 2.82 | - | - |
        | 200 (40) | 1,287 | 470 | 37 / 40 | 1647.62 / 158.847 | 2.74 | - | - |
        | 250 (50) | 1,278 | 470 | 37 / 50 | 3088.38 / 126.783 | 2.72 | - | - (writes starved: 37 of 50/s done) |

        ## Fig. 9: writes, 500-byte values (egress 100mbit per node)

        | chain | writes/s (32 clients) | p50 ms | p99 ms | unloaded (1 client) writes/s | p50 ms | p99 ms |
        |---|---|---|---|---|---|---|
        | 3 | 1,541 | 17.695 | 64.927 | 258 | 3.681 | 11.311 |
        | 5 | 636 | 45.951 | 114.943 | 93 | 8.999 | 32.927 |
        | 7 | 422 | 71.615 | 221.567 | 67 | 12.479 | 49.151 |

        (The paper's write figures are not in paper.tsv: no published numbers were transcribed.)

        All runs produced results. Per-run output and JSON: runs/; machine CPU busy % per run: runs.tsv.
        Failures counted by the bench (timeouts, refusals) are in the failures column of results.tsv.
        """;
    assertEquals(expected, summary);
  }

  @Test
  @DisplayName(
      "a ratio under its target is a MISS; without CR-3 there are no ratios, and a"
          + " failed run is named")
  void missesAndGaps() throws Exception {
    ResultsTable ours =
        table(
            "results.tsv",
            HEADER
                + "\n"
                + "fig5\tcr\t3\t500\t0\tread\t200\t1\t2\t0\n"
                + "fig5\tcraq\t3\t500\t0\tread\t500.5\t1\t2\t0\n"
                + "fig5\tcraq\t7\t500\t0\tread\t1298.9\t1\t2\t0\n"
                + "fig6\tcraq\t3\t500\t0\tread\t1000\t1\t2\t0\n"
                + "fig6\tcr\t3\t500\t0\tread\t400\t1\t2\t0\n"
                + "fig6\tcraq\t3\t500\t250\tread\t700\t1\t2\t0\n"
                + "fig6\tcr\t3\t500\t250\tread\t400\t1\t2\t0\n"
                + "fig6\tcraq\t3\t500\t250\twrite\t4.4\t9\t20\t0\n");
    String summary =
        PaperSummary.render(
            settings(List.of("3", "7"), List.of("fig9-craq-n3-v500-w-")),
            ours,
            table("paper.tsv", PAPER_TSV),
            null);
    assertTrue(summary.contains("| 3 | 500 | 200 | - | 2.50 | 2.91 | MISS (< 2.8x) |\n"), summary);
    assertTrue(summary.contains("| 7 | 1,299 | - | - | 6.49 | 6.76 | MISS (< 6.5x) |\n"), summary);
    assertTrue(
        summary.contains(
            "| 250 (5) | 700 | 400 | 4 / - | 9 / - | 1.75 | 1.95 |"
                + " MISS (< 1.9x) (writes starved: 4 of 5/s done) |\n"),
        summary);
    assertTrue(summary.contains("| 100 (2) | - | - | - / - | - / - | - | - | - |\n"), summary);
    assertFalse(summary.contains("## Fig. 7"), "no fig7 rows, no fig7 table: " + summary);
    assertTrue(summary.contains("**Failed runs (no results):** fig9-craq-n3-v500-w-\n"), summary);

    ResultsTable noCr3 =
        table("results.tsv", HEADER + "\n" + "fig5\tcraq\t5\t500\t0\tread\t900\t1\t2\t0\n");
    String without =
        PaperSummary.render(
            settings(List.of("5", "7"), List.of()), noCr3, table("paper.tsv", PAPER_TSV), null);
    assertTrue(without.contains("| 5 | 900 | - | - | - | 4.84 | - |\n"), without);
    assertTrue(without.contains("| 7 | - | - | - | - | 6.76 | no data |\n"), without);
    assertTrue(without.contains("(no CR-3 run: --chains has no 3, so no ratios)\n"), without);
  }

  @Test
  @DisplayName(
      "the scale-out figure: reads and writes of 6 and 9 nodes against 3, PASS or MISS against"
          + " 1.7x and 2.4x, the chains of each cluster and the CPU of each run")
  void scaleout() throws Exception {
    ResultsTable ours =
        table(
            "results.tsv",
            HEADER
                + "\n"
                + "scaleout\tcraq\t3\t500\t-\tread\t300\t1\t2\t0\n"
                + "scaleout\tcraq\t3\t500\t-\twrite\t100\t1\t2\t0\n"
                + "scaleout\tcraq\t6\t500\t-\tread\t590\t1\t2\t0\n"
                + "scaleout\tcraq\t6\t500\t-\twrite\t160\t1\t2\t0\n"
                + "scaleout\tcraq\t9\t500\t-\tread\t870\t1\t2\t0\n");
    ResultsTable runs =
        table(
            "runs.tsv",
            "run\tmachineCpuBusyPct\n"
                + "scaleout-craq-n3-v500-w--read\t40\n"
                + "scaleout-craq-n3-v500-w--write\t55\n"
                + "scaleout-craq-n9-v500-w--read\t90\n");
    PaperSummary.Settings base = settings(List.of("3"), List.of());
    PaperSummary.Settings settings =
        new PaperSummary.Settings(
            base.date(),
            Map.of("scaleout", "500kbit"),
            Map.of("scaleout", 500_000L),
            base.queue(),
            false,
            base.store(),
            base.duration(),
            base.warmup(),
            base.threads(),
            base.inFlight(),
            base.keys(),
            base.writeThreads(),
            true,
            2,
            base.loadBefore(),
            base.loadAfter(),
            new LinkedHashSet<>(List.of("scaleout")),
            base.chains(),
            base.writeRates(),
            List.of(),
            List.of("3", "6", "9"),
            2);
    String summary = PaperSummary.render(settings, ours, table("paper.tsv", PAPER_TSV), runs);
    assertTrue(summary.contains(", scaleout 500kbit**"), summary);
    assertTrue(
        summary.contains(
            "## Scale-out: chains of 3 over N nodes, 2 chain(s) per node, 500-byte values"
                + " (egress 500kbit per node)\n"),
        summary);
    assertTrue(
        summary.contains("| 3 | 6 | 300 | 1.00 | - | 100 | 1.00 | - | 40% / 55% |\n"), summary);
    assertTrue(
        summary.contains(
            "| 6 | 12 | 590 | 1.97 | PASS (>= 1.7x) | 160 | 1.60 | MISS (< 1.7x) | - / - |\n"),
        summary);
    assertTrue(
        summary.contains("| 9 | 18 | 870 | 2.90 | PASS (>= 2.4x) | - | - | no data | 90% / - |\n"),
        summary);
    assertFalse(summary.contains("## Fig. 5"), summary);
    String withoutThree =
        PaperSummary.render(
            settings,
            table("results.tsv", HEADER + "\nscaleout\tcraq\t6\t500\t-\tread\t590\t1\t2\t0\n"),
            table("paper.tsv", PAPER_TSV),
            null);
    assertTrue(withoutThree.contains("(no 3-node run, so no ratios)\n"), withoutThree);
  }

  @Test
  @DisplayName(
      "numbers are printed as the summary always printed them: rounded half to even,"
          + " thousands separated, asked rates to 4 significant digits")
  void numberFormats() {
    assertEquals("1,234,568", PaperSummary.thousands("1234567.5"));
    assertEquals("2", PaperSummary.thousands("2.5"));
    assertEquals("-", PaperSummary.thousands("-"));
    assertEquals("-", PaperSummary.thousands(null));
    assertEquals("0.33", PaperSummary.ratio("1", "3"));
    assertEquals("-", PaperSummary.ratio("1", "0"));
    assertEquals("-", PaperSummary.ratio("1", "-"));
    assertEquals("no data", PaperSummary.verdict("-", 2.8));
    assertEquals("PASS (>= 2.8x)", PaperSummary.verdict("2.80", 2.8));
    assertEquals("5", PaperSummary.significant(5.0, 4));
    assertEquals("0.25", PaperSummary.significant(0.25, 4));
    assertEquals("1235", PaperSummary.significant(1234.5678, 4));
    assertEquals("1.235e+04", PaperSummary.significant(12345.678, 4));
    assertEquals("1e-05", PaperSummary.significant(0.00001, 4));
  }

  @Test
  @DisplayName(
      "craq paper-summary reads the tables from files; it is not listed in --help, and a"
          + " missing table is a usage error")
  void command(@TempDir Path dir) throws IOException {
    Path results = dir.resolve("results.tsv");
    Path paper = dir.resolve("paper.tsv");
    Files.writeString(
        results,
        HEADER
            + "\nfig5\tcr\t3\t500\t0\tread\t200\t1\t2\t0\n"
            + "fig5\tcraq\t3\t500\t0\tread\t600\t1\t2\t0\n");
    Files.writeString(paper, PAPER_TSV);
    CraqRun run =
        CraqRun.of(
            "paper-summary",
            "--results",
            results.toString(),
            "--paper",
            paper.toString(),
            "--runs",
            dir.resolve("absent.tsv").toString(),
            "--chains",
            "3",
            "--figures",
            "fig5",
            "--cap",
            "fig5=1mbit",
            "--cap-bits",
            "fig5=1000000",
            "--cores",
            "2",
            "--load-before",
            "0.1 0.2 0.3",
            "--load-after",
            "0.4 0.5 0.6",
            "--failed",
            "a",
            "--failed",
            "b");
    assertEquals(ExitCodes.OK, run.exitCode(), run.err());
    assertTrue(run.out().startsWith("# CRAQ paper reproduction: "), run.out());
    assertTrue(
        run.out()
            .contains(
                "Machine: 2 cores; load average (1/5/15 min) before: 0.1 0.2"
                    + " 0.3, after: 0.4 0.5 0.6.\n"),
        run.out());
    assertTrue(run.out().contains("(egress 1mbit per node)"), run.out());
    assertTrue(
        run.out().contains("| 3 | 600 | 200 | - | 3.00 | 2.91 | PASS (>= 2.8x) |\n"), run.out());
    assertTrue(run.out().contains("**Failed runs (no results):** a b\n"), run.out());
    assertFalse(run.out().contains("## Fig. 9"), run.out());

    assertFalse(CraqRun.of("--help").out().contains("paper-summary"));
    CraqRun missing =
        CraqRun.of(
            "paper-summary",
            "--results",
            dir.resolve("nope").toString(),
            "--paper",
            paper.toString());
    assertEquals(ExitCodes.USAGE, missing.exitCode(), missing.err());
    assertTrue(missing.err().contains("no such file"), missing.err());
  }
}

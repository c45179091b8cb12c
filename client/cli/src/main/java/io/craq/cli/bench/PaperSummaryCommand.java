package io.craq.cli.bench;

import io.craq.cli.bench.ResultsTable.TableException;
import io.craq.cli.common.ExitCodes;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code craq paper-summary}: the summary of a run of {@code bin/craq-paper} ({@link
 * PaperSummary}), from its results tables and the settings the script ran with. Hidden: the script
 * is its user.
 */
@Command(
    name = "paper-summary",
    hidden = true,
    mixinStandardHelpOptions = true,
    description = "Print the summary of a bin/craq-paper run (Markdown) from its tables.")
public final class PaperSummaryCommand implements Callable<Integer> {
  private static final DateTimeFormatter TITLE_DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT);

  @Spec CommandSpec spec;

  @Option(
      names = "--results",
      required = true,
      paramLabel = "FILE",
      description = "The rows measured here (results.tsv).")
  Path results;

  @Option(
      names = "--paper",
      required = true,
      paramLabel = "FILE",
      description = "The paper's published numbers, in the same columns (paper.tsv).")
  Path paper;

  @Option(
      names = "--runs",
      paramLabel = "FILE",
      description = "One row per run with its machine CPU busy % (runs.tsv); skipped if absent.")
  Path runs;

  @Option(
      names = "--figures",
      paramLabel = "LIST",
      split = ",",
      defaultValue = "fig5,fig6,fig7,fig9",
      description = "Figures run (default: all).")
  List<String> figures;

  @Option(
      names = "--chains",
      paramLabel = "\"N ...\"",
      defaultValue = "3 5 7",
      description = "Chain lengths run, space-separated (default: ${DEFAULT-VALUE}).")
  String chains;

  @Option(
      names = "--scaleout-nodes",
      paramLabel = "\"N ...\"",
      defaultValue = "3 6 9",
      description = "Node counts of the scale-out figure (default: ${DEFAULT-VALUE}).")
  String scaleoutNodes;

  @Option(
      names = "--scaleout-chains-per-node",
      paramLabel = "M",
      defaultValue = "1",
      description = "Chains per node of the scale-out figure (default: ${DEFAULT-VALUE}).")
  int scaleoutChainsPerNode;

  @Option(
      names = "--write-rates",
      paramLabel = "\"R ...\"",
      defaultValue = "50 100 150 200 250",
      description = "The paper's write rates of fig6/fig7 besides 0 (default: ${DEFAULT-VALUE}).")
  String writeRates;

  @Option(
      names = "--cap",
      paramLabel = "FIGURE=RATE",
      description = "A figure's per-node egress cap as tc wrote it, e.g. fig5=1mbit.")
  Map<String, String> caps = new LinkedHashMap<>();

  @Option(
      names = "--cap-bits",
      paramLabel = "FIGURE=BITS",
      description = "That cap in bits per second, e.g. fig5=1000000.")
  Map<String, Long> capBits = new LinkedHashMap<>();

  @Option(
      names = "--absolute-writes",
      description = "The write rates ran as given, not scaled by cap / 100 Mbit/s.")
  boolean absoluteWrites;

  @Option(
      names = "--queue",
      paramLabel = "TIME",
      defaultValue = "100ms",
      description = "tbf queue length.")
  String queue;

  @Option(names = "--priority", description = "Chain traffic went first (pfifo_fast bands).")
  boolean priority;

  @Option(names = "--store", defaultValue = "lmdb")
  String store;

  @Option(names = "--duration", defaultValue = "10s")
  String duration;

  @Option(names = "--warmup", defaultValue = "3s")
  String warmup;

  @Option(names = "--threads", defaultValue = "64")
  int threads;

  @Option(names = "--in-flight", defaultValue = "4")
  int inFlight;

  @Option(names = "--keys", defaultValue = "100")
  int keys;

  @Option(names = "--write-threads", defaultValue = "32")
  int writeThreads;

  @Option(
      names = "--cores",
      paramLabel = "N",
      defaultValue = "0",
      description = "Cores of the machine (default: those this JVM sees).")
  int cores;

  @Option(names = "--load-before", paramLabel = "\"L1 L5 L15\"", defaultValue = "-")
  String loadBefore;

  @Option(names = "--load-after", paramLabel = "\"L1 L5 L15\"", defaultValue = "-")
  String loadAfter;

  @Option(names = "--failed", paramLabel = "RUN", description = "A run without results.")
  List<String> failed = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      ResultsTable ours = ResultsTable.read(results);
      ResultsTable published = ResultsTable.read(paper);
      ResultsTable perRun =
          runs != null && Files.isRegularFile(runs) ? ResultsTable.read(runs) : null;
      PaperSummary.Settings settings =
          new PaperSummary.Settings(
              ZonedDateTime.now(ZoneOffset.UTC).format(TITLE_DATE),
              caps,
              capBits,
              queue,
              priority,
              store,
              duration,
              warmup,
              threads,
              inFlight,
              keys,
              writeThreads,
              !absoluteWrites,
              cores > 0 ? cores : Runtime.getRuntime().availableProcessors(),
              loadBefore,
              loadAfter,
              new LinkedHashSet<>(figures),
              words(chains),
              words(writeRates),
              failed,
              words(scaleoutNodes),
              scaleoutChainsPerNode);
      out.print(PaperSummary.render(settings, ours, published, perRun));
      out.flush();
      return ExitCodes.OK;
    } catch (TableException e) {
      err.println("craq paper-summary: " + e.getMessage());
      err.flush();
      return ExitCodes.USAGE;
    }
  }

  private static List<String> words(String text) {
    return Arrays.stream(text.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
  }
}

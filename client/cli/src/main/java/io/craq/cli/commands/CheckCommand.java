package io.craq.cli.commands;

import io.craq.check.CheckModel;
import io.craq.check.CheckOptions;
import io.craq.check.HistoryCheck;
import io.craq.cli.common.JsonOption;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code craq check HISTORY-FILE}: is a recorded history linearizable? Needs no cluster. */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
      "Check a history file for linearizability, key by key, and its multi-key writes for all"
          + " or nothing: the logs the fault suites write, or any file in the same format (see"
          + " docs/CHECK.md). Needs no cluster.",
      "Exit codes: 0 linearizable, 1 not linearizable (or a multi-key write torn), 2 usage"
          + " error, 3 unknown (the search budget ran out), 65 bad input (missing file, malformed line, empty file)."
    })
public final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin JsonOption json;

  @Parameters(index = "0", paramLabel = "HISTORY-FILE", description = "The history to check.")
  Path historyFile;

  @Option(
      names = "--model",
      defaultValue = "register",
      paramLabel = "MODEL",
      description =
          "register (read, write, delete, cas, cas-version; default) or kv (get, put,"
              + " append, delete, incr).")
  String model;

  @Option(
      names = "--budget-millis",
      defaultValue = "10000",
      paramLabel = "MS",
      description =
          "Search time per key before its verdict is unknown (default: " + "${DEFAULT-VALUE}).")
  long budgetMillis;

  @Override
  public Integer call() {
    CheckOptions options;
    try {
      options =
          new CheckOptions(
              CheckModel.parse(model), Duration.ofMillis(budgetMillis), json.enabled());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    // The report is small (a line per key); it goes through picocli's writers like every
    // command's text, so tests and callers that redirect them see it.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        HistoryCheck.run(
            historyFile,
            options,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    print(spec.commandLine().getOut(), out);
    print(spec.commandLine().getErr(), err);
    return code;
  }

  private static void print(PrintWriter writer, ByteArrayOutputStream bytes) {
    writer.print(bytes.toString(StandardCharsets.UTF_8));
    writer.flush();
  }
}

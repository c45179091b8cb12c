package io.craq.cli;

import io.craq.cli.bench.BenchCommand;
import io.craq.cli.bench.PaperSummaryCommand;
import io.craq.cli.bench.PlotCommand;
import io.craq.cli.cluster.AwaitChainCommand;
import io.craq.cli.cluster.ClusterCommand;
import io.craq.cli.cluster.TlsInitCommand;
import io.craq.cli.commands.AppendCommand;
import io.craq.cli.commands.ChainCommand;
import io.craq.cli.commands.CheckCommand;
import io.craq.cli.commands.DeleteCommand;
import io.craq.cli.commands.IncrementCommand;
import io.craq.cli.commands.LeaveCommand;
import io.craq.cli.commands.MultiWriteCommand;
import io.craq.cli.commands.ReadAllCommand;
import io.craq.cli.commands.ReadCommand;
import io.craq.cli.commands.StatsCommand;
import io.craq.cli.commands.WriteCommand;
import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.cli.common.StandardStreams;
import io.craq.cli.users.UserCommand;
import io.craq.transport.process.CommandLineConventions;
import java.io.PrintWriter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code craq} command: writes (one key or several of one chain at once), reads, deletes and
 * scans keys of a CRAQ store and shows its chains. Values go to stdout unadorned; diagnostics to
 * stderr; exit codes from {@link ExitCodes}. The options every subcommand shares may come before or
 * after the subcommand ({@link ClientOptions}, {@link JsonOption}). See docs/CLIENT.md.
 */
@Command(
    name = "craq",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLineConventions.Version.class,
    description = "Client of a CRAQ (Chain Replication with Apportioned Queries) store.",
    exitCodeListHeading = "%nExit codes:%n",
    footer = {
      "",
      "Addresses are host:port; ':PORT' dials 127.0.0.1:PORT.",
      "Environment: "
          + ClientOptions.COORDINATOR_ENV
          + " is the default of -c; CRAQ_USER and CRAQ_PASSWORD of --user and --password-file.%n"
    })
public final class CraqMain implements Callable<Integer> {
  /** Every subcommand by name, in the order {@code --help} lists them. */
  private static final Map<String, Function<StandardStreams, Object>> SUBCOMMANDS = subcommands();

  @Spec CommandSpec spec;

  // Given before the subcommand's name, these land here; the subcommands look them up.
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  private static Map<String, Function<StandardStreams, Object>> subcommands() {
    Map<String, Function<StandardStreams, Object>> all = new LinkedHashMap<>();
    all.put("write", WriteCommand::new);
    all.put("read", ReadCommand::new);
    all.put("delete", streams -> new DeleteCommand());
    all.put("mwrite", streams -> new MultiWriteCommand());
    all.put("incr", streams -> new IncrementCommand());
    all.put("append", AppendCommand::new);
    all.put("readall", streams -> new ReadAllCommand());
    all.put("chain", streams -> new ChainCommand());
    all.put("leave", streams -> new LeaveCommand());
    all.put("stats", streams -> new StatsCommand());
    all.put("user", UserCommand::new);
    all.put("check", streams -> new CheckCommand());
    all.put("bench", streams -> new BenchCommand());
    all.put("plot", streams -> new PlotCommand());
    all.put("paper-summary", streams -> new PaperSummaryCommand());
    all.put("cluster", streams -> new ClusterCommand());
    all.put("await-chain", streams -> new AwaitChainCommand());
    all.put("tls-init", streams -> new TlsInitCommand());
    all.put("help", streams -> new CommandLine.HelpCommand());
    return Collections.unmodifiableMap(all);
  }

  /**
   * The command line with every subcommand, the project's exit codes and error handling, on the
   * process's standard streams.
   */
  public static CommandLine newCommandLine() {
    return newCommandLine(StandardStreams.SYSTEM);
  }

  /** As {@link #newCommandLine()}, with values read from and written to {@code streams}. */
  public static CommandLine newCommandLine(StandardStreams streams) {
    return newCommandLine(SUBCOMMANDS.keySet(), streams);
  }

  /**
   * The command line for {@code args}: with only the subcommand they name, or all of them if they
   * name none ({@code --help}, {@code help}, a misspelt name). picocli reads the annotations of
   * every subcommand it is given, and those of bench and plot alone cost tens of milliseconds of
   * every start.
   */
  static CommandLine forArguments(String[] args) {
    for (String arg : args) {
      if (arg.equals("--")) {
        break;
      }
      if (SUBCOMMANDS.containsKey(arg)) {
        return arg.equals("help")
            ? newCommandLine()
            : newCommandLine(Set.of(arg), StandardStreams.SYSTEM);
      }
    }
    return newCommandLine();
  }

  private static CommandLine newCommandLine(Set<String> names, StandardStreams streams) {
    CommandLine commandLine = new CommandLine(new CraqMain());
    SUBCOMMANDS.forEach((name, command) -> {
      if (names.contains(name)) {
        commandLine.addSubcommand(name, command.apply(streams));
      }
    });
    commandLine.setExecutionExceptionHandler((failure, command, parseResult) -> {
      PrintWriter err = command.getErr();
      int code = ExitCodes.of(failure);
      err.println("craq: " + failure.getMessage());
      if (code == ExitCodes.INTERNAL_ERROR) {
        failure.printStackTrace(err);
      }
      err.flush();
      return code;
    });
    CommandLineConventions.apply(commandLine);
    // craq cluster (bin/craq-cluster) words its usage errors as the script always has.
    CommandLine.IParameterExceptionHandler conventions = commandLine.getParameterExceptionHandler();
    commandLine.setParameterExceptionHandler((failure, args) ->
        failure.getCommandLine().getCommand() instanceof ClusterCommand
            ? ClusterCommand.usageError(failure)
            : conventions.handleParseException(failure, args));
    commandLine.getCommandSpec().usageMessage().exitCodeList(ExitCodes.descriptions());
    return commandLine;
  }

  public static void main(String[] args) {
    System.exit(forArguments(args).execute(args));
  }

  /** Without a subcommand there is nothing to do: a usage error naming those --help lists. */
  @Override
  public Integer call() {
    throw new ParameterException(
        spec.commandLine(),
        "missing subcommand; one of: "
            + String.join(
                ", ",
                spec.subcommands().entrySet().stream()
                    .filter(e -> !e.getValue().getCommandSpec().usageMessage().hidden())
                    .map(Map.Entry::getKey)
                    .toList()));
  }
}

package io.craq.client;

import io.craq.client.bench.BenchCommand;
import io.craq.client.bench.PlotCommand;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import io.craq.transport.Addresses;
import io.craq.transport.process.CommandLineConventions;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code craq} command: writes, reads, deletes and scans keys of a CRAQ chain and shows the
 * chain. Values go to stdout unadorned; diagnostics to stderr; exit codes from {@link ExitCodes}.
 * Global options may come before or after the subcommand. See docs/CLIENT.md.
 */
@Command(
    name = "craq",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLineConventions.Version.class,
    description = "Client of a CRAQ (Chain Replication with Apportioned Queries) store.",
    exitCodeListHeading = "%nExit codes:%n",
    footer = {"", "Addresses are host:port; ':PORT' dials 127.0.0.1:PORT.",
        "Environment: CRAQ_COORDINATOR is the default of -c.%n"})
public final class CraqMain implements Callable<Integer> {
  /** The environment variable that replaces the built-in default of {@code -c}. */
  public static final String COORDINATOR_ENV = "CRAQ_COORDINATOR";

  /** The largest --value-max-bytes: a value is held in memory and sent in one frame. */
  static final int VALUE_MAX_BYTES_LIMIT = 16 << 20;

  /** Every subcommand by name, in the order {@code --help} lists them. */
  private static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

  @Spec CommandSpec spec;

  /** Where {@code write KEY -} reads the value; tests replace it. */
  InputStream stdin = System.in;
  /** Where {@code read --output -} writes the raw value; tests replace it. */
  OutputStream stdout = System.out;

  @Option(names = {"-c", "--coordinator"},
      defaultValue = "${env:" + COORDINATOR_ENV + ":-" + ClientConfig.COORDINATOR_ADDRESS_DEFAULT
          + "}",
      scope = ScopeType.INHERIT, paramLabel = "ADDRESS",
      description = "Coordinator address (default: ${DEFAULT-VALUE}, from $" + COORDINATOR_ENV
          + " if set, else :1234).")
  String coordinator;

  @Option(names = {"-n", "--node"}, scope = ScopeType.INHERIT, paramLabel = "ADDRESS",
      description = "Node read and readall ask first; it must be a member of the chain -c names."
          + " If it cannot answer, another member answers (said on stderr)."
          + " Default: a random member.")
  String node;

  @Option(names = "--any-node", scope = ScopeType.INHERIT,
      description = "Read from a random chain member even if -n is given.")
  boolean anyNode;

  @Option(names = "--timeout-millis", defaultValue = "5000", scope = ScopeType.INHERIT,
      paramLabel = "MILLIS",
      description = "Deadline of the whole operation, retries included (default: ${DEFAULT-VALUE}).")
  long timeoutMillis;

  @Option(names = "--json", scope = ScopeType.INHERIT,
      description = "Structured output: one JSON object per line.")
  boolean json;

  @Option(names = "--via-coordinator", scope = ScopeType.INHERIT,
      description = "Send writes to the coordinator, which forwards them to the head"
          + " (default: straight to the head).")
  boolean viaCoordinator;

  @Option(names = "--value-max-bytes", defaultValue = "1048576", scope = ScopeType.INHERIT,
      paramLabel = "BYTES",
      description = "Largest value written, from VALUE, a file or stdin (default: ${DEFAULT-VALUE};"
          + " the nodes' --value-max-bytes is the real limit).")
  int valueMaxBytes;

  private static Map<String, Supplier<Object>> subcommands() {
    Map<String, Supplier<Object>> all = new LinkedHashMap<>();
    all.put("write", WriteCommand::new);
    all.put("read", ReadCommand::new);
    all.put("delete", DeleteCommand::new);
    all.put("readall", ReadAllCommand::new);
    all.put("chain", ChainCommand::new);
    all.put("stats", StatsCommand::new);
    all.put("bench", BenchCommand::new);
    all.put("plot", PlotCommand::new);
    all.put("help", CommandLine.HelpCommand::new);
    return Collections.unmodifiableMap(all);
  }

  /**
   * The command line with every subcommand, the project's exit codes and error handling; tests
   * drive this.
   */
  public static CommandLine newCommandLine() {
    return newCommandLine(SUBCOMMANDS.keySet());
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
        return arg.equals("help") ? newCommandLine() : newCommandLine(Set.of(arg));
      }
    }
    return newCommandLine();
  }

  private static CommandLine newCommandLine(Set<String> names) {
    CommandLine commandLine = new CommandLine(new CraqMain());
    SUBCOMMANDS.forEach((name, command) -> {
      if (names.contains(name)) {
        commandLine.addSubcommand(name, command.get());
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
    commandLine.getCommandSpec().usageMessage().exitCodeList(ExitCodes.descriptions());
    return commandLine;
  }

  public static void main(String[] args) {
    System.exit(forArguments(args).execute(args));
  }

  /** Without a subcommand there is nothing to do: a usage error naming the subcommands. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing subcommand; one of: "
        + String.join(", ", spec.subcommands().keySet()));
  }

  /** A client for the global options; a malformed address or timeout is a usage error. */
  CraqClient openClient(CommandSpec command) {
    if (timeoutMillis <= 0) {
      throw new ParameterException(command.commandLine(),
          "--timeout-millis must be > 0, got " + timeoutMillis);
    }
    ClientConfig config;
    try {
      if (node != null) {
        Addresses.parse(node);
      }
      config = ClientConfig.defaults(coordinator)
          .withCallTimeoutMillis(timeoutMillis)
          .withReadAttemptTimeoutMillis(Math.min(timeoutMillis,
              ClientConfig.READ_ATTEMPT_TIMEOUT_MILLIS_DEFAULT))
          .withWriteViaCoordinator(viaCoordinator)
          .withValueBytesMax(valueMaxBytes(command));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), e.getMessage());
    }
    return CraqClient.connect(config);
  }

  /** {@code --value-max-bytes}, checked: 0 to {@link #VALUE_MAX_BYTES_LIMIT}. */
  int valueMaxBytes(CommandSpec command) {
    if (valueMaxBytes < 0 || valueMaxBytes > VALUE_MAX_BYTES_LIMIT) {
      throw new ParameterException(command.commandLine(), "--value-max-bytes must be 0.."
          + VALUE_MAX_BYTES_LIMIT + ", got " + valueMaxBytes);
    }
    return valueMaxBytes;
  }

  /**
   * The node reads go to first: the member {@code -n} names (by the address the chain knows it
   * by), or null for a random member (no {@code -n}, or {@code --any-node}).
   *
   * @throws ParameterException if {@code -n} names no member of the chain {@code -c} names
   */
  String firstReadNode(CraqClient client, CommandSpec command) {
    if (node == null || anyNode) {
      return null;
    }
    ChainConfig chain;
    try {
      chain = client.chain();
    } catch (UnavailableException e) {
      // Without the coordinator the check cannot be made; the node itself may still answer.
      warn(command, "cannot check that " + node + " is a member of the chain: " + e.getMessage());
      return node;
    }
    return CraqClient.memberAt(chain, node).map(Member::address).orElseThrow(() ->
        new ParameterException(command.commandLine(), "-n " + node + " is not a member of the"
            + " chain at coordinator " + coordinator + " (members: " + describe(chain.members())
            + "); leave out -n to read from any member"));
  }

  private static String describe(List<Member> members) {
    return members.isEmpty() ? "none" : members.stream()
        .map(m -> m.id() + " " + m.address()).collect(Collectors.joining(", "));
  }

  /** Says on stderr that a read was answered by another member than the one tried first. */
  ReadFallback fallbackNotice(CommandSpec command) {
    return (firstTried, reason, answeredBy) -> warn(command, firstTried + " could not answer ("
        + reason + "); read from " + answeredBy + " instead");
  }

  static void warn(CommandSpec command, String message) {
    PrintWriter err = command.commandLine().getErr();
    err.println("craq: " + message);
    err.flush();
  }

  /**
   * Runs a subcommand's body and turns a {@link CraqException} into its exit code with a one-line
   * diagnostic, here rather than only in the execution-exception handler, so the mapping also
   * holds for callers that build their own {@code new CommandLine(new CraqMain())}.
   */
  static int guard(CommandSpec command, Callable<Integer> body) throws Exception {
    try {
      return body.call();
    } catch (CraqException failure) {
      warn(command, failure.getMessage());
      return ExitCodes.of(failure);
    }
  }

  /**
   * Turns --consistency text into a mode; a bad value is a usage error (exit code 2). Public for
   * {@code craq bench}, which takes the same flag.
   */
  public static final class ConsistencyConverter
      implements CommandLine.ITypeConverter<ReadConsistency> {
    @Override
    public ReadConsistency convert(String value) {
      try {
        return ReadConsistency.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}

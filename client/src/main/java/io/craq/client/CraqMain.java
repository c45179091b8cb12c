package io.craq.client;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import io.craq.transport.Addresses;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
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
    versionProvider = CraqMain.Version.class,
    description = "Client of a CRAQ (Chain Replication with Apportioned Queries) store.",
    subcommands = {
        CraqMain.Write.class,
        CraqMain.Read.class,
        CraqMain.Delete.class,
        CraqMain.ReadAll.class,
        CraqMain.Chain.class,
        StatsCommand.class,
        io.craq.client.bench.BenchCommand.class,
        io.craq.client.bench.PlotCommand.class,
    },
    exitCodeListHeading = "%nExit codes:%n",
    footer = {"", "Addresses are host:port; ':PORT' dials 127.0.0.1:PORT.%n"})
public final class CraqMain implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-c", "--coordinator"}, defaultValue = ":1234", scope = ScopeType.INHERIT,
      paramLabel = "ADDRESS", description = "Coordinator address (default: ${DEFAULT-VALUE}).")
  String coordinator;

  @Option(names = {"-n", "--node"}, defaultValue = ":1235", scope = ScopeType.INHERIT,
      paramLabel = "ADDRESS",
      description = "Node to read from (default: ${DEFAULT-VALUE}); see --any-node.")
  String node;

  @Option(names = "--any-node", scope = ScopeType.INHERIT,
      description = "Read from a random chain member instead of --node.")
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

  /** The command line with the project's exit codes and error handling; tests drive this. */
  public static CommandLine newCommandLine() {
    CommandLine commandLine = new CommandLine(new CraqMain());
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
    // Every misuse (unknown subcommand included) gets the message, then the usage, and exit 2.
    commandLine.setParameterExceptionHandler((failure, args) -> {
      CommandLine command = failure.getCommandLine();
      PrintWriter err = command.getErr();
      err.println("craq: " + failure.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(failure, err);
      command.usage(err);
      err.flush();
      return ExitCodes.USAGE;
    });
    commandLine.getCommandSpec().usageMessage().exitCodeList(ExitCodes.descriptions());
    return commandLine;
  }

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** Without a subcommand there is nothing to do: say how to use it, as for any misuse. */
  @Override
  public Integer call() {
    spec.commandLine().getErr().println("craq: missing subcommand");
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** A client for the global options; a malformed address or timeout is a usage error. */
  CraqClient openClient(CommandSpec command) {
    if (timeoutMillis <= 0) {
      throw new ParameterException(command.commandLine(),
          "--timeout-millis must be > 0, got " + timeoutMillis);
    }
    ClientConfig config;
    try {
      Addresses.parse(node);
      config = ClientConfig.defaults(coordinator)
          .withCallTimeoutMillis(timeoutMillis)
          .withReadAttemptTimeoutMillis(Math.min(timeoutMillis,
              ClientConfig.READ_ATTEMPT_TIMEOUT_MILLIS_DEFAULT))
          .withWriteViaCoordinator(viaCoordinator);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), e.getMessage());
    }
    return CraqClient.connect(config);
  }

  /** The node to read from, or null for a random member. */
  String readNode() {
    return anyNode ? null : node;
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
      PrintWriter err = command.commandLine().getErr();
      err.println("craq: " + failure.getMessage());
      err.flush();
      return ExitCodes.of(failure);
    }
  }

  static String joinValue(List<String> words) {
    // go-craq joins the remaining arguments with single spaces: `craq write k hello world`.
    return String.join(" ", words);
  }

  // ------------------------------------------------------------------------------ subcommands

  @Command(name = "write", mixinStandardHelpOptions = true,
      description = "Write VALUE under KEY; prints the committed version.")
  static final class Write implements Callable<Integer> {
    @Spec CommandSpec spec;
    @ParentCommand CraqMain global;

    @Option(names = "--if-version", paramLabel = "N",
        description = "Write only if the key's committed version is N (0 = absent or deleted).")
    Long ifVersion;

    @Parameters(index = "0", paramLabel = "KEY", description = "The key (1-511 bytes of UTF-8).")
    String key;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "VALUE",
        description = "The value; several words are joined with single spaces."
            + " Use -- before a value that starts with '-'.")
    List<String> words;

    @Override
    public Integer call() throws Exception {
      return guard(spec, () -> {
        byte[] value = joinValue(words).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (ifVersion != null && ifVersion < 0) {
          throw new ParameterException(spec.commandLine(), "--if-version must be >= 0");
        }
        try (CraqClient client = global.openClient(spec)) {
          long version = ifVersion == null ? client.write(key, value)
              : client.writeIfVersion(key, value, ifVersion);
          PrintWriter out = spec.commandLine().getOut();
          out.println(global.json ? new Json().field("key", key).field("version", version) : version);
          out.flush();
          return ExitCodes.OK;
        }
      });
    }
  }

  @Command(name = "read", mixinStandardHelpOptions = true,
      description = "Print the value of KEY (exit code 1 if absent or deleted).")
  static final class Read implements Callable<Integer> {
    @Spec CommandSpec spec;
    @ParentCommand CraqMain global;

    @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
    String key;

    @Option(names = "--consistency", defaultValue = "strong", paramLabel = "MODE",
        converter = ConsistencyConverter.class,
        description = "strong (default), eventual, or bounded:N (at most N dirty versions).")
    ReadConsistency consistency;

    @Override
    public Integer call() throws Exception {
      return guard(spec, () -> {
        try (CraqClient client = global.openClient(spec)) {
          String from = global.readNode();
          Optional<Versioned> result = from == null
              ? client.read(key, consistency.mode(), consistency.bound())
              : client.readFrom(from, key, consistency.mode(), consistency.bound());
          PrintWriter out = spec.commandLine().getOut();
          if (global.json) {
            Json object = new Json().field("key", key).field("found", result.isPresent());
            result.ifPresent(v -> object.field("version", v.version()).value(v.value())
                .field("dirty", v.dirty()));
            out.println(object);
          } else if (result.isPresent()) {
            out.println(result.get().valueAsString());
          } else {
            spec.commandLine().getErr().println("craq: key '" + key + "' not found");
            spec.commandLine().getErr().flush();
          }
          out.flush();
          return result.isPresent() ? ExitCodes.OK : ExitCodes.NOT_FOUND;
        }
      });
    }
  }

  /**
   * Turns --consistency text into a mode; a bad value is a usage error (exit code 2). Public for
   * {@code craq bench}, which takes the same flag.
   */
  public static final class ConsistencyConverter implements CommandLine.ITypeConverter<ReadConsistency> {
    @Override
    public ReadConsistency convert(String value) {
      try {
        return ReadConsistency.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete KEY (a tombstone version); prints its version.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @ParentCommand CraqMain global;

    @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
    String key;

    @Override
    public Integer call() throws Exception {
      return guard(spec, () -> {
        try (CraqClient client = global.openClient(spec)) {
          long version = client.delete(key);
          PrintWriter out = spec.commandLine().getOut();
          out.println(global.json
              ? new Json().field("key", key).field("version", version).field("deleted", true)
              : version);
          out.flush();
          return ExitCodes.OK;
        }
      });
    }
  }

  @Command(name = "readall", mixinStandardHelpOptions = true,
      description = "Print every committed key and value, in key order: KEY<TAB>VALUE per line.")
  static final class ReadAll implements Callable<Integer> {
    @Spec CommandSpec spec;
    @ParentCommand CraqMain global;

    @Override
    public Integer call() throws Exception {
      return guard(spec, () -> {
        try (CraqClient client = global.openClient(spec);
            Stream<Versioned> entries = global.readNode() == null ? client.readAll()
                : client.readAllFrom(global.readNode(), io.craq.core.message.ReadMode.STRONG, 0)) {
          PrintWriter out = spec.commandLine().getOut();
          Iterator<Versioned> it = entries.iterator();
          while (it.hasNext()) {
            Versioned entry = it.next();
            out.println(global.json
                ? new Json().field("key", entry.key()).field("version", entry.version())
                    .value(entry.value())
                : entry.key() + "\t" + entry.valueAsString());
          }
          out.flush();
          return ExitCodes.OK;
        }
      });
    }
  }

  @Command(name = "chain", mixinStandardHelpOptions = true,
      description = "Show the chain (head first) with each member's role and health.")
  static final class Chain implements Callable<Integer> {
    /** A health probe must not hold up the listing for long. */
    static final long PROBE_TIMEOUT_MILLIS_MAX = 1_000;

    @Spec CommandSpec spec;
    @ParentCommand CraqMain global;

    @Override
    public Integer call() throws Exception {
      return guard(spec, () -> {
        try (CraqClient client = global.openClient(spec);
            ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor()) {
          ChainConfig chain = client.chain();
          Duration probeTimeout = Duration.ofMillis(
              Math.min(global.timeoutMillis, PROBE_TIMEOUT_MILLIS_MAX));
          List<CompletableFuture<Probe>> pending = new ArrayList<>();
          for (Member member : chain.members()) {
            pending.add(CompletableFuture.supplyAsync(
                () -> probe(client, member, probeTimeout), probes));
          }
          List<Probe> results = pending.stream().map(CompletableFuture::join).toList();
          PrintWriter out = spec.commandLine().getOut();
          if (global.json) {
            out.println(new Json().field("epoch", chain.epoch())
                .raw("members", membersJson(chain, results)));
          } else {
            printText(out, chain, results);
          }
          out.flush();
          return ExitCodes.OK;
        }
      });
    }

    private static Probe probe(CraqClient client, Member member, Duration timeout) {
      try {
        ChainConfig view = client.chainOf(member.address(), timeout);
        return new Probe(true, view.epoch(), view.contains(member.id()), null);
      } catch (CraqException e) {
        return new Probe(false, -1, false, e.getMessage());
      }
    }

    static String role(ChainConfig chain, int index) {
      if (chain.size() == 1) {
        return "head+tail";
      }
      return index == 0 ? "head" : index == chain.size() - 1 ? "tail" : "middle";
    }

    private static String membersJson(ChainConfig chain, List<Probe> probes) {
      StringBuilder array = new StringBuilder("[");
      for (int i = 0; i < chain.size(); i++) {
        Member member = chain.members().get(i);
        Probe probe = probes.get(i);
        Json object = new Json().field("id", member.id()).field("address", member.address())
            .field("role", role(chain, i)).field("caughtUp", member.caughtUp())
            .field("reachable", probe.reachable());
        if (probe.reachable()) {
          object.field("epoch", probe.epoch()).field("memberInOwnView", probe.memberInOwnView());
        } else {
          object.field("error", probe.error());
        }
        array.append(i == 0 ? "" : ",").append(object);
      }
      return array.append(']').toString();
    }

    private static void printText(PrintWriter out, ChainConfig chain, List<Probe> probes) {
      out.println("epoch " + chain.epoch() + ", " + chain.size() + " member"
          + (chain.size() == 1 ? "" : "s") + (chain.size() == 0 ? " (no node has joined)" : ""));
      for (int i = 0; i < chain.size(); i++) {
        Member member = chain.members().get(i);
        Probe probe = probes.get(i);
        String health;
        if (!probe.reachable()) {
          health = "unreachable: " + probe.error();
        } else {
          health = "reachable, epoch " + probe.epoch()
              + (probe.epoch() < chain.epoch() ? " (behind)" : "")
              + (probe.memberInOwnView() ? "" : " (not a member in its own view)");
        }
        // A member still copying state from its neighbours serves no reads yet (SPEC §4).
        String copy = member.caughtUp() ? "" : " [catching up]";
        out.println(String.format("%-9s %-12s %-21s %s", role(chain, i), member.id(),
            member.address(), health + copy));
      }
    }

    record Probe(boolean reachable, long epoch, boolean memberInOwnView, String error) {}
  }

  /** The version from the jar manifest (set by the build), else "development build". */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = CraqMain.class.getPackage().getImplementationVersion();
      return new String[] {
          "craq " + (version == null ? "(development build)" : version),
          "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
      };
    }
  }
}

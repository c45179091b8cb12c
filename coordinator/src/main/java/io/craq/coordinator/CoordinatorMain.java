package io.craq.coordinator;

import io.craq.transport.Addresses;
import io.craq.transport.ListenFailedException;
import io.craq.transport.TcpTransport;
import io.craq.transport.process.CommandLineConventions;
import io.craq.transport.process.OptionsFile;
import io.craq.transport.process.ShutdownHook;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code craq-coordinator} executable. */
@Command(
    name = "craq-coordinator",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLineConventions.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Runs the CRAQ coordinator: owns the chain's membership and epoch (kept in the data "
          + "directory, so a restart resumes the same chain), removes nodes that stop "
          + "sending heartbeats, pushes each new configuration to the nodes, and forwards "
          + "client writes to the head and reads to a node.",
      "Addresses are host:port; ':PORT' listens on all interfaces. Use 127.0.0.1:PORT to "
          + "listen on loopback only."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:stopped normally",
      "1:fatal error (cannot bind, damaged or unwritable membership file); see the log",
      "2:usage error (bad flag, bad address, bad config file)",
      "130/143:stopped by Ctrl-C / SIGTERM after a clean shutdown (JVM convention)"
    })
public final class CoordinatorMain implements Callable<Integer> {
  /** System property holding "coordinator eEPOCH"; logback.xml prints it on each line. */
  static final String LOG_CONTEXT_PROPERTY = "craq.who";

  static final int EXIT_FATAL = 1;

  /** The nodes' read lease with default settings (30 ticks of 50 ms). */
  static final long NODE_LEASE_MILLIS_DEFAULT = 1_500;

  private static final Logger log = LoggerFactory.getLogger(CoordinatorMain.class);

  @Spec CommandSpec spec;

  @Option(
      names = {"-a", "--listen"},
      defaultValue = ":1234",
      paramLabel = "ADDRESS",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(
      names = {"-d", "--data"},
      defaultValue = "coordinator-data",
      paramLabel = "DIR",
      description = "Directory for the membership file (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(
      names = "--failure-timeout-millis",
      defaultValue = "2000",
      paramLabel = "MS",
      description =
          "Remove a node not heard from for this long (default: ${DEFAULT-VALUE}). "
              + "Must exceed the nodes' read lease (1500 ms with default node settings).")
  long failureTimeoutMillis;

  @Option(
      names = "--tick-millis",
      defaultValue = "50",
      paramLabel = "MS",
      description = "Length of a protocol tick (default: ${DEFAULT-VALUE}).")
  long tickMillis;

  @Option(
      names = "--forward-timeout-millis",
      defaultValue = "15000",
      paramLabel = "MS",
      description =
          "How long a client request forwarded to a node may take; a write still "
              + "unanswered is reported ambiguous (default: ${DEFAULT-VALUE}).")
  long forwardTimeoutMillis;

  @Option(
      names = OptionsFile.OPTION,
      paramLabel = "FILE",
      description =
          "Properties file with defaults for the long options above "
              + "(e.g. listen=:1234); command-line flags win.")
  Path config;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Parses {@code args} and runs the coordinator until it stops; returns the exit code. */
  static int run(String[] args, PrintWriter out, PrintWriter err) {
    if (System.getProperty(LOG_CONTEXT_PROPERTY) == null) {
      System.setProperty(LOG_CONTEXT_PROPERTY, "coordinator");
    }
    CommandLine commandLine = new CommandLine(new CoordinatorMain()).setOut(out).setErr(err);
    try {
      OptionsFile.install(commandLine, args);
    } catch (ParameterException e) {
      return CommandLineConventions.usageError(commandLine, e);
    }
    return CommandLineConventions.apply(commandLine).execute(args);
  }

  @Override
  public Integer call() {
    CoordinatorServerSettings settings = settings();
    if (failureTimeoutMillis <= NODE_LEASE_MILLIS_DEFAULT) {
      log.warn(
          "--failure-timeout-millis {} does not exceed the nodes' default read lease ({} ms):"
              + " make sure the nodes run with a shorter lease, or a removed node may serve stale "
              + "reads",
          failureTimeoutMillis,
          NODE_LEASE_MILLIS_DEFAULT);
    }
    CoordinatorServer coordinator;
    try {
      coordinator =
          CoordinatorServer.start(
              settings,
              new TcpTransport(),
              System::nanoTime,
              who -> System.setProperty(LOG_CONTEXT_PROPERTY, who));
    } catch (ListenFailedException e) {
      // A port in use is the setup's fault: one line, no stack trace.
      log.error("cannot start: {}; choose another address with -a/--listen", e.getMessage());
      return EXIT_FATAL;
    } catch (RuntimeException e) {
      log.error("cannot start: {}", e.getMessage(), e);
      return EXIT_FATAL;
    }
    ShutdownHook.install("craq-coordinator-shutdown", coordinator::close, log);
    Throwable failure = coordinator.terminated().join();
    if (failure != null) {
      coordinator.close();
      return EXIT_FATAL;
    }
    return CommandLine.ExitCode.OK;
  }

  private CoordinatorServerSettings settings() {
    try {
      Addresses.parse(listen);
    } catch (IllegalArgumentException e) {
      throw usage("--listen: " + e.getMessage());
    }
    if (tickMillis < 1 || tickMillis > 10_000) {
      throw usage("--tick-millis must be 1..10000: " + tickMillis);
    }
    if (failureTimeoutMillis < tickMillis) {
      throw usage(
          "--failure-timeout-millis ("
              + failureTimeoutMillis
              + ") must be at least one tick ("
              + tickMillis
              + ")");
    }
    if (forwardTimeoutMillis < 1) {
      throw usage("--forward-timeout-millis must be positive: " + forwardTimeoutMillis);
    }
    return CoordinatorServerSettings.defaults(listen, data)
        .withTickMillis(tickMillis)
        .withFailureTimeoutMillis(failureTimeoutMillis)
        .withForwardTimeout(Duration.ofMillis(forwardTimeoutMillis));
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}

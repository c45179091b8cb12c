package io.craq.coordinator;

import io.craq.coordinator.metrics.CoordinatorMetrics;
import io.craq.core.chain.KeySlots;
import io.craq.metrics.MetricsSecurity;
import io.craq.metrics.MetricsServer;
import io.craq.transport.Addresses;
import io.craq.transport.ListenFailedException;
import io.craq.transport.TransportConfig;
import io.craq.transport.Transports;
import io.craq.transport.process.CommandLineConventions;
import io.craq.transport.process.OptionsFile;
import io.craq.transport.process.ServerSecurityOptions;
import io.craq.transport.process.ShutdownHook;
import io.craq.transport.security.Authorization;
import io.craq.transport.security.Security;
import io.craq.transport.security.SecuritySetup;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
      "Runs the CRAQ coordinator: owns the chain map (the chains, each with its members and "
          + "epoch, and the pool of nodes they are placed on), places nodes in chains and moves "
          + "them as nodes come and go, removes nodes that stop sending heartbeats, pushes each "
          + "new configuration to the nodes, and forwards client writes to the head of the key's "
          + "chain and reads to a node of it.",
      "Two modes. By default one coordinator keeps the map in its data directory "
          + "(-d), so a restart resumes the same chains. With --zookeeper, two or three "
          + "coordinators keep it in ZooKeeper (the data directory is unused) and elect one "
          + "leader; the others stand by, answer with the leader's address, and take over "
          + "when its ZooKeeper session ends.",
      "Addresses are host:port; ':PORT' listens on all interfaces. Use 127.0.0.1:PORT to "
          + "listen on loopback only."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:stopped normally",
      "1:fatal error (cannot bind, damaged or unwritable membership file, ZooKeeper "
          + "unreachable at start-up, a chroot holding other data, a map in "
          + "ZooKeeper that does not parse); see the log",
      "2:usage error (bad flag, bad address, bad connect string, bad config file, a stored "
          + "map with another chain count than --chains)",
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
      description =
          "Directory for the membership file (default: ${DEFAULT-VALUE}). File mode only: "
              + "unused with --zookeeper, and refused together with it.")
  Path data;

  @Option(
      names = "--chains",
      defaultValue = "1",
      paramLabel = "K",
      description =
          "How many chains a new cluster gets; keys are spread over them by hash (default: "
              + "${DEFAULT-VALUE}). Fixed once the cluster exists: a stored map with another count"
              + " is refused.")
  int chains;

  @Option(
      names = "--replicas",
      paramLabel = "R",
      description =
          "Members per chain when there are enough nodes (default: 3 with several chains; with"
              + " one chain, every node joins it). A stored map's count is replaced by this one.")
  Integer replicas;

  @Option(
      names = "--moves-max",
      defaultValue = "" + CoordinatorServerSettings.MOVES_MAX_DEFAULT,
      paramLabel = "M",
      description =
          "How many chains may move a member (copy their keys to a new node) at once (default:"
              + " ${DEFAULT-VALUE}).")
  int movesMax;

  @Option(
      names = "--expect-nodes",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "With several chains: lay a new cluster out once N nodes have said hello (at most 30 s"
              + " after the first), so that all of them get even shares of heads, middles and"
              + " tails. 0 (the default): once no new node has said hello for 2 s.")
  int expectNodes;

  @Option(
      names = "--zookeeper",
      paramLabel = "CONNECT",
      description =
          "ZooKeeper mode: keep the chain map in ZooKeeper and elect a leader among the "
              + "coordinators given the same CONNECT, HOST:PORT[,HOST:PORT...][/chroot]. The "
              + "chroot (created if missing) must be empty or hold a previous run's /craq.")
  String zookeeper;

  @Option(
      names = "--advertise",
      paramLabel = "HOST:PORT",
      description =
          "Where nodes and clients reach this coordinator; standbys redirect to it (ZooKeeper "
              + "mode; default: --listen, which then needs a host).")
  String advertise;

  @Option(
      names = "--zookeeper-session-timeout-millis",
      defaultValue = "4000",
      paramLabel = "MS",
      description =
          "ZooKeeper session timeout: a leader that stops is replaced after about this long "
              + "(default: ${DEFAULT-VALUE}).")
  long sessionTimeoutMillis;

  @Option(
      names = "--zookeeper-connect-timeout-millis",
      defaultValue = "15000",
      paramLabel = "MS",
      description =
          "How long start-up waits to reach ZooKeeper before giving up (default: "
              + "${DEFAULT-VALUE}).")
  long connectTimeoutMillis;

  @Option(
      names = "--leader-lease-millis",
      defaultValue = "10000",
      paramLabel = "MS",
      description =
          "How long the leader keeps answering nodes without hearing from ZooKeeper, so the "
              + "chain rides out a ZooKeeper outage that long; a new leader waits about this "
              + "much less the session timeout before it counts any node as failed (default: "
              + "${DEFAULT-VALUE}).")
  long leaderLeaseMillis;

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
      names = "--metrics-listen",
      paramLabel = "ADDRESS",
      description =
          "Serve Prometheus metrics at http://ADDRESS/metrics, and /health (200 when this"
              + " coordinator leads or knows the leader, else 503 and why) and /ready (200 once"
              + " started). Off by default. See docs/METRICS.md.")
  String metricsListen;

  @Option(
      names = "--metrics-tls",
      description =
          "Serve --metrics-listen over HTTPS (TLS 1.3) with this coordinator's certificate (needs"
              + " --tls-cert, --tls-key and --tls-ca; default: off, plain HTTP). With --users,"
              + " /metrics asks for a user's credentials either way. See docs/METRICS.md.")
  boolean metricsTls;

  @Mixin ServerSecurityOptions securityOptions;

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
    Security security = securityOptions.security(spec.commandLine(), System.getenv());
    Optional<String> metricsTlsProblem =
        SecuritySetup.metricsTlsProblem(metricsTls, metricsListen, security);
    if (metricsTlsProblem.isPresent()) {
      throw usage(metricsTlsProblem.get());
    }
    List<String> warnings =
        new ArrayList<>(
            SecuritySetup.exposureWarnings(
                "craq-coordinator",
                listen,
                security,
                "read and write every key through it, add or remove nodes, and push chain"
                    + " configurations"));
    if (metricsListen != null) {
      warnings.addAll(
          SecuritySetup.metricsExposureWarnings(
              "craq-coordinator", metricsListen, metricsTls, security));
    }
    for (String warning : warnings) {
      log.warn(warning);
    }
    String dialWarning = SecuritySetup.dialWarning("craq-coordinator", security);
    if (dialWarning != null) {
      log.warn(dialWarning);
    }
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
              Transports.open(TransportConfig.DEFAULT.withSecurity(security)),
              System::nanoTime,
              who -> System.setProperty(LOG_CONTEXT_PROPERTY, who),
              Authorization.of(security.authenticator()));
    } catch (ListenFailedException e) {
      // A port in use is the setup's fault: one line, no stack trace.
      log.error("cannot start: {}; choose another address with -a/--listen", e.getMessage());
      return EXIT_FATAL;
    } catch (ChainCountException e) {
      // The wrong --chains (or the wrong data directory or chroot): a usage error.
      log.error("cannot start: {}", e.getMessage());
      return CommandLine.ExitCode.USAGE;
    } catch (ConfigStoreException e) {
      // ZooKeeper unreachable, a chroot that is not ours, a map that does not parse.
      log.error("cannot start: {}", e.getMessage());
      return EXIT_FATAL;
    } catch (RuntimeException e) {
      log.error("cannot start: {}", e.getMessage(), e);
      return EXIT_FATAL;
    }
    MetricsServer metrics = null;
    if (metricsListen != null) {
      try {
        metrics =
            CoordinatorMetrics.start(
                metricsListen,
                coordinator,
                new MetricsSecurity(metricsTls ? security.tls() : null, security.authenticator()));
      } catch (UncheckedIOException e) {
        log.error("cannot start: {}; choose another address with --metrics-listen", e.getMessage());
        coordinator.close();
        return EXIT_FATAL;
      } catch (IllegalArgumentException e) {
        log.error("cannot start the metrics port: {}", e.getMessage());
        coordinator.close();
        return EXIT_FATAL;
      }
    }
    ShutdownHook.install("craq-coordinator-shutdown", coordinator::close, log);
    Throwable failure = coordinator.terminated().join();
    if (metrics != null) {
      metrics.close();
    }
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
    if (metricsListen != null) {
      try {
        Addresses.parse(metricsListen);
      } catch (IllegalArgumentException e) {
        throw usage("--metrics-listen: " + e.getMessage());
      }
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
    if (chains < 1 || chains > KeySlots.CHAINS_MAX) {
      throw usage("--chains must be 1.." + KeySlots.CHAINS_MAX + ": " + chains);
    }
    CoordinatorServerSettings defaults = CoordinatorServerSettings.defaults(listen, data);
    if (replicas != null && (replicas < 1 || replicas > defaults.membersMax())) {
      throw usage("--replicas must be 1.." + defaults.membersMax() + ": " + replicas);
    }
    if (movesMax < 1) {
      throw usage("--moves-max must be positive: " + movesMax);
    }
    if (expectNodes < 0) {
      throw usage("--expect-nodes must not be negative: " + expectNodes);
    }
    CoordinatorServerSettings settings =
        defaults
            .withTickMillis(tickMillis)
            .withFailureTimeoutMillis(failureTimeoutMillis)
            .withForwardTimeout(Duration.ofMillis(forwardTimeoutMillis))
            .withChains(chains, replicas == null ? 0 : replicas)
            .withMovesMax(movesMax)
            .withExpectNodes(expectNodes);
    return zookeeper == null ? fileMode(settings) : settings.withZooKeeper(zooKeeperSettings());
  }

  private CoordinatorServerSettings fileMode(CoordinatorServerSettings settings) {
    for (String flag :
        new String[] {
          "--advertise",
          "--zookeeper-session-timeout-millis",
          "--zookeeper-connect-timeout-millis",
          "--leader-lease-millis"
        }) {
      if (spec.commandLine().getParseResult().hasMatchedOption(flag)) {
        throw usage(flag + " needs --zookeeper: the file mode has one coordinator and no election");
      }
    }
    return settings;
  }

  private ZooKeeperSettings zooKeeperSettings() {
    if (spec.commandLine().getParseResult().hasMatchedOption("--data")) {
      throw usage(
          "--data is not used with --zookeeper: in ZooKeeper mode the chain map lives in"
              + " ZooKeeper, not in a data directory");
    }
    ZooKeeperSettings.ConnectString connect;
    try {
      connect = ZooKeeperSettings.parse(zookeeper);
    } catch (IllegalArgumentException e) {
      throw usage("--zookeeper: " + e.getMessage());
    }
    if (sessionTimeoutMillis < tickMillis || sessionTimeoutMillis > Integer.MAX_VALUE) {
      throw usage(
          "--zookeeper-session-timeout-millis must be at least one tick ("
              + tickMillis
              + " ms): "
              + sessionTimeoutMillis);
    }
    if (connectTimeoutMillis < 1 || connectTimeoutMillis > Integer.MAX_VALUE) {
      throw usage("--zookeeper-connect-timeout-millis must be positive: " + connectTimeoutMillis);
    }
    if (leaderLeaseMillis < ZooKeeperSettings.LEADER_LEASE_MILLIS_MIN) {
      throw usage(
          "--leader-lease-millis must be at least "
              + ZooKeeperSettings.LEADER_LEASE_MILLIS_MIN
              + " (the leader renews it every 250 ms): "
              + leaderLeaseMillis);
    }
    if (advertise != null) {
      Addresses.HostPort address;
      try {
        address = Addresses.parse(advertise);
      } catch (IllegalArgumentException e) {
        throw usage("--advertise: " + e.getMessage());
      }
      if (address.host().isEmpty() || address.port() == 0) {
        throw usage("--advertise: '" + advertise + "' needs a host and a port other than 0");
      }
    } else {
      Addresses.HostPort address = Addresses.parse(listen);
      if (address.host().isEmpty()
          || address.host().equals("0.0.0.0")
          || address.host().equals("::")) {
        throw usage(
            "--zookeeper: --listen '"
                + listen
                + "' names no host, so standbys cannot tell nodes where this coordinator is;"
                + " give --advertise HOST:PORT or a --listen with a host");
      }
    }
    return new ZooKeeperSettings(
        connect.hosts(),
        connect.chroot(),
        sessionTimeoutMillis,
        connectTimeoutMillis,
        leaderLeaseMillis,
        advertise);
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}

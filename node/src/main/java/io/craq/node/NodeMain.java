package io.craq.node;

import io.craq.core.node.NodeSettings;
import io.craq.metrics.MetricsSecurity;
import io.craq.metrics.MetricsServer;
import io.craq.node.metrics.NodeMetrics;
import io.craq.node.redis.RedisServer;
import io.craq.node.redis.RedisTls;
import io.craq.store.LmdbStorer;
import io.craq.store.LoggedStorer;
import io.craq.store.MemoryStorer;
import io.craq.store.StoreException;
import io.craq.store.Storer;
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
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code craq-node} executable. */
@Command(
    name = "craq-node",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLineConventions.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Runs one CRAQ storage node: keeps the keys of every chain it is a member of in one "
          + "store, serves reads, forwards writes along each chain. It registers with the "
          + "coordinator, which places it in chains, and retries until the coordinator answers, "
          + "so start order does not matter.",
      "Addresses are host:port; ':PORT' listens on all interfaces (dialled as 127.0.0.1). "
          + "Use 127.0.0.1:PORT to listen on loopback only.",
      "Listening beyond loopback without --tls-cert/--tls-key/--tls-ca or without --users "
          + "prints a warning: anyone who can reach the port could read and write every key. "
          + "See docs/SECURITY.md."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:stopped normally",
      "1:fatal error (cannot bind, store failure, broken invariant); see the log",
      "2:usage error (bad flag, bad address, bad config file)",
      "130/143:stopped by Ctrl-C / SIGTERM after a clean shutdown (JVM convention)"
    })
public final class NodeMain implements Callable<Integer> {
  /** System property holding "id role epoch"; logback.xml prints it at the start of each line. */
  static final String LOG_CONTEXT_PROPERTY = "craq.who";

  static final int EXIT_FATAL = 1;

  /** Values are held in memory and sent in one frame: 16 MiB keeps both reasonable. */
  static final int VALUE_BYTES_MAX_LIMIT = 16 << 20;

  private static final Logger log = LoggerFactory.getLogger(NodeMain.class);

  enum StoreKind {
    lmdb,
    memory
  }

  enum SyncMode {
    always,
    none
  }

  @Spec CommandSpec spec;

  @Option(
      names = {"-a", "--listen"},
      defaultValue = ":1235",
      paramLabel = "ADDRESS",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(
      names = {"-p", "--public"},
      paramLabel = "ADDRESS",
      description =
          "Address other processes dial to reach this node (default: the listen "
              + "address; 127.0.0.1 if that has no host). Set it on multi-host setups.")
  String publicAddress;

  @Option(
      names = {"-c", "--coordinator"},
      defaultValue = ":1234",
      paramLabel = "ADDRESS[,ADDRESS...]",
      description =
          "Coordinator address (default: ${DEFAULT-VALUE}, i.e. 127.0.0.1:1234), or the "
              + "addresses of several coordinators separated by commas: the node asks one, and "
              + "a standby names the leader, which the node then follows (so does the rest of "
              + "the list when one cannot be reached).")
  String coordinator;

  @Option(
      names = {"-f", "--db"},
      defaultValue = "craq.db",
      paramLabel = "PATH",
      description = "Database directory for --store lmdb (default: ${DEFAULT-VALUE}).")
  Path db;

  @Option(
      names = "--store",
      defaultValue = "lmdb",
      paramLabel = "KIND",
      description =
          "Storage: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). lmdb keeps "
              + "the data in LMDB with a write-ahead log in PATH/wal; memory loses everything at "
              + "exit.")
  StoreKind store;

  @Option(
      names = "--sync",
      defaultValue = "always",
      paramLabel = "MODE",
      description =
          "always (default): a write is acknowledged only once every member has "
              + "forced it to disk (fdatasync of its write-ahead log). none: nothing is forced; "
              + "the chain trusts replication and the operating system, like etcd's "
              + "--unsafe-no-fsync or Redis's appendfsync no. A process crash loses nothing, but a "
              + "power loss or kernel crash of every member at once may lose the latest writes. "
              + "Checkpoints are synced in both modes.")
  SyncMode sync;

  @Option(
      names = "--checkpoint-bytes",
      paramLabel = "BYTES",
      defaultValue = "" + LoggedStorer.Config.CHECKPOINT_BYTES_DEFAULT,
      description =
          "With --store lmdb: write the changes held in memory into LMDB (a "
              + "checkpoint, after which the log they came from is deleted) once they reach this "
              + "much, or are 30 s old. Memory holds up to twice this (default: ${DEFAULT-VALUE}).")
  long checkpointBytes;

  @Option(
      names = "--id",
      paramLabel = "ID",
      description = "Stable node id (default: the public address, so a restart keeps it).")
  String id;

  @Option(
      names = "--position",
      defaultValue = "-1",
      paramLabel = "N",
      description =
          "Position at which a restarted node asks to re-join each of its chains: 0 = head, -1"
              + " = tail (default: ${DEFAULT-VALUE}). The coordinator adds new members at the"
              + " tail.")
  int position;

  @Option(
      names = "--tick-millis",
      defaultValue = "50",
      paramLabel = "MS",
      description =
          "Length of a protocol tick (default: ${DEFAULT-VALUE}). Heartbeats (5 ticks) "
              + "scale with it; keep the coordinator's failure timeout above the lease.")
  long tickMillis;

  @Option(
      names = "--lease-millis",
      defaultValue = "1500",
      paramLabel = "MS",
      description =
          "How long after sending a heartbeat the coordinator answered this node may serve strong"
              + " reads and accept writes (default: ${DEFAULT-VALUE}). Keep it below the"
              + " coordinator's failure timeout. With several coordinators on ZooKeeper, a lease"
              + " longer than the ZooKeeper session timeout plus about 1 s keeps the chain serving"
              + " through a coordinator failover (see docs/COORDINATION.md).")
  long leaseMillis;

  @Option(
      names = "--value-max-bytes",
      defaultValue = "1048576",
      paramLabel = "BYTES",
      description = "Largest value accepted (default: ${DEFAULT-VALUE}).")
  int valueMaxBytes;

  @Option(
      names = "--metrics-listen",
      paramLabel = "ADDRESS",
      description =
          "Serve Prometheus metrics at http://ADDRESS/metrics, and /health (200 when this node"
              + " serves strong reads, else 503 and why) and /ready (200 once the coordinator"
              + " placed it in the pool). Off by default. See docs/METRICS.md.")
  String metricsListen;

  @Option(
      names = "--metrics-tls",
      description =
          "Serve --metrics-listen over HTTPS (TLS 1.3) with this node's certificate (needs"
              + " --tls-cert, --tls-key and --tls-ca; default: off, plain HTTP). With --users,"
              + " /metrics asks for a user's credentials either way. See docs/METRICS.md.")
  boolean metricsTls;

  @Option(
      names = "--redis-listen",
      paramLabel = "ADDRESS",
      description =
          "Also serve the Redis protocol (RESP2/RESP3) on this address, so redis-cli, "
              + "redis-benchmark and Redis client libraries read and write the cluster through "
              + "this node, every read strong (default: off). See docs/REDIS.md.")
  String redisListen;

  @Option(
      names = "--redis-tls",
      description =
          "Serve TLS 1.3 on --redis-listen with this node's certificate (needs --tls-cert,"
              + " --tls-key and --tls-ca); a client certificate of --tls-client-ca authenticates"
              + " as the user its CN names (default: off, plaintext). See docs/REDIS.md.")
  boolean redisTls;

  @Mixin ServerSecurityOptions securityOptions;

  @Option(
      names = OptionsFile.OPTION,
      paramLabel = "FILE",
      description =
          "Properties file with defaults for the long options above "
              + "(e.g. listen=:1235); command-line flags win.")
  Path config;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Parses {@code args} and runs the node until it stops; returns the exit code. */
  static int run(String[] args, PrintWriter out, PrintWriter err) {
    if (System.getProperty(LOG_CONTEXT_PROPERTY) == null) {
      System.setProperty(LOG_CONTEXT_PROPERTY, "craq-node");
    }
    CommandLine commandLine = new CommandLine(new NodeMain()).setOut(out).setErr(err);
    try {
      OptionsFile.install(commandLine, args);
    } catch (ParameterException e) {
      return CommandLineConventions.usageError(commandLine, e);
    }
    return CommandLineConventions.apply(commandLine).execute(args);
  }

  @Override
  public Integer call() {
    NodeServerSettings settings = settings();
    Security security = securityOptions.security(spec.commandLine(), System.getenv());
    Supplier<SslContext> redisTlsContext = null;
    if (redisTls) {
      if (redisListen == null) {
        throw usage("--redis-tls needs --redis-listen");
      }
      if (!security.tlsEnabled()) {
        throw usage("--redis-tls needs --tls-cert, --tls-key and --tls-ca");
      }
      try {
        redisTlsContext = RedisTls.reloading(security.tls());
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
    }
    Optional<String> metricsTlsProblem =
        SecuritySetup.metricsTlsProblem(metricsTls, metricsListen, security);
    if (metricsTlsProblem.isPresent()) {
      throw usage(metricsTlsProblem.get());
    }
    List<String> warnings =
        new ArrayList<>(
            SecuritySetup.exposureWarnings(
                "craq-node",
                listen,
                security,
                "read and write every key, and pose as a member of its chains"));
    if (redisListen != null) {
      warnings.addAll(
          SecuritySetup.redisExposureWarnings("craq-node", redisListen, redisTls, security));
    }
    if (metricsListen != null) {
      warnings.addAll(
          SecuritySetup.metricsExposureWarnings("craq-node", metricsListen, metricsTls, security));
    }
    for (String warning : warnings) {
      log.warn(warning);
    }
    String dialWarning = SecuritySetup.dialWarning("craq-node", security);
    if (dialWarning != null) {
      log.warn(dialWarning);
    }
    Storer storer;
    try {
      storer = openStore();
    } catch (StoreException e) {
      log.error("cannot open the {} store at {}: {}", store, db.toAbsolutePath(), e.getMessage());
      return EXIT_FATAL;
    }
    if (store == StoreKind.lmdb && sync == SyncMode.none) {
      log.warn(
          "--sync none: writes are not forced to disk; a power loss or kernel crash of "
              + "every member at once may lose the latest acknowledged writes");
    }
    NodeServer node;
    try {
      node =
          NodeServer.start(
              settings,
              storer,
              Transports.open(transportConfig().withSecurity(security)),
              System::nanoTime,
              who -> System.setProperty(LOG_CONTEXT_PROPERTY, who),
              Authorization.of(security.authenticator()));
    } catch (ListenFailedException e) {
      // A port in use is the setup's fault: one line, no stack trace.
      log.error("cannot start: {}; choose another address with -a/--listen", e.getMessage());
      return EXIT_FATAL;
    } catch (RuntimeException e) {
      log.error("cannot start: {}", e.getMessage(), e);
      return EXIT_FATAL;
    }
    MetricsServer metrics = null;
    if (metricsListen != null) {
      try {
        metrics =
            NodeMetrics.start(
                metricsListen,
                node,
                new MetricsSecurity(metricsTls ? security.tls() : null, security.authenticator()));
      } catch (UncheckedIOException e) {
        log.error("cannot start: {}; choose another address with --metrics-listen", e.getMessage());
        node.close();
        return EXIT_FATAL;
      } catch (IllegalArgumentException e) {
        log.error("cannot start the metrics port: {}", e.getMessage());
        node.close();
        return EXIT_FATAL;
      }
    }
    RedisServer redis = null;
    if (redisListen != null) {
      try {
        redis =
            RedisServer.start(
                redisListen,
                node,
                settings.coordinatorAddresses(),
                valueMaxBytes,
                security,
                redisTlsContext);
      } catch (IOException e) {
        log.error("cannot start: {}; choose another address with --redis-listen", e.getMessage());
        if (metrics != null) {
          metrics.close();
        }
        node.close();
        return EXIT_FATAL;
      }
    }
    RedisServer redisPort = redis;
    ShutdownHook.install(
        "craq-node-shutdown",
        () -> {
          if (redisPort != null) {
            redisPort.close();
          }
          node.close();
        },
        log);
    Throwable failure = node.terminated().join();
    if (metrics != null) {
      metrics.close();
    }
    if (failure != null) {
      if (redisPort != null) {
        redisPort.close();
      }
      node.close();
      return EXIT_FATAL;
    }
    return CommandLine.ExitCode.OK;
  }

  private NodeServerSettings settings() {
    checkAddress("--listen", listen);
    if (metricsListen != null) {
      checkAddress("--metrics-listen", metricsListen);
    }
    if (redisListen != null) {
      checkAddress("--redis-listen", redisListen);
    }
    List<String> coordinators = coordinatorAddresses();
    if (publicAddress != null) {
      checkAddress("--public", publicAddress);
      if (Addresses.parse(publicAddress).host().isEmpty()) {
        throw usage("--public must name a host others can dial, e.g. 10.0.0.5:1235");
      }
    }
    if (tickMillis < 1 || tickMillis > 10_000) {
      throw usage("--tick-millis must be 1..10000: " + tickMillis);
    }
    NodeSettings defaults = NodeSettings.defaults();
    long leaseTicks = leaseMillis / tickMillis;
    if (leaseTicks <= defaults.heartbeatIntervalTicks() || leaseTicks > 1_000_000) {
      throw usage(
          "--lease-millis must be more than "
              + defaults.heartbeatIntervalTicks()
              + " ticks ("
              + defaults.heartbeatIntervalTicks() * tickMillis
              + " ms, the heartbeat interval) and at most a million ticks: "
              + leaseMillis);
    }
    if (valueMaxBytes < 0 || valueMaxBytes > VALUE_BYTES_MAX_LIMIT) {
      throw usage("--value-max-bytes must be 0.." + VALUE_BYTES_MAX_LIMIT + ": " + valueMaxBytes);
    }
    if (position < -1) {
      throw usage("--position must be >= -1 (-1 = tail): " + position);
    }
    if (checkpointBytes < 4096) {
      throw usage("--checkpoint-bytes must be >= 4096: " + checkpointBytes);
    }
    if (id != null && id.isBlank()) {
      throw usage("--id must not be blank");
    }
    return NodeServerSettings.defaults(listen, coordinators)
        .withPublicAddress(publicAddress)
        .withNodeId(id)
        .withJoinPosition(position)
        .withTickMillis(tickMillis)
        .withMachine(machineSettings(defaults, (int) leaseTicks, valueMaxBytes));
  }

  private Storer openStore() {
    return switch (store) {
      case lmdb -> openLogged();
      case memory -> new MemoryStorer(valueMaxBytes);
    };
  }

  /** LMDB in {@code db}, behind a write-ahead log in {@code db/wal}. */
  private Storer openLogged() {
    LmdbStorer base =
        LmdbStorer.open(LmdbStorer.Config.defaults(db).withValueBytesMax(valueMaxBytes));
    try {
      return LoggedStorer.open(
          base,
          LoggedStorer.Config.defaults(db.resolve("wal"))
              .withSyncEachApply(sync == SyncMode.always)
              .withCheckpointBytes(checkpointBytes));
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  /**
   * Frames must hold the largest value plus its key and headers. Every connection a node dials
   * carries chain traffic (propagations, commits, version queries, heartbeats) and is marked
   * low-delay, so a priority queue on a link saturated by read replies sends it first.
   */
  private TransportConfig transportConfig() {
    int frameBytes =
        Math.max(TransportConfig.FRAME_BYTES_MAX_DEFAULT, valueMaxBytes + (64 << 10) + 1024);
    return TransportConfig.DEFAULT
        .withFrameBytesMax(frameBytes)
        .withValueBytesMax(valueMaxBytes)
        .withDialTrafficClass(TransportConfig.TRAFFIC_CLASS_LOW_DELAY);
  }

  /** {@code s} with the read lease and the largest value given on the command line. */
  static NodeSettings machineSettings(NodeSettings s, int leaseTicks, int valueBytesMax) {
    return new NodeSettings(
        s.heartbeatIntervalTicks(),
        leaseTicks,
        s.retransmitTicks(),
        s.writeTimeoutTicks(),
        s.versionQueryTimeoutTicks(),
        s.catchUpKeysMax(),
        s.catchUpRetryTicks(),
        s.pendingWritesMax(),
        s.pendingReadsMax(),
        s.resendBatchMax(),
        valueBytesMax);
  }

  private List<String> coordinatorAddresses() {
    try {
      return NodeServerSettings.parseCoordinatorAddresses(coordinator);
    } catch (IllegalArgumentException e) {
      throw usage("--coordinator: " + e.getMessage());
    }
  }

  private void checkAddress(String option, String address) {
    try {
      Addresses.parse(address);
    } catch (IllegalArgumentException e) {
      throw usage(option + ": " + e.getMessage());
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}

package io.craq.cli.cluster;

import io.craq.cli.CraqMain;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.core.chain.KeySlots;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainMap;
import io.craq.transport.process.CommandLineConventions;
import io.craq.transport.security.Security;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code craq cluster} (what {@code bin/craq-cluster} runs): a local cluster in the foreground, a
 * coordinator on 127.0.0.1:BASE and N nodes on the next ports, started by {@link LocalProcesses}
 * with the bin/ launchers, each command line printed so that a process can be stopped and started
 * again by hand. It copies warnings and errors from the logs to stderr, notices a process started
 * again by hand, and stops every process by PID when the JVM shuts down (Ctrl-C, SIGTERM, or an
 * error): the nodes first, then the coordinator.
 *
 * <p>With {@code --zookeeper}: a local ZooKeeper ensemble of 3 servers ({@link ZooKeeperEnsemble}),
 * 3 coordinators keeping the configuration in it (one leads, the others stand by) and the nodes, on
 * ports from BASE+21 ({@link Layout}, apart from those of the default mode); it also says which
 * coordinator leads, and when another takes over. Ctrl-C stops the nodes, the coordinators, then
 * the ZooKeeper servers.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLineConventions.Version.class,
    usageHelpWidth = 100,
    description = {
      "Starts a coordinator on 127.0.0.1:PORT and N nodes on 127.0.0.1:PORT+1, PORT+2, ..."
          + " (loopback only), waits until every chain has its members, all caught up, prints the"
          + " chains, and runs until Ctrl-C.",
      ""
    },
    footer = {
      "",
      "The command line of every process is printed when it starts: stop a node (kill PID) and"
          + " start it again with that line to watch it leave and re-join; Ctrl-C stops it too."
          + " Warnings and errors from the logs are copied to this terminal, prefixed with the"
          + " process name. Extra JVM flags for every process: CRAQ_JAVA_OPTS.",
      "",
      "With --zookeeper (all on 127.0.0.1, apart from the ports of the default mode):"
          + " ZooKeeper servers zk1-zk3 listen for clients on PORT+21..PORT+23, for followers on"
          + " PORT+24..PORT+26 and for elections on PORT+27..PORT+29; coordinators c1-c3 on"
          + " PORT+31..PORT+33 keep the configuration under the znode /craq-local; nodes on"
          + " PORT+41, PORT+42, .... Clients and nodes get every coordinator:"
          + " -c 127.0.0.1:PORT+31,127.0.0.1:PORT+32,127.0.0.1:PORT+33. Stop the leading"
          + " coordinator to watch another take over."
    })
public final class ClusterCommand implements Callable<Integer> {
  private static final String NAME = "craq-cluster: ";
  private static final String HOST = "127.0.0.1";
  private static final int EXIT_USAGE = 2;

  @Spec CommandSpec spec;

  @Option(
      names = "--base-port",
      paramLabel = "PORT",
      defaultValue = "1234",
      description =
          "The coordinator's port; nodes take the next N ports (default: 1234). With"
              + " --zookeeper, the ports from PORT+21 (see below).")
  String basePort;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description =
          "Data and logs folder (default: ./craq-cluster-data, with --zookeeper"
              + " ./craq-cluster-zookeeper-data); node nI keeps its LMDB database in DIR/nI, the"
              + " coordinator its membership in DIR/coordinator (with --zookeeper: ZooKeeper"
              + " server zkI its data in DIR/zkI), each process logs to DIR/logs/NAME.log.")
  String data;

  @Option(
      names = "--zookeeper",
      description =
          "Coordinators on ZooKeeper: start a local 3-server ZooKeeper ensemble (from the"
              + " project's jars), 3 coordinators that keep the configuration in it (one leads,"
              + " the others stand by) and the nodes.")
  boolean zookeeper;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      defaultValue = "3",
      description = "Number of nodes, 1-20 (default: 3).")
  String nodes;

  @Option(
      names = "--chains",
      paramLabel = "K",
      description =
          "Chains of a new cluster, 1-"
              + KeySlots.CHAINS_MAX
              + " (default: 1); keys are spread over them by hash. Passed to the coordinator.")
  String chains;

  @Option(
      names = "--replicas",
      paramLabel = "R",
      description =
          "Members of each chain (default: 3 with several chains; with one chain, every"
              + " node). Passed to the coordinator.")
  String replicas;

  @Option(
      names = "--tls",
      description =
          "TLS on every link: make a throwaway CA and certificates in DATA/tls (craq tls-init),"
              + " start every process with its own certificate, and print the craq flags that use"
              + " the client certificate.")
  boolean tls;

  @Option(
      names = "--memory",
      description = "Nodes keep data in memory (lost at exit) instead of LMDB.")
  boolean memory;

  @Option(
      names = "--wait-seconds",
      paramLabel = "S",
      defaultValue = "60",
      description = "How long to wait for the chain to form (default: 60).")
  String waitSeconds;

  @Option(
      names = "--home",
      hidden = true,
      description = "The project folder, whose bin/ launchers start the processes.")
  Path home;

  @Option(
      names = "--usage-name",
      hidden = true,
      defaultValue = "craq cluster",
      description = "How the user called this command, for the hint of a usage error.")
  String usageName = "craq cluster";

  /** The most members a chain may have (the coordinator's longest chain). */
  static final int REPLICAS_MAX = CoordinatorSettings.defaults().membersMax();

  /** The options, checked; {@code chains} and {@code replicas} are 0 when not given. */
  record Settings(int basePort, int nodes, int waitSeconds, int chains, int replicas) {
    Settings(int basePort, int nodes, int waitSeconds) {
      this(basePort, nodes, waitSeconds, 0, 0);
    }
  }

  /**
   * Where each process of a cluster listens on 127.0.0.1, from the base port B. The default mode:
   * the coordinator on B, node nI on B+I (up to B+20). With ZooKeeper, ports apart from those, so
   * that both kinds of cluster can run side by side on one base port: ZooKeeper server zkI on
   * B+20+I (clients), B+23+I (followers) and B+26+I (elections), coordinator cI on B+30+I, node nI
   * on B+40+I. Node nI's Redis-protocol port: B+60+I, or B+80+I with ZooKeeper.
   */
  record Layout(int basePort, int nodes, boolean zookeeper) {
    static final int ZOOKEEPER_SERVERS = 3;
    static final int COORDINATORS = 3;

    /** The highest port offset a cluster of {@code nodes} nodes uses. */
    static int span(int nodes, boolean zookeeper) {
      return redisOffset(zookeeper) + nodes;
    }

    /** Node nI's Redis-protocol port is the base port plus this plus I. */
    private static int redisOffset(boolean zookeeper) {
      return zookeeper ? 80 : 60;
    }

    /** The address of node nI's Redis-protocol port (1..N). */
    String redis(int i) {
      return HOST + ":" + (basePort + redisOffset(zookeeper) + i);
    }

    /** The coordinators' addresses: one, or with ZooKeeper c1, c2, c3. */
    List<String> coordinators() {
      if (!zookeeper) {
        return List.of(HOST + ":" + basePort);
      }
      List<String> all = new ArrayList<>();
      for (int i = 1; i <= COORDINATORS; i++) {
        all.add(HOST + ":" + (basePort + 30 + i));
      }
      return all;
    }

    /** The address of node nI (1..N). */
    String node(int i) {
      return HOST + ":" + (basePort + (zookeeper ? 40 : 0) + i);
    }

    /** The ports of the ZooKeeper servers; none in the default mode. */
    List<ZooKeeperEnsemble.Ports> zooKeeper() {
      List<ZooKeeperEnsemble.Ports> all = new ArrayList<>();
      for (int i = 1; zookeeper && i <= ZOOKEEPER_SERVERS; i++) {
        all.add(
            new ZooKeeperEnsemble.Ports(basePort + 20 + i, basePort + 23 + i, basePort + 26 + i));
      }
      return all;
    }

    /** Every port of the cluster. */
    List<Integer> ports() {
      List<Integer> all = new ArrayList<>();
      for (ZooKeeperEnsemble.Ports server : zooKeeper()) {
        all.addAll(List.of(server.client(), server.quorum(), server.election()));
      }
      for (String address : coordinators()) {
        all.add(port(address));
      }
      for (int i = 1; i <= nodes; i++) {
        all.add(port(node(i)));
        all.add(port(redis(i)));
      }
      return all;
    }

    /** The ZooKeeper layout in one line, for the terminal. */
    String describe() {
      List<ZooKeeperEnsemble.Ports> servers = zooKeeper();
      String nodePorts = nodes == 1 ? "" + port(node(1)) : port(node(1)) + "-" + port(node(nodes));
      return "ZooKeeper clients "
          + servers.getFirst().client()
          + "-"
          + servers.getLast().client()
          + ", followers "
          + servers.getFirst().quorum()
          + "-"
          + servers.getLast().quorum()
          + ", elections "
          + servers.getFirst().election()
          + "-"
          + servers.getLast().election()
          + "; coordinators "
          + port(coordinators().getFirst())
          + "-"
          + port(coordinators().getLast())
          + "; nodes "
          + nodePorts
          + " (127.0.0.1)";
    }

    private static int port(String address) {
      return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }
  }

  /** The ZooKeeper path under which the coordinators of a local cluster keep their state. */
  static final String CHROOT = "/craq-local";

  /**
   * With --zookeeper, nodes' read lease: longer than a failover (the coordinators' default session
   * timeout of 4 s, the election and the first push), so the chain keeps serving through one.
   */
  static final long ZOOKEEPER_NODE_LEASE_MILLIS = 5_500;

  /** With --zookeeper, the coordinators' failure timeout: above the nodes' lease. */
  static final long ZOOKEEPER_FAILURE_TIMEOUT_MILLIS = 6_000;

  /** A usage error: its reason. */
  static final class UsageError extends Exception {
    private static final long serialVersionUID = 1L;

    UsageError(String reason) {
      super(reason);
    }
  }

  private static final Pattern NUMBER = Pattern.compile("[0-9]{1,9}");

  /** The numbers of the options, or the usage error they make. */
  static Settings settings(String basePort, String nodes, String waitSeconds) throws UsageError {
    return settings(basePort, nodes, waitSeconds, false);
  }

  /** The numbers of the options, or the usage error they make, with or without ZooKeeper. */
  static Settings settings(String basePort, String nodes, String waitSeconds, boolean zookeeper)
      throws UsageError {
    return settings(basePort, nodes, waitSeconds, zookeeper, null, null);
  }

  /**
   * The numbers of the options, or the usage error they make; {@code chains} and {@code replicas}
   * may be null (not given).
   */
  static Settings settings(
      String basePort,
      String nodes,
      String waitSeconds,
      boolean zookeeper,
      String chains,
      String replicas)
      throws UsageError {
    if (!NUMBER.matcher(nodes).matches()
        || Integer.parseInt(nodes) < 1
        || Integer.parseInt(nodes) > 20) {
      throw new UsageError("--nodes must be a number from 1 to 20, got '" + nodes + "'");
    }
    int n = Integer.parseInt(nodes);
    if (!NUMBER.matcher(waitSeconds).matches() || Integer.parseInt(waitSeconds) < 1) {
      throw new UsageError("--wait-seconds must be a positive number, got '" + waitSeconds + "'");
    }
    int highest = 65535 - Layout.span(n, zookeeper);
    if (!NUMBER.matcher(basePort).matches()
        || Integer.parseInt(basePort) < 1
        || Integer.parseInt(basePort) > highest) {
      throw new UsageError(
          "--base-port must be a port from 1 to "
              + highest
              + (zookeeper ? " with --zookeeper" : "")
              + ", got '"
              + basePort
              + "'");
    }
    int k = 0;
    if (chains != null) {
      if (!NUMBER.matcher(chains).matches()
          || Integer.parseInt(chains) < 1
          || Integer.parseInt(chains) > KeySlots.CHAINS_MAX) {
        throw new UsageError(
            "--chains must be a number from 1 to "
                + KeySlots.CHAINS_MAX
                + ", got '"
                + chains
                + "'");
      }
      k = Integer.parseInt(chains);
    }
    int r = 0;
    if (replicas != null) {
      if (!NUMBER.matcher(replicas).matches()
          || Integer.parseInt(replicas) < 1
          || Integer.parseInt(replicas) > REPLICAS_MAX) {
        throw new UsageError(
            "--replicas must be a number from 1 to " + REPLICAS_MAX + ", got '" + replicas + "'");
      }
      r = Integer.parseInt(replicas);
    }
    return new Settings(Integer.parseInt(basePort), n, Integer.parseInt(waitSeconds), k, r);
  }

  /**
   * The usage error of a command line picocli could not parse, in the words of {@code
   * bin/craq-cluster}: the reason and one hint line; returns the exit code.
   */
  public static int usageError(ParameterException failure) {
    CommandLine command = failure.getCommandLine();
    String reason = failure.getMessage();
    if (failure instanceof CommandLine.MissingParameterException missing
        && !missing.getMissing().isEmpty()
        && missing.getMissing().get(0) instanceof CommandLine.Model.OptionSpec option) {
      reason = option.longestName() + " needs a value";
    } else if (failure instanceof CommandLine.UnmatchedArgumentException unmatched
        && !unmatched.getUnmatched().isEmpty()) {
      reason = "unknown argument '" + unmatched.getUnmatched().get(0) + "'";
    }
    String usageName =
        command.getCommand() instanceof ClusterCommand cluster ? cluster.usageName : "craq cluster";
    return usageError(command.getErr(), reason, usageName);
  }

  private static int usageError(PrintWriter err, String reason, String usageName) {
    err.println(NAME + reason);
    err.println("Try '" + usageName + " --help' for more information.");
    err.flush();
    return EXIT_USAGE;
  }

  /**
   * The first of {@code count} ports from {@code from} on {@code host} that something listens on: a
   * port someone else holds would make a process fail after a slow start.
   */
  static OptionalInt portInUse(String host, int from, int count) {
    List<Integer> ports = new ArrayList<>();
    for (int port = from; port < from + count; port++) {
      ports.add(port);
    }
    return portInUse(host, ports);
  }

  /** The first of {@code ports} on {@code host} that something listens on. */
  static OptionalInt portInUse(String host, List<Integer> ports) {
    for (int port : ports) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), 1_000);
        return OptionalInt.of(port);
      } catch (IOException e) {
        // nothing listens: free
      }
    }
    return OptionalInt.empty();
  }

  /** {@code words} as one shell command line: each word quoted if it needs to be. */
  static String quoted(List<String> words) {
    List<String> quoted = new ArrayList<>();
    for (String word : words) {
      quoted.add(
          word.matches("[A-Za-z0-9_./:=@%+,-]+") ? word : "'" + word.replace("'", "'\\''") + "'");
    }
    return String.join(" ", quoted);
  }

  /** The kinds of process of a cluster, in the order they stop. */
  private enum Kind {
    NODE,
    COORDINATOR,
    ZOOKEEPER
  }

  /** A process of the cluster and what tells it from every other process. */
  private static final class Member {
    final String name;
    final Kind kind;

    /** What starts it: a launcher, or null for a ZooKeeper server (the ensemble starts it). */
    final Role role;

    final List<String> args;

    /**
     * Its data folder, configuration file or (a coordinator on ZooKeeper) address: an argument of
     * this process and of no other.
     */
    final String marker;

    /** The jar its launcher runs, or the main class of a ZooKeeper server: also an argument. */
    final String program;

    /** The process now, started here or by hand; null while down. */
    volatile ProcessHandle current;

    /** The process this command started, while it is the current one. */
    volatile Process started;

    boolean down;

    Member(String name, Kind kind, Role role, List<String> args, String marker, String program) {
      this.name = name;
      this.kind = kind;
      this.role = role;
      this.args = args;
      this.marker = marker;
      this.program = program;
    }
  }

  private final List<Member> members = new ArrayList<>();
  private volatile boolean stopping;
  private PrintWriter err;
  private Path dataDir;
  private LogLines logLines;
  private Thread copier;

  /** The ZooKeeper servers, with --zookeeper. */
  private ZooKeeperEnsemble ensemble;

  /** The coordinators' addresses. */
  private List<String> coordinators;

  /** With --tls: the certificates of every process and of the client. */
  private TlsInitCommand.Result certificates;

  /** How this command's own client connects: with --tls, with the client certificate. */
  private Security clientSecurity = Security.NONE;

  /** {@code args} with the TLS flags of member {@code name}, with --tls. */
  private List<String> withTls(List<String> args, String name) {
    if (certificates == null) {
      return args;
    }
    List<String> all = new ArrayList<>(args);
    all.addAll(certificates.serverArgs(certificates.issued(name)));
    return all;
  }

  /** Which coordinator (index) was last seen leading, -1 for none; with --zookeeper. */
  private int leader = -1;

  @Override
  public Integer call() throws IOException, InterruptedException {
    err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    Settings settings;
    try {
      settings = settings(basePort, nodes, waitSeconds, zookeeper, chains, replicas);
    } catch (UsageError e) {
      return usageError(err, e.getMessage(), usageName);
    }
    Layout layout = new Layout(settings.basePort(), settings.nodes(), zookeeper);
    OptionalInt taken = portInUse(HOST, layout.ports());
    if (taken.isPresent()) {
      err.println(
          NAME
              + HOST
              + ":"
              + taken.getAsInt()
              + " is already in use (another cluster still running? choose other ports with"
              + " --base-port)");
      err.flush();
      return 1;
    }
    Path project = home != null ? home.toAbsolutePath().normalize() : projectFolder();
    Path realProject = project.toRealPath();
    String store = memory ? "memory" : "lmdb";
    coordinators = layout.coordinators();
    String folder =
        data != null ? data : zookeeper ? "./craq-cluster-zookeeper-data" : "./craq-cluster-data";
    dataDir = Path.of(folder).toAbsolutePath().normalize();
    Path logs = dataDir.resolve("logs");
    Files.createDirectories(logs);
    String coordinatorJar = realProject.resolve(Role.COORDINATOR.jar()).toString();
    if (tls) {
      Path tlsDir = dataDir.resolve("tls");
      err.println(NAME + "making a throwaway CA and certificates in " + tlsDir + " ...");
      err.flush();
      try {
        certificates =
            TlsInitCommand.generate(tlsDir, settings.nodes(), coordinators.size(), List.of());
      } catch (IOException e) {
        err.println(NAME + "cannot make the certificates: " + e.getMessage());
        err.flush();
        return 1;
      }
      clientSecurity = Security.NONE.withTls(certificates.clientSettings());
    }

    if (zookeeper) {
      try {
        ensemble =
            new ZooKeeperEnsemble(
                dataDir, layout.zooKeeper(), ZooKeeperEnsemble.projectClassPath(realProject));
      } catch (IOException e) {
        err.println(NAME + e.getMessage());
        err.flush();
        return 1;
      }
      for (int i = 1; i <= ensemble.size(); i++) {
        members.add(
            new Member(
                ensemble.name(i),
                Kind.ZOOKEEPER,
                null,
                ensemble.javaCommand(i),
                ensemble.configFile(i).toString(),
                ZooKeeperEnsemble.MAIN_CLASS));
      }
      // In ZooKeeper mode a coordinator keeps nothing on disk (no -d): its address tells it apart.
      for (int i = 1; i <= coordinators.size(); i++) {
        String address = coordinators.get(i - 1);
        members.add(
            new Member(
                "c" + i,
                Kind.COORDINATOR,
                Role.COORDINATOR,
                withTls(
                    withChains(
                        List.of(
                            "--zookeeper",
                            ensemble.connectString(CHROOT),
                            "--listen",
                            address,
                            "--advertise",
                            address,
                            "--failure-timeout-millis",
                            Long.toString(ZOOKEEPER_FAILURE_TIMEOUT_MILLIS)),
                        settings),
                    "c" + i),
                address,
                coordinatorJar));
      }
    } else {
      Files.createDirectories(dataDir.resolve("coordinator"));
      members.add(
          new Member(
              "coordinator",
              Kind.COORDINATOR,
              Role.COORDINATOR,
              withTls(
                  withChains(
                      LocalProcesses.coordinatorArgs(
                          coordinators.get(0), dataDir.resolve("coordinator")),
                      settings),
                  "coordinator"),
              dataDir.resolve("coordinator").toString(),
              coordinatorJar));
    }
    for (int i = 1; i <= settings.nodes(); i++) {
      String address = layout.node(i);
      List<String> args = new ArrayList<>();
      if (zookeeper) {
        // A read lease longer than a failover (the session timeout and a little): strong reads
        // and writes go on while a standby takes over.
        args.addAll(List.of("--lease-millis", Long.toString(ZOOKEEPER_NODE_LEASE_MILLIS)));
      }
      args.addAll(
          List.of(
              "--id",
              "n" + i,
              "-a",
              address,
              "-p",
              address,
              "-c",
              String.join(",", coordinators),
              "--store",
              store,
              "-f",
              dataDir.resolve("n" + i).toString(),
              "--redis-listen",
              layout.redis(i)));
      members.add(
          new Member(
              "n" + i,
              Kind.NODE,
              Role.NODE,
              withTls(args, "n" + i),
              dataDir.resolve("n" + i).toString(),
              realProject.resolve(Role.NODE.jar()).toString()));
    }

    LocalProcesses processes = new LocalProcesses(LocalProcesses.launchers(project), logs);
    logLines = new LogLines(err);
    for (Member member : members) {
      Files.writeString(processes.log(member.name), "");
      if (member.kind != Kind.ZOOKEEPER) {
        logLines.follow(member.name, processes.log(member.name));
      }
    }
    copier =
        Thread.ofPlatform()
            .daemon()
            .name("craq-cluster-logs")
            .start(() -> {
              while (!Thread.currentThread().isInterrupted()) {
                logLines.copyNew();
                try {
                  Thread.sleep(200);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "craq-cluster-stop"));

    if (zookeeper) {
      err.println(NAME + "ports: " + layout.describe());
      long startedAt = System.nanoTime();
      ensemble.start();
      for (int i = 1; i <= ensemble.size(); i++) {
        Member member = members.get(i - 1);
        Process process = ensemble.process(i);
        member.started = process;
        member.current = process.toHandle();
        printStarted(member, process, member.args, ensemble.log(i));
      }
      err.println(
          NAME
              + "waiting up to "
              + settings.waitSeconds()
              + "s for the ZooKeeper ensemble to serve ...");
      err.flush();
      try {
        ensemble.awaitAllServing(Duration.ofSeconds(settings.waitSeconds()));
      } catch (IOException e) {
        err.println(NAME + e.getMessage());
        err.flush();
        return 1;
      }
      err.printf(
          Locale.ROOT,
          "%sZooKeeper serves after %.1f s (%s)%n",
          NAME,
          (System.nanoTime() - startedAt) / 1e9,
          ensemble.modes());
      err.flush();
      // From now on its warnings are news (while it starts, the servers look for each other).
      for (int i = 1; i <= ensemble.size(); i++) {
        logLines.follow(ensemble.name(i), ensemble.log(i));
      }
    }

    for (Member member : members) {
      if (member.kind == Kind.ZOOKEEPER) {
        continue;
      }
      Process process = processes.start(member.name, member.role, member.args);
      member.started = process;
      member.current = process.toHandle();
      List<String> line = new ArrayList<>();
      line.add(project.resolve(member.role.launcher()).toString());
      line.addAll(member.args);
      printStarted(member, process, line, processes.log(member.name));
    }

    err.println(
        NAME
            + "waiting up to "
            + settings.waitSeconds()
            + "s for "
            + settings.nodes()
            + " node(s) to join "
            + (settings.chains() > 1 ? "the " + settings.chains() + " chains" : "the chain")
            + " ...");
    err.flush();
    LocalProcesses.AliveCheck alive =
        () -> {
          for (Member member : members) {
            if (current(member) == null) {
              throw new IOException(member.name + " exited");
            }
          }
        };
    String leaderAddress = coordinators.get(0);
    ChainMap ready;
    try {
      if (zookeeper) {
        LocalProcesses.Leading leading =
            LocalProcesses.awaitChain(
                coordinators,
                clientSecurity,
                LocalProcesses.caughtUp(settings.nodes()),
                Duration.ofSeconds(settings.waitSeconds()),
                200,
                alive);
        leader = leading.index();
        leaderAddress = leading.address();
        ready = leading.map();
      } else {
        ready =
            LocalProcesses.awaitChain(
                leaderAddress,
                clientSecurity,
                LocalProcesses.caughtUp(settings.nodes()),
                Duration.ofSeconds(settings.waitSeconds()),
                200,
                alive);
      }
    } catch (IOException e) {
      for (Member member : members) {
        if (current(member) == null) {
          err.println(
              NAME + member.name + " exited; last lines of " + processes.log(member.name) + ":");
          for (String line : processes.logTail(member.name, 20).split("\n", -1)) {
            err.println("[" + member.name + "] " + line);
          }
          err.flush();
          return 1;
        }
      }
      err.println(
          NAME
              + (settings.chains() > 1
                  ? "the chains did not all reach their caught-up members in "
                  : "the chain did not reach "
                      + Math.min(
                          settings.nodes(),
                          settings.replicas() > 0 ? settings.replicas() : settings.nodes())
                      + " caught-up member(s) in ")
              + settings.waitSeconds()
              + "s ("
              + e.getMessage()
              + "); logs in "
              + logs);
      err.flush();
      return 1;
    }

    List<String> chainCommand = new ArrayList<>(List.of("-c", leaderAddress));
    if (certificates != null) {
      chainCommand.addAll(certificates.clientArgs());
    }
    chainCommand.add("chain");
    CraqMain.newCommandLine().execute(chainCommand.toArray(String[]::new));
    String client =
        !zookeeper && settings.basePort() == 1234
            ? "bin/craq"
            : "bin/craq -c " + String.join(",", coordinators);
    if (certificates != null) {
      client += " " + String.join(" ", certificates.clientArgs());
    }
    out.println();
    if (zookeeper) {
      out.println(
          "CRAQ cluster is up on ZooKeeper ("
              + ensemble.size()
              + " ZooKeeper servers, "
              + coordinators.size()
              + " coordinators, "
              + settings.nodes()
              + " node(s), "
              + describeChains(ready)
              + ", store "
              + store
              + ", data "
              + dataDir
              + "):");
      for (Member member : members) {
        out.println("  " + where(member, layout, processes.log(member.name)));
      }
      out.println("ZooKeeper connect string: " + ensemble.connectString(CHROOT));
      err.println(
          NAME
              + "c"
              + (leader + 1)
              + " leads ("
              + leaderAddress
              + "); stop it (kill PID) to watch another take over");
      err.flush();
    } else {
      out.println(
          "CRAQ cluster is up (coordinator "
              + leaderAddress
              + ", "
              + settings.nodes()
              + " node(s), "
              + describeChains(ready)
              + ", store "
              + store
              + ", data "
              + dataDir
              + ").");
    }
    out.println(
        "Redis protocol (redis-cli, redis-benchmark, client libraries): " + redisPorts(layout));
    out.println("Try, in another terminal:");
    out.println("  " + client + " write hello world");
    out.println("  " + client + " read hello");
    out.println("  " + client + " readall");
    out.println("  " + client + " chain");
    out.println("  redis-cli -p " + Layout.port(layout.redis(1)) + " set hello world");
    out.println("Press Ctrl-C to stop the cluster.");
    out.flush();

    watch(processes);
    return 0;
  }

  /** Every node's Redis-protocol port, as {@code n1 127.0.0.1:P1, n2 ...}. */
  private static String redisPorts(Layout layout) {
    List<String> ports = new ArrayList<>();
    for (int i = 1; i <= layout.nodes(); i++) {
      ports.add("n" + i + " " + layout.redis(i));
    }
    return String.join(", ", ports);
  }

  /**
   * {@code args} with the coordinator's --chains and --replicas, when given, and with several
   * chains --expect-nodes: the nodes this command starts are laid out together.
   */
  private static List<String> withChains(List<String> args, Settings settings) {
    List<String> all = new ArrayList<>(args);
    all.addAll(LocalProcesses.chainArgs(settings.chains(), settings.replicas()));
    all.addAll(LocalProcesses.expectArgs(settings.chains(), settings.nodes()));
    return List.copyOf(all);
  }

  /**
   * The chains of the map the cluster formed with, for its summary line: {@code 1 chain}, {@code 1
   * chain of 2 replicas} (when fewer than every node), or {@code 4 chains of 3 replicas}.
   */
  static String describeChains(ChainMap map) {
    int chains = map.chainCount();
    int size = map.chain(0).size();
    if (chains == 1) {
      return map.replicas() > size ? "1 chain" : "1 chain of " + map.replicas() + " replicas";
    }
    return chains + " chains of " + map.replicas() + " replicas";
  }

  private void printStarted(Member member, Process process, List<String> line, Path log) {
    err.println(
        NAME
            + "started "
            + member.name
            + " (pid "
            + process.pid()
            + "): "
            + quoted(line)
            + " >>"
            + quoted(List.of(log.toString()))
            + " 2>&1");
    err.flush();
  }

  /** One line of the table of processes: name, PID, address, log. */
  private String where(Member member, Layout layout, Path log) {
    ProcessHandle process = member.current;
    String address;
    String role = "";
    int number = Integer.parseInt(member.name.replaceAll("[^0-9]", ""));
    switch (member.kind) {
      case ZOOKEEPER -> {
        ZooKeeperEnsemble.Ports ports = layout.zooKeeper().get(number - 1);
        address = HOST + ":" + ports.client();
        role = "ZooKeeper, followers " + ports.quorum() + ", elections " + ports.election();
      }
      case COORDINATOR -> {
        address = coordinators.get(number - 1);
        role = number - 1 == leader ? "coordinator, leads" : "coordinator, stands by";
      }
      default -> {
        address = layout.node(number);
        role = "node, Redis protocol on " + layout.redis(number);
      }
    }
    return String.format(
        Locale.ROOT,
        "%-4s pid %-8s %-16s %-44s log %s",
        member.name,
        process == null ? "-" : Long.toString(process.pid()),
        address,
        role,
        log);
  }

  /**
   * Runs until the JVM shuts down, reporting processes that exit (e.g. a node stopped to watch a
   * failover) and come back (started again by hand with the command line printed for them).
   */
  private void watch(LocalProcesses processes) throws InterruptedException {
    boolean allDown = false;
    CraqClient client =
        zookeeper
            ? CraqClient.connect(
                ClientConfig.defaults(coordinators.get(0))
                    .withCallTimeoutMillis(1_000)
                    .withSecurity(clientSecurity))
            : null;
    while (!stopping) {
      if (client != null) {
        trackLeader(client);
      }
      for (Member member : members) {
        ProcessHandle known = member.current;
        if (known != null && !LocalProcesses.running(known.pid())) {
          Process started = member.started;
          String status =
              started != null && started.pid() == known.pid() && !started.isAlive()
                  ? " (status " + started.exitValue() + ")"
                  : "";
          synchronized (this) {
            if (stopping) {
              return;
            }
            err.println(
                NAME
                    + member.name
                    + " (pid "
                    + known.pid()
                    + ") exited"
                    + status
                    + "; see "
                    + processes.log(member.name));
            err.flush();
          }
          member.current = null;
          member.started = null;
          member.down = true;
        }
        if (member.down) {
          ProcessHandle found = find(member);
          if (found != null) {
            member.current = found;
            member.down = false;
            synchronized (this) {
              if (stopping) {
                return;
              }
              err.println(NAME + member.name + " is running again (pid " + found.pid() + ")");
              err.flush();
            }
          }
        }
      }
      boolean noneRunning = members.stream().allMatch(member -> member.current == null);
      if (noneRunning && !allDown) {
        allDown = true;
        err.println(
            NAME
                + "every process has exited; start them again with the command lines above, or"
                + " press Ctrl-C");
        err.flush();
      } else if (!noneRunning) {
        allDown = false;
      }
      Thread.sleep(1_000);
    }
  }

  /**
   * Says when another coordinator leads, or none does: asks the one last seen leading, and the
   * others when it does not answer as the leader.
   */
  private void trackLeader(CraqClient client) {
    if (leader >= 0) {
      try {
        client.mapOf(coordinators.get(leader), Duration.ofSeconds(1));
        return;
      } catch (CraqException e) {
        // it no longer leads, or is down: who does?
      }
    }
    int now =
        LocalProcesses.leading(client, coordinators, Duration.ofSeconds(1))
            .map(LocalProcesses.Leading::index)
            .orElse(-1);
    if (now == leader) {
      return;
    }
    leader = now;
    synchronized (this) {
      if (stopping) {
        return;
      }
      err.println(
          NAME
              + (now < 0
                  ? "no coordinator leads now"
                  : "c" + (now + 1) + " now leads (" + coordinators.get(now) + ")"));
      err.flush();
    }
  }

  /** The process of {@code member} now, known or found again (started by hand), or null. */
  private ProcessHandle current(Member member) {
    ProcessHandle known = member.current;
    if (known != null && LocalProcesses.running(known.pid())) {
      return known;
    }
    ProcessHandle found = find(member);
    member.current = found;
    return found;
  }

  /**
   * A live JVM running {@code member}'s jar with its data folder as an argument (started here or by
   * hand), or null.
   */
  private static ProcessHandle find(Member member) {
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> all = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path dir : all) {
        long pid;
        try {
          pid = Long.parseLong(dir.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid == self) {
          continue;
        }
        List<String> args;
        try {
          args =
              Arrays.asList(
                  new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8)
                      .split("\0"));
        } catch (IOException e) {
          continue;
        }
        if (args.contains(member.marker)
            && args.contains(member.program)
            && LocalProcesses.running(pid)) {
          ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
          if (handle != null) {
            return handle;
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  /**
   * The shutdown hook: stops every process, nodes first, then the coordinators, then the ZooKeeper
   * servers.
   */
  private void stopAll() {
    synchronized (this) {
      stopping = true;
    }
    err.println(NAME + "stopping ...");
    err.flush();
    for (Kind kind : Kind.values()) {
      List<ProcessHandle> group = new ArrayList<>();
      for (Member member : members) {
        ProcessHandle process = member.kind == kind ? current(member) : null;
        if (process != null) {
          group.add(process);
        }
      }
      LocalProcesses.stop(
          group,
          process -> {
            err.println(
                NAME
                    + nameOf(process)
                    + " (pid "
                    + process.pid()
                    + ") did not stop in 10 s; killing it");
            err.flush();
          });
    }
    if (ensemble != null) {
      ensemble.close();
    }
    copier.interrupt();
    logLines.copyNew();
    err.println(NAME + "stopped; data and logs are in " + dataDir);
    err.flush();
  }

  private String nameOf(ProcessHandle process) {
    for (Member member : members) {
      ProcessHandle current = member.current;
      if (current != null && current.pid() == process.pid()) {
        return member.name;
      }
    }
    return "process";
  }

  /** The project folder: the jar of this class is client/cli/target/craq.jar in it. */
  private static Path projectFolder() throws IOException {
    try {
      Path code =
          Path.of(ClusterCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return code.getParent().getParent().getParent().getParent().toAbsolutePath().normalize();
    } catch (URISyntaxException | RuntimeException e) {
      throw new IOException("cannot tell the project folder; give it with --home", e);
    }
  }
}

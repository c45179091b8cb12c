package io.craq.cli.cluster;

import io.craq.cli.CraqMain;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.transport.process.CommandLineConventions;
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
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLineConventions.Version.class,
    usageHelpWidth = 100,
    description = {
      "Starts a coordinator on 127.0.0.1:PORT and N nodes on 127.0.0.1:PORT+1, PORT+2, ..."
          + " (loopback only), waits until all nodes are in the chain, prints the chain, and runs"
          + " until Ctrl-C.",
      ""
    },
    footer = {
      "",
      "The command line of every process is printed when it starts: stop a node (kill PID) and"
          + " start it again with that line to watch it leave and re-join; Ctrl-C stops it too."
          + " Warnings and errors from the logs are copied to this terminal, prefixed with the"
          + " process name. Extra JVM flags for every process: CRAQ_JAVA_OPTS."
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
      description = "The coordinator's port; nodes take the next N ports (default: 1234).")
  String basePort;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      defaultValue = "./craq-cluster-data",
      description =
          "Data and logs folder (default: ./craq-cluster-data); node nI keeps its LMDB database"
              + " in DIR/nI, the coordinator its membership in DIR/coordinator, each process logs"
              + " to DIR/logs/NAME.log.")
  String data;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      defaultValue = "3",
      description = "Number of nodes, 1-20 (default: 3).")
  String nodes;

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

  /** The options, checked. */
  record Settings(int basePort, int nodes, int waitSeconds) {}

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
    if (!NUMBER.matcher(nodes).matches()
        || Integer.parseInt(nodes) < 1
        || Integer.parseInt(nodes) > 20) {
      throw new UsageError("--nodes must be a number from 1 to 20, got '" + nodes + "'");
    }
    int n = Integer.parseInt(nodes);
    if (!NUMBER.matcher(waitSeconds).matches() || Integer.parseInt(waitSeconds) < 1) {
      throw new UsageError("--wait-seconds must be a positive number, got '" + waitSeconds + "'");
    }
    if (!NUMBER.matcher(basePort).matches()
        || Integer.parseInt(basePort) < 1
        || Integer.parseInt(basePort) > 65535 - n) {
      throw new UsageError(
          "--base-port must be a port from 1 to " + (65535 - n) + ", got '" + basePort + "'");
    }
    return new Settings(Integer.parseInt(basePort), n, Integer.parseInt(waitSeconds));
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
    for (int port = from; port < from + count; port++) {
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

  /** A process of the cluster and what tells it from every other process. */
  private static final class Member {
    final String name;
    final Role role;
    final List<String> args;

    /** The data folder, an argument of this process and of no other. */
    final String marker;

    /** The jar its launcher runs. */
    final String jar;

    /** The process now, started here or by hand; null while down. */
    volatile ProcessHandle current;

    /** The process this command started, while it is the current one. */
    volatile Process started;

    boolean down;

    Member(String name, Role role, List<String> args, String marker, String jar) {
      this.name = name;
      this.role = role;
      this.args = args;
      this.marker = marker;
      this.jar = jar;
    }
  }

  private final List<Member> members = new ArrayList<>();
  private volatile boolean stopping;
  private PrintWriter err;
  private Path dataDir;
  private LogLines logLines;
  private Thread copier;

  @Override
  public Integer call() throws IOException, InterruptedException {
    err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    Settings settings;
    try {
      settings = settings(basePort, nodes, waitSeconds);
    } catch (UsageError e) {
      return usageError(err, e.getMessage(), usageName);
    }
    OptionalInt taken = portInUse(HOST, settings.basePort(), settings.nodes() + 1);
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
    String coordinator = HOST + ":" + settings.basePort();
    Files.createDirectories(Path.of(data).resolve("logs"));
    Files.createDirectories(Path.of(data).resolve("coordinator"));
    dataDir = Path.of(data).toAbsolutePath().normalize();
    Path logs = dataDir.resolve("logs");

    members.add(
        new Member(
            "coordinator",
            Role.COORDINATOR,
            LocalProcesses.coordinatorArgs(coordinator, dataDir.resolve("coordinator")),
            dataDir.resolve("coordinator").toString(),
            realProject.resolve(Role.COORDINATOR.jar()).toString()));
    for (int i = 1; i <= settings.nodes(); i++) {
      String address = HOST + ":" + (settings.basePort() + i);
      List<String> args =
          List.of(
              "--id",
              "n" + i,
              "-a",
              address,
              "-p",
              address,
              "-c",
              coordinator,
              "--store",
              store,
              "-f",
              dataDir.resolve("n" + i).toString());
      members.add(
          new Member(
              "n" + i,
              Role.NODE,
              args,
              dataDir.resolve("n" + i).toString(),
              realProject.resolve(Role.NODE.jar()).toString()));
    }

    LocalProcesses processes = new LocalProcesses(LocalProcesses.launchers(project), logs);
    logLines = new LogLines(err);
    for (Member member : members) {
      Files.writeString(processes.log(member.name), "");
      logLines.follow(member.name, processes.log(member.name));
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

    for (Member member : members) {
      Process process = processes.start(member.name, member.role, member.args);
      member.started = process;
      member.current = process.toHandle();
      List<String> line = new ArrayList<>();
      line.add(project.resolve(member.role.launcher()).toString());
      line.addAll(member.args);
      err.println(
          NAME
              + "started "
              + member.name
              + " (pid "
              + process.pid()
              + "): "
              + quoted(line)
              + " >>"
              + quoted(List.of(processes.log(member.name).toString()))
              + " 2>&1");
      err.flush();
    }

    err.println(
        NAME
            + "waiting up to "
            + settings.waitSeconds()
            + "s for "
            + settings.nodes()
            + " node(s) to join the chain ...");
    err.flush();
    try {
      LocalProcesses.awaitChain(
          coordinator,
          LocalProcesses.caughtUp(settings.nodes()),
          Duration.ofSeconds(settings.waitSeconds()),
          200,
          () -> {
            for (Member member : members) {
              if (current(member) == null) {
                throw new IOException(member.name + " exited");
              }
            }
          });
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
              + "the chain did not reach "
              + settings.nodes()
              + " caught-up member(s) in "
              + settings.waitSeconds()
              + "s; logs in "
              + logs);
      err.flush();
      return 1;
    }

    CraqMain.newCommandLine().execute("-c", coordinator, "chain");
    String client = settings.basePort() == 1234 ? "bin/craq" : "bin/craq -c " + coordinator;
    out.println();
    out.println(
        "CRAQ cluster is up (coordinator "
            + coordinator
            + ", "
            + settings.nodes()
            + " node(s), store "
            + store
            + ", data "
            + dataDir
            + ").");
    out.println("Try, in another terminal:");
    out.println("  " + client + " write hello world");
    out.println("  " + client + " read hello");
    out.println("  " + client + " readall");
    out.println("  " + client + " chain");
    out.println("Press Ctrl-C to stop the cluster.");
    out.flush();

    watch(processes);
    return 0;
  }

  /**
   * Runs until the JVM shuts down, reporting processes that exit (e.g. a node stopped to watch a
   * failover) and come back (started again by hand with the command line printed for them).
   */
  private void watch(LocalProcesses processes) throws InterruptedException {
    boolean allDown = false;
    while (!stopping) {
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
            && args.contains(member.jar)
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

  /** The shutdown hook: stops every process, nodes first, then the coordinator. */
  private void stopAll() {
    synchronized (this) {
      stopping = true;
    }
    err.println(NAME + "stopping ...");
    err.flush();
    List<ProcessHandle> nodeProcesses = new ArrayList<>();
    List<ProcessHandle> coordinators = new ArrayList<>();
    for (Member member : members) {
      ProcessHandle process = current(member);
      if (process != null) {
        (member.role == Role.COORDINATOR ? coordinators : nodeProcesses).add(process);
      }
    }
    for (List<ProcessHandle> group : List.of(nodeProcesses, coordinators)) {
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

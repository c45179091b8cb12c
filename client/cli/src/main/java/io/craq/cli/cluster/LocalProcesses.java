package io.craq.cli.cluster;

import io.craq.cli.common.ChainMaps;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.core.message.ChainMap;
import io.craq.transport.security.Security;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Starts the coordinator and nodes of a local cluster as child JVMs and stops them by their own
 * PID: their command lines, ports, data folders, logs (one file per process, appended) and the wait
 * until the chains have formed. {@link #close()} stops the nodes (SIGCONT first, for a paused one,
 * then SIGTERM, then SIGKILL after {@link #STOP_WAIT_MILLIS}), then the coordinator, so that it
 * does not reconfigure the chain for nothing.
 */
public final class LocalProcesses implements AutoCloseable {
  /** How long a process has to stop after SIGTERM before it gets SIGKILL. */
  public static final long STOP_WAIT_MILLIS = 10_000;

  /** The programs of a cluster: each one's main class and, in a built project, its jar. */
  public enum Role {
    COORDINATOR(
        "io.craq.coordinator.CoordinatorMain",
        "coordinator/target/craq-coordinator.jar",
        "bin/craq-coordinator"),
    NODE("io.craq.node.NodeMain", "node/target/craq-node.jar", "bin/craq-node");

    private final String mainClass;
    private final String jar;
    private final String launcher;

    Role(String mainClass, String jar, String launcher) {
      this.mainClass = mainClass;
      this.jar = jar;
      this.launcher = launcher;
    }

    /** The script in bin/ that starts this program, relative to the project folder. */
    public String launcher() {
      return launcher;
    }

    /** The jar of this program, relative to the project folder. */
    public String jar() {
      return jar;
    }
  }

  /** The command line that starts a child JVM running {@code role}, before its arguments. */
  @FunctionalInterface
  public interface Program {
    List<String> command(Role role, String name);
  }

  /**
   * Environment variable with extra JVM flags for every child started from the jars, split on
   * spaces, with {@code %name} replaced by the child's name ({@code coordinator}, {@code n1}, ...):
   * e.g. {@code -XX:StartFlightRecording=filename=/tmp/%name.jfr} to profile each node.
   */
  public static final String CHILD_JAVA_OPTS_ENV = "CRAQ_BENCH_CHILD_JAVA_OPTS";

  /**
   * The built jars of the project in {@code home} ({@code java -jar}), run by this JVM's java with
   * the flags LMDB needs and those of {@link #CHILD_JAVA_OPTS_ENV}.
   *
   * @throws IOException if a jar is missing
   */
  public static Program jars(Path home) throws IOException {
    for (Role role : Role.values()) {
      Path jar = home.resolve(role.jar);
      if (!Files.isRegularFile(jar)) {
        throw new IOException(
            jar + " is missing; build with: ./mvnw -B -ntp -q -DskipTests" + " package");
      }
    }
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    return (role, name) -> {
      List<String> command = new ArrayList<>();
      command.add(java);
      command.addAll(jvmFlags());
      command.addAll(childJavaOptions(System.getenv(CHILD_JAVA_OPTS_ENV), name));
      command.add("-jar");
      command.add(home.resolve(role.jar).toString());
      return command;
    };
  }

  /**
   * The launchers in {@code home}'s bin/ ({@code bin/craq-node}, {@code bin/craq-coordinator}), the
   * command lines a user types, run with SIGINT ignored, as the shell runs a background job: Ctrl-C
   * in a terminal reaches every process of its foreground group, and it is the one that started the
   * children that stops them, nodes first ({@link #close()}). The launchers exec the JVM, so a
   * child's PID is that of its JVM.
   */
  public static Program launchers(Path home) {
    return (role, name) ->
        List.of(
            "bash",
            "-c",
            "trap '' INT; exec \"$@\"",
            "craq-" + name,
            home.resolve(role.launcher).toString());
  }

  /**
   * The main classes on {@code classPath} (a test's own class path), run by this JVM's java with
   * {@code jvmFlags}.
   */
  public static Program classPath(String classPath, List<String> jvmFlags) {
    String java = ProcessHandle.current().info().command().orElse("java");
    return (role, name) -> {
      List<String> command = new ArrayList<>();
      command.add(java);
      command.addAll(jvmFlags);
      command.add("-cp");
      command.add(classPath);
      command.add(role.mainClass);
      return command;
    };
  }

  /** The JVM flags LMDB needs (see docs/CLIENT.md), for this JVM's version. */
  public static List<String> jvmFlags() {
    List<String> flags =
        new ArrayList<>(
            List.of(
                "--add-opens",
                "java.base/java.nio=ALL-UNNAMED",
                "--add-opens",
                "java.base/sun.nio.ch=ALL-UNNAMED",
                "--enable-native-access=ALL-UNNAMED"));
    if (Runtime.version().feature() >= 24) {
      flags.add("--sun-misc-unsafe-memory-access=allow");
    }
    return flags;
  }

  /** The flags of {@link #CHILD_JAVA_OPTS_ENV} ({@code value}) for the child {@code name}. */
  public static List<String> childJavaOptions(String value, String name) {
    List<String> options = new ArrayList<>();
    if (value != null) {
      for (String option : value.trim().split("\\s+")) {
        if (!option.isEmpty()) {
          options.add(option.replace("%name", name));
        }
      }
    }
    return options;
  }

  /** The arguments of a coordinator listening on {@code address}, membership in {@code data}. */
  public static List<String> coordinatorArgs(String address, Path data) {
    return List.of("-a", address, "-d", data.toString());
  }

  /**
   * The arguments that give a new cluster {@code chains} chains of {@code replicas} members each
   * ({@code craq-coordinator --chains K --replicas R}); 0 leaves a flag out (the coordinator's
   * default: one chain; with one chain, every node joins it).
   */
  public static List<String> chainArgs(int chains, int replicas) {
    List<String> args = new ArrayList<>();
    if (chains > 0) {
      args.addAll(List.of("--chains", Integer.toString(chains)));
    }
    if (replicas > 0) {
      args.addAll(List.of("--replicas", Integer.toString(replicas)));
    }
    return args;
  }

  /**
   * The coordinator's {@code --expect-nodes} for a new cluster of {@code chains} chains over the
   * {@code nodes} nodes started with it: laid out once all of them said hello, so every node gets
   * its share of heads, middles and tails; nothing with one chain.
   */
  public static List<String> expectArgs(int chains, int nodes) {
    return chains > 1 ? List.of("--expect-nodes", Integer.toString(nodes)) : List.of();
  }

  /**
   * The arguments of node {@code id} listening on {@code listen}, known to the others as {@code
   * advertised}, joining the coordinator at {@code coordinator}, its store in {@code data}.
   */
  public static List<String> nodeArgs(
      String id, String listen, String advertised, String coordinator, Path data) {
    return List.of(
        "--id", id, "-a", listen, "-p", advertised, "-c", coordinator, "-f", data.toString());
  }

  /** A port of 127.0.0.1 that nothing listened on a moment ago. */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private record Child(String name, Role role, Process process) {}

  private final Program program;
  private final Path logs;

  /** By name, in the order first started; a restart replaces the process under its name. */
  private final Map<String, Child> children = new LinkedHashMap<>();

  private boolean closed;

  /** Children run by {@code program}, each logging to {@code logs/NAME.log}. */
  public LocalProcesses(Program program, Path logs) {
    this.program = program;
    this.logs = logs;
  }

  /**
   * Starts {@code name} (again, if it ran before) as {@code role} with {@code args}; its output is
   * appended to its log, its standard input is empty.
   */
  public synchronized Process start(String name, Role role, List<String> args) throws IOException {
    if (closed) {
      throw new IllegalStateException("stopped");
    }
    List<String> command = new ArrayList<>(program.command(role, name));
    command.addAll(args);
    Files.createDirectories(logs);
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    children.put(name, new Child(name, role, process));
    return process;
  }

  /** The log file of {@code name}. */
  public Path log(String name) {
    return logs.resolve(name + ".log");
  }

  /** The process now running under {@code name}, or null. */
  public synchronized Process process(String name) {
    Child child = children.get(name);
    return child == null ? null : child.process();
  }

  /** Each child's name and process, in the order first started. */
  public synchronized Map<String, Process> processes() {
    Map<String, Process> all = new LinkedHashMap<>();
    children.forEach((name, child) -> all.put(name, child.process()));
    return all;
  }

  /**
   * @throws IOException naming a child that exited, with the end of its log
   */
  public synchronized void checkAlive() throws IOException {
    for (Child child : children.values()) {
      if (!child.process().isAlive()) {
        throw new IOException(
            child.name()
                + " exited with status "
                + child.process().exitValue()
                + "; end of its log:\n"
                + logTail(child.name(), 20));
      }
    }
  }

  /** The last {@code lines} lines of the log of {@code name}. */
  public String logTail(String name, int lines) {
    try (Stream<String> all = Files.lines(log(name))) {
      List<String> list = all.toList();
      return String.join("\n", list.subList(Math.max(0, list.size() - lines), list.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read the log: " + e + ")";
    }
  }

  /** What {@link #awaitChain} is waiting for, checked against each map the coordinator sends. */
  @FunctionalInterface
  public interface Readiness {
    boolean ready(ChainMap map);

    /** How far {@code map} is from ready, in a few words (for the error when time runs out). */
    default String progress(ChainMap map) {
      return map.chainCount() + " chain(s), map version " + map.version();
    }
  }

  /**
   * Ready when the cluster of {@code nodes} nodes has formed: every chain has exactly {@code min(R,
   * nodes)} members, all caught up, where R is the map's replica count (with one chain that every
   * node joins, all {@code nodes}), and the map knows every node.
   */
  public static Readiness caughtUp(int nodes) {
    return new Readiness() {
      @Override
      public boolean ready(ChainMap map) {
        return ChainMaps.formed(map, nodes, map.replicas());
      }

      @Override
      public String progress(ChainMap map) {
        return ChainMaps.progress(map, nodes, map.replicas());
      }
    };
  }

  /**
   * Asks the coordinator at {@code coordinator} for the chain map every {@code pollMillis} until it
   * is {@code ready}; before each question {@code alive} may throw to give up (a process exited).
   *
   * @return the map that was ready
   * @throws IOException from {@code alive}, or if the map is not ready within {@code timeout} (the
   *     message says what the coordinator last answered)
   */
  public static ChainMap awaitChain(
      String coordinator, Readiness ready, Duration timeout, long pollMillis, AliveCheck alive)
      throws IOException, InterruptedException {
    return awaitChain(coordinator, Security.NONE, ready, timeout, pollMillis, alive);
  }

  /**
   * {@link #awaitChain(String, Readiness, Duration, long, AliveCheck)} asking with {@code security}
   * (TLS and credentials of the client).
   */
  public static ChainMap awaitChain(
      String coordinator,
      Security security,
      Readiness ready,
      Duration timeout,
      long pollMillis,
      AliveCheck alive)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer yet";
    try (CraqClient client =
        CraqClient.connect(
            ClientConfig.defaults(coordinator)
                .withCallTimeoutMillis(1_000)
                .withSecurity(security))) {
      while (true) {
        alive.check();
        try {
          ChainMap map = client.map();
          if (ready.ready(map)) {
            return map;
          }
          last = ready.progress(map);
        } catch (CraqException e) {
          last = e.getMessage();
        }
        if (System.nanoTime() >= deadline) {
          throw new IOException(
              "the chain at "
                  + coordinator
                  + " was not ready in "
                  + timeout.toSeconds()
                  + " s ("
                  + last
                  + ")");
        }
        Thread.sleep(pollMillis);
      }
    }
  }

  /** The coordinator that answered as the leader: its place in the list, address and map. */
  public record Leading(int index, String address, ChainMap map) {}

  /**
   * Asks each of {@code coordinators} in turn for the chain map, directly (a redirect is not
   * followed): a standby refuses with NOT_LEADER, the leader answers.
   *
   * @return the first that answered within {@code perCall}, or empty if none did
   */
  public static Optional<Leading> leading(
      CraqClient client, List<String> coordinators, Duration perCall) {
    for (int i = 0; i < coordinators.size(); i++) {
      try {
        ChainMap map = client.mapOf(coordinators.get(i), perCall);
        return Optional.of(new Leading(i, coordinators.get(i), map));
      } catch (CraqException e) {
        // a standby, or down: ask the next
      }
    }
    return Optional.empty();
  }

  /**
   * {@link #awaitChain(String, Readiness, Duration, long, AliveCheck)} for several coordinators,
   * one of which leads: asks each in turn ({@link #leading}) until the leader's map is {@code
   * ready}.
   *
   * @return the leader and the map that was ready
   * @throws IOException from {@code alive}, or if no leader's map is ready within {@code timeout}
   */
  public static Leading awaitChain(
      List<String> coordinators,
      Readiness ready,
      Duration timeout,
      long pollMillis,
      AliveCheck alive)
      throws IOException, InterruptedException {
    return awaitChain(coordinators, Security.NONE, ready, timeout, pollMillis, alive);
  }

  /**
   * {@link #awaitChain(List, Readiness, Duration, long, AliveCheck)} asking with {@code security}
   * (TLS and credentials of the client).
   */
  public static Leading awaitChain(
      List<String> coordinators,
      Security security,
      Readiness ready,
      Duration timeout,
      long pollMillis,
      AliveCheck alive)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no coordinator leads yet";
    try (CraqClient client =
        CraqClient.connect(
            ClientConfig.defaults(coordinators.get(0))
                .withCallTimeoutMillis(1_000)
                .withSecurity(security))) {
      while (true) {
        alive.check();
        Optional<Leading> leader = leading(client, coordinators, Duration.ofSeconds(1));
        if (leader.isPresent()) {
          ChainMap map = leader.get().map();
          if (ready.ready(map)) {
            return leader.get();
          }
          last = leader.get().address() + " leads, " + ready.progress(map);
        }
        if (System.nanoTime() >= deadline) {
          throw new IOException(
              "the chain at "
                  + String.join(",", coordinators)
                  + " was not ready in "
                  + timeout.toSeconds()
                  + " s ("
                  + last
                  + ")");
        }
        Thread.sleep(pollMillis);
      }
    }
  }

  /** A check made before each question of {@link #awaitChain}. */
  @FunctionalInterface
  public interface AliveCheck {
    void check() throws IOException;
  }

  /**
   * Stops every child by its PID: the nodes (all at once), then the coordinator; each gets SIGCONT
   * (a paused process cannot act on SIGTERM), SIGTERM, and SIGKILL if it has not stopped after
   * {@link #STOP_WAIT_MILLIS}. Children started afterwards are refused.
   */
  @Override
  public void close() {
    List<Child> nodes = new ArrayList<>();
    List<Child> coordinators = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (Child child : children.values()) {
        (child.role() == Role.COORDINATOR ? coordinators : nodes).add(child);
      }
    }
    stop(nodes.reversed());
    stop(coordinators);
  }

  private static void stop(List<Child> group) {
    stop(group.stream().map(child -> child.process().toHandle()).toList(), process -> {});
  }

  /**
   * Stops {@code group} at once: SIGCONT (a paused process cannot act on SIGTERM) and SIGTERM to
   * each, up to {@link #STOP_WAIT_MILLIS} for all of them to exit, then {@code killing} is told of
   * each one still running and it gets SIGKILL. Works for processes this JVM did not start.
   */
  public static void stop(List<ProcessHandle> group, Consumer<ProcessHandle> killing) {
    List<ProcessHandle> stopping = new ArrayList<>();
    for (ProcessHandle process : group) {
      if (running(process.pid())) {
        resume(process);
        process.destroy();
        stopping.add(process);
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MILLIS);
    try {
      while (stopping.stream().anyMatch(process -> running(process.pid()))
          && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (ProcessHandle process : stopping) {
      if (running(process.pid())) {
        killing.accept(process);
        process.destroyForcibly();
        try {
          process.onExit().get(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
          // gone or unkillable: nothing more to do
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * Whether {@code pid} runs. An exited child of another process stays a zombie until its parent
   * waits for it; it counts as exited.
   */
  public static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int end = stat.lastIndexOf(')');
      char state = end >= 0 && end + 2 < stat.length() ? stat.charAt(end + 2) : '?';
      return state != 'Z' && state != 'X';
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
  }

  /** Sends SIGCONT to {@code process} (there is no Java API for it); harmless if it runs. */
  private static void resume(ProcessHandle process) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-CONT", Long.toString(process.pid()))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
      }
    } catch (IOException e) {
      // without kill(1) a paused process is killed after STOP_WAIT_MILLIS
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

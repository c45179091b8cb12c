package io.craq.cli.bench;

import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A coordinator and N nodes started as child JVMs on 127.0.0.1 free ports, data and logs in a
 * temporary folder, for {@code craq bench --spawn N}. {@link #close()} stops them by PID (nodes
 * first, SIGTERM, then SIGKILL after {@link #STOP_WAIT_MILLIS}) and deletes the folder; a
 * shutdown hook does the same on Ctrl-C.
 */
final class LocalCluster implements AutoCloseable {
  static final long STOP_WAIT_MILLIS = 10_000;
  static final long CHAIN_WAIT_MILLIS = 60_000;

  private final Path folder;
  private final List<String> names = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::stopAll, "craq-bench-cluster-stop");
  private String coordinatorAddress;
  private boolean closed;

  private LocalCluster(Path folder) {
    this.folder = folder;
  }

  /**
   * Starts the processes and waits until the coordinator lists all {@code nodes} as caught up.
   *
   * @param home the project folder holding node/target/craq-node.jar and
   *     coordinator/target/craq-coordinator.jar
   * @throws IOException if a process cannot be started, exits, or the chain does not form in
   *     {@link #CHAIN_WAIT_MILLIS}; every process started is stopped first
   */
  static LocalCluster start(Path home, int nodes, String store, PrintWriter err)
      throws IOException, InterruptedException {
    Path nodeJar = home.resolve("node/target/craq-node.jar");
    Path coordinatorJar = home.resolve("coordinator/target/craq-coordinator.jar");
    for (Path jar : List.of(nodeJar, coordinatorJar)) {
      if (!Files.isRegularFile(jar)) {
        throw new IOException(jar + " is missing; build with: mvn -B -ntp -q -DskipTests install");
      }
    }
    LocalCluster cluster = new LocalCluster(Files.createTempDirectory("craq-bench-"));
    Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
    try {
      Files.createDirectories(cluster.folder.resolve("logs"));
      cluster.coordinatorAddress = "127.0.0.1:" + freePort();
      cluster.spawn("coordinator", coordinatorJar, "-a", cluster.coordinatorAddress, "-d",
          cluster.folder.resolve("coordinator").toString());
      for (int i = 1; i <= nodes; i++) {
        String address = "127.0.0.1:" + freePort();
        cluster.spawn("n" + i, nodeJar, "--id", "n" + i, "-a", address, "-p", address, "-c",
            cluster.coordinatorAddress, "--store", store, "-f",
            cluster.folder.resolve("n" + i).toString());
      }
      err.println("craq bench: started a coordinator and " + nodes + " " + store
          + " node(s) in " + cluster.folder + "; waiting for the chain ...");
      err.flush();
      cluster.awaitChain(nodes);
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  String coordinatorAddress() {
    return coordinatorAddress;
  }

  /** Each process's name and handle, coordinator first. */
  List<NamedProcess> processes() {
    List<NamedProcess> out = new ArrayList<>();
    for (int i = 0; i < processes.size(); i++) {
      out.add(new NamedProcess(names.get(i), processes.get(i).toHandle()));
    }
    return out;
  }

  record NamedProcess(String name, ProcessHandle handle) {}

  /** The project folder: {@code --home}, else the first of the working folder, its parents and the folders around this code's jar that hold node/target/craq-node.jar. */
  static Path findHome(String given) throws IOException {
    if (given != null) {
      return Paths.get(given).toAbsolutePath();
    }
    List<Path> starts = new ArrayList<>();
    starts.add(Paths.get("").toAbsolutePath());
    try {
      starts.add(Paths.get(LocalCluster.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI()).toAbsolutePath());
    } catch (Exception e) {
      // no code source: the working folder is the only guess
    }
    for (Path start : starts) {
      for (Path p = start; p != null; p = p.getParent()) {
        if (Files.isRegularFile(p.resolve("node/target/craq-node.jar"))) {
          return p;
        }
      }
    }
    throw new IOException("cannot find node/target/craq-node.jar from " + starts
        + "; run from the project folder or give --home DIR");
  }

  /**
   * Environment variable with extra JVM flags for every spawned child, split on spaces, with
   * {@code %name} replaced by the child's name ({@code coordinator}, {@code n1}, ...): e.g.
   * {@code -XX:StartFlightRecording=filename=/tmp/%name.jfr} to profile each node.
   */
  static final String CHILD_JAVA_OPTS_ENV = "CRAQ_BENCH_CHILD_JAVA_OPTS";

  /** The flags of {@link #CHILD_JAVA_OPTS_ENV} for the child called {@code name}. */
  static List<String> childJavaOptions(String value, String name) {
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

  /** The JVM flags LMDB needs (see docs/CLIENT.md), for this JVM's version. */
  static List<String> jvmFlags() {
    List<String> flags = new ArrayList<>(List.of("--add-opens", "java.base/java.nio=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED"));
    if (Runtime.version().feature() >= 24) {
      flags.add("--sun-misc-unsafe-memory-access=allow");
    }
    return flags;
  }

  private void spawn(String name, Path jar, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags());
    command.addAll(childJavaOptions(System.getenv(CHILD_JAVA_OPTS_ENV), name));
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(List.of(args));
    Path log = folder.resolve("logs").resolve(name + ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(
            Paths.get("/dev/null").toFile()))
        .start();
    names.add(name);
    processes.add(process);
  }

  private void awaitChain(int nodes) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHAIN_WAIT_MILLIS);
    String last = "no answer yet";
    try (CraqClient client = CraqClient.connect(ClientConfig.defaults(coordinatorAddress)
        .withCallTimeoutMillis(1_000))) {
      while (System.nanoTime() < deadline) {
        checkAlive();
        try {
          ChainConfig chain = client.chain();
          long caughtUp = chain.members().stream().filter(Member::caughtUp).count();
          if (chain.size() == nodes && caughtUp == nodes) {
            return;
          }
          last = chain.size() + " member(s), " + caughtUp + " caught up";
        } catch (CraqException e) {
          last = e.getMessage();
        }
        Thread.sleep(200);
      }
    }
    throw new IOException("the chain did not reach " + nodes + " caught-up member(s) in "
        + CHAIN_WAIT_MILLIS / 1000 + " s (" + last + "); logs in " + folder.resolve("logs"));
  }

  /** @throws IOException naming a process that exited, with the end of its log */
  void checkAlive() throws IOException {
    for (int i = 0; i < processes.size(); i++) {
      if (!processes.get(i).isAlive()) {
        throw new IOException(names.get(i) + " exited with status " + processes.get(i).exitValue()
            + "; end of its log:\n" + logTail(names.get(i)));
      }
    }
  }

  private String logTail(String name) {
    try (Stream<String> lines = Files.lines(folder.resolve("logs").resolve(name + ".log"))) {
      List<String> all = lines.toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - 20), all.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read the log: " + e + ")";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Stops nodes (last first), then the coordinator, each by PID; deletes the folder. */
  private synchronized void stopAll() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = processes.size() - 1; i >= 1; i--) {
      processes.get(i).toHandle().destroy();
    }
    for (int i = processes.size() - 1; i >= 1; i--) {
      awaitStopped(processes.get(i));
    }
    if (!processes.isEmpty()) {
      processes.get(0).toHandle().destroy();
      awaitStopped(processes.get(0));
    }
    deleteFolder();
  }

  private static void awaitStopped(Process process) {
    try {
      if (!process.waitFor(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        process.toHandle().destroyForcibly();
        process.waitFor(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.toHandle().destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void deleteFolder() {
    try (Stream<Path> paths = Files.walk(folder)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // a leftover temporary folder is harmless
    }
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook is running or has run
    }
  }

}

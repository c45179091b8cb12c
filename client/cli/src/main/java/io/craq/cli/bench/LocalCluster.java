package io.craq.cli.bench;

import io.craq.cli.cluster.LocalProcesses;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.cli.cluster.TlsInitCommand;
import io.craq.cli.common.ChainMaps;
import io.craq.core.message.ChainMap;
import io.craq.transport.security.Security;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A coordinator and N nodes started as child JVMs ({@link LocalProcesses}, from the project's jars)
 * on 127.0.0.1 free ports, data and logs in a temporary folder, for {@code craq bench --spawn N}.
 * {@link #close()} stops them by PID and deletes the folder; a shutdown hook does the same on
 * Ctrl-C.
 */
final class LocalCluster implements AutoCloseable {
  static final long CHAIN_WAIT_MILLIS = 120_000;

  private final Path folder;
  private final LocalProcesses processes;
  private final Thread shutdownHook = new Thread(this::stopAll, "craq-bench-cluster-stop");
  private String coordinatorAddress;
  private boolean closed;

  /** How clients connect to it: with TLS, the client certificate of its tls-init. */
  private Security clientSecurity = Security.NONE;

  /** How clients connect: plain, or with TLS the client certificate its tls-init made. */
  Security clientSecurity() {
    return clientSecurity;
  }

  private LocalCluster(Path folder, LocalProcesses processes) {
    this.folder = folder;
    this.processes = processes;
  }

  /**
   * Starts the processes and waits until the cluster has formed: every chain has its {@code
   * min(replicas, nodes)} members, all caught up, and the map knows every node ({@link
   * LocalProcesses#caughtUp}).
   *
   * @param home the project folder holding node/target/craq-node.jar and
   *     coordinator/target/craq-coordinator.jar
   * @param chains the coordinator's {@code --chains}, 0 for its default (one chain)
   * @param replicas the coordinator's {@code --replicas}, 0 for its default
   * @throws IOException if a process cannot be started, exits, or the chains do not form in {@link
   *     #CHAIN_WAIT_MILLIS}; every process started is stopped first
   */
  static LocalCluster start(
      Path home, int nodes, int chains, int replicas, String store, PrintWriter err)
      throws IOException, InterruptedException {
    return start(home, nodes, chains, replicas, store, false, err);
  }

  /**
   * As {@link #start(Path, int, int, int, String, PrintWriter)}; with {@code tls}, TLS on every
   * link: certificates from {@code craq tls-init} in the cluster's folder, each process its own,
   * and {@link #clientSecurity} with the client certificate.
   */
  static LocalCluster start(
      Path home, int nodes, int chains, int replicas, String store, boolean tls, PrintWriter err)
      throws IOException, InterruptedException {
    LocalProcesses.Program program = LocalProcesses.jars(home);
    Path folder = Files.createTempDirectory("craq-bench-");
    LocalCluster cluster =
        new LocalCluster(folder, new LocalProcesses(program, folder.resolve("logs")));
    Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
    try {
      cluster.coordinatorAddress = "127.0.0.1:" + LocalProcesses.freePort();
      TlsInitCommand.Result certificates =
          tls ? TlsInitCommand.generate(folder.resolve("tls"), nodes, 1, List.of()) : null;
      if (certificates != null) {
        cluster.clientSecurity = Security.NONE.withTls(certificates.clientSettings());
      }
      List<String> coordinatorArgs =
          new ArrayList<>(
              LocalProcesses.coordinatorArgs(
                  cluster.coordinatorAddress, folder.resolve("coordinator")));
      coordinatorArgs.addAll(LocalProcesses.chainArgs(chains, replicas));
      coordinatorArgs.addAll(LocalProcesses.expectArgs(chains, nodes));
      if (certificates != null) {
        coordinatorArgs.addAll(certificates.serverArgs(certificates.issued("coordinator")));
      }
      cluster.processes.start("coordinator", Role.COORDINATOR, coordinatorArgs);
      for (int i = 1; i <= nodes; i++) {
        String address = "127.0.0.1:" + LocalProcesses.freePort();
        List<String> args =
            new ArrayList<>(
                LocalProcesses.nodeArgs(
                    "n" + i,
                    address,
                    address,
                    cluster.coordinatorAddress,
                    folder.resolve("n" + i)));
        args.addAll(List.of("--store", store));
        if (certificates != null) {
          args.addAll(certificates.serverArgs(certificates.issued("n" + i)));
        }
        cluster.processes.start("n" + i, Role.NODE, args);
      }
      err.println(
          "craq bench: started a coordinator and "
              + nodes
              + " "
              + store
              + " node(s)"
              + (tls ? " with TLS on every link" : "")
              + " in "
              + folder
              + (chains > 1
                  ? "; waiting for the " + chains + " chains ..."
                  : "; waiting for the chain ..."));
      err.flush();
      try {
        LocalProcesses.awaitChain(
            cluster.coordinatorAddress,
            cluster.clientSecurity,
            settled(nodes),
            Duration.ofMillis(CHAIN_WAIT_MILLIS),
            200,
            cluster.processes::checkAlive);
      } catch (IOException e) {
        throw new IOException(e.getMessage() + "; logs in " + folder.resolve("logs"), e);
      }
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /**
   * Ready to measure: the cluster has formed ({@link LocalProcesses#caughtUp}) and, with several
   * chains, the coordinator has finished placing them: nothing is moving and every node carries
   * about the same number of memberships (at most one apart, as placement balances them). A run
   * that started while chains still move onto a late node would count WRONG_CHAIN refusals.
   */
  static LocalProcesses.Readiness settled(int nodes) {
    LocalProcesses.Readiness formed = LocalProcesses.caughtUp(nodes);
    return new LocalProcesses.Readiness() {
      @Override
      public boolean ready(ChainMap map) {
        return formed.ready(map) && (map.chainCount() == 1 || balanced(map));
      }

      @Override
      public String progress(ChainMap map) {
        if (!formed.ready(map)) {
          return formed.progress(map);
        }
        return "placing: "
            + ChainMaps.moving(map).size()
            + " chain(s) moving, memberships per node "
            + ChainMaps.nodes(map).stream()
                .map(n -> n.id() + "=" + ChainMaps.memberOf(map, n.id()))
                .toList();
      }
    };
  }

  /** Nothing moves and every node's memberships are within one of every other node's. */
  static boolean balanced(ChainMap map) {
    if (!ChainMaps.moving(map).isEmpty()) {
      return false;
    }
    int least = Integer.MAX_VALUE;
    int most = 0;
    for (ChainMaps.Node node : ChainMaps.nodes(map)) {
      int memberships = ChainMaps.memberOf(map, node.id());
      least = Math.min(least, memberships);
      most = Math.max(most, memberships);
    }
    return most - least <= 1;
  }

  String coordinatorAddress() {
    return coordinatorAddress;
  }

  /** Each process's name and handle, coordinator first. */
  List<NamedProcess> processes() {
    List<NamedProcess> out = new ArrayList<>();
    processes
        .processes()
        .forEach((name, process) -> out.add(new NamedProcess(name, process.toHandle())));
    return out;
  }

  record NamedProcess(String name, ProcessHandle handle) {}

  /**
   * The project folder: {@code --home}, else the first of the working folder, its parents and the
   * folders around this code's jar that hold node/target/craq-node.jar.
   */
  static Path findHome(String given) throws IOException {
    if (given != null) {
      return Paths.get(given).toAbsolutePath();
    }
    List<Path> starts = new ArrayList<>();
    starts.add(Paths.get("").toAbsolutePath());
    try {
      starts.add(
          Paths.get(LocalCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI())
              .toAbsolutePath());
    } catch (Exception e) {
      // no code source: the working folder is the only guess
    }
    for (Path start : starts) {
      for (Path p = start; p != null; p = p.getParent()) {
        if (Files.isRegularFile(p.resolve(Role.NODE.jar()))) {
          return p;
        }
      }
    }
    throw new IOException(
        "cannot find "
            + Role.NODE.jar()
            + " from "
            + starts
            + "; run from the project folder or give --home DIR");
  }

  /** Stops the processes by PID (nodes first); deletes the folder. */
  private synchronized void stopAll() {
    if (closed) {
      return;
    }
    closed = true;
    processes.close();
    deleteFolder();
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

package io.craq.cli.it;

import io.craq.cli.cluster.LocalProcesses;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.transport.Connection;
import io.craq.transport.TcpTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A coordinator and nodes as child JVMs on 127.0.0.1, started by the tool's launcher ({@link
 * LocalProcesses}) from the test's own class path, with what the fault tests add on top: proxies in
 * front of the nodes, pauses (SIGSTOP), kills, restarts. Every process is stopped by its own PID
 * when the cluster is closed. Logs go to files under the cluster's directory (printed when a test
 * fails).
 */
public final class ProcessCluster implements AutoCloseable {
  private final Path directory;
  private final String coordinatorAddress;
  private final int failureTimeoutMillis;
  private final LocalProcesses processes;
  private Process coordinator;
  private final Map<String, NodeProcess> nodes = new LinkedHashMap<>();
  private final TcpTransport transport = new TcpTransport();
  private boolean proxied;
  private final List<String> nodeArgs = new ArrayList<>();

  /** A node child process and how to start it again with the same identity and data. */
  public static final class NodeProcess {
    final String id;
    final String address;
    final Path data;
    Process process;

    /** In front of the node: the address it advertises ({@code -p}); null when not proxied. */
    FaultProxy nodeProxy;

    /** Between the node and the coordinator (the node dials the coordinator through it). */
    FaultProxy coordinatorProxy;

    NodeProcess(String id, String address, Path data) {
      this.id = id;
      this.address = address;
      this.data = data;
    }

    /** The address the chain knows the node by: its proxy's when proxied, else its own. */
    public String publicAddress() {
      return nodeProxy != null ? nodeProxy.address() : address;
    }

    public FaultProxy nodeProxy() {
      return nodeProxy;
    }

    public FaultProxy coordinatorProxy() {
      return coordinatorProxy;
    }

    public boolean alive() {
      return process != null && process.isAlive();
    }

    public String address() {
      return address;
    }

    public String id() {
      return id;
    }

    public Process process() {
      return process;
    }
  }

  public ProcessCluster(Path directory, int failureTimeoutMillis) throws IOException {
    this.directory = directory;
    this.failureTimeoutMillis = failureTimeoutMillis;
    this.coordinatorAddress = "127.0.0.1:" + LocalProcesses.freePort();
    List<String> flags = new ArrayList<>();
    for (String flag : System.getProperty("craq.jvm.flags", "").split("\\s+")) {
      if (!flag.isBlank()) {
        flags.add(flag);
      }
    }
    flags.add("-Xmx256m");
    this.processes =
        new LocalProcesses(
            LocalProcesses.classPath(System.getProperty("java.class.path"), flags), directory);
  }

  /**
   * Puts a {@link FaultProxy} in front of every node started from now on: the node listens on its
   * direct address, advertises its proxy's ({@code -p}), so peers and coordinator pushes pass the
   * proxy, and dials the coordinator through a proxy of its own (one per node).
   */
  public ProcessCluster withProxies() {
    this.proxied = true;
    return this;
  }

  /** Adds {@code args} to the command line of every node started from now on. */
  public ProcessCluster withNodeArgs(String... args) {
    nodeArgs.addAll(List.of(args));
    return this;
  }

  /** Every proxy, node proxies and coordinator proxies. */
  public List<FaultProxy> proxies() {
    List<FaultProxy> all = new ArrayList<>();
    for (NodeProcess node : nodes.values()) {
      if (node.nodeProxy != null) {
        all.add(node.nodeProxy);
        all.add(node.coordinatorProxy);
      }
    }
    return all;
  }

  public String coordinatorAddress() {
    return coordinatorAddress;
  }

  /** The coordinator's process (null before it is started). */
  public Process coordinator() {
    return coordinator;
  }

  public Map<String, NodeProcess> nodes() {
    return nodes;
  }

  public Path directory() {
    return directory;
  }

  public void startCoordinator() throws IOException {
    List<String> args =
        new ArrayList<>(
            LocalProcesses.coordinatorArgs(coordinatorAddress, directory.resolve("coordinator")));
    args.addAll(List.of("--failure-timeout-millis", Integer.toString(failureTimeoutMillis)));
    coordinator = processes.start("coordinator", Role.COORDINATOR, args);
  }

  /** Kills the coordinator with SIGKILL and waits for it to die. */
  public void killCoordinator() throws InterruptedException {
    coordinator.toHandle().destroyForcibly();
    coordinator.waitFor(30, TimeUnit.SECONDS);
  }

  public NodeProcess startNode(String id) throws IOException {
    return startNode(id, -1);
  }

  /** Starts (or restarts, same id and data) a node joining at {@code position} (-1 = tail). */
  public NodeProcess startNode(String id, int position) throws IOException {
    NodeProcess node = nodes.get(id);
    if (node == null) {
      node = new NodeProcess(id, "127.0.0.1:" + LocalProcesses.freePort(), directory.resolve(id));
      if (proxied) {
        node.nodeProxy = new FaultProxy(id, node.address);
        node.coordinatorProxy = new FaultProxy(id + "-coordinator", coordinatorAddress);
      }
      nodes.put(id, node);
    }
    List<String> args =
        new ArrayList<>(
            LocalProcesses.nodeArgs(
                id,
                node.address,
                node.publicAddress(),
                node.coordinatorProxy != null
                    ? node.coordinatorProxy.address()
                    : coordinatorAddress,
                node.data));
    if (position >= 0) {
      args.addAll(List.of("--position", Integer.toString(position)));
    }
    args.addAll(nodeArgs);
    node.process = processes.start(id, Role.NODE, args);
    return node;
  }

  /** Stops a node with SIGSTOP (it keeps its sockets but does nothing). */
  public void pauseNode(String id) throws IOException, InterruptedException {
    signal(nodes.get(id).process, "-STOP");
  }

  /** Resumes a node stopped by {@link #pauseNode} with SIGCONT. */
  public void resumeNode(String id) throws IOException, InterruptedException {
    signal(nodes.get(id).process, "-CONT");
  }

  private static void signal(Process process, String signal)
      throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", signal, Long.toString(process.toHandle().pid()))
            .redirectErrorStream(true)
            .start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill " + signal + " " + process.pid() + " failed");
    }
  }

  /** Kills a node with SIGKILL (its LMDB directory stays) and waits for it to die. */
  public void killNode(String id) throws InterruptedException {
    Process process = nodes.get(id).process;
    process.toHandle().destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Asks the coordinator to remove {@code id} (a clean leave); the reply, or null. */
  public Message leave(String id) {
    try (Connection connection = transport.connect(coordinatorAddress)) {
      return connection
          .request(new Message.LeaveRequest(id), Duration.ofSeconds(2))
          .get(3, TimeUnit.SECONDS);
    } catch (Exception e) {
      return null;
    }
  }

  /** The chain as the coordinator sees it, or null if it does not answer. */
  public ChainConfig chain() {
    return askChain(coordinatorAddress);
  }

  /** The chain as {@code address} (a node or the coordinator) sees it, or null. */
  public ChainConfig askChain(String address) {
    try (Connection connection = transport.connect(address)) {
      Message reply =
          connection.request(new ChainRequest(), Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
      return reply instanceof ChainReply chainReply ? chainReply.config() : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Waits until the coordinator's chain has exactly {@code ids}, in any order, all caught up. */
  public void awaitChain(List<String> ids, Duration timeout) {
    awaitCondition(
        "chain of " + ids,
        timeout,
        () -> {
          ChainConfig chain = chain();
          return chain != null
              && chain.size() == ids.size()
              && ids.stream().allMatch(id -> chain.contains(id) && chain.member(id).caughtUp());
        });
  }

  /** Polls {@code condition} every 50 ms until it holds; fails with the logs after timeout. */
  public void awaitCondition(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "\n" + logs());
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
    }
  }

  /** The last lines of every process log, for failure messages. */
  public String logs() {
    StringBuilder out = new StringBuilder();
    try (var files = Files.list(directory)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        out.append("---- ").append(log.getFileName()).append('\n');
        lines
            .subList(Math.max(0, lines.size() - 30), lines.size())
            .forEach(l -> out.append(l).append('\n'));
      }
    } catch (IOException e) {
      out.append("(logs unreadable: ").append(e).append(")");
    }
    return out.toString();
  }

  @Override
  public void close() {
    processes.close();
    transport.close();
    proxies().forEach(FaultProxy::close);
  }
}

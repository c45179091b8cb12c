package io.craq.cli.it;

import io.craq.cli.cluster.LocalProcesses;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.cli.cluster.TlsInitCommand;
import io.craq.cli.cluster.ZooKeeperEnsemble;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.transport.Connection;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import io.craq.transport.TransportConfig;
import io.craq.transport.Transports;
import io.craq.transport.security.Security;
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
 *
 * <p>With {@link #withZooKeeper} the cluster has a local 3-server ZooKeeper ensemble and several
 * coordinators on it instead of the one file-based coordinator; each coordinator reaches every
 * ZooKeeper server through a {@link FaultProxy} of its own, so it can be cut from ZooKeeper while
 * nodes still reach it.
 */
public final class ProcessCluster implements AutoCloseable {
  private final Path directory;
  private String coordinatorAddress;
  private int failureTimeoutMillis;
  private final LocalProcesses processes;
  private Process coordinator;

  /** Every node started, in start order; guarded by itself (clients read it while nodes start). */
  private final Map<String, NodeProcess> nodes = new LinkedHashMap<>();

  private Transport transport = new TcpTransport();

  /** With {@link #withTls}: every process's certificate and the client's; else null. */
  private TlsInitCommand.Result certificates;

  /** How clients of this cluster connect: with {@link #withTls}, with the client certificate. */
  private Security clientSecurity = Security.NONE;

  private boolean proxied;
  private boolean redisPorts;
  private final List<String> nodeArgs = new ArrayList<>();
  private ZooKeeperEnsemble ensemble;
  private boolean ensembleStarted;
  private final List<CoordinatorProcess> coordinators = new ArrayList<>();
  private int sessionTimeoutMillis;
  private int leaderLeaseMillis;
  private int chains;
  private int replicas;

  /** A coordinator in ZooKeeper mode, and the proxies it reaches the ZooKeeper servers through. */
  public static final class CoordinatorProcess {
    final String name;
    final String address;
    final Path data;
    final List<FaultProxy> zooKeeperProxies = new ArrayList<>();
    Process process;

    CoordinatorProcess(String name, String address, Path data) {
      this.name = name;
      this.address = address;
      this.data = data;
    }

    public String name() {
      return name;
    }

    public String address() {
      return address;
    }

    public boolean alive() {
      return process != null && process.isAlive();
    }

    /** Cuts (or heals) every link between this coordinator and ZooKeeper. */
    public void cutFromZooKeeper(boolean cut) {
      for (FaultProxy proxy : zooKeeperProxies) {
        if (cut) {
          proxy.cut();
        } else {
          proxy.heal();
        }
      }
    }
  }

  /** A node child process and how to start it again with the same identity and data. */
  public static final class NodeProcess {
    final String id;
    final String address;
    final Path data;
    Process process;

    /**
     * {@link System#currentTimeMillis()} just before the current process was started: the
     * incarnation it registers with is above this times 1000 (a node's incarnation is its start
     * time in milliseconds times 1000 plus a random part).
     */
    volatile long startedMillis;

    /** In front of the node: the address it advertises ({@code -p}); null when not proxied. */
    FaultProxy nodeProxy;

    /** Between the node and the coordinator (the node dials the coordinator through it). */
    FaultProxy coordinatorProxy;

    /** Where the node serves the Redis protocol; null unless {@link #withRedisPorts}. */
    String redisAddress;

    public String redisAddress() {
      return redisAddress;
    }

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

    /**
     * Whether {@code incarnation} (of a pool entry or a chain member) is the current process's: it
     * registered or joined since this process started.
     */
    public boolean current(long incarnation) {
      return incarnation >= startedMillis * 1000;
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

  /**
   * A cluster of {@code chains} chains of {@code replicas} members each: {@code --chains} and
   * {@code --replicas} for every coordinator started from now on (0 leaves a flag out). Call before
   * starting.
   */
  public ProcessCluster withChains(int chains, int replicas) {
    this.chains = chains;
    this.replicas = replicas;
    return this;
  }

  /**
   * TLS on every link: a CA and certificates ({@code craq tls-init}) in {@code dir} for {@code
   * nodes} nodes n1..nN and the coordinator; every process started from now on gets its own, and
   * clients ({@link #clientSecurity}, and this cluster's own questions) the client certificate. Not
   * with ZooKeeper or proxies. Call before starting.
   */
  public ProcessCluster withTls(Path dir, int nodes) throws IOException {
    certificates = TlsInitCommand.generate(dir, nodes, 1, List.of());
    clientSecurity = Security.NONE.withTls(certificates.clientSettings());
    transport.close();
    transport = Transports.open(TransportConfig.DEFAULT.withSecurity(clientSecurity));
    return this;
  }

  /** How a client of this cluster connects (TLS with {@link #withTls}, else plain). */
  public Security clientSecurity() {
    return clientSecurity;
  }

  private List<String> tlsArgs(String name) {
    return certificates == null ? List.of() : certificates.serverArgs(certificates.issued(name));
  }

  /** Every node started from now on serves the Redis protocol on a port of its own. */
  public ProcessCluster withRedisPorts() {
    this.redisPorts = true;
    return this;
  }

  /** Adds {@code args} to the command line of every node started from now on. */
  public ProcessCluster withNodeArgs(String... args) {
    nodeArgs.addAll(List.of(args));
    return this;
  }

  /**
   * ZooKeeper mode: a 3-server ensemble and {@code count} coordinators on it, with the given
   * session timeout and leader lease; nodes and clients get the list of coordinators. Call before
   * starting.
   */
  public ProcessCluster withZooKeeper(int count, int sessionTimeoutMillis, int leaderLeaseMillis)
      throws IOException {
    this.sessionTimeoutMillis = sessionTimeoutMillis;
    this.leaderLeaseMillis = leaderLeaseMillis;
    // Nodes' read lease longer than a failover, so the chain keeps serving through one; the
    // coordinators' failure timeout above it.
    int nodeLeaseMillis = sessionTimeoutMillis + 1500;
    this.failureTimeoutMillis = nodeLeaseMillis + 500;
    nodeArgs.addAll(List.of("--lease-millis", Integer.toString(nodeLeaseMillis)));
    ensemble =
        new ZooKeeperEnsemble(
            directory.resolve("zookeeper"),
            ZooKeeperEnsemble.freePorts(ZooKeeperEnsemble.DEFAULT_SERVERS),
            System.getProperty("java.class.path"));
    List<String> addresses = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      CoordinatorProcess c =
          new CoordinatorProcess(
              "c" + i, "127.0.0.1:" + LocalProcesses.freePort(), directory.resolve("c" + i));
      for (int server = 1; server <= ensemble.size(); server++) {
        c.zooKeeperProxies.add(
            new FaultProxy(
                c.name + "-zk" + server, "127.0.0.1:" + ensemble.ports(server).client()));
      }
      coordinators.add(c);
      addresses.add(c.address);
    }
    coordinatorAddress = String.join(",", addresses);
    return this;
  }

  /** The ZooKeeper ensemble (null unless {@link #withZooKeeper}). */
  public ZooKeeperEnsemble ensemble() {
    return ensemble;
  }

  /** The coordinators of ZooKeeper mode, in order (empty in the file-based mode). */
  public List<CoordinatorProcess> coordinators() {
    return coordinators;
  }

  /** Every proxy, node proxies and coordinator proxies. */
  public List<FaultProxy> proxies() {
    List<FaultProxy> all = new ArrayList<>();
    for (NodeProcess node : nodes().values()) {
      if (node.nodeProxy != null) {
        all.add(node.nodeProxy);
        all.add(node.coordinatorProxy);
      }
    }
    for (CoordinatorProcess c : coordinators) {
      all.addAll(c.zooKeeperProxies);
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

  /** The nodes started so far, in start order (a snapshot: nodes started later are not in it). */
  public Map<String, NodeProcess> nodes() {
    synchronized (nodes) {
      return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(nodes));
    }
  }

  /** The node {@code id}, or null if it was never started. */
  public NodeProcess node(String id) {
    synchronized (nodes) {
      return nodes.get(id);
    }
  }

  public Path directory() {
    return directory;
  }

  /**
   * Starts the coordinator; in ZooKeeper mode the ensemble (waiting for its quorum) and every
   * coordinator that is not running.
   */
  public void startCoordinator() throws IOException {
    if (ensemble != null) {
      if (!ensembleStarted) {
        ensembleStarted = true;
        ensemble.start();
        try {
          ensemble.awaitQuorum(Duration.ofSeconds(60));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while the ZooKeeper ensemble started", e);
        }
      }
      for (CoordinatorProcess c : coordinators) {
        if (!c.alive()) {
          startCoordinator(c);
        }
      }
      return;
    }
    List<String> args =
        new ArrayList<>(
            LocalProcesses.coordinatorArgs(coordinatorAddress, directory.resolve("coordinator")));
    args.addAll(List.of("--failure-timeout-millis", Integer.toString(failureTimeoutMillis)));
    args.addAll(LocalProcesses.chainArgs(chains, replicas));
    args.addAll(tlsArgs("coordinator"));
    coordinator = processes.start("coordinator", Role.COORDINATOR, args);
  }

  /** Starts (or restarts, same data) coordinator {@code c} in ZooKeeper mode. */
  public void startCoordinator(CoordinatorProcess c) throws IOException {
    List<String> connect = new ArrayList<>();
    for (FaultProxy proxy : c.zooKeeperProxies) {
      connect.add(proxy.address());
    }
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "--listen",
            c.address,
            "--failure-timeout-millis",
            Integer.toString(failureTimeoutMillis),
            "--zookeeper",
            String.join(",", connect) + "/craq-test",
            "--advertise",
            c.address,
            "--zookeeper-session-timeout-millis",
            Integer.toString(sessionTimeoutMillis),
            "--leader-lease-millis",
            Integer.toString(leaderLeaseMillis)));
    args.addAll(LocalProcesses.chainArgs(chains, replicas));
    c.process = processes.start(c.name, Role.COORDINATOR, args);
  }

  /** Kills coordinator {@code c} with SIGKILL and waits for it to die. */
  public void killCoordinator(CoordinatorProcess c) throws InterruptedException {
    c.process.toHandle().destroyForcibly();
    c.process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Stops coordinator {@code c} with SIGSTOP. */
  public void pauseCoordinator(CoordinatorProcess c) throws IOException, InterruptedException {
    signal(c.process, "-STOP");
  }

  /** Resumes coordinator {@code c} with SIGCONT. */
  public void resumeCoordinator(CoordinatorProcess c) throws IOException, InterruptedException {
    signal(c.process, "-CONT");
  }

  /**
   * The coordinator of ZooKeeper mode that answers as leader (a map request answered with a map),
   * or null if none does now.
   */
  public CoordinatorProcess leader() {
    CoordinatorProcess best = null;
    long bestVersion = -1;
    for (CoordinatorProcess c : coordinators) {
      if (!c.alive()) {
        continue;
      }
      ChainMap map = askMap(c.address);
      if (map != null && map.version() > bestVersion) {
        best = c;
        bestVersion = map.version();
      }
    }
    return best;
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
    NodeProcess node = node(id);
    if (node == null) {
      node = new NodeProcess(id, "127.0.0.1:" + LocalProcesses.freePort(), directory.resolve(id));
      if (proxied) {
        node.nodeProxy = new FaultProxy(id, node.address);
        node.coordinatorProxy = new FaultProxy(id + "-coordinator", coordinatorAddress);
      }
      if (redisPorts) {
        node.redisAddress = "127.0.0.1:" + LocalProcesses.freePort();
      }
      synchronized (nodes) {
        nodes.put(id, node);
      }
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
    if (node.redisAddress != null) {
      args.addAll(List.of("--redis-listen", node.redisAddress));
    }
    args.addAll(nodeArgs);
    args.addAll(tlsArgs(id));
    node.startedMillis = System.currentTimeMillis();
    node.process = processes.start(id, Role.NODE, args);
    return node;
  }

  /** Stops a node with SIGSTOP (it keeps its sockets but does nothing). */
  public void pauseNode(String id) throws IOException, InterruptedException {
    signal(node(id).process, "-STOP");
  }

  /** Resumes a node stopped by {@link #pauseNode} with SIGCONT. */
  public void resumeNode(String id) throws IOException, InterruptedException {
    signal(node(id).process, "-CONT");
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
    Process process = node(id).process;
    process.toHandle().destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /**
   * Stops a node cleanly (SIGTERM; SIGKILL if it has not stopped after {@link
   * LocalProcesses#STOP_WAIT_MILLIS}) and waits for it to die.
   */
  public void stopNode(String id) throws InterruptedException {
    Process process = node(id).process;
    process.destroy();
    if (!process.waitFor(LocalProcesses.STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
      process.toHandle().destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Asks the coordinator to let {@code id} leave the pool (its chains get replacements, then it is
   * removed from them); the reply (a {@link MapReply} when accepted), or null.
   */
  public Message leave(String id) {
    String address = coordinatorAddress;
    if (ensemble != null) {
      CoordinatorProcess leader = leader();
      if (leader == null) {
        return null;
      }
      address = leader.address;
    }
    try (Connection connection = transport.connect(address)) {
      return connection
          .request(new Message.LeaveRequest(id), Duration.ofSeconds(2))
          .get(3, TimeUnit.SECONDS);
    } catch (Exception e) {
      return null;
    }
  }

  /** The chain as the coordinator sees it, or null if it does not answer. */
  public ChainConfig chain() {
    if (ensemble != null) {
      CoordinatorProcess leader = leader();
      return leader == null ? null : askChain(leader.address);
    }
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

  /** The chain map as the (leading) coordinator sees it, or null if it does not answer. */
  public ChainMap map() {
    if (ensemble != null) {
      CoordinatorProcess leader = leader();
      return leader == null ? null : askMap(leader.address);
    }
    return askMap(coordinatorAddress);
  }

  /** The chain map as {@code address} (a node or the coordinator) sees it, or null. */
  public ChainMap askMap(String address) {
    try (Connection connection = transport.connect(address)) {
      Message reply =
          connection.request(new MapRequest(), Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
      return reply instanceof MapReply mapReply ? mapReply.map() : null;
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * Waits until the cluster of {@code nodes} nodes has formed: every chain with min(R, nodes)
   * members, all caught up ({@link LocalProcesses#caughtUp}).
   */
  public ChainMap awaitChains(int nodes, Duration timeout) {
    LocalProcesses.Readiness ready = LocalProcesses.caughtUp(nodes);
    awaitCondition(
        nodes + " node(s) in every chain",
        timeout,
        () -> {
          ChainMap map = map();
          return map != null && ready.ready(map);
        });
    return map();
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
    for (CoordinatorProcess c : coordinators) {
      if (c.alive()) {
        try {
          resumeCoordinator(c); // a paused process would not stop on SIGTERM
        } catch (IOException | InterruptedException | RuntimeException e) {
          // it stops by SIGKILL below
        }
      }
    }
    processes.close();
    transport.close();
    proxies().forEach(FaultProxy::close);
    if (ensemble != null) {
      ensemble.close();
    }
  }
}

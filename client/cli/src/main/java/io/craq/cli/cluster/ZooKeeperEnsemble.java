package io.craq.cli.cluster;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A local ZooKeeper ensemble: N servers (3 by default), each a JVM of its own running ZooKeeper's
 * {@code QuorumPeerMain} from jars of the ZooKeeper Maven artifact (no system install), on
 * 127.0.0.1 only. Server {@code i} (1..N) keeps its configuration, {@code myid} and data in {@code
 * HOME/zkI} and appends its output to {@code HOME/logs/zkI.log}; its client, quorum and election
 * ports are given. The four-letter words {@code ruok}, {@code srvr} and {@code mntr} are allowed on
 * the client port (how {@link #mode} tells whether a server serves); the admin server is off.
 *
 * <p>{@link #TICK_MILLIS} is 500 ms: clients may ask for session timeouts from {@link
 * #MIN_SESSION_TIMEOUT_MILLIS} (1 s) to {@link #MAX_SESSION_TIMEOUT_MILLIS} (20 s).
 *
 * <p>The servers run with SIGINT ignored, as a shell runs a background job: Ctrl-C in a terminal
 * reaches every process of its foreground group, and it is the owner of the ensemble that stops the
 * servers, after the processes that use them ({@link #close()}). For fault tests a server can be
 * killed ({@code kill -9}), paused and resumed (SIGSTOP, SIGCONT) and started again with its data.
 * Depends on nothing but the JDK and the jars given.
 */
public final class ZooKeeperEnsemble implements AutoCloseable {
  /** Servers in an ensemble unless told otherwise: a majority survives the loss of one. */
  public static final int DEFAULT_SERVERS = 3;

  /** ZooKeeper's time unit: heartbeats, and the bounds of session timeouts (2 and 40 ticks). */
  public static final int TICK_MILLIS = 500;

  /** The shortest session timeout a client gets (2 ticks). */
  public static final int MIN_SESSION_TIMEOUT_MILLIS = 2 * TICK_MILLIS;

  /** The longest session timeout a client gets (40 ticks). */
  public static final int MAX_SESSION_TIMEOUT_MILLIS = 40 * TICK_MILLIS;

  /** The main class of a ZooKeeper server of an ensemble. */
  public static final String MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

  /** How long a server has to stop after SIGTERM before it gets SIGKILL. */
  public static final long STOP_WAIT_MILLIS = 10_000;

  private static final String HOST = "127.0.0.1";

  /**
   * The JVM flags of a server: a small heap, the GC with the least threads, and ZooKeeper's own log
   * lines from INFO up in the coordinator jar's logging set-up (which keeps them to errors in a
   * coordinator).
   */
  private static final List<String> JVM_FLAGS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-Dcraq.log.zookeeper.level=INFO");

  /** The ports of one server on 127.0.0.1: clients, followers to the leader, leader election. */
  public record Ports(int client, int quorum, int election) {
    public Ports {
      for (int port : new int[] {client, quorum, election}) {
        if (port < 1 || port > 65_535) {
          throw new IllegalArgumentException("not a port: " + port);
        }
      }
    }
  }

  /** What a server says of itself when asked {@code srvr} on its client port. */
  public enum Mode {
    LEADER,
    FOLLOWER,
    OBSERVER,
    STANDALONE,
    /** It answers but serves no client: it has no quorum (it is looking for a leader). */
    NOT_SERVING,
    /** Nothing answered in time: down, paused, or not started yet. */
    NO_ANSWER;

    /** Whether a server in this mode serves clients. */
    public boolean serving() {
      return this == LEADER || this == FOLLOWER || this == OBSERVER || this == STANDALONE;
    }
  }

  private final Path home;
  private final List<Ports> ports;
  private final String classPath;

  /** Server i's process at index i - 1, or null while it is down on purpose (killed, closed). */
  private final Process[] processes;

  private boolean closed;

  /**
   * An ensemble, not started, of one server per entry of {@code ports} (1, 3, 5, ...), kept under
   * {@code home}, each server a JVM running {@link #MAIN_CLASS} from {@code classPath}.
   */
  public ZooKeeperEnsemble(Path home, List<Ports> ports, String classPath) {
    if (ports.isEmpty() || ports.size() % 2 == 0) {
      throw new IllegalArgumentException(
          "an ensemble has an odd number of servers, got " + ports.size());
    }
    this.home = home.toAbsolutePath().normalize();
    this.ports = List.copyOf(ports);
    this.classPath = Objects.requireNonNull(classPath, "classPath");
    this.processes = new Process[ports.size()];
  }

  /**
   * The class path of a server in the built project in {@code project}: the coordinator's jar,
   * which holds ZooKeeper and its compile dependencies, and the jars a server also needs that the
   * build copies to {@code client/cli/target/zookeeper-server}.
   *
   * @throws IOException naming what is missing and how to build it
   */
  public static String projectClassPath(Path project) throws IOException {
    Path jar = project.resolve(LocalProcesses.Role.COORDINATOR.jar());
    Path extra = project.resolve("client/cli/target/zookeeper-server");
    if (!Files.isRegularFile(jar) || !Files.isDirectory(extra)) {
      throw new IOException(
          (Files.isRegularFile(jar) ? extra : jar)
              + " is missing; build with: ./mvnw -B -ntp -q -DskipTests package");
    }
    List<String> entries = new ArrayList<>();
    entries.add(jar.toString());
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(extra, "*.jar")) {
      List<String> sorted = new ArrayList<>();
      jars.forEach(path -> sorted.add(path.toString()));
      sorted.sort(null);
      entries.addAll(sorted);
    }
    return String.join(File.pathSeparator, entries);
  }

  /** {@code servers} servers, each on three ports of 127.0.0.1 that nothing listened on. */
  public static List<Ports> freePorts(int servers) throws IOException {
    List<Ports> all = new ArrayList<>();
    List<Integer> taken = new ArrayList<>();
    while (all.size() < servers) {
      int[] three = new int[3];
      for (int i = 0; i < 3; i++) {
        int port;
        do {
          port = LocalProcesses.freePort();
        } while (taken.contains(port));
        taken.add(port);
        three[i] = port;
      }
      all.add(new Ports(three[0], three[1], three[2]));
    }
    return all;
  }

  /** The number of servers. */
  public int size() {
    return ports.size();
  }

  /** How many servers make a quorum: a majority. */
  public int quorum() {
    return ports.size() / 2 + 1;
  }

  /** The ports of server {@code server} (1..N). */
  public Ports ports(int server) {
    return ports.get(index(server));
  }

  /** The name of server {@code server} in logs and folders: {@code zk1}, {@code zk2}, ... */
  public String name(int server) {
    return "zk" + (index(server) + 1);
  }

  /** The folder of server {@code server}: its configuration and its data (with {@code myid}). */
  public Path folder(int server) {
    return home.resolve(name(server));
  }

  /** The configuration file of server {@code server}. */
  public Path configFile(int server) {
    return folder(server).resolve("zoo.cfg");
  }

  /** The log file of server {@code server}. */
  public Path log(int server) {
    return home.resolve("logs").resolve(name(server) + ".log");
  }

  /** The connect string of the ensemble: {@code 127.0.0.1:P1,127.0.0.1:P2,...}. */
  public String connectString() {
    return String.join(",", ports.stream().map(p -> HOST + ":" + p.client()).toList());
  }

  /**
   * The connect string with {@code chroot} ({@code /path}) appended: a client sees that znode as
   * its root.
   */
  public String connectString(String chroot) {
    if (!chroot.startsWith("/") || chroot.endsWith("/") || chroot.contains("//")) {
      throw new IllegalArgumentException("a chroot is a path such as /craq, got '" + chroot + "'");
    }
    return connectString() + chroot;
  }

  /** The configuration of server {@code server}, as written to its {@link #configFile}. */
  public String config(int server) {
    StringBuilder text = new StringBuilder();
    text.append("# ZooKeeper server ").append(name(server)).append(" of a local ");
    text.append(ports.size()).append("-server ensemble, on 127.0.0.1 only.\n");
    text.append("tickTime=").append(TICK_MILLIS).append('\n');
    text.append("minSessionTimeout=").append(MIN_SESSION_TIMEOUT_MILLIS).append('\n');
    text.append("maxSessionTimeout=").append(MAX_SESSION_TIMEOUT_MILLIS).append('\n');
    // Followers have 10 s to connect and sync to a new leader, 5 s to answer it after that.
    text.append("initLimit=20\n");
    text.append("syncLimit=10\n");
    text.append("dataDir=").append(dataDir(server)).append('\n');
    text.append("clientPortAddress=").append(HOST).append('\n');
    text.append("clientPort=").append(ports(server).client()).append('\n');
    text.append("quorumListenOnAllIPs=false\n");
    text.append("admin.enableServer=false\n");
    text.append("4lw.commands.whitelist=ruok,srvr,mntr\n");
    text.append("autopurge.snapRetainCount=3\n");
    text.append("autopurge.purgeInterval=1\n");
    for (int i = 0; i < ports.size(); i++) {
      Ports p = ports.get(i);
      text.append("server.")
          .append(i + 1)
          .append('=')
          .append(HOST)
          .append(':')
          .append(p.quorum())
          .append(':')
          .append(p.election())
          .append('\n');
    }
    return text.toString();
  }

  /** The command line that runs server {@code server}: its JVM, SIGINT ignored. */
  public List<String> command(int server) {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add("-c");
    command.add("trap '' INT; exec \"$@\"");
    command.add("craq-" + name(server));
    command.addAll(javaCommand(server));
    return command;
  }

  /** The JVM command line of server {@code server}, as one would type it. */
  public List<String> javaCommand(int server) {
    String name = name(server);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    command.add("-Dcraq.who=" + name);
    command.add("-cp");
    command.add(classPath);
    command.add(MAIN_CLASS);
    command.add(configFile(server).toString());
    return command;
  }

  /**
   * Writes every server's configuration and {@code myid} (keeping data from an earlier run) and
   * starts every server; does not wait for them ({@link #awaitQuorum}).
   */
  public synchronized void start() throws IOException {
    for (int server = 1; server <= ports.size(); server++) {
      if (processes[server - 1] == null) {
        startServer(server);
      }
    }
  }

  /**
   * Starts server {@code server} again with its data, killing it first ({@code kill -9}) if it
   * runs; does not wait until it serves.
   */
  public synchronized void restart(int server) throws IOException {
    kill(server);
    startServer(server);
  }

  private void startServer(int server) throws IOException {
    if (closed) {
      throw new IllegalStateException("the ensemble is stopped");
    }
    Files.createDirectories(dataDir(server));
    Files.createDirectories(log(server).getParent());
    Files.writeString(dataDir(server).resolve("myid"), server + "\n");
    Files.writeString(configFile(server), config(server));
    processes[index(server)] =
        new ProcessBuilder(command(server))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log(server).toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
  }

  /** The PID of server {@code server}, or -1 while it is down on purpose. */
  public synchronized long pid(int server) {
    Process process = processes[index(server)];
    return process == null ? -1 : process.pid();
  }

  /** The process of server {@code server}, or null while it is down on purpose. */
  public synchronized Process process(int server) {
    return processes[index(server)];
  }

  /**
   * Kills server {@code server} at once ({@code kill -9}, paused or not) and waits until it is
   * gone; nothing if it is down already.
   */
  public synchronized void kill(int server) {
    Process process = processes[index(server)];
    processes[index(server)] = null;
    if (process != null) {
      process.destroyForcibly();
      awaitExit(process.toHandle());
    }
  }

  /** Pauses server {@code server} (SIGSTOP): it keeps its sockets and answers nothing. */
  public synchronized void pause(int server) throws IOException {
    signal(server, "STOP");
  }

  /** Resumes server {@code server} after {@link #pause} (SIGCONT). */
  public synchronized void resume(int server) throws IOException {
    signal(server, "CONT");
  }

  private void signal(int server, String signal) throws IOException {
    Process process = processes[index(server)];
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException(name(server) + " is not running");
    }
    if (!sendSignal(process.pid(), signal)) {
      throw new IOException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  /**
   * Asks server {@code server} {@code word} (one of {@code ruok}, {@code srvr}, {@code mntr}) on
   * its client port and returns the answer.
   *
   * @throws IOException if it does not answer within a second
   */
  public String ask(int server, String word) throws IOException {
    return fourLetterWord(ports(server).client(), word);
  }

  /**
   * What server {@code server} says of itself ({@code srvr}); {@link Mode#NO_ANSWER} if nothing.
   */
  public Mode mode(int server) {
    String answer;
    try {
      answer = ask(server, "srvr");
    } catch (IOException e) {
      return Mode.NO_ANSWER;
    }
    return parseMode(answer);
  }

  /** The mode in an answer to {@code srvr}. */
  static Mode parseMode(String answer) {
    for (String line : answer.split("\n", -1)) {
      if (line.startsWith("Mode: ")) {
        return switch (line.substring("Mode: ".length()).strip()) {
          case "leader" -> Mode.LEADER;
          case "follower" -> Mode.FOLLOWER;
          case "observer" -> Mode.OBSERVER;
          case "standalone" -> Mode.STANDALONE;
          default -> Mode.NOT_SERVING;
        };
      }
    }
    return answer.isEmpty() ? Mode.NO_ANSWER : Mode.NOT_SERVING;
  }

  /** The mode of every server, as {@code zk1 leader, zk2 follower, ...}. */
  public String modes() {
    List<String> all = new ArrayList<>();
    for (int server = 1; server <= ports.size(); server++) {
      all.add(name(server) + " " + describe(server, mode(server)));
    }
    return String.join(", ", all);
  }

  private String describe(int server, Mode mode) {
    if (pid(server) < 0) {
      return "down";
    }
    return switch (mode) {
      case NOT_SERVING -> "not serving";
      case NO_ANSWER -> "no answer";
      default -> mode.name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /** The server that says it leads, or -1. */
  public int leader() {
    for (int server = 1; server <= ports.size(); server++) {
      if (mode(server) == Mode.LEADER) {
        return server;
      }
    }
    return -1;
  }

  /**
   * Waits until a majority of the servers serve clients (a leader and enough followers).
   *
   * @throws IOException after {@code timeout}, saying what each server said; or at once if a server
   *     that should run has exited, with the end of its log
   */
  public void awaitQuorum(Duration timeout) throws IOException, InterruptedException {
    await(quorum(), timeout, "form a quorum");
  }

  /**
   * Waits until every server that should run serves clients (e.g. one started again has caught up
   * with the leader).
   *
   * @throws IOException as {@link #awaitQuorum} does
   */
  public void awaitAllServing(Duration timeout) throws IOException, InterruptedException {
    int running = 0;
    for (int server = 1; server <= ports.size(); server++) {
      running += pid(server) >= 0 ? 1 : 0;
    }
    await(running, timeout, "have all " + running + " running server(s) serving");
  }

  private void await(int serving, Duration timeout, String what)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      checkAlive();
      int count = 0;
      for (int server = 1; server <= ports.size(); server++) {
        count += pid(server) >= 0 && mode(server).serving() ? 1 : 0;
      }
      if (count >= serving) {
        return;
      }
      if (System.nanoTime() >= deadline) {
        throw new IOException(
            "the ZooKeeper ensemble did not "
                + what
                + " in "
                + timeout.toSeconds()
                + " s ("
                + modes()
                + "); logs in "
                + log(1).getParent());
      }
      Thread.sleep(100);
    }
  }

  /**
   * @throws IOException naming a server that should run and has exited, with the end of its log
   */
  public void checkAlive() throws IOException {
    for (int server = 1; server <= ports.size(); server++) {
      Process process = process(server);
      if (process != null && !process.isAlive()) {
        throw new IOException(
            name(server)
                + " exited with status "
                + process.exitValue()
                + "; end of "
                + log(server)
                + ":\n"
                + logTail(server, 20));
      }
    }
  }

  /** The last {@code lines} lines of the log of server {@code server}. */
  public String logTail(int server, int lines) {
    try (Stream<String> all = Files.lines(log(server))) {
      List<String> list = all.toList();
      return String.join("\n", list.subList(Math.max(0, list.size() - lines), list.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read the log: " + e + ")";
    }
  }

  /**
   * Stops every server by its PID: SIGCONT (a paused one cannot act on SIGTERM) and SIGTERM to
   * each, SIGKILL to those still running after {@link #STOP_WAIT_MILLIS}; waits until all are gone.
   * Starting one afterwards is refused.
   */
  @Override
  public void close() {
    List<ProcessHandle> running = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (int i = 0; i < processes.length; i++) {
        if (processes[i] != null) {
          running.add(processes[i].toHandle());
          processes[i] = null;
        }
      }
    }
    LocalProcesses.stop(running, process -> {});
  }

  private Path dataDir(int server) {
    return folder(server).resolve("data");
  }

  private int index(int server) {
    if (server < 1 || server > ports.size()) {
      throw new IllegalArgumentException(
          "no server " + server + " in an ensemble of " + ports.size());
    }
    return server - 1;
  }

  /** Sends {@code word} to a ZooKeeper server's client port on 127.0.0.1; returns its answer. */
  static String fourLetterWord(int port, String word) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), 1_000);
      socket.setSoTimeout(1_000);
      OutputStream out = socket.getOutputStream();
      out.write(word.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      byte[] buffer = new byte[4096];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        answer.write(buffer, 0, n);
      }
      return answer.toString(StandardCharsets.UTF_8);
    }
  }

  private static boolean sendSignal(long pid, String signal) throws IOException {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    return kill.exitValue() == 0;
  }

  private static void awaitExit(ProcessHandle process) {
    try {
      process.onExit().get(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // unkillable: nothing more to do here; close() tries again
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

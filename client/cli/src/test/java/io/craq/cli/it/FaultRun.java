package io.craq.cli.it;

import io.craq.check.CheckReport;
import io.craq.check.HistoryLog;
import io.craq.check.HistoryRecorder;
import io.craq.check.LinearizabilityChecker;
import io.craq.check.Output;
import io.craq.check.RegisterModel;
import io.craq.client.AmbiguousWriteException;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.client.Versioned;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ReadMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One fault-suite run: a cluster of child JVMs, clients in this JVM recording a history (an
 * operation certainly not applied is {@code fail}, one that may have been is {@code info}, as
 * docs/CHECK.md describes), a fault counter, and the end of every run: heal, quiet, final reads of
 * every key at every node, the linearizability check, the lost-write and convergence figures, and
 * one summary line.
 *
 * <p>The history is written to {@code target/fault-histories/<suite>-<timestamp>.log} (relative to
 * the module directory surefire runs in) in {@link HistoryLog}'s format, which {@code craq check}
 * reads.
 */
final class FaultRun implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(60);

  /** Operations on one key before the workload moves to a fresh key. */
  private static final int OPS_PER_KEY = 200;

  /**
   * A worker whose operation ended with an unknown outcome pauses this long, as a real client backs
   * off: a node that fails every write at once (its links cut, clients included) would otherwise
   * turn into thousands of unknown outcomes a second, more than the checker can resolve for a key
   * (seen in a 120 s partition soak: 2,303 in 4 s, 24 keys left unknown).
   */
  private static final long PAUSE_AFTER_UNKNOWN_MILLIS = 100;

  final String suite;
  final long seed;
  final Random random;
  final ProcessCluster cluster;
  final HistoryRecorder recorder = new HistoryRecorder();
  private final long runNanos;
  private volatile long startNanos = System.nanoTime();
  private final Map<String, Integer> faults = new TreeMap<>();
  private final Map<String, Long> maxAcked = new ConcurrentHashMap<>();
  private final Set<String> keys = ConcurrentHashMap.newKeySet();
  private final AtomicLong ops = new AtomicLong();
  private final AtomicLong acknowledged = new AtomicLong();
  private final AtomicLong unanswered = new AtomicLong();
  private final List<String> notes = new ArrayList<>();
  private final AtomicLong nextProcess = new AtomicLong();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean stopping;
  private final List<CraqClient> clients = new ArrayList<>();
  private CraqClient probeClient;

  FaultRun(String suite, Path directory, boolean proxies) throws IOException {
    this.suite = suite;
    this.seed = Long.getLong("craq.seed", System.nanoTime());
    this.random = new Random(seed);
    this.runNanos = TimeUnit.SECONDS.toNanos(Long.getLong("craq.fault.seconds", 30));
    System.out.println(
        "fault suite " + suite + " seed " + seed + " (replay: -Dcraq.seed=" + seed + ")");
    cluster = new ProcessCluster(directory, 2000);
    if (proxies) {
      cluster.withProxies();
    }
  }

  /** Starts the coordinator and {@code ids}, and waits for the chain. */
  void startCluster(List<String> ids) throws IOException {
    cluster.startCoordinator();
    for (String id : ids) {
      cluster.startNode(id);
    }
    cluster.awaitChain(ids, WAIT);
  }

  /** Operations of the workload answered with a result so far (reads and writes). */
  long acknowledged() {
    return acknowledged.get();
  }

  /** Operations that failed or whose outcome is unknown so far (reads and writes). */
  long unanswered() {
    return unanswered.get();
  }

  /** Adds {@code text} to the summary line (figures a suite measured). */
  synchronized void note(String text) {
    notes.add(text);
  }

  /** Seconds since the workload started, for log lines. */
  double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** True while the fault schedule should go on. */
  boolean running() {
    return System.nanoTime() - startNanos < runNanos;
  }

  synchronized void fault(String type) {
    faults.merge(type, 1, Integer::sum);
    System.out.printf(
        "[%s %6.1fs] fault %s%n", suite, (System.nanoTime() - startNanos) / 1e9, type);
  }

  /** The pacing of the fault schedule (the workload itself, not synchronisation). */
  void pace(long fromMillis, long toMillis) {
    long millis = fromMillis + (long) (random.nextDouble() * (toMillis - fromMillis));
    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
  }

  List<String> liveIds() {
    return cluster.nodes().values().stream()
        .filter(ProcessCluster.NodeProcess::alive)
        .map(ProcessCluster.NodeProcess::id)
        .toList();
  }

  /** Waits until the chain has every live node, all caught up. */
  void awaitQuiet() {
    cluster.awaitChain(liveIds(), WAIT);
    ChainConfig chain = chain();
    System.out.printf(
        "[%s %6.1fs] quiet: epoch %d, chain %s%n",
        suite,
        (System.nanoTime() - startNanos) / 1e9,
        chain.epoch(),
        chain.members().stream().map(m -> m.id()).toList());
  }

  private CraqClient newClient() {
    ClientConfig config =
        ClientConfig.defaults(cluster.coordinatorAddress())
            .withCallTimeoutMillis(2500)
            .withReadAttemptTimeoutMillis(1000);
    CraqClient client = CraqClient.connect(config);
    synchronized (clients) {
      clients.add(client);
    }
    return client;
  }

  /** Starts {@code count} client threads (all on the same current key: <= 5 per key). */
  void startWorkload(int count) {
    startNanos = System.nanoTime(); // the fault schedule's time starts with the workload
    for (int w = 0; w < count; w++) {
      Random workerRandom = new Random(seed * 31 + w);
      CraqClient client = newClient();
      Thread thread =
          Thread.ofPlatform()
              .name(suite + "-client-" + w)
              .start(() -> {
                long process = nextProcess.getAndIncrement();
                while (!stopping) {
                  long n = ops.getAndIncrement();
                  String key = suite + "-" + (n / OPS_PER_KEY);
                  if (runOne(client, workerRandom, process, key, n)) {
                    process =
                        nextProcess.getAndIncrement(); // unknown outcome: retire the process id
                    if (!pauseAfterUnknown()) {
                      return; // interrupted: this worker stops
                    }
                  }
                }
              });
      workers.add(thread);
    }
  }

  /** False if interrupted. */
  private static boolean pauseAfterUnknown() {
    try {
      Thread.sleep(PAUSE_AFTER_UNKNOWN_MILLIS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private String[] nodeAddresses() {
    return cluster.nodes().values().stream()
        .filter(ProcessCluster.NodeProcess::alive)
        .map(ProcessCluster.NodeProcess::address)
        .toArray(String[]::new);
  }

  /** One recorded operation; returns true if its outcome is unknown. */
  private boolean runOne(CraqClient client, Random random, long process, String key, long n) {
    keys.add(key);
    int dice = random.nextInt(20);
    if (dice < 10) {
      String[] addresses = nodeAddresses();
      if (addresses.length == 0) {
        return false;
      }
      read(client, process, key, addresses[random.nextInt(addresses.length)]);
      return false;
    }
    boolean delete = dice == 19;
    return write(client, process, key, delete ? null : "p" + process + "-" + n) == null;
  }

  /**
   * A recorded strong read at {@code address}; empty if it failed, else the read (maybe absent).
   */
  private Optional<Optional<Versioned>> read(
      CraqClient client, long process, String key, String address) {
    HistoryRecorder.Pending pending = recorder.read(process, key);
    try {
      Optional<Versioned> read = client.readFrom(address, key, ReadMode.STRONG, 0);
      acknowledged.incrementAndGet();
      pending.ok(
          read.map(v -> Output.read(new String(v.value(), StandardCharsets.UTF_8), v.version()))
              .orElse(Output.read(null)));
      return Optional.of(read);
    } catch (RuntimeException e) {
      pending.fail(); // a read has no effect
      unanswered.incrementAndGet();
      return Optional.empty();
    }
  }

  /**
   * A recorded write ({@code value} null = delete). Returns its version, -1 if it certainly failed,
   * null if its outcome is unknown.
   */
  private Long write(CraqClient client, long process, String key, String value) {
    HistoryRecorder.Pending pending =
        value == null ? recorder.delete(process, key) : recorder.write(process, key, value);
    try {
      long version =
          value == null
              ? client.delete(key)
              : client.write(key, value.getBytes(StandardCharsets.UTF_8));
      pending.ok(Output.done(version));
      acknowledged.incrementAndGet();
      maxAcked.merge(key, version, Math::max);
      return version;
    } catch (AmbiguousWriteException e) {
      pending.info();
      unanswered.incrementAndGet();
      return null;
    } catch (CraqException e) {
      pending.fail(); // the client library raises only definite failures as other exceptions
      unanswered.incrementAndGet();
      return -1L;
    } catch (RuntimeException e) {
      pending.info();
      unanswered.incrementAndGet();
      return null;
    }
  }

  /** Stops the clients, heals, checks and prints the summary; returns the result to assert on. */
  Result finish(Step heal) throws Exception {
    stopping = true;
    for (Thread worker : workers) {
      worker.join(TimeUnit.SECONDS.toMillis(30));
    }
    heal.run();
    for (FaultProxy proxy : cluster.proxies()) {
      proxy.heal();
    }
    for (ProcessCluster.NodeProcess node : cluster.nodes().values()) {
      if (node.alive()) {
        cluster.resumeNode(node.id());
      }
    }
    long healed = System.nanoTime();
    CraqClient client = newClient();
    String probeKey = suite + "-heal";
    keys.add(probeKey);
    long[] firstWrite = {-1};
    cluster.awaitCondition(
        "a write after healing",
        WAIT,
        () -> {
          Long version =
              write(client, nextProcess.getAndIncrement(), probeKey, "heal-" + System.nanoTime());
          if (version != null && version > 0) {
            firstWrite[0] = System.nanoTime() - healed;
            return true;
          }
          return false;
        });
    awaitQuiet();
    List<String> live = liveIds();
    Map<String, Map<String, Optional<Versioned>>> finalReads = finalReads(client, live);
    // A key read as absent (never written, or deleted last) shows no version: a recorded probe
    // write must then get a version above every acknowledged one, and is read again everywhere.
    List<String> absent =
        finalReads.entrySet().stream()
            .filter(e -> e.getValue().values().stream().anyMatch(Optional::isEmpty))
            .map(Map.Entry::getKey)
            .toList();
    Map<String, Long> probeVersions = new TreeMap<>();
    Map<String, Long> ackedBeforeProbes = new TreeMap<>(maxAcked);
    for (String key : absent) {
      cluster.awaitCondition(
          "a probe write of " + key,
          WAIT,
          () -> {
            Long version =
                write(client, nextProcess.getAndIncrement(), key, "probe-" + System.nanoTime());
            if (version != null && version > 0) {
              probeVersions.put(key, version);
              return true;
            }
            return false;
          });
    }
    if (!absent.isEmpty()) {
      awaitQuiet();
      finalReads.putAll(finalReads(client, live, absent));
    }
    int lost = 0;
    int diverged = 0;
    StringBuilder problems = new StringBuilder();
    for (Map.Entry<String, Map<String, Optional<Versioned>>> entry : finalReads.entrySet()) {
      String key = entry.getKey();
      long acked = ackedBeforeProbes.getOrDefault(key, 0L);
      Long probe = probeVersions.get(key);
      java.util.Set<String> seen = new java.util.TreeSet<>();
      boolean keyLost = false;
      for (Map.Entry<String, Optional<Versioned>> at : entry.getValue().entrySet()) {
        Versioned v = at.getValue().orElse(null);
        seen.add(
            v == null
                ? "absent"
                : v.version() + "=" + new String(v.value(), StandardCharsets.UTF_8));
        long committed = v == null ? 0 : v.version();
        boolean isLost = probe != null ? probe <= acked : committed < acked;
        if (isLost) {
          keyLost = true;
          problems
              .append("LOST: key ")
              .append(key)
              .append(" at ")
              .append(at.getKey())
              .append(" final version ")
              .append(committed)
              .append(" probe ")
              .append(probe)
              .append(" < acknowledged ")
              .append(acked)
              .append('\n');
        }
      }
      if (keyLost) {
        lost++;
      }
      if (seen.size() != 1) {
        diverged++;
        problems
            .append("DIVERGED: key ")
            .append(key)
            .append(": ")
            .append(entry.getValue())
            .append('\n');
      }
    }
    Path historyFile =
        Path.of(
            "target",
            "fault-histories",
            suite
                + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + ".log");
    Files.createDirectories(historyFile.getParent());
    HistoryLog.write(recorder.history(), historyFile);
    if (HistoryLog.read(historyFile).size() != recorder.history().size()) {
      throw new AssertionError("history file " + historyFile + " does not read back whole");
    }
    CheckReport report =
        LinearizabilityChecker.check(
            recorder.history(), new RegisterModel(), Duration.ofSeconds(10));
    String summary =
        String.format(
            "FAULT SUITE %s: seed %d, %s, %s, faults %s, acknowledged writes lost %d, heal to first "
                + "write %d ms, converged %s (%d nodes)%s, history %s",
            suite,
            seed,
            recorder.history().summary(),
            report.summary(),
            faultsText(),
            lost,
            TimeUnit.NANOSECONDS.toMillis(firstWrite[0]),
            diverged == 0 ? "yes" : "NO (" + diverged + " keys)",
            live.size(),
            notesText(),
            historyFile.toAbsolutePath());
    System.out.println(summary);
    if (!problems.isEmpty()) {
      System.out.println(problems);
    }
    return new Result(summary, report, lost, diverged, problems.toString(), historyFile);
  }

  private synchronized String notesText() {
    return notes.isEmpty() ? "" : ", " + String.join(", ", notes);
  }

  private synchronized String faultsText() {
    return faults.toString();
  }

  private Map<String, Map<String, Optional<Versioned>>> finalReads(
      CraqClient client, List<String> live) {
    return finalReads(client, live, keys.stream().sorted().toList());
  }

  /** Reads each key at each live node (recorded), retrying a failed read until the timeout. */
  private Map<String, Map<String, Optional<Versioned>>> finalReads(
      CraqClient client, List<String> live, List<String> which) {
    Map<String, Map<String, Optional<Versioned>>> reads = new TreeMap<>();
    for (String key : which) {
      Map<String, Optional<Versioned>> atNodes = new LinkedHashMap<>();
      for (String id : live) {
        String address = cluster.nodes().get(id).address();
        cluster.awaitCondition(
            "final read of " + key + " at " + id,
            WAIT,
            () -> {
              Optional<Optional<Versioned>> read =
                  read(client, nextProcess.getAndIncrement(), key, address);
              read.ifPresent(r -> atNodes.put(id, r));
              return read.isPresent();
            });
      }
      reads.put(key, atNodes);
    }
    return reads;
  }

  @Override
  public void close() {
    stopping = true;
    synchronized (clients) {
      clients.forEach(CraqClient::close);
    }
    cluster.close();
  }

  /** A step that may throw. */
  interface Step {
    void run() throws Exception;
  }

  /**
   * Recorded strong reads of the workload's current key at {@code id}'s direct address, right after
   * a fault ends (a woken or reconnected node must not serve a stale value).
   */
  void probeReads(String id, int count) {
    if (probeClient == null) {
      probeClient = newClient();
    }
    CraqClient client = probeClient;
    String address = cluster.nodes().get(id).address();
    for (int i = 0; i < count; i++) {
      String key = suite + "-" + (ops.get() / OPS_PER_KEY);
      keys.add(key);
      read(client, nextProcess.getAndIncrement(), key, address);
    }
  }

  /** What a run found. */
  record Result(
      String summary,
      CheckReport report,
      int lost,
      int diverged,
      String problems,
      Path historyFile) {
    /** The pass criteria: no illegal key, no lost acknowledged write, convergence. */
    void assertPassed(ProcessCluster cluster) {
      StringBuilder failures = new StringBuilder();
      if (!report.noneIllegal()) {
        failures.append(report.failureMessage()).append('\n');
      }
      if (lost > 0 || diverged > 0) {
        failures.append(problems);
      }
      if (!failures.isEmpty()) {
        throw new AssertionError(summary + "\n" + failures + "\n" + cluster.logs());
      }
    }
  }

  /** The chain as the coordinator sees it, or {@link ChainConfig#EMPTY}. */
  ChainConfig chain() {
    ChainConfig chain = cluster.chain();
    return chain == null ? ChainConfig.EMPTY : chain;
  }
}

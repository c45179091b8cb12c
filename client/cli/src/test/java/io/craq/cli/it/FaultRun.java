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
import io.craq.client.MultiWrite;
import io.craq.client.Versioned;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import java.util.stream.Collectors;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * One fault-suite run: a cluster of child JVMs, clients in this JVM recording a history (an
 * operation certainly not applied is {@code fail}, one that may have been is {@code info}, as
 * docs/CHECK.md describes), a fault counter, and the end of every run: heal, quiet, final reads of
 * every key at every member of its chain, the linearizability check, the lost-write and (per chain)
 * convergence figures, and one summary line.
 *
 * <p>Chain-aware throughout: "quiet" is read from the coordinator's chain map (every chain with
 * {@code min(replicas, live nodes)} members, all on live nodes, caught up with their current
 * process, nothing moving, the loads even), and a key is read at the members of its chain only (a
 * node that left a chain keeps data it no longer serves).
 *
 * <p>The history is written to {@code target/fault-histories/<suite>-<timestamp>.log} (relative to
 * the module directory surefire runs in) in {@link HistoryLog}'s format, which {@code craq check}
 * reads.
 */
final class FaultRun implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(60);

  /** Operations on one key before the workload moves to a fresh key (the default). */
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

  /** The workload's key of round {@code r} (it moves to round r+1 every opsPerKey operations). */
  private volatile LongFunction<String> keyOfRound;

  private volatile int opsPerKey = OPS_PER_KEY;
  private volatile Duration quietTimeout = WAIT;

  /** The map {@link #awaitQuiet} last saw quiet (null before). */
  private volatile ChainMap quietMap;

  FaultRun(String suite, Path directory, boolean proxies) throws IOException {
    this.suite = suite;
    this.seed = Long.getLong("craq.seed", System.nanoTime());
    this.random = new Random(seed);
    this.runNanos = TimeUnit.SECONDS.toNanos(Long.getLong("craq.fault.seconds", 15));
    System.out.println(
        "fault suite " + suite + " seed " + seed + " (replay: -Dcraq.seed=" + seed + ")");
    cluster = new ProcessCluster(directory, 2000);
    if (proxies) {
      cluster.withProxies();
    }
    keyOfRound = round -> suite + "-" + round;
  }

  /**
   * The workload's keys: {@code opsPerKey} operations on each, the key of round {@code r} being
   * {@code keyOfRound.apply(r)}. Call before {@link #startWorkload}.
   */
  FaultRun withKeys(int opsPerKey, LongFunction<String> keyOfRound) {
    this.opsPerKey = opsPerKey;
    this.keyOfRound = keyOfRound;
    return this;
  }

  /**
   * The workload goes through the nodes' Redis ports (Jedis: GET, SET, DEL, MSET) instead of the
   * client library, each worker at a random live node, switching now and then and after a failure.
   * Redis replies carry no versions, so the history has none; the checker needs none. Call before
   * {@link #startCluster}.
   */
  FaultRun withRedisWorkload() {
    this.redis = true;
    cluster.withRedisPorts();
    return this;
  }

  private volatile boolean redis;

  /** How long {@link #awaitQuiet} waits ({@link #WAIT} unless set). */
  FaultRun withQuietTimeout(Duration timeout) {
    this.quietTimeout = timeout;
    return this;
  }

  /**
   * Starts the coordinator and {@code ids}, and waits until the chains are quiet. With several
   * chains ({@code chains > 1}) the nodes say their first hello together: a new cluster lays its
   * chains out over the nodes that have said hello once {@code replicas} of them have, and nodes
   * that come later get chains only by moves (on a busy machine the JVMs start seconds apart, and
   * the moves to spread 12 chains over 6 nodes took half a minute). So the nodes start first, are
   * stopped ({@code kill -STOP}) once each answers, the coordinator starts, and once it answers the
   * nodes are resumed at once, their hellos overdue.
   */
  void startCluster(List<String> ids, int chains) throws IOException, InterruptedException {
    if (chains <= 1) {
      cluster.startCoordinator();
    }
    for (String id : ids) {
      cluster.startNode(id);
    }
    if (chains > 1) {
      for (String id : ids) {
        String address = cluster.node(id).address();
        cluster.awaitCondition(id + " answers", WAIT, () -> cluster.askMap(address) != null);
        cluster.pauseNode(id);
      }
      cluster.startCoordinator();
      cluster.awaitCondition("the coordinator answers", WAIT, () -> cluster.map() != null);
      for (String id : ids) {
        cluster.resumeNode(id);
      }
      log("every node answered; the coordinator started");
    }
    awaitQuiet();
  }

  /** {@link #startCluster(List, int)} of one chain. */
  void startCluster(List<String> ids) throws IOException, InterruptedException {
    startCluster(ids, 1);
  }

  /** The workload's current key. */
  String currentKey() {
    return keyOfRound.apply(ops.get() / opsPerKey);
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

  /** Prints {@code text} with the suite and the time, as fault lines are printed. */
  void log(String text) {
    System.out.printf("[%s %6.1fs] %s%n", suite, (System.nanoTime() - startNanos) / 1e9, text);
  }

  /**
   * Asks the coordinator to let {@code id} leave the pool until the map it answers with marks the
   * node leaving.
   */
  void requestLeave(String id) {
    cluster.awaitCondition(
        "the coordinator marks " + id + " leaving",
        WAIT,
        () -> cluster.leave(id) instanceof Message.MapReply reply && leaving(reply.map(), id));
  }

  /**
   * Waits until {@code id}, asked to leave, is a member of no chain; asks again whenever the map
   * shows it no longer leaving (a restart of the node clears the mark).
   */
  void awaitLeft(String id) {
    cluster.awaitCondition(
        id + " in no chain",
        quietTimeout,
        () -> {
          ChainMap map = cluster.map();
          if (map == null) {
            return false;
          }
          if (map.poolNode(id) != null && !leaving(map, id)) {
            cluster.leave(id);
            return false;
          }
          return map.chains().stream().noneMatch(chain -> chain.contains(id));
        });
  }

  private static boolean leaving(ChainMap map, String id) {
    PoolNode node = map.poolNode(id);
    return node != null && node.leaving();
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

  /**
   * Waits until the chains are quiet ({@link #unquiet}), prints one line of them and returns the
   * map.
   */
  ChainMap awaitQuiet() {
    long deadline = System.nanoTime() + quietTimeout.toNanos();
    ChainMap map = cluster.map();
    String why = unquiet(map);
    while (why != null) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out waiting for quiet chains ("
                + why
                + ")\n"
                + (map == null ? "" : describe(map) + "\n")
                + cluster.logs());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      map = cluster.map();
      why = unquiet(map);
    }
    quietMap = map;
    System.out.printf(
        "[%s %6.1fs] quiet: %s%n", suite, (System.nanoTime() - startNanos) / 1e9, describe(map));
    return map;
  }

  /**
   * Null if {@code map} is quiet, else why not: with E the live nodes that are not leaving, every
   * chain has exactly {@code min(replicas, |E|)} members, all in E, all caught up and joined with
   * their node's current process; every live node is in the pool with its current process; with
   * several chains, the loads (memberships) of the nodes of E differ by at most one, so the
   * placement has nothing left to move.
   */
  String unquiet(ChainMap map) {
    if (map == null) {
      return "the coordinator does not answer";
    }
    Map<String, ProcessCluster.NodeProcess> nodes = cluster.nodes();
    Set<String> eligible = new HashSet<>();
    for (String id : liveIds()) {
      PoolNode pooled = map.poolNode(id);
      if (pooled == null || !nodes.get(id).current(pooled.incarnation())) {
        return id + " has not said hello since it started";
      }
      if (!pooled.leaving()) {
        eligible.add(id);
      }
    }
    int size = Math.min(map.replicas(), eligible.size());
    Map<String, Integer> loads = new HashMap<>();
    eligible.forEach(id -> loads.put(id, 0));
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      if (chain.size() != size) {
        return "chain " + c + " has " + chain.size() + " member(s), not " + size;
      }
      for (Member m : chain.members()) {
        if (!eligible.contains(m.id())) {
          return "chain " + c + " has " + m.id() + ", which is down or leaving";
        }
        if (!m.caughtUp()) {
          return "chain " + c + ": " + m.id() + " is catching up";
        }
        if (!nodes.get(m.id()).current(m.incarnation())) {
          return "chain " + c + ": " + m.id() + " has not joined since it restarted";
        }
        loads.merge(m.id(), 1, Integer::sum);
      }
    }
    if (map.chainCount() > 1 && !loads.isEmpty()) {
      int min = loads.values().stream().mapToInt(Integer::intValue).min().orElseThrow();
      int max = loads.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
      if (max - min > 1) {
        return "loads from " + min + " to " + max + " chains: " + new TreeMap<>(loads);
      }
    }
    return null;
  }

  /**
   * One short line of {@code map}: its version, then each chain's epoch and members head first
   * ({@code 0:e7 n1,n2,n3}), a member catching up marked {@code +}, a leaving node {@code -}.
   */
  static String describe(ChainMap map) {
    StringBuilder out =
        new StringBuilder("map v")
            .append(map.version())
            .append(", ")
            .append(
                map.chainCount() == 1
                    ? "1 chain"
                    : map.chainCount() + " chains of " + map.replicas())
            .append(", pool ")
            .append(map.pool().size())
            .append(':');
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      out.append(' ').append(c).append(":e").append(chain.epoch()).append(' ');
      out.append(
          chain.members().stream()
              .map(m -> {
                PoolNode pooled = map.poolNode(m.id());
                return m.id()
                    + (m.caughtUp() ? "" : "+")
                    + (pooled != null && pooled.leaving() ? "-" : "");
              })
              .collect(Collectors.joining(",")));
    }
    return out.toString();
  }

  private CraqClient newClient() {
    ClientConfig config =
        ClientConfig.defaults(cluster.coordinatorAddress())
            .withCallTimeoutMillis(2500)
            .withReadAttemptTimeoutMillis(1000)
            .withSecurity(cluster.clientSecurity());
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
      RedisWorker redisWorker = redis ? new RedisWorker(workerRandom) : null;
      Thread thread =
          Thread.ofPlatform()
              .name(suite + "-client-" + w)
              .start(() -> {
                long process = nextProcess.getAndIncrement();
                while (!stopping) {
                  long n = ops.getAndIncrement();
                  String key = keyOfRound.apply(n / opsPerKey);
                  boolean unknown =
                      redisWorker != null
                          ? redisWorker.runOne(process, key, n)
                          : runOne(client, workerRandom, process, key, n);
                  if (unknown) {
                    process =
                        nextProcess.getAndIncrement(); // unknown outcome: retire the process id
                    if (!pauseAfterUnknown()) {
                      return; // interrupted: this worker stops
                    }
                  }
                }
                if (redisWorker != null) {
                  redisWorker.drop();
                }
              });
      workers.add(thread);
    }
  }

  /** One worker's connection to a node's Redis port, and its recorded operations. */
  private final class RedisWorker {
    private final Random random;
    private Jedis jedis;
    private int uses;

    RedisWorker(Random random) {
      this.random = random;
    }

    /** A connection to a random live node's port; a new one every 50 operations. */
    private Jedis jedis() {
      if (jedis != null && uses++ < 50) {
        return jedis;
      }
      drop();
      List<String> ports =
          cluster.nodes().values().stream()
              .filter(ProcessCluster.NodeProcess::alive)
              .map(ProcessCluster.NodeProcess::redisAddress)
              .toList();
      if (ports.isEmpty()) {
        throw new IllegalStateException("no live node");
      }
      String address = ports.get(random.nextInt(ports.size()));
      int colon = address.lastIndexOf(':');
      jedis =
          new Jedis(
              new HostAndPort(
                  address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
              DefaultJedisClientConfig.builder()
                  .connectionTimeoutMillis(1000)
                  .socketTimeoutMillis(10_000)
                  .autoNegotiateProtocol(false)
                  .build());
      uses = 0;
      return jedis;
    }

    private void drop() {
      if (jedis != null) {
        try {
          jedis.close();
        } catch (RuntimeException ignored) {
          // a broken connection: nothing to close cleanly
        }
        jedis = null;
      }
    }

    /** As {@link FaultRun#runOne}, through the Redis port; true if the outcome is unknown. */
    boolean runOne(long process, String key, long n) {
      keys.add(key);
      int dice = random.nextInt(20);
      if (dice < 10) {
        String target = dice < 7 ? key : companion(key, dice % 2);
        keys.add(target);
        HistoryRecorder.Pending pending = recorder.read(process, target);
        try {
          String value = jedis().get(target);
          pending.okRead(value);
          acknowledged.incrementAndGet();
        } catch (RuntimeException e) {
          pending.fail(); // a read has no effect
          unanswered.incrementAndGet();
          drop();
        }
        return false;
      }
      HistoryRecorder.Pending pending;
      Runnable send;
      if (dice >= 17) {
        SortedMap<String, String> values = new TreeMap<>();
        values.put(key, "p" + process + "-" + n);
        int companions = 1 + random.nextInt(2);
        for (int i = 0; i < companions; i++) {
          String other = companion(key, i);
          keys.add(other);
          values.put(other, "p" + process + "-" + n + "-m" + i);
        }
        pending = recorder.multiWrite(process, values);
        List<String> pairs = new ArrayList<>();
        values.forEach((k, v) -> pairs.addAll(List.of(k, v)));
        send = () -> jedis().mset(pairs.toArray(String[]::new));
      } else if (dice == 16) {
        pending = recorder.delete(process, key);
        send = () -> jedis().del(key);
      } else {
        String value = "p" + process + "-" + n;
        pending = recorder.write(process, key, value);
        send = () -> jedis().set(key, value);
      }
      try {
        send.run();
        pending.ok();
        acknowledged.incrementAndGet();
        return false;
      } catch (JedisDataException e) {
        unanswered.incrementAndGet();
        if (e.getMessage() != null && e.getMessage().startsWith("TRYAGAIN")) {
          pending.fail(); // the port says it certainly did not happen
          return false;
        }
        pending.info();
        return true;
      } catch (RuntimeException e) {
        pending.info(); // the connection broke: sent or not, applied or not
        unanswered.incrementAndGet();
        drop();
        return true;
      }
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

  /**
   * The direct addresses of the live nodes a strong read of {@code key} goes to: with several
   * chains, those {@code client}'s map lists as members of the key's chain (all live nodes if it
   * lists none); with one chain, every live node (a node that is joining or was just removed
   * included).
   */
  private List<String> readTargets(CraqClient client, String key) {
    List<ProcessCluster.NodeProcess> live =
        cluster.nodes().values().stream().filter(ProcessCluster.NodeProcess::alive).toList();
    ChainMap known = client.knownMap();
    if (known.chainCount() > 1) {
      Set<String> members =
          known.chainFor(key).members().stream().map(Member::id).collect(Collectors.toSet());
      List<ProcessCluster.NodeProcess> inChain =
          live.stream().filter(n -> members.contains(n.id())).toList();
      if (!inChain.isEmpty()) {
        live = inChain;
      }
    }
    return live.stream().map(ProcessCluster.NodeProcess::address).toList();
  }

  /**
   * One recorded operation on the round's key or one of its two companions (keys that share its
   * chain through a hash tag); returns true if its outcome is unknown.
   */
  private boolean runOne(CraqClient client, Random random, long process, String key, long n) {
    keys.add(key);
    int dice = random.nextInt(20);
    if (dice < 10) {
      String target = dice < 7 ? key : companion(key, dice % 2);
      keys.add(target);
      List<String> addresses = readTargets(client, target);
      if (addresses.isEmpty()) {
        return false;
      }
      read(client, process, target, addresses.get(random.nextInt(addresses.size())));
      return false;
    }
    if (dice >= 17) {
      return multiWrite(client, random, process, key, n);
    }
    boolean delete = dice == 16;
    return write(client, process, key, delete ? null : "p" + process + "-" + n) == null;
  }

  /**
   * Companion {@code i} of {@code key}, of the key's chain: it keeps the key's hash tag if the key
   * has one, else its tag is the key.
   */
  private static String companion(String key, int i) {
    return KeySlots.hashTag(key).equals(key) ? "{" + key + "}:m" + i : key + ":m" + i;
  }

  /**
   * A recorded multi-key write of {@code key} and one or both companions, now and then deleting a
   * companion; returns true if its outcome is unknown.
   */
  private boolean multiWrite(CraqClient client, Random random, long process, String key, long n) {
    SortedMap<String, String> values = new TreeMap<>();
    values.put(key, "p" + process + "-" + n);
    int companions = 1 + random.nextInt(2);
    for (int i = 0; i < companions; i++) {
      String other = companion(key, i);
      keys.add(other);
      values.put(other, random.nextInt(8) == 0 ? null : "p" + process + "-" + n + "-m" + i);
    }
    MultiWrite write = new MultiWrite();
    values.forEach((k, v) -> {
      if (v == null) {
        write.delete(k);
      } else {
        write.put(k, v.getBytes(StandardCharsets.UTF_8));
      }
    });
    HistoryRecorder.Pending pending = recorder.multiWrite(process, values);
    try {
      Map<String, Long> versions = client.multiWrite(write);
      pending.ok(versions);
      acknowledged.incrementAndGet();
      versions.forEach((k, version) -> maxAcked.merge(k, version, Math::max));
      return false;
    } catch (AmbiguousWriteException e) {
      pending.info();
      unanswered.incrementAndGet();
      return true;
    } catch (CraqException e) {
      pending.fail(); // definite: nothing of it was written
      unanswered.incrementAndGet();
      return false;
    } catch (RuntimeException e) {
      pending.info();
      unanswered.incrementAndGet();
      return true;
    }
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
    Map<String, Map<String, Optional<Versioned>>> finalReads =
        finalReads(client, keys.stream().sorted().toList());
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
      finalReads.putAll(finalReads(client, absent));
    }
    int chains = quietMap.chainCount();
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
                + "write %d ms, converged %s (%s%d nodes)%s, history %s",
            suite,
            seed,
            recorder.history().summary(),
            report.summary(),
            faultsText(),
            lost,
            TimeUnit.NANOSECONDS.toMillis(firstWrite[0]),
            diverged == 0 ? "yes" : "NO (" + diverged + " keys)",
            chains == 1 ? "" : "per chain, " + chains + " chains, ",
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

  /**
   * Reads each key (recorded) at every member of its chain in the map last seen quiet: the nodes
   * that serve it (a node that left the chain keeps data it no longer serves). A failed read is
   * retried until the timeout; after a failure the map is asked again, and if the key's chain has
   * other members now, the key is read at those.
   */
  private Map<String, Map<String, Optional<Versioned>>> finalReads(
      CraqClient client, List<String> which) {
    Map<String, Map<String, Optional<Versioned>>> reads = new TreeMap<>();
    for (String key : which) {
      reads.put(key, readAtChain(client, key));
    }
    return reads;
  }

  private Map<String, Optional<Versioned>> readAtChain(CraqClient client, String key) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      ChainMap map = quietMap;
      int chain = map.chainOf(key);
      List<String> members = map.chain(chain).members().stream().map(Member::id).toList();
      Map<String, Optional<Versioned>> atMembers = new LinkedHashMap<>();
      for (String id : members) {
        ProcessCluster.NodeProcess node = cluster.node(id);
        Optional<Optional<Versioned>> read =
            node == null
                ? Optional.empty()
                : read(client, nextProcess.getAndIncrement(), key, node.address());
        if (read.isEmpty()) {
          break;
        }
        atMembers.put(id, read.get());
      }
      if (!members.isEmpty() && atMembers.size() == members.size()) {
        return atMembers;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out reading "
                + key
                + " at the members of chain "
                + chain
                + " "
                + members
                + "\n"
                + cluster.logs());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      ChainMap fresh = cluster.map();
      if (fresh != null) {
        quietMap = fresh;
      }
    }
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
    String address = cluster.node(id).address();
    for (int i = 0; i < count; i++) {
      String key = currentKey();
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

  /**
   * The chain of a cluster of one chain as the coordinator sees it, or {@link ChainConfig#EMPTY}
   * (no answer, or several chains).
   */
  ChainConfig chain() {
    ChainMap map = cluster.map();
    return map == null || map.chainCount() != 1 ? ChainConfig.EMPTY : map.chain(0);
  }
}

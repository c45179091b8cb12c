package io.craq.cli.it;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real-process fault suites: a coordinator (three on a ZooKeeper ensemble in the {@code
 * zookeeper} suite) and three nodes as child JVMs, five clients in this JVM recording a history,
 * faults injected on a seeded schedule. Each suite runs {@code -Dcraq.fault.seconds} (default 15)
 * of faults, then heals, checks and prints one summary line (see {@link FaultRun}); it passes on 0
 * illegal keys, 0 lost acknowledged writes and convergence. Replay a schedule with {@code
 * -Dcraq.seed}. See docs/FAULTS.md.
 */
// Long runs (-Dcraq.fault.seconds) last as long as asked: the build's default timeout does not
// apply.
@Timeout(value = 12, unit = TimeUnit.HOURS)
class FaultSuitesTest {
  private static final List<String> IDS = List.of("n1", "n2", "n3");
  private static final int CLIENTS = 5;

  @TempDir Path directory;

  private String pick(FaultRun run, List<String> ids) {
    return ids.get(run.random.nextInt(ids.size()));
  }

  @Test
  @DisplayName("kill: kill -9 a random node every few seconds, restart it (same id and data)")
  void kill() throws Exception {
    try (FaultRun run = new FaultRun("kill", directory, false)) {
      killAndRestart(run);
    }
  }

  @Test
  @DisplayName("kill-tls: the kill suite with TLS on every link (member and client certificates)")
  void killTls() throws Exception {
    try (FaultRun run = new FaultRun("kill-tls", directory, false)) {
      run.cluster.withTls(directory.resolve("tls"), IDS.size());
      killAndRestart(run);
    }
  }

  /** Every 1.5-3.5 s kill -9 a random node, restart it 0.5-2.5 s later, wait for quiet. */
  private void killAndRestart(FaultRun run) throws Exception {
    run.startCluster(IDS);
    run.startWorkload(CLIENTS);
    while (run.running()) {
      run.pace(1500, 3500);
      String id = pick(run, IDS);
      run.fault("kill-9 " + role(run.chain(), id));
      run.cluster.killNode(id);
      run.pace(500, 2500);
      run.cluster.startNode(id);
      run.awaitQuiet();
    }
    run.finish(() -> {}).assertPassed(run.cluster);
  }

  @Test
  @DisplayName(
      "redis: the workload goes through the nodes' Redis ports (Jedis: GET, SET, DEL, MSET at"
          + " random nodes) while a random node is killed with kill -9 and restarted")
  void redis() throws Exception {
    try (FaultRun run = new FaultRun("redis", directory, false)) {
      run.withRedisWorkload();
      killAndRestart(run);
    }
  }

  @Test
  @DisplayName(
      "crash points: kill -9 nodes at short random intervals while they append to their "
          + "log, force it, apply and checkpoint (a checkpoint every 64 KiB), restart them at once; "
          + "nothing acknowledged is lost")
  void crashPoints() throws Exception {
    try (FaultRun run = new FaultRun("crash-points", directory, false)) {
      run.cluster.withNodeArgs("--checkpoint-bytes", "65536");
      run.startCluster(IDS);
      run.startWorkload(CLIENTS);
      while (run.running()) {
        run.pace(200, 1200);
        String id = pick(run, IDS);
        run.fault("kill-9 " + role(run.chain(), id));
        run.cluster.killNode(id);
        run.pace(0, 500);
        run.cluster.startNode(id);
        run.awaitQuiet();
      }
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  @Test
  @DisplayName(
      "pause: kill -STOP a node longer than the failure timeout, kill -CONT; the woken "
          + "node serves no stale strong read")
  void pause() throws Exception {
    try (FaultRun run = new FaultRun("pause", directory, false)) {
      run.startCluster(IDS);
      run.startWorkload(CLIENTS);
      while (run.running()) {
        run.pace(1000, 2500);
        String id = pick(run, IDS);
        run.fault("stop " + role(run.chain(), id));
        run.cluster.pauseNode(id);
        run.pace(3000, 4500); // failure timeout 2 s, lease 1.5 s
        run.cluster.resumeNode(id);
        run.probeReads(id, 20);
        run.awaitQuiet();
      }
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  @Test
  @DisplayName(
      "partition: cut, blackhole, delay and reset node links and node-coordinator links "
          + "of the head, a middle node and the tail")
  void partition() throws Exception {
    try (FaultRun run = new FaultRun("partition", directory, true)) {
      run.startCluster(IDS);
      run.startWorkload(CLIENTS);
      List<String> kinds =
          List.of(
              "cut-peers",
              "cut-coordinator",
              "blackhole-peers",
              "blackhole-one-way-peers",
              "blackhole-coordinator",
              "delay-peers",
              "reset");
      int round = 0;
      while (run.running()) {
        run.pace(1000, 2500);
        ChainConfig chain = run.chain();
        if (chain.size() < 3) {
          run.awaitQuiet();
          continue;
        }
        // First cut the tail, the head and a middle node off from the coordinator (clients still
        // reach them directly), then go through head, middle and tail with random faults.
        String id = chain.members().get((round + 2) % 3).id();
        String kind = round < 3 ? "cut-coordinator" : kinds.get(run.random.nextInt(kinds.size()));
        round++;
        ProcessCluster.NodeProcess node = run.cluster.nodes().get(id);
        run.fault(kind + " " + role(chain, id));
        switch (kind) {
          case "cut-peers" -> node.nodeProxy().cut();
          case "cut-coordinator" -> node.coordinatorProxy().cut();
          case "blackhole-peers" -> node.nodeProxy().blackhole(true, true);
          case "blackhole-one-way-peers" -> {
            boolean inbound = run.random.nextBoolean();
            node.nodeProxy().blackhole(inbound, !inbound);
          }
          case "blackhole-coordinator" -> node.coordinatorProxy().blackhole(true, true);
          case "delay-peers" -> node.nodeProxy().delay(50 + run.random.nextInt(250));
          default -> {
            node.nodeProxy().reset();
            node.coordinatorProxy().reset();
          }
        }
        run.pace(2500, 4000); // longer than the failure timeout (2 s) and the lease (1.5 s)
        node.nodeProxy().heal();
        node.coordinatorProxy().heal();
        run.probeReads(id, 20);
        run.awaitQuiet();
      }
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  @Test
  @DisplayName("coordinator: kill -9 and restart the coordinator mid-run")
  void coordinator() throws Exception {
    try (FaultRun run = new FaultRun("coordinator", directory, false)) {
      run.startCluster(IDS);
      run.startWorkload(CLIENTS);
      while (run.running()) {
        run.pace(2000, 4000);
        run.fault("kill-9 coordinator");
        run.cluster.killCoordinator();
        run.pace(500, 3000);
        run.cluster.startCoordinator();
        run.awaitQuiet();
      }
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  @Test
  @DisplayName(
      "membership: nodes join (one of them asks for a --position, which placement ignores: it"
          + " joins at the tail too), leave the pool (then are stopped) and are removed by kill -9"
          + " while clients write and read")
  void membership() throws Exception {
    try (FaultRun run = new FaultRun("membership", directory, false)) {
      run.startCluster(IDS);
      run.startWorkload(CLIENTS);
      int next = 4;
      int step = 0;
      while (run.running() || step < 4) {
        run.pace(1000, 2500);
        List<String> live = new ArrayList<>(run.liveIds());
        ChainConfig chain = run.chain();
        switch (step++ % 4) {
          case 0 -> {
            run.fault("join tail");
            run.cluster.startNode("n" + next++);
          }
          case 1 -> {
            // Placement puts a new member at the tail whatever position the node asks for: this
            // is one more join.
            int position = 1 + run.random.nextInt(Math.max(1, chain.size() - 1));
            run.fault("join --position");
            run.cluster.startNode("n" + next++, position);
          }
          case 2 -> {
            // A clean leave of the pool: the coordinator marks the node leaving and removes it
            // from the chain (after its read lease ran out); then the process is stopped.
            String id = pick(run, live);
            run.fault("leave " + role(chain, id));
            run.requestLeave(id);
            run.awaitLeft(id);
            run.cluster.stopNode(id);
          }
          default -> {
            String id = pick(run, live);
            run.fault("remove (kill for good) " + role(chain, id));
            run.cluster.killNode(id);
          }
        }
        run.awaitQuiet();
      }
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  /** The rebalance suite: 12 chains of 3 over 6 nodes at first, 4 to 9 nodes as it goes. */
  private static final int REBALANCE_CHAINS = 12;

  private static final int REBALANCE_REPLICAS = 3;
  private static final int REBALANCE_NODES = 6;
  private static final int REBALANCE_NODES_MIN = 4;
  private static final int REBALANCE_NODES_MAX = 9;

  /** Operations per key: the workload goes round the 12 chains every 600 operations. */
  private static final int REBALANCE_OPS_PER_KEY = 50;

  @Test
  @DisplayName(
      "rebalance: 12 chains of 3 over 6 nodes (4 to 9 as it goes): nodes added and removed"
          + " (a pool leave) while nodes are killed and restarted, some in the middle of a move,"
          + " and the coordinator is killed in the middle of a move")
  void rebalance() throws Exception {
    try (FaultRun run = new FaultRun("rebalance", directory, false)) {
      run.cluster.withChains(REBALANCE_CHAINS, REBALANCE_REPLICAS);
      run.withKeys(REBALANCE_OPS_PER_KEY, RebalanceSchedule.keys(run.suite, REBALANCE_CHAINS))
          .withQuietTimeout(Duration.ofSeconds(120));
      List<String> ids = new ArrayList<>();
      for (int i = 1; i <= REBALANCE_NODES; i++) {
        ids.add("n" + i);
      }
      run.startCluster(ids, REBALANCE_CHAINS);
      RebalanceSchedule schedule =
          new RebalanceSchedule(run, REBALANCE_NODES + 1, REBALANCE_NODES_MIN, REBALANCE_NODES_MAX);
      run.startWorkload(CLIENTS);
      try (MapWatch watch = MapWatch.start(run, run.cluster.map())) {
        // First a kill -9 of a node in a move and one of the coordinator in a move, one of them
        // in an add and the other in a leave (at a coin's toss), so that a run at CI length has
        // every kind of action; then actions at random.
        boolean killInAdd = run.random.nextBoolean();
        boolean nodeFirst = run.random.nextBoolean();
        List<String> kinds =
            List.of("add", "remove", "kill-9", "kill-9-in-move", "kill-9-coordinator-in-move");
        int round = 0;
        while (run.running() || round < 2) {
          run.pace(500, 1500);
          String kind =
              round == 0 || round == 1
                  ? (nodeFirst == (round == 0) ? "kill-9-in-move" : "kill-9-coordinator-in-move")
                  : kinds.get(run.random.nextInt(kinds.size()));
          Boolean add = round < 2 ? (kind.equals("kill-9-in-move") == killInAdd) : null;
          round++;
          switch (kind) {
            case "add" -> schedule.add();
            case "remove" -> schedule.remove();
            case "kill-9" -> schedule.killAndRestart();
            case "kill-9-in-move" -> schedule.killInMove(add);
            default -> schedule.killCoordinatorInMove(add);
          }
        }
        watch.stop(run.cluster.map());
        schedule.note(watch);
      }
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  /** ZooKeeper mode in the suite: sessions of 2 s, a leader lease of 6 s (quiet period 4.6 s). */
  private static final int ZK_SESSION_MILLIS = 2000;

  private static final int ZK_LEASE_MILLIS = 6000;

  @Test
  @DisplayName(
      "zookeeper: three coordinators on a 3-server ZooKeeper ensemble; kill -9 and SIGSTOP the"
          + " leader, kill a ZooKeeper server, lose the ZooKeeper quorum, cut the leader from"
          + " ZooKeeper but not from the nodes")
  void zookeeper() throws Exception {
    try (FaultRun run = new FaultRun("zookeeper", directory, false)) {
      run.cluster.withZooKeeper(3, ZK_SESSION_MILLIS, ZK_LEASE_MILLIS);
      run.startCluster(IDS);
      run.startWorkload(CLIENTS);
      // -Dcraq.fault.kinds=kill-9-leader,... runs only those (e.g. to time many failovers).
      List<String> kinds =
          List.of(
                  "kill-9-leader",
                  "stop-leader",
                  "kill-9-zookeeper-server",
                  "lose-zookeeper-quorum",
                  "cut-leader-from-zookeeper")
              .stream()
              .filter(kind -> System.getProperty("craq.fault.kinds", kind).contains(kind))
              .toList();
      Map<String, List<Long>> takeovers = new TreeMap<>();
      long servedWithoutQuorum = 0;
      long answeredInTakeovers = 0;
      long unansweredInTakeovers = 0;
      int round = 0;
      while (run.running() || round < kinds.size()) {
        run.pace(1000, 2000);
        String kind =
            round < kinds.size() ? kinds.get(round) : kinds.get(run.random.nextInt(kinds.size()));
        round++;
        ProcessCluster.CoordinatorProcess leader = awaitLeader(run);
        long epoch = nodesEpoch(run);
        run.fault(kind);
        long start = System.nanoTime();
        switch (kind) {
          case "kill-9-leader" -> {
            long okBefore = run.acknowledged();
            long failedBefore = run.unanswered();
            run.cluster.killCoordinator(leader);
            takeovers
                .computeIfAbsent(kind, k -> new ArrayList<>())
                .add(awaitNewEpoch(run, epoch, start));
            answeredInTakeovers += run.acknowledged() - okBefore;
            unansweredInTakeovers += run.unanswered() - failedBefore;
            run.pace(0, 1000);
            run.cluster.startCoordinator(leader);
          }
          case "stop-leader" -> {
            // Stopped past its session: a standby takes over; the old leader wakes with heartbeats
            // queued and must answer none of them as leader.
            run.cluster.pauseCoordinator(leader);
            takeovers
                .computeIfAbsent(kind, k -> new ArrayList<>())
                .add(awaitNewEpoch(run, epoch, start));
            run.pace(0, 1000);
            run.cluster.resumeCoordinator(leader);
          }
          case "kill-9-zookeeper-server" -> {
            int server = 1 + run.random.nextInt(run.cluster.ensemble().size());
            run.cluster.ensemble().kill(server);
            run.pace(1000, 3000);
            run.cluster.ensemble().restart(server);
          }
          case "lose-zookeeper-quorum" -> {
            // Shorter than the leader lease: the chain keeps serving, nothing is reconfigured.
            int keep = 1 + run.random.nextInt(run.cluster.ensemble().size());
            for (int server = 1; server <= run.cluster.ensemble().size(); server++) {
              if (server != keep) {
                run.cluster.ensemble().kill(server);
              }
            }
            long before = run.acknowledged();
            run.pace(2000, 3000);
            long served = run.acknowledged() - before;
            long epochDuring = nodesEpoch(run);
            for (int server = 1; server <= run.cluster.ensemble().size(); server++) {
              if (server != keep) {
                run.cluster.ensemble().restart(server);
              }
            }
            servedWithoutQuorum += served;
            if (served == 0 || epochDuring != epoch) {
              throw new AssertionError(
                  "without a ZooKeeper quorum the chain must keep serving its configuration:"
                      + " operations answered "
                      + served
                      + ", epoch "
                      + epoch
                      + " -> "
                      + epochDuring
                      + "\n"
                      + run.cluster.logs());
            }
          }
          default -> {
            leader.cutFromZooKeeper(true);
            takeovers
                .computeIfAbsent(kind, k -> new ArrayList<>())
                .add(awaitNewEpoch(run, epoch, start));
            run.pace(0, 1000);
            leader.cutFromZooKeeper(false);
          }
        }
        run.cluster.ensemble().awaitQuorum(FaultRun.WAIT);
        run.awaitQuiet();
      }
      takeovers.forEach(
          (kind, millis) -> run.note("takeover after " + kind + " " + figures(millis)));
      run.note("operations answered without a ZooKeeper quorum " + servedWithoutQuorum);
      run.note(
          "operations while a standby took over after kill -9: answered "
              + answeredInTakeovers
              + ", failed or unknown "
              + unansweredInTakeovers);
      run.finish(() -> {}).assertPassed(run.cluster);
    }
  }

  private static ProcessCluster.CoordinatorProcess awaitLeader(FaultRun run) {
    ProcessCluster.CoordinatorProcess[] leader = {null};
    run.cluster.awaitCondition(
        "a leading coordinator", FaultRun.WAIT, () -> (leader[0] = run.cluster.leader()) != null);
    return leader[0];
  }

  /** The newest epoch any live node holds (0 if none answers). */
  private static long nodesEpoch(FaultRun run) {
    long epoch = 0;
    for (ProcessCluster.NodeProcess node : run.cluster.nodes().values()) {
      if (node.alive()) {
        ChainConfig chain = run.cluster.askChain(node.address());
        if (chain != null) {
          epoch = Math.max(epoch, chain.epoch());
        }
      }
    }
    return epoch;
  }

  /**
   * Waits until every live node holds an epoch newer than {@code epoch} (a new leader's first
   * configuration reached them); returns the milliseconds since {@code startNanos}.
   */
  private static long awaitNewEpoch(FaultRun run, long epoch, long startNanos) {
    run.cluster.awaitCondition(
        "every node past epoch " + epoch,
        FaultRun.WAIT,
        () ->
            run.cluster.nodes().values().stream()
                .filter(ProcessCluster.NodeProcess::alive)
                .allMatch(node -> {
                  ChainConfig chain = run.cluster.askChain(node.address());
                  return chain != null && chain.epoch() > epoch;
                }));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    System.out.printf(
        "[%s %6.1fs] new epoch after %d ms%n", run.suite, run.elapsedSeconds(), millis);
    return millis;
  }

  /** "N: p50 X ms, max Y ms" of {@code millis}. */
  static String figures(List<Long> millis) {
    List<Long> sorted = millis.stream().sorted().toList();
    return sorted.size()
        + ": p50 "
        + sorted.get((sorted.size() - 1) / 2)
        + " ms, max "
        + sorted.get(sorted.size() - 1)
        + " ms";
  }

  private static String role(ChainConfig chain, String id) {
    if (!chain.contains(id)) {
      return "(not in chain)";
    }
    List<Member> members = chain.members();
    if (members.get(0).id().equals(id)) {
      return "head";
    }
    return members.get(members.size() - 1).id().equals(id) ? "tail" : "middle";
  }
}

package io.craq.cli.it;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real-process fault suites: a coordinator and three nodes as child JVMs, five clients in this
 * JVM recording a history, faults injected on a seeded schedule. Each suite runs {@code
 * -Dcraq.fault.seconds} (default 30) of faults, then heals, checks and prints one summary line (see
 * {@link FaultRun}); it passes on 0 illegal keys, 0 lost acknowledged writes and convergence.
 * Replay a schedule with {@code -Dcraq.seed}. See docs/FAULTS.md.
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
      "membership: nodes join at the tail and in the middle, leave and are removed "
          + "while clients write and read")
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
            int position = 1 + run.random.nextInt(Math.max(1, chain.size() - 1));
            run.fault("join middle");
            run.cluster.startNode("n" + next++, position);
          }
          case 2 -> {
            // A clean leave through the coordinator, then the process is stopped for good.
            String id = pick(run, live);
            run.fault("leave " + role(chain, id));
            run.cluster.awaitCondition(
                "coordinator accepts the leave of " + id,
                FaultRun.WAIT,
                () -> {
                  Message reply = run.cluster.leave(id);
                  return reply instanceof Message.ChainReply chainReply
                      && !chainReply.config().contains(id);
                });
            run.cluster.killNode(id);
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

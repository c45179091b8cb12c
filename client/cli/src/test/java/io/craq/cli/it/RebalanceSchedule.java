package io.craq.cli.it;

import io.craq.cli.common.ChainMaps;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;

/**
 * The actions of the {@code rebalance} fault suite on a cluster of many chains: add a node, remove
 * one cleanly (a pool leave), kill -9 and restart a node, kill -9 a node or the coordinator in the
 * middle of a move. Each action ends when the chains are quiet again ({@link FaultRun#awaitQuiet}),
 * and the time from an add or a leave to that moment is recorded. The number of live nodes stays
 * within {@code [nodesMin, nodesMax]}.
 */
final class RebalanceSchedule {
  /**
   * How long a move is looked for in the map before the action goes on without one (a new node's
   * JVM takes seconds to start on a busy machine).
   */
  private static final long MOVE_WAIT_MILLIS = 30_000;

  /** How long a member catching up is looked for before the move's own node is taken instead. */
  private static final long CATCHING_UP_WAIT_MILLIS = 3_000;

  private final FaultRun run;
  private final int nodesMin;
  private final int nodesMax;
  private int next;
  private int added;
  private int removed;
  private final List<Long> settled = new ArrayList<>();
  private final List<Long> settledWithFault = new ArrayList<>();

  /** A move the schedule started: a node added or asked to leave, and when. */
  record Move(String id, boolean leave, long startNanos) {}

  RebalanceSchedule(FaultRun run, int firstNewNode, int nodesMin, int nodesMax) {
    this.run = run;
    this.next = firstNewNode;
    this.nodesMin = nodesMin;
    this.nodesMax = nodesMax;
  }

  /**
   * The workload's keys for {@code chains} chains: round {@code r}'s key lies in chain {@code r mod
   * chains}, so the workload goes round every chain; about a third of them carry a hash tag ({@code
   * prefix-{t5}-r}, a tag of that chain), the others are plain ({@code prefix-r}, with a suffix
   * {@code .j} if needed to land in that chain).
   */
  static LongFunction<String> keys(String prefix, int chains) {
    String[] tags = new String[chains];
    int found = 0;
    for (int i = 0; found < chains; i++) {
      String tag = "t" + i;
      int chain = KeySlots.chainOf(tag, chains);
      if (tags[chain] == null) {
        tags[chain] = tag;
        found++;
      }
    }
    return round -> {
      int chain = (int) (round % chains);
      if ((round + round / chains) % 3 == 0) {
        return prefix + "-{" + tags[chain] + "}-" + round;
      }
      for (int j = 0; ; j++) {
        String key = prefix + "-" + round + (j == 0 ? "" : "." + j);
        if (KeySlots.chainOf(key, chains) == chain) {
          return key;
        }
      }
    };
  }

  private int alive() {
    return run.liveIds().size();
  }

  /** Adds a node (n7, n8, ...) and waits until the chains are quiet (a leave at nodesMax). */
  void add() throws IOException, InterruptedException {
    cleanMove(startAdd());
  }

  /**
   * Removes a random node cleanly: pool leave, quiet (it is in no chain), stop (an add at
   * nodesMin).
   */
  void remove() throws IOException, InterruptedException {
    cleanMove(startLeave());
  }

  private void cleanMove(Move move) throws InterruptedException {
    run.fault(move.leave() ? "leave" : "add");
    run.log((move.leave() ? "leave " : "add ") + move.id() + " (" + roles(move.id()) + ")");
    if (move.leave()) {
      finishLeave(move, settled);
    } else {
      run.awaitQuiet();
      settled(move, settled);
    }
  }

  /** kill -9 a random node, restart it 0.5-2.5 s later (same id and data), wait until quiet. */
  void killAndRestart() throws IOException, InterruptedException {
    List<String> live = run.liveIds();
    String id = live.get(run.random.nextInt(live.size()));
    run.fault("kill-9");
    run.log("kill -9 " + id + " (" + roles(id) + ")");
    run.cluster.killNode(id);
    run.pace(500, 2500);
    run.cluster.startNode(id);
    run.awaitQuiet();
  }

  /**
   * Starts a move (an add, or a leave: see {@link #startMove}), kills -9 a node while it is in
   * progress: a member that is catching up if the map shows one within a few seconds (or, for a
   * leave, the leaving node, at a coin's toss), else the node the move is about; restarts it
   * 0.5-2.5 s later; then lets the move finish.
   */
  void killInMove(Boolean add) throws IOException, InterruptedException {
    Move move = startMove(add);
    awaitMoving(move);
    String victim = null;
    String why = null;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CATCHING_UP_WAIT_MILLIS);
    while (victim == null && System.nanoTime() < deadline) {
      ChainMap map = run.cluster.map();
      List<String> catchingUp = map == null ? List.of() : catchingUp(map);
      if (!catchingUp.isEmpty()) {
        if (move.leave() && run.random.nextBoolean()) {
          victim = move.id();
          why = "the leaving node";
        } else {
          victim = catchingUp.get(run.random.nextInt(catchingUp.size()));
          why = "catching up";
        }
      } else {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
    }
    if (victim == null) {
      victim = move.id();
      why = move.leave() ? "the leaving node" : "the node added";
    }
    run.fault("kill-9 in a move");
    run.log("kill -9 " + victim + ", " + why + " (" + roles(victim) + ")");
    run.cluster.killNode(victim);
    run.pace(500, 2500);
    run.cluster.startNode(victim);
    finishMove(move);
  }

  /**
   * Starts a move (an add, or a leave: see {@link #startMove}), waits until the map shows a chain
   * moving, kills -9 the coordinator, restarts it 0.5-3 s later; then lets the move finish.
   */
  void killCoordinatorInMove(Boolean add) throws IOException, InterruptedException {
    Move move = startMove(add);
    ChainMap map = awaitMoving(move);
    run.fault("kill-9 coordinator in a move");
    run.log(
        "kill -9 the coordinator, chains moving: "
            + (map == null ? "?" : ChainMaps.moving(map).toString()));
    run.cluster.killCoordinator();
    run.pace(500, 3000);
    run.cluster.startCoordinator();
    finishMove(move);
  }

  /**
   * Waits until the map shows a chain moving and, for an add, the new node in a chain; returns that
   * map (the last one seen if the wait ran out, or null).
   */
  private ChainMap awaitMoving(Move move) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MOVE_WAIT_MILLIS);
    while (true) {
      ChainMap map = run.cluster.map();
      if (map != null
          && !ChainMaps.moving(map).isEmpty()
          && (move.leave() || ChainMaps.memberOf(map, move.id()) > 0)) {
        return map;
      }
      if (System.nanoTime() > deadline) {
        run.log("no move seen in " + MOVE_WAIT_MILLIS + " ms");
        return map;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  private void finishMove(Move move) throws InterruptedException {
    if (move.leave()) {
      finishLeave(move, settledWithFault);
    } else {
      run.awaitQuiet();
      settled(move, settledWithFault);
    }
  }

  private void finishLeave(Move move, List<Long> into) throws InterruptedException {
    run.awaitLeft(move.id());
    run.awaitQuiet();
    settled(move, into);
    run.cluster.stopNode(move.id());
    removed++;
    run.log("stopped " + move.id() + " (in no chain)");
    run.awaitQuiet();
  }

  /**
   * Starts a move: an add if {@code add} is true, a leave if false, at a coin's toss if null;
   * always an add at nodesMin nodes and a leave at nodesMax.
   */
  private Move startMove(Boolean add) throws IOException {
    boolean adding = add != null ? add : run.random.nextBoolean();
    Move move = adding ? startAdd() : startLeave();
    run.log((move.leave() ? "leave " : "add ") + move.id() + " to start a move");
    return move;
  }

  /** Starts node n{next}, or, with nodesMax nodes alive, asks one to leave instead. */
  private Move startAdd() throws IOException {
    if (alive() >= nodesMax) {
      return startLeave();
    }
    String id = "n" + next++;
    long start = System.nanoTime();
    run.cluster.startNode(id);
    added++;
    return new Move(id, false, start);
  }

  /** Asks a random live node to leave the pool, or, at nodesMin nodes, adds one instead. */
  private Move startLeave() throws IOException {
    if (alive() <= nodesMin) {
      return startAdd();
    }
    List<String> live = run.liveIds();
    String id = live.get(run.random.nextInt(live.size()));
    long start = System.nanoTime();
    run.requestLeave(id);
    return new Move(id, true, start);
  }

  private void settled(Move move, List<Long> into) {
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - move.startNanos());
    into.add(millis);
    run.log((move.leave() ? "leave of " : "add of ") + move.id() + " settled in " + millis + " ms");
  }

  /** The live nodes the map shows catching up in some chain. */
  private List<String> catchingUp(ChainMap map) {
    List<String> live = run.liveIds();
    List<String> out = new ArrayList<>();
    for (ChainConfig chain : map.chains()) {
      for (Member m : chain.members()) {
        if (!m.caughtUp() && live.contains(m.id()) && !out.contains(m.id())) {
          out.add(m.id());
        }
      }
    }
    return out;
  }

  /** What {@code id} is in the coordinator's map: "member of 6 chains, head of 2, leaving". */
  private String roles(String id) {
    ChainMap map = run.cluster.map();
    if (map == null) {
      return "map unknown";
    }
    PoolNode pooled = map.poolNode(id);
    return "member of "
        + ChainMaps.memberOf(map, id)
        + " chains, head of "
        + ChainMaps.heads(map, id)
        + (pooled != null && pooled.leaving() ? ", leaving" : "");
  }

  /**
   * The summary's notes: nodes added and removed, the moves {@code watch} saw, and the times from
   * an add or a leave (a new node's start-up included) to quiet.
   */
  void note(MapWatch watch) {
    run.note("nodes added " + added + ", removed " + removed);
    run.note(watch.summary());
    if (!settled.isEmpty()) {
      run.note("add/leave to settled " + FaultSuitesTest.figures(settled));
    }
    if (!settledWithFault.isEmpty()) {
      run.note(
          "add/leave to settled with a kill -9 in the move "
              + FaultSuitesTest.figures(settledWithFault));
    }
  }
}

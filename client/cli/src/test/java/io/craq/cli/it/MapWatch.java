package io.craq.cli.it;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches the coordinator's chain map while a fault suite runs (every 100 ms, in a thread of its
 * own) and counts and times the moves: a node that appears in a chain it was not in is a move
 * started; it is completed when the map shows it caught up in that chain, called off if it leaves
 * the chain before. A completed move's time runs from its first sight to the first map in which its
 * chain has settled (no more than {@code replicas} members, all caught up: the member it replaced
 * has left too). A member that re-joins its chain after a restart is no move (it was in the chain).
 * The maps of a coordinator that is down are simply not seen; what changed meanwhile is seen in the
 * next one.
 */
final class MapWatch implements AutoCloseable {
  private static final long POLL_MILLIS = 100;

  /** {@code -Dcraq.fault.moves=true} prints every step of every move as the map shows it. */
  private static final boolean PRINT = Boolean.getBoolean("craq.fault.moves");

  /** Node {@code node} in chain {@code chain}. */
  private record Membership(int chain, String node) {
    @Override
    public String toString() {
      return chain + "/" + node;
    }
  }

  private final FaultRun run;
  private final ProcessCluster cluster;
  private final Thread thread;
  private volatile boolean stopping;

  /** The memberships of the last map seen. */
  private Set<Membership> members = new HashSet<>();

  /** The memberships that appeared and have not been seen caught up yet: when they appeared. */
  private final Map<Membership, Long> pending = new HashMap<>();

  /** Moves completed whose chain has not settled yet: when they appeared. */
  private final Map<Membership, Long> settling = new HashMap<>();

  private final List<Long> millis = new ArrayList<>();
  private int completed;
  private int calledOff;

  private MapWatch(FaultRun run, ChainMap first) {
    this.run = run;
    this.cluster = run.cluster;
    if (first != null) {
      members = memberships(first, false);
    }
    thread = Thread.ofPlatform().name("map-watch").daemon().start(this::run);
  }

  /** Starts watching; the memberships of {@code first} are there already (no moves). */
  static MapWatch start(FaultRun run, ChainMap first) {
    return new MapWatch(run, first);
  }

  private void run() {
    while (!stopping) {
      ChainMap map = cluster.askMap(cluster.coordinatorAddress());
      if (map != null) {
        see(map);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS));
    }
  }

  private synchronized void see(ChainMap map) {
    long now = System.nanoTime();
    Set<Membership> current = memberships(map, false);
    Set<Membership> caughtUp = memberships(map, true);
    for (Membership m : current) {
      if (!members.contains(m)) {
        pending.put(m, now);
        print(map, "+" + m);
      }
    }
    for (Membership m : members) {
      if (!current.contains(m)) {
        print(map, "-" + m);
      }
    }
    for (Membership m : Set.copyOf(pending.keySet())) {
      if (caughtUp.contains(m)) {
        settling.put(m, pending.remove(m));
        completed++;
        print(map, m + " caught up");
      } else if (!current.contains(m)) {
        pending.remove(m);
        calledOff++;
      }
    }
    for (Membership m : Set.copyOf(settling.keySet())) {
      ChainConfig chain = map.chain(m.chain());
      if (chain.size() <= map.replicas() && chain.members().stream().allMatch(Member::caughtUp)) {
        millis.add(TimeUnit.NANOSECONDS.toMillis(now - settling.remove(m)));
      }
    }
    members = current;
  }

  private void print(ChainMap map, String what) {
    if (PRINT) {
      run.log("map v" + map.version() + ": " + what);
    }
  }

  private static Set<Membership> memberships(ChainMap map, boolean caughtUpOnly) {
    Set<Membership> out = new HashSet<>();
    for (int c = 0; c < map.chainCount(); c++) {
      for (Member m : map.chain(c).members()) {
        if (!caughtUpOnly || m.caughtUp()) {
          out.add(new Membership(c, m.id()));
        }
      }
    }
    return out;
  }

  /**
   * "moves completed N (called off M), first sight to chain settled: p50 X ms, max Y ms", for the
   * summary line.
   */
  synchronized String summary() {
    return "moves completed "
        + completed
        + (calledOff > 0 ? " (called off " + calledOff + ")" : "")
        + (millis.isEmpty()
            ? ""
            : ", a move from its new member's join to its chain settled "
                + FaultSuitesTest.figures(millis));
  }

  /** Looks at {@code last} once more (the last quiet map), then stops the thread. */
  void stop(ChainMap last) throws InterruptedException {
    stopping = true;
    thread.join(TimeUnit.SECONDS.toMillis(10));
    if (last != null) {
      see(last);
    }
  }

  @Override
  public void close() {
    stopping = true;
  }
}

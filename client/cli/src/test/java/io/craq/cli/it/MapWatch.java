package io.craq.cli.it;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches the coordinator's chain map while a fault suite runs (every 100 ms, in a thread of its
 * own) and counts the moves: a node that appears in a chain it was not in is a move started; it is
 * completed when the map shows it caught up in that chain, called off if it leaves the chain
 * before. A member that re-joins its chain after a restart is no move (it was in the chain). The
 * maps of a coordinator that is down are simply not seen; what changed meanwhile is seen in the
 * next one.
 */
final class MapWatch implements AutoCloseable {
  private static final long POLL_MILLIS = 100;

  /** {@code -Dcraq.fault.moves=true} prints every step of every move as the map shows it. */
  private static final boolean PRINT = Boolean.getBoolean("craq.fault.moves");

  private final FaultRun run;
  private final ProcessCluster cluster;
  private final Thread thread;
  private volatile boolean stopping;

  /** The memberships ("chain/node") of the last map seen. */
  private Set<String> members = new HashSet<>();

  /** The memberships that appeared and have not been seen caught up yet. */
  private final Set<String> pending = new HashSet<>();

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
    Set<String> now = memberships(map, false);
    Set<String> caughtUp = memberships(map, true);
    for (String m : now) {
      if (!members.contains(m)) {
        pending.add(m);
        print(map, "+" + m);
      }
    }
    for (String m : members) {
      if (!now.contains(m)) {
        print(map, "-" + m);
      }
    }
    for (String m : Set.copyOf(pending)) {
      if (caughtUp.contains(m)) {
        pending.remove(m);
        completed++;
        print(map, m + " caught up");
      } else if (!now.contains(m)) {
        pending.remove(m);
        calledOff++;
      }
    }
    members = now;
  }

  private void print(ChainMap map, String what) {
    if (PRINT) {
      run.log("map v" + map.version() + ": " + what);
    }
  }

  private static Set<String> memberships(ChainMap map, boolean caughtUpOnly) {
    Set<String> out = new HashSet<>();
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      for (Member m : chain.members()) {
        if (!caughtUpOnly || m.caughtUp()) {
          out.add(c + "/" + m.id());
        }
      }
    }
    return out;
  }

  /** Moves completed so far (a member added to a chain and caught up there). */
  synchronized int completed() {
    return completed;
  }

  /** Moves called off so far (the new member left the chain before it caught up). */
  synchronized int calledOff() {
    return calledOff;
  }

  /** Looks at {@code map} once more (the last quiet one), then stops the thread. */
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

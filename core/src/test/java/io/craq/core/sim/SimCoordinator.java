package io.craq.core.sim;

import io.craq.core.Effects;
import io.craq.core.Effects.PersistMap;
import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.message.ChainMap;
import io.craq.core.sim.SimZooKeeper.Connect;
import io.craq.core.sim.SimZooKeeper.LeaderNotice;
import io.craq.core.sim.SimZooKeeper.Op;
import io.craq.core.sim.SimZooKeeper.Ping;
import io.craq.core.sim.SimZooKeeper.Read;
import io.craq.core.sim.SimZooKeeper.Reenter;
import io.craq.core.sim.SimZooKeeper.Request;
import io.craq.core.sim.SimZooKeeper.Response;
import io.craq.core.sim.SimZooKeeper.Status;
import io.craq.core.sim.SimZooKeeper.Write;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One coordinator process in ZooKeeper mode: a {@link CoordinatorReplica} driven as the real driver
 * drives it, over a ZooKeeper client (Curator) that talks to {@link SimZooKeeper} through the
 * network.
 *
 * <ul>
 *   <li>Granted leadership (its election entry is first): read the chain map and its version, then
 *       {@link CoordinatorReplica#lead lead(map, true, sentTick)}.
 *   <li>A drain with maps to persist: one conditional write of the last one on the version last
 *       read or written, and nothing of the drain is sent before it succeeds. The driver blocks
 *       meanwhile (requests from nodes wait, as behind a synchronous call). Refused: {@link
 *       CoordinatorReplica#fenced}; no answer: {@link CoordinatorReplica#storeLost}, the write's
 *       outcome unknown; either way the drain is dropped.
 *   <li>The client pings the store on its session; every answer on the session, while leading, is a
 *       {@link CoordinatorReplica#confirmed confirmation} from the request's send time.
 *   <li>A request without an answer in time is a connection loss: every request in flight fails and
 *       a leader {@link CoordinatorReplica#storeLost freezes}. The next answer ends the freeze:
 *       read again and {@code lead} again, or {@link CoordinatorReplica#fenced} if the version
 *       moved.
 *   <li>Session expired (the store says so): {@link CoordinatorReplica#lostLeadership}, a new
 *       session, a new election entry. A write in flight is retried on the new session, as
 *       Curator's retry loop does on SESSIONEXPIRED: the version check is what refuses it.
 *   <li>{@link CoordinatorReplica#takeReleaseRequest}: leave the election and enter it again.
 *   <li>Standing by: the leader's address for redirects, from the election.
 * </ul>
 *
 * <p>Times given to the replica are the simulation's global ticks (a paused process wakes to a
 * later time); the replica's machine ticks once per step the process runs, skipping a pause.
 */
final class SimCoordinator {
  private enum Kind {
    CONNECT,
    PING,
    LEAD_READ,
    RELEAD_READ,
    WRITE,
    REENTER
  }

  private record Pending(Kind kind, long sentTick) {}

  /** A drain waiting for its conditional write. */
  private static final class Blocked {
    final Effects effects;
    final List<ChainMap> maps;
    final ChainMap last;
    final int expectedVersion;
    final long firstSentTick;
    long requestId;
    boolean retryOnNewSession;

    Blocked(Effects effects, List<ChainMap> maps, int expectedVersion, long now) {
      this.effects = effects;
      this.maps = maps;
      this.last = maps.get(maps.size() - 1);
      this.expectedVersion = expectedVersion;
      this.firstSentTick = now;
    }
  }

  final Simulation sim;
  final String name;
  final long leaseTicks;
  final long sessionTicks;
  final long pingTicks;
  final long timeoutTicks;

  CoordinatorReplica replica;
  boolean up = true;
  boolean paused;
  long wakeTick;
  long restartTick;

  private long session;
  private boolean connectPending;
  private boolean wantReenter;
  private boolean reenterPending;
  private boolean leadReadPending;
  private long nextPingTick;
  private int knownVersion = -1;
  private ChainMap unknownWrite;
  private String electedName = "";
  private long electedSession;
  private final Map<Long, Pending> pending = new LinkedHashMap<>();
  private Blocked blocked;

  /** Set when a pause began while leading; the first outcome after waking is counted. */
  private String pausedLeaderKind;

  private boolean wokeFromLeaderPause;

  private long wokeAtTick;

  SimCoordinator(Simulation sim, String name, long leaseTicks, long sessionTicks) {
    this.sim = sim;
    this.name = name;
    this.leaseTicks = leaseTicks;
    this.sessionTicks = sessionTicks;
    this.pingTicks = Math.max(3, sessionTicks / 4);
    this.timeoutTicks = Math.max(8, sessionTicks / 3);
    start();
  }

  /** A fresh process: a standby replica, no session yet. */
  void start() {
    replica = new CoordinatorReplica(sim.coordinatorSettings, leaseTicks, sessionTicks);
    up = true;
    paused = false;
    restartTick = 0;
    session = 0;
    connectPending = false;
    wantReenter = false;
    reenterPending = false;
    leadReadPending = false;
    nextPingTick = 0;
    knownVersion = -1;
    unknownWrite = null;
    electedName = "";
    electedSession = 0;
    pending.clear();
    blocked = null;
    pausedLeaderKind = null;
    wokeFromLeaderPause = false;
  }

  void crash(long restartAt) {
    sim.trace("crash " + name + (replica.leading() ? " (leading)" : ""));
    up = false;
    paused = false;
    restartTick = restartAt;
    sim.network.dropAllOf(name);
  }

  void pause(long until, String kind) {
    paused = true;
    wakeTick = until;
    pausedLeaderKind = replica.leading() ? kind : null;
    sim.trace("pause " + name + " until t=" + until + (replica.leading() ? " (leading)" : ""));
  }

  /** Called first in a step: a paused process wakes before its queued messages are delivered. */
  void wakeIfDue() {
    if (up && paused && sim.now >= wakeTick) {
      wake();
    }
  }

  void wake() {
    if (!paused) {
      return;
    }
    paused = false;
    wokeFromLeaderPause = pausedLeaderKind != null;
    wokeAtTick = sim.now;
    sim.trace(
        "resume "
            + name
            + (wokeFromLeaderPause ? " (was leading; lease acting=" + acting() + ")" : ""));
  }

  boolean acting() {
    return replica.acting(sim.now);
  }

  /** True while this process can take a request from a node now (else the kernel buffers it). */
  boolean takesRequests() {
    return up && !paused && blocked == null;
  }

  boolean blocked() {
    return blocked != null;
  }

  /** A leader with its machine, acting, nothing in flight: may take an operator's request. */
  boolean readyLeader() {
    return up && !paused && blocked == null && acting() && replica.machine() != null;
  }

  // --------------------------------------------------------------------------------- the loop

  void step() {
    if (!up) {
      if (restartTick > 0 && sim.now >= restartTick) {
        sim.trace("restart " + name + " as a standby");
        start();
      }
      return;
    }
    if (paused) {
      return;
    }
    expireRequests();
    maintainSession();
    if (blocked != null) {
      return;
    }
    boolean wasLeading = replica.leading();
    replica.tick(sim.now);
    if (wasLeading && !replica.leading()) {
      sim.event("coordinator-lease-ran-out");
      afterWake("deposed-by-its-lease");
    }
    if (replica.takeReleaseRequest()) {
      sim.trace(name + " releases leadership: re-enters the election");
      wantReenter = true;
      maintainSession();
    }
    refreshLeaderAddress();
    perform();
  }

  /** A message delivered to this process (it runs and is not blocked, or it is from the store). */
  void onMessage(String from, Object payload) {
    switch (payload) {
      case Response response -> onResponse(response);
      case LeaderNotice notice -> {
        if (notice.sessionId() == session && session != 0) {
          onElection(notice.leader(), notice.leaderSession());
        }
      }
      case Simulation.Routed routed -> {
        if (wokeFromLeaderPause && acting()) {
          afterWake("answered-a-node-under-its-old-lease");
        }
        replica.onRequest(routed.ref(), routed.message(), sim.now);
      }
      default -> throw new AssertionError(name + " got " + payload + " from " + from);
    }
    perform();
  }

  // ------------------------------------------------------------------------------ the store

  private long send(Kind kind, Op op) {
    long id = sim.nextRequestId++;
    pending.put(id, new Pending(kind, sim.now));
    sim.network.send(
        sim.now, name, SimZooKeeper.NAME, new Request(id, kind == Kind.CONNECT ? 0 : session, op));
    return id;
  }

  private void maintainSession() {
    if (session == 0) {
      if (!connectPending) {
        connectPending = true;
        send(Kind.CONNECT, new Connect(name, sessionTicks));
      }
      return;
    }
    if (wantReenter && !reenterPending) {
      wantReenter = false;
      reenterPending = true;
      send(Kind.REENTER, new Reenter(name));
    }
    if (sim.now >= nextPingTick) {
      nextPingTick = sim.now + pingTicks;
      send(Kind.PING, new Ping());
    }
  }

  /** A request unanswered in time: the connection is lost, every request in flight fails. */
  private void expireRequests() {
    if (blocked != null
        && blocked.retryOnNewSession
        && sim.now - blocked.firstSentTick > 3 * timeoutTicks) {
      sim.trace(name + " gives up retrying its write of map version " + blocked.last.version());
      sim.event("deposed-write-abandoned");
      blocked = null;
    }
    boolean lost = false;
    for (Pending p : pending.values()) {
      if (sim.now - p.sentTick() >= timeoutTicks) {
        lost = true;
        break;
      }
    }
    if (lost) {
      connectionLost();
    }
  }

  private void connectionLost() {
    sim.trace(name + " lost its connection to the store");
    for (Pending p : pending.values()) {
      switch (p.kind()) {
        case CONNECT -> connectPending = false;
        case REENTER -> {
          reenterPending = false;
          wantReenter = true;
        }
        case LEAD_READ, RELEAD_READ -> leadReadPending = false;
        case PING, WRITE -> {}
      }
    }
    if (blocked != null && pending.containsKey(blocked.requestId)) {
      sim.trace(
          name + "'s write of map version " + blocked.last.version() + " has an unknown outcome");
      sim.event("write-outcome-unknown");
      unknownWrite = blocked.last;
      blocked = null;
    }
    pending.clear();
    if (replica.leading() && !replica.frozen()) {
      sim.event("store-lost");
      replica.storeLost();
    }
  }

  private void sessionExpired() {
    sim.trace(name + " learns its session " + session + " expired");
    sim.event("session-expired");
    if (replica.leading()) {
      replica.lostLeadership("its store session expired");
      sim.event("leader-session-expired");
      afterWake("deposed-by-session-expiry");
    }
    pending.clear();
    connectPending = false;
    reenterPending = false;
    wantReenter = false;
    leadReadPending = false;
    session = 0;
    electedSession = 0;
    if (blocked != null) {
      blocked.retryOnNewSession = true;
      blocked.requestId = 0;
    }
  }

  private void onResponse(Response r) {
    Pending p = pending.remove(r.requestId());
    if (p == null) {
      return; // its connection was lost before: never delivered to the caller
    }
    if (p.kind() == Kind.CONNECT) {
      connectPending = false;
      if (session == 0) {
        session = r.sessionId();
        wantReenter = true;
        nextPingTick = sim.now;
        sim.trace(name + " has session " + session);
        maintainSession();
        if (blocked != null && blocked.retryOnNewSession) {
          sim.trace(
              name
                  + " retries its write of map version "
                  + blocked.last.version()
                  + " on "
                  + session);
          blocked.requestId = send(Kind.WRITE, new Write(blocked.last, blocked.expectedVersion));
        }
      }
      return;
    }
    if (r.sessionId() != session) {
      return;
    }
    if (r.status() == Status.SESSION_EXPIRED) {
      sessionExpired();
      return;
    }
    if (replica.leading()) {
      replica.confirmed(p.sentTick());
    }
    switch (p.kind()) {
      case PING -> {
        if (wokeFromLeaderPause && replica.leading() && p.sentTick() >= wokeAtTick) {
          afterWake("kept-leadership");
        }
        maybeRelead();
      }
      case REENTER -> reenterPending = false;
      case LEAD_READ -> {
        leadReadPending = false;
        if (r.leaderSession() == session && mayLead()) {
          knownVersion = r.version();
          unknownWrite = null;
          sim.trace(name + " leads from version " + r.version() + ": " + r.map());
          sim.event("takeover");
          replica.lead(r.map(), true, p.sentTick());
        }
      }
      case RELEAD_READ -> {
        leadReadPending = false;
        if (replica.leading() && replica.frozen() && blocked == null) {
          boolean ours =
              r.version() == knownVersion
                  || (unknownWrite != null
                      && r.version() == knownVersion + 1
                      && unknownWrite.equals(r.map()));
          if (ours) {
            knownVersion = r.version();
            unknownWrite = null;
            sim.trace(name + " reaches the store again; leads from version " + r.version());
            sim.event("freeze-ended");
            replica.lead(r.map(), true, p.sentTick());
          } else {
            sim.event("fenced-by-read");
            replica.fenced("the stored map moved to version " + r.version());
          }
        }
      }
      case WRITE -> onWriteAnswer(r);
      case CONNECT -> throw new AssertionError("handled above");
    }
    onElection(r.leader(), r.leaderSession());
  }

  private void onWriteAnswer(Response r) {
    if (blocked == null || blocked.requestId != r.requestId()) {
      return;
    }
    Blocked b = blocked;
    blocked = null;
    if (r.status() == Status.BAD_VERSION) {
      sim.trace(name + "'s write of map version " + b.last.version() + " was refused");
      sim.event(b.retryOnNewSession ? "deposed-write-refused" : "write-refused");
      afterWake("deposed-by-a-refused-write");
      if (replica.leading()) {
        replica.fenced("a conditional write on version " + b.expectedVersion + " was refused");
      }
      return;
    }
    knownVersion = r.version();
    unknownWrite = null;
    sim.persistedByCoordinator(name, b.maps);
    if (replica.leading()) {
      replica.persisted(b.last);
      release(b.effects);
    } else if (sim.random.nextBoolean()) {
      // The write went through on a new session after this replica lost leadership; a driver may
      // still send what it had drained (the maps are stored) or drop it.
      sim.trace(name + " sends the drain of its accepted write although it no longer leads");
      sim.event("deposed-write-accepted-sent");
      release(b.effects);
    } else {
      sim.event("deposed-write-accepted-dropped");
    }
  }

  private boolean mayLead() {
    return session != 0
        && !replica.leading()
        && !wantReenter
        && !reenterPending
        && blocked == null
        && electedSession == session;
  }

  private void onElection(String leader, long leaderSession) {
    electedName = leader;
    electedSession = leaderSession;
    if (leaderSession == session && session != 0) {
      if (mayLead() && !leadReadPending) {
        leadReadPending = true;
        sim.trace(name + " is first in the election: reads the map");
        send(Kind.LEAD_READ, new Read());
      }
      return;
    }
    if (replica.leading()) {
      sim.event("lost-leadership");
      replica.lostLeadership("the election names " + (leader.isEmpty() ? "nobody" : leader));
      afterWake("deposed-by-the-election");
    }
    refreshLeaderAddress();
  }

  private void maybeRelead() {
    if (replica.leading() && replica.frozen() && !leadReadPending && blocked == null) {
      leadReadPending = true;
      send(Kind.RELEAD_READ, new Read());
    }
  }

  private void refreshLeaderAddress() {
    if (replica.leading()) {
      return;
    }
    // An entry of this coordinator's earlier session (same address) is no leader to redirect to.
    boolean other = electedSession != session && !electedName.equals(name);
    replica.leaderAddress(other ? electedName : "");
  }

  private void afterWake(String outcome) {
    if (wokeFromLeaderPause) {
      wokeFromLeaderPause = false;
      sim.event("paused-leader-" + pausedLeaderKind + ": " + outcome);
      pausedLeaderKind = null;
    }
  }

  // ---------------------------------------------------------------------------- the replica

  private void perform() {
    if (blocked != null || !up) {
      return;
    }
    if (mayLead() && !leadReadPending) {
      onElection(electedName, electedSession); // a grant seen while blocked or re-entering
    }
    Effects effects = replica.drain();
    if (effects.persist().isEmpty()) {
      release(effects);
      return;
    }
    List<ChainMap> maps = new ArrayList<>();
    for (Effects.StoreOp op : effects.persist()) {
      maps.add(((PersistMap) op).map());
    }
    blocked = new Blocked(effects, maps, knownVersion, sim.now);
    blocked.requestId = send(Kind.WRITE, new Write(blocked.last, knownVersion));
  }

  private void release(Effects effects) {
    for (Effects.Send send : effects.sends()) {
      sim.checkSent(name, null, send.message());
      sim.network.send(sim.now, name, send.to().id(), send.message());
    }
    for (Effects.Reply reply : effects.replies()) {
      sim.checkSent(name, reply.ref(), reply.message());
      switch (reply.ref()) {
        case Simulation.NodeRef node ->
            sim.network.send(
                sim.now, name, node.nodeId(), new Simulation.Answer(node, reply.message()));
        case Simulation.Op op ->
            sim.network.send(
                sim.now,
                name,
                "client" + op.client.process,
                new Simulation.Answer(op, reply.message()));
        case Simulation.OperatorRef operator -> sim.onOperatorReply(operator, reply.message());
        default -> throw new AssertionError("unknown reference " + reply.ref());
      }
    }
  }

  String describe() {
    return name
        + (up ? "" : " down")
        + (paused ? " paused" : "")
        + (blocked != null ? " blocked(map version " + blocked.last.version() + ")" : "")
        + " session="
        + session
        + " leading="
        + replica.leading()
        + " frozen="
        + replica.frozen()
        + " acting="
        + acting()
        + " version="
        + knownVersion
        + " map="
        + replica.map();
  }
}

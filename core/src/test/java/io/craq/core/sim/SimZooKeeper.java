package io.craq.core.sim;

import io.craq.core.message.ChainMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ZooKeeper as the simulation sees it: one linearizable store on the network (process {@link
 * #NAME}) holding the chain map with a version (a conditional write on another version is refused),
 * sessions that expire when the store has not heard from their owner for their timeout, and a
 * leader election like Curator's LeaderLatch: ordered entries, one per session, the first one
 * leads, an entry dies with its session, and re-entering puts a session's entry at the back.
 *
 * <p>The store can lose its quorum for a while: meanwhile no request is answered (nor applied) and
 * no session expires; when the quorum returns, every live session gets a fresh full timeout, as a
 * newly elected ZooKeeper leader gives it.
 */
final class SimZooKeeper {
  static final String NAME = "zk";

  /** What a coordinator asks of the store. */
  sealed interface Op {}

  /** Opens a session for {@code owner} (a coordinator's name). */
  record Connect(String owner, long timeoutTicks) implements Op {}

  /** Keeps the session alive; answers with the election's state. */
  record Ping() implements Op {}

  /** Reads the map and its version. */
  record Read() implements Op {}

  /** Writes {@code map} if the stored version is {@code expectedVersion}. */
  record Write(ChainMap map, int expectedVersion) implements Op {}

  /** Removes this session's election entry, if any, and appends a new one at the back. */
  record Reenter(String participant) implements Op {}

  /** A request on {@code sessionId} (0 for a {@link Connect}). */
  record Request(long requestId, long sessionId, Op op) {}

  enum Status {
    OK,
    SESSION_EXPIRED,
    BAD_VERSION
  }

  /**
   * An answer; every one carries the stored map and the election's first entry (its participant, ""
   * if none, and its session).
   */
  record Response(
      long requestId,
      long sessionId,
      Status status,
      ChainMap map,
      int version,
      String leader,
      long leaderSession) {}

  /** Sent to every live session when the election's first entry changes (a watch firing). */
  record LeaderNotice(long sessionId, String leader, long leaderSession) {}

  /** Told about every map the store accepts, for the invariants. */
  interface WriteListener {
    void written(ChainMap previous, ChainMap written, int version, String by);
  }

  private static final class Session {
    final long id;
    final String owner;
    final long timeoutTicks;
    long lastHeardTick;

    Session(long id, String owner, long timeoutTicks, long now) {
      this.id = id;
      this.owner = owner;
      this.timeoutTicks = timeoutTicks;
      this.lastHeardTick = now;
    }
  }

  private record Entry(long sessionId, String participant) {}

  private final Simulation sim;
  private final WriteListener listener;
  private final Map<Long, Session> sessions = new LinkedHashMap<>();
  private final List<Entry> election = new ArrayList<>();
  private long nextSessionId = 1;

  ChainMap map;
  int version;
  boolean up = true;
  long upAgainTick;
  long expiredSessions;

  SimZooKeeper(Simulation sim, ChainMap initial, WriteListener listener) {
    this.sim = sim;
    this.map = initial;
    this.listener = listener;
  }

  /** The quorum is lost until {@code untilTick}. */
  void loseQuorum(long untilTick) {
    up = false;
    upAgainTick = Math.max(upAgainTick, untilTick);
    sim.trace("zk loses its quorum until t=" + upAgainTick);
  }

  /** The quorum returns: every live session starts a full timeout now. */
  void regainQuorum() {
    if (up) {
      return;
    }
    up = true;
    upAgainTick = 0;
    for (Session s : sessions.values()) {
      s.lastHeardTick = sim.now;
    }
    sim.trace("zk has its quorum again; sessions " + sessions.keySet() + " renewed");
  }

  /** Expires sessions not heard from for their timeout (only while the quorum is there). */
  void tick() {
    if (!up) {
      if (sim.now >= upAgainTick) {
        regainQuorum();
      }
      return;
    }
    String before = leaderName();
    long beforeSession = leaderSession();
    List<Long> expired = new ArrayList<>();
    for (Session s : sessions.values()) {
      if (sim.now - s.lastHeardTick >= s.timeoutTicks) {
        expired.add(s.id);
      }
    }
    for (long id : expired) {
      Session s = sessions.remove(id);
      election.removeIf(e -> e.sessionId() == id);
      expiredSessions++;
      sim.trace("zk expires session " + id + " of " + s.owner);
    }
    notifyIfChanged(before, beforeSession);
  }

  void onRequest(String from, Request request) {
    if (!up) {
      return; // no quorum: the server closes the connection; the client sees no answer
    }
    if (request.op() instanceof Connect connect) {
      long id = nextSessionId++;
      sessions.put(id, new Session(id, connect.owner(), connect.timeoutTicks(), sim.now));
      sim.trace("zk opens session " + id + " for " + connect.owner());
      answer(from, request, id, Status.OK);
      return;
    }
    Session session = sessions.get(request.sessionId());
    if (session == null) {
      answer(from, request, request.sessionId(), Status.SESSION_EXPIRED);
      return;
    }
    session.lastHeardTick = sim.now;
    String before = leaderName();
    long beforeSession = leaderSession();
    Status status = Status.OK;
    switch (request.op()) {
      case Write write -> {
        if (write.expectedVersion() != version) {
          status = Status.BAD_VERSION;
          sim.trace(
              "zk refuses "
                  + session.owner
                  + "'s write of map version "
                  + write.map().version()
                  + " on version "
                  + write.expectedVersion()
                  + " (now "
                  + version
                  + ")");
        } else {
          ChainMap previous = map;
          map = write.map();
          version++;
          sim.trace("zk stores version " + version + " from " + session.owner + ": " + map);
          listener.written(previous, map, version, session.owner);
        }
      }
      case Reenter reenter -> {
        election.removeIf(e -> e.sessionId() == session.id);
        election.add(new Entry(session.id, reenter.participant()));
      }
      case Ping ignored -> {}
      case Read ignored -> {}
      case Connect ignored -> throw new AssertionError("handled above");
    }
    answer(from, request, session.id, status);
    notifyIfChanged(before, beforeSession);
  }

  private void answer(String to, Request request, long sessionId, Status status) {
    sim.network.send(
        sim.now,
        NAME,
        to,
        new Response(
            request.requestId(), sessionId, status, map, version, leaderName(), leaderSession()));
  }

  private void notifyIfChanged(String before, long beforeSession) {
    if (before.equals(leaderName()) && beforeSession == leaderSession()) {
      return;
    }
    sim.trace("zk election: " + election);
    for (Session s : sessions.values()) {
      sim.network.send(
          sim.now, NAME, s.owner, new LeaderNotice(s.id, leaderName(), leaderSession()));
    }
  }

  String leaderName() {
    return election.isEmpty() ? "" : election.get(0).participant();
  }

  long leaderSession() {
    return election.isEmpty() ? 0 : election.get(0).sessionId();
  }

  String describe() {
    return "zk "
        + (up ? "up" : "without quorum until t=" + upAgainTick)
        + " version "
        + version
        + " "
        + map
        + " sessions "
        + sessions.keySet()
        + " election "
        + election;
  }
}

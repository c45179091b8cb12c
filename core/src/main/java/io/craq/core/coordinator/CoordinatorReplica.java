package io.craq.core.coordinator;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.NodeHello;
import java.util.Objects;

/**
 * One of several coordinators that share a store with conditional writes (ZooKeeper) holding the
 * cluster's chain map: the {@link MapMachine} while this replica leads, a redirect to the leader
 * while it stands by. Deterministic and not thread-safe, like the machine; the driver (and the
 * simulation) feed it what the store and the election say. The map is written as one unit, so every
 * rule below holds for every chain of it at once; each chain keeps its own epoch, and a node judges
 * each chain's messages by that chain's epoch only.
 *
 * <p>The rules that keep two coordinators from both acting:
 *
 * <ol>
 *   <li><b>Take over by a new epoch.</b> A replica granted leadership starts from the map it read
 *       from the store and at once installs the next epoch of every chain with the same members
 *       ({@link MapMachine#takeOver}). The driver writes every map with a conditional write on the
 *       version it last read or wrote; a refused write means another coordinator has written since,
 *       and the driver calls {@link #fenced} and sends nothing of that drain. Nodes ignore a
 *       chain's configurations older than the one they hold, and extend their read lease in a chain
 *       only on an answer in that chain's epoch, so a deposed leader is refused by every member of
 *       a chain that has heard of its successor's epoch of that chain.
 *   <li><b>Act only under a leader lease.</b> A replica answers members only while its lease runs:
 *       until {@code leaseTicks} after sending the last request on its leader session that the
 *       store answered ({@link #confirmed}). Such an answer proves the session was alive when the
 *       request arrived, and another replica is elected only after that session has expired: at
 *       least a session timeout ({@code sessionTicks}) after the request was sent. The lease is
 *       counted on the driver's real clock, never on the machine's ticks, which skip a pause, so a
 *       leader that was paused stops as soon as it runs again.
 *   <li><b>A new leader waits out the old one.</b> A leader elected by the store counts every
 *       member of every chain (and every pool node) as heard from until the old leader's lease has
 *       certainly ended ({@code leaseTicks - sessionTicks} plus a tenth of the lease for clock-rate
 *       differences, never less than now), removes a member only a full failure timeout after that,
 *       and lets no member leave a chain, on request or by the placement, until the quiet period
 *       has ended. A node's read lease, granted by the old leader before its lease ended, ends
 *       before the failure timeout does (nodes' leases are shorter): a node cut off from every
 *       coordinator stops serving strong reads before a new leader can move a chain on without it.
 *   <li><b>Ride out a store outage without changing anything.</b> When the store cannot be reached
 *       ({@link #storeLost}), the leader freezes: no membership change (joins and leaves, wrapped
 *       or not, are refused UNAVAILABLE, no member is removed, nothing is placed), but members'
 *       heartbeats are still answered with the chain's configuration in the last stored map, so the
 *       chains keep serving while the lease runs; hellos and map requests get the stored map. A
 *       lease longer than the session timeout rides out longer outages, at the price of a longer
 *       wait (rule 3) after a real failover. The driver ends the freeze by leading again ({@link
 *       #lead}) once the store answers on the same leader session, or the lease ends it. A map
 *       whose write had an unknown outcome may be the stored one: a member it left out of a chain
 *       gets no lease renewal in that chain while frozen.
 * </ol>
 */
public final class CoordinatorReplica {
  /** Lease end for a replica that is the only coordinator there is (the file-based mode). */
  public static final long FOREVER = Long.MAX_VALUE / 4;

  private final CoordinatorSettings settings;
  private final long leaseTicks;
  private final long quietTicks;
  private MapMachine machine;
  private ChainMap stored;

  /** While frozen: the newest map the machine had, which may or may not be stored. */
  private ChainMap maybeStored;

  private boolean frozen;
  private long leaseEndTick = Long.MIN_VALUE / 4;
  private String leaderAddress = "";
  private String standbyReason = "no coordinator leads now";
  private boolean releaseWanted;
  private Effects own = Effects.empty();

  /**
   * A standby replica.
   *
   * @param leaseTicks how long after sending a store request that succeeded this replica may act
   *     ({@link #FOREVER} for the only coordinator there is)
   * @param sessionTicks the store's session timeout: how long after its last request a replica's
   *     session may expire at the earliest
   */
  public CoordinatorReplica(CoordinatorSettings settings, long leaseTicks, long sessionTicks) {
    if (leaseTicks <= 0 || sessionTicks <= 0) {
      throw new IllegalArgumentException(
          "leaseTicks and sessionTicks must be positive: " + leaseTicks + ", " + sessionTicks);
    }
    this.settings = Objects.requireNonNull(settings, "settings");
    this.leaseTicks = leaseTicks;
    this.quietTicks =
        leaseTicks >= FOREVER ? 0 : Math.max(0, leaseTicks + leaseTicks / 10 - sessionTicks);
  }

  /**
   * Leadership granted (or a freeze ended): resume {@code stored}, read from the store by a request
   * sent at {@code sentTick}. With {@code takeOver} the next epoch of every chain is installed at
   * once (persist the map before anything else is sent); without, the map is resumed as it is (a
   * single coordinator restarting, nobody to fence).
   *
   * @throws IllegalArgumentException if {@code stored} has another number of chains than the
   *     settings
   */
  public void lead(ChainMap stored, boolean takeOver, long sentTick) {
    Objects.requireNonNull(stored, "stored");
    machine = new MapMachine(settings, stored);
    this.stored = stored;
    frozen = false;
    leaseEndTick = leaseTicks >= FOREVER ? FOREVER : Math.max(leaseEndTick, sentTick + leaseTicks);
    releaseWanted = false;
    if (takeOver) {
      machine.takeOver(quietTicks);
    }
  }

  /** How long a new leader counts every member as heard from (rule 3 of the class comment). */
  public long quietTicks() {
    return quietTicks;
  }

  /** True while this replica holds leadership, frozen or not (its lease may have run out). */
  public boolean leading() {
    return stored != null;
  }

  /** True while leading but unable to reach the store: nothing changes, heartbeats are answered. */
  public boolean frozen() {
    return frozen;
  }

  /** True if this replica may answer members at {@code clockTick}: it leads and its lease runs. */
  public boolean acting(long clockTick) {
    return stored != null && clockTick < leaseEndTick;
  }

  /** The leader's machine, or null while standing by or frozen. */
  public MapMachine machine() {
    return machine;
  }

  /**
   * The map this replica leads with (the machine's), the stored one while frozen, or null while
   * standing by.
   */
  public ChainMap map() {
    return machine != null ? machine.map() : stored;
  }

  /** The driver made {@code map} durable in the store. */
  public void persisted(ChainMap map) {
    if (stored != null) {
      stored = Objects.requireNonNull(map, "map");
    }
  }

  /** A request on the leader session sent at {@code sentTick} succeeded; our map held. */
  public void confirmed(long sentTick) {
    if (stored != null && leaseEndTick < FOREVER) {
      leaseEndTick = Math.max(leaseEndTick, sentTick + leaseTicks);
    }
  }

  /**
   * The store cannot be reached (or a write's outcome is unknown): freeze on the last stored map.
   * Whatever the machine had not yet made durable is dropped with it.
   */
  public void storeLost() {
    if (stored != null && !frozen) {
      frozen = true;
      maybeStored = machine.map();
      machine = null;
    }
  }

  /**
   * Another coordinator wrote the map (a conditional write was refused, or a read found a version
   * we did not write): stop at once and ask to be re-elected behind the others.
   */
  public void fenced(String why) {
    stepDown(why);
  }

  /** Another replica certainly leads, or this one's leader session has certainly ended. */
  public void lostLeadership(String why) {
    stepDown(why);
  }

  /** Where the leader listens, for redirects; empty if unknown. */
  public void leaderAddress(String address) {
    leaderAddress = Objects.requireNonNull(address, "address");
  }

  /**
   * Advances the machine one tick (the machine's time, which skips a pause) and checks the lease on
   * the real clock: a leader whose lease ran out steps down and asks to leave the election.
   */
  public void tick(long clockTick) {
    if (stored == null) {
      return;
    }
    if (clockTick >= leaseEndTick) {
      stepDown("the leader lease ran out without an answer from the configuration store");
      return;
    }
    if (machine != null) {
      machine.tick();
    }
  }

  /**
   * A request from a node or client (see {@link MapMachine#onRequest}): handled while acting, else
   * redirected to the leader.
   */
  public void onRequest(ClientRef ref, Message request, long clockTick) {
    if (!acting(clockTick)) {
      reply(ref, notLeader());
    } else if (machine != null) {
      machine.onRequest(ref, request);
    } else if (request instanceof Chained chained) {
      if (chained.chain() >= stored.chainCount()) {
        reply(ref, MapMachine.chainOutOfRange(chained.chain(), stored.chainCount()));
      } else {
        onRequestFrozen(ref, chained.chain(), chained.message());
      }
    } else if (request instanceof NodeHello || request instanceof MapRequest) {
      reply(ref, new MapReply(stored));
    } else if (request instanceof LeaveRequest || request instanceof JoinRequest) {
      reply(ref, storeUnreachable());
    } else if (request instanceof ChainRequest) {
      reply(
          ref,
          stored.chainCount() == 1
              ? new ChainReply(stored.chain(0))
              : MapMachine.manyChains(stored.chainCount()));
    } else if (request instanceof Heartbeat) {
      if (stored.chainCount() == 1) {
        onRequestFrozen(ref, 0, request);
      } else {
        reply(ref, MapMachine.unnamedChain(stored.chainCount()));
      }
    } else {
      reply(ref, MapMachine.notForTheCoordinator(request));
    }
  }

  private void onRequestFrozen(ClientRef ref, int chain, Message request) {
    ChainConfig config = stored.chain(chain);
    switch (request) {
      case Heartbeat heartbeat ->
          // A member removed by a write whose outcome is unknown may be out of the stored
          // map, which the next leader starts from: its lease must not be renewed.
          reply(
              ref,
              new HeartbeatReply(
                  heartbeat.nodeId(),
                  heartbeat.seq(),
                  config.contains(heartbeat.nodeId())
                      && maybeStored.chain(chain).contains(heartbeat.nodeId()),
                  config));
      case ChainRequest ignored -> reply(ref, new ChainReply(config));
      case JoinRequest ignored -> reply(ref, storeUnreachable());
      case LeaveRequest ignored -> reply(ref, storeUnreachable());
      default -> reply(ref, MapMachine.notForTheCoordinator(request));
    }
  }

  private static ErrorReply storeUnreachable() {
    return new ErrorReply(
        ErrorCode.UNAVAILABLE,
        "the coordinators cannot reach their configuration store; membership changes wait until"
            + " it answers again",
        "");
  }

  /** The refusal a standby gives: the leader's address as the hint when known. */
  public ErrorReply notLeader() {
    String where =
        leaderAddress.isEmpty()
            ? standbyReason + "; retry later"
            : "this coordinator stands by; the leader is at " + leaderAddress;
    return new ErrorReply(ErrorCode.NOT_LEADER, where, leaderAddress);
  }

  /**
   * True once after the replica stepped down on its own (lease ran out, fenced): the driver should
   * leave the election and enter it again, so that another replica can lead.
   */
  public boolean takeReleaseRequest() {
    boolean wanted = releaseWanted;
    releaseWanted = false;
    return wanted;
  }

  /** What to do: the machine's effects while leading, then this replica's own replies. */
  public Effects drain() {
    Effects out = machine == null ? Effects.empty() : machine.drain();
    out.replies().addAll(own.replies());
    own = Effects.empty();
    return out;
  }

  private void reply(ClientRef ref, Message message) {
    own.replies().add(new Effects.Reply(ref, message));
  }

  private void stepDown(String why) {
    if (stored != null) {
      releaseWanted = true;
    }
    machine = null;
    stored = null;
    maybeStored = null;
    frozen = false;
    leaseEndTick = Long.MIN_VALUE / 4;
    standbyReason = "no coordinator leads now (" + why + ")";
    leaderAddress = "";
  }
}

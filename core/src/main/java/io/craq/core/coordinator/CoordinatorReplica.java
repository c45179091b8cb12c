package io.craq.core.coordinator;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import java.util.Objects;

/**
 * One of several coordinators that share a configuration store with conditional writes (ZooKeeper):
 * the {@link CoordinatorMachine} while this replica leads, a redirect to the leader while it stands
 * by. Deterministic and not thread-safe, like the machine; the driver (and the simulation) feed it
 * what the store and the election say.
 *
 * <p>The rules that keep two coordinators from both acting:
 *
 * <ol>
 *   <li><b>Take over by a new epoch.</b> A replica granted leadership starts from the configuration
 *       it read from the store and at once installs the next epoch with the same members ({@link
 *       CoordinatorMachine#takeOver}). The driver writes every configuration with a conditional
 *       write on the version it last read or wrote; a refused write means another coordinator has
 *       written since, and the driver calls {@link #fenced} and sends nothing of that drain. Nodes
 *       ignore configurations older than the one they hold, so a deposed leader's pushes are
 *       refused too.
 *   <li><b>Act only under a leader lease.</b> A replica answers members only while its lease runs:
 *       until {@code leaseTicks} after sending the last store request that succeeded ({@link
 *       #confirmed}). Such a success proves the store's session was alive when it arrived, and a
 *       new leader is elected only after that session has expired, at least a session timeout after
 *       the request was sent; so with {@code leaseTicks} shorter than the session timeout, a
 *       replica stops granting node leases before another one can lead, even if it was paused and
 *       has not yet heard that it lost. The lease is counted on the driver's real clock, never on
 *       the machine's ticks, which skip a pause.
 *   <li><b>Remove no one in a hurry.</b> A new leader counts every member as just heard from, so it
 *       removes a node only a full failure timeout after it took over. A node's read lease, granted
 *       by an old leader before that leader's lease ended, has ended by then: a node cut off from
 *       every coordinator stops serving strong reads before a new leader can move the chain on
 *       without it.
 * </ol>
 */
public final class CoordinatorReplica {
  /** Lease end for a replica that is the only coordinator there is (the file-based mode). */
  public static final long FOREVER = Long.MAX_VALUE / 4;

  private final CoordinatorSettings settings;
  private final long leaseTicks;
  private CoordinatorMachine machine;
  private long leaseEndTick = Long.MIN_VALUE / 4;
  private String leaderAddress = "";
  private String standbyReason = "no coordinator leads now";
  private boolean releaseWanted;
  private Effects own = Effects.empty();

  /**
   * A standby replica.
   *
   * @param leaseTicks how long after sending a store request that succeeded this replica may act;
   *     must be shorter than the store's session timeout
   */
  public CoordinatorReplica(CoordinatorSettings settings, long leaseTicks) {
    if (leaseTicks <= 0) {
      throw new IllegalArgumentException("leaseTicks must be positive: " + leaseTicks);
    }
    this.settings = Objects.requireNonNull(settings, "settings");
    this.leaseTicks = leaseTicks;
  }

  /**
   * Leadership granted: resume {@code stored}, read from the store by a request sent at {@code
   * sentTick}. With {@code takeOver} the next epoch is installed at once (persist it before
   * anything else is sent); without, the configuration is resumed as it is (a single coordinator
   * restarting, nobody to fence).
   */
  public void lead(ChainConfig stored, boolean takeOver, long sentTick) {
    machine = new CoordinatorMachine(settings, stored);
    leaseEndTick = leaseTicks >= FOREVER ? FOREVER : sentTick + leaseTicks;
    releaseWanted = false;
    if (takeOver) {
      machine.takeOver();
    }
  }

  /** True while this replica holds leadership (its lease may still have run out). */
  public boolean leading() {
    return machine != null;
  }

  /** True if this replica may act at {@code clockTick}: it leads and its lease runs. */
  public boolean acting(long clockTick) {
    return machine != null && clockTick < leaseEndTick;
  }

  /** The leader's machine, or null while standing by. */
  public CoordinatorMachine machine() {
    return machine;
  }

  /** The configuration this replica leads with, or null while standing by. */
  public ChainConfig config() {
    return machine == null ? null : machine.config();
  }

  /** A store request sent at {@code sentTick} succeeded and found our configuration unchanged. */
  public void confirmed(long sentTick) {
    if (machine != null && leaseEndTick < FOREVER) {
      leaseEndTick = Math.max(leaseEndTick, sentTick + leaseTicks);
    }
  }

  /**
   * Another coordinator wrote the configuration (a conditional write was refused, or a read found a
   * version we did not write): stop at once and ask to be re-elected behind the others.
   */
  public void fenced(String why) {
    stepDown(why);
  }

  /** The election says another replica leads (or this one's session ended). */
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
    if (machine == null) {
      return;
    }
    if (clockTick >= leaseEndTick) {
      stepDown("no answer from the configuration store within the leader lease");
      return;
    }
    machine.tick();
  }

  /** A request from a node or client: handled while acting, else redirected to the leader. */
  public void onRequest(ClientRef ref, Message.CoordinatorRequest request, long clockTick) {
    if (acting(clockTick)) {
      machine.onRequest(ref, request);
    } else {
      own.replies().add(new Effects.Reply(ref, notLeader()));
    }
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
   * True once after the replica stepped down on its own (lease lapsed, fenced): the driver should
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

  private void stepDown(String why) {
    if (machine != null) {
      releaseWanted = true;
    }
    machine = null;
    leaseEndTick = Long.MIN_VALUE / 4;
    standbyReason = "no coordinator leads now (" + why + ")";
    leaderAddress = "";
  }
}

package io.craq.core.coordinator;

import static io.craq.core.Check.check;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Effects.PersistConfig;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The coordinator of one chain as a deterministic state machine: owns the ordered chain and its
 * epoch, admits joins at any position, adds and removes the members the placement chooses ({@link
 * #admit}, {@link #remove}), removes members it has not heard from within the failure timeout, and
 * pushes every new configuration to every member (CRAQ §2.5, CR §3). Not thread-safe; drivers
 * persist {@link PersistConfig} before sending anything from the same {@link #drain()} ({@link
 * MapMachine}, which runs one of these per chain, persists its whole map instead).
 */
public final class CoordinatorMachine {
  private final CoordinatorSettings settings;
  private long now;
  private ChainConfig config;
  private final Map<String, Long> lastHeardTick = new HashMap<>();

  /** Which members have caught up; mirrored in the persisted configuration's members. */
  private final Map<String, Boolean> caughtUp = new HashMap<>();

  /**
   * Until this tick (the quiet period after a takeover) no member leaves on request: a replaced
   * leader may still renew its lease, so it must stay in the chain until that lease has ended.
   */
  private long quietUntilTick;

  /**
   * Members on their way out (a leave, or a placement move), with the tick their release began.
   * Until a failure timeout has passed since then, they stay in the chain but get no new read lease
   * (their heartbeats are answered as a non-member's): a member removed at once could go on serving
   * strong reads under its last lease, unaware that the chain has moved on without it.
   */
  private final Map<String, Long> releasing = new HashMap<>();

  /** The members of {@link #releasing} that asked to leave themselves. */
  private final Set<String> leaveRequested = new HashSet<>();

  /** The newest epoch {@link #checkInvariants} has seen: epochs never go back. */
  private long configEpochSeen;

  private Effects effects = Effects.empty();

  /**
   * A coordinator resuming {@code recovered} (or {@link ChainConfig#EMPTY}). Every member counts as
   * just heard from, so a restart never removes a node before a full timeout has passed.
   */
  public CoordinatorMachine(CoordinatorSettings settings, ChainConfig recovered) {
    this.settings = settings;
    this.config = recovered;
    for (Member m : recovered.members()) {
      lastHeardTick.put(m.id(), 0L);
      caughtUp.put(m.id(), m.caughtUp());
    }
  }

  public ChainConfig config() {
    return config;
  }

  /**
   * Advances time by one tick and removes members silent for longer than the timeout, except the
   * last one.
   */
  public void tick() {
    now++;
    List<String> dead = new ArrayList<>();
    for (Member m : config.members()) {
      long heard = lastHeardTick.getOrDefault(m.id(), now);
      if (now - heard > settings.failureTimeoutTicks()) {
        dead.add(m.id());
      }
    }
    // Never fail out the last caught-up member: without it the chain would forget data. The
    // chain is unavailable until that node answers again or re-joins with its store.
    boolean caughtUpSurvives =
        config.members().stream()
            .anyMatch(m -> !dead.contains(m.id()) && caughtUp.getOrDefault(m.id(), false));
    if (!dead.isEmpty() && !caughtUpSurvives) {
      dead.removeIf(id -> caughtUp.getOrDefault(id, false));
      if (!dead.isEmpty() && dead.size() == config.size()) {
        dead.remove(dead.size() - 1);
      }
    }
    if (!dead.isEmpty()) {
      List<Member> next = new ArrayList<>(config.members());
      next.removeIf(m -> dead.contains(m.id()));
      dead.forEach(this::forget);
      install(next);
    }
    finishReleases();
  }

  /**
   * Starts a new epoch with the same members, pushed to all of them: what a coordinator that has
   * just become the leader does first, so that every configuration an earlier leader may still push
   * is older than this one and refused by the nodes (fencing).
   */
  public void takeOver() {
    takeOver(0);
  }

  /**
   * {@link #takeOver()}, counting every member as heard from {@code quietTicks} from now: no member
   * is removed for lack of heartbeats before a full failure timeout after that (a replaced leader
   * may have granted read leases that long after this one was elected).
   */
  public void takeOver(long quietTicks) {
    if (quietTicks < 0) {
      throw new IllegalArgumentException("quietTicks must be >= 0: " + quietTicks);
    }
    for (Member m : config.members()) {
      lastHeardTick.put(m.id(), now + quietTicks);
    }
    quietUntilTick = now + quietTicks;
    install(new ArrayList<>(config.members()), true);
  }

  /** A request that expects an answer (join, heartbeat, leave, chain). */
  public void onRequest(ClientRef ref, Message.CoordinatorRequest request) {
    switch (request) {
      case JoinRequest join -> onJoin(ref, join);
      case Heartbeat heartbeat -> {
        boolean isMember = config.contains(heartbeat.nodeId());
        if (isMember) {
          lastHeardTick.merge(heartbeat.nodeId(), now, Math::max);
          boolean was = caughtUp.getOrDefault(heartbeat.nodeId(), false);
          // A report sent before the node knew of its (re-)join says nothing about this join.
          // A heartbeat only ever marks a member caught up: a caught-up member stops being one
          // only when the coordinator places it again (a restart's join, an admission), which
          // clears its flag. A "not caught up" from a member recorded as caught up comes from a
          // restarted process not placed yet (a heartbeat does not say which run sent it): its
          // store still holds the earlier run's copy, maybe the only complete one, and taking
          // the report would let the chain fail that copy out and go on without it.
          if (heartbeat.caughtUp()
              && heartbeat.epoch() >= config.member(heartbeat.nodeId()).joinedEpoch()) {
            caughtUp.put(heartbeat.nodeId(), true);
          }
          if (was != caughtUp.get(heartbeat.nodeId())) {
            // Recorded in the configuration (a new epoch) so a restarted coordinator knows which
            // members hold complete copies; may also hand the head to a caught-up node.
            install(new ArrayList<>(config.members()));
          }
        }
        // A member on its way out gets no new lease: it leaves once the last one has ended.
        boolean renew = isMember && !releasing.containsKey(heartbeat.nodeId());
        reply(ref, new HeartbeatReply(heartbeat.nodeId(), heartbeat.seq(), renew, config));
      }
      case LeaveRequest leave -> {
        ErrorReply refusal = leaveRefusal(leave.nodeId());
        if (refusal != null) {
          reply(ref, refusal);
          return;
        }
        if (config.contains(leave.nodeId()) && config.size() > 1) {
          releasing.putIfAbsent(leave.nodeId(), now);
          leaveRequested.add(leave.nodeId());
        }
        reply(ref, new ChainReply(config));
      }
      case ChainRequest ignored -> reply(ref, new ChainReply(config));
    }
  }

  /**
   * Adds {@code nodeId} at the tail, as the placement decided: it joins in the next epoch ({@code
   * joinedEpoch}) and catches up from its predecessor, except the first member of an empty chain,
   * which has nothing to copy and is caught up by definition. Refused (false, nothing changes) if
   * it is a member already, if the chain has {@code membersMax} members, or if a member uses {@code
   * address}, as a join would be.
   */
  public boolean admit(String nodeId, String address, long incarnation) {
    if (config.contains(nodeId) || config.size() >= settings.membersMax()) {
      return false;
    }
    for (Member m : config.members()) {
      if (m.address().equals(address)) {
        return false;
      }
    }
    List<Member> next = new ArrayList<>(config.members());
    next.add(new Member(nodeId, address, config.epoch() + 1, incarnation, false));
    lastHeardTick.put(nodeId, now);
    caughtUp.put(nodeId, next.size() == 1);
    install(next);
    return true;
  }

  /**
   * Starts removing {@code nodeId}, as the placement decided (a member moved to another node, or
   * off a leaving one): from now on its heartbeats renew no read lease, and once a failure timeout
   * has passed it leaves the chain (a new epoch). A leave request does the same. Refused (false,
   * nothing changes) if it is no member, during the quiet period after a takeover (as a leave would
   * be), if it holds the only complete copy, or if it is the last member; true again while the
   * removal is under way.
   */
  public boolean remove(String nodeId) {
    if (!config.contains(nodeId) || config.size() == 1 || leaveRefusal(nodeId) != null) {
      return false;
    }
    releasing.putIfAbsent(nodeId, now);
    return true;
  }

  /**
   * Calls off the removal of {@code nodeId} the placement started (it no longer wants it: the chain
   * lost another member meanwhile, say); its heartbeats renew its lease again. A removal the node
   * asked for with a leave request is not called off.
   */
  public void cancelRemoval(String nodeId) {
    if (!leaveRequested.contains(nodeId)) {
      releasing.remove(nodeId);
    }
  }

  /** True while {@code nodeId} is on its way out of the chain (see {@link #remove}). */
  public boolean releasing(String nodeId) {
    return releasing.containsKey(nodeId);
  }

  /**
   * Ends the releases whose wait is over: a member on its way out has had no lease renewed since
   * its release began, so once a failure timeout (longer than any node's lease) has passed it
   * serves no strong read any more, and the chain may move on without it. A release that would now
   * take the only complete copy, or the last member, waits.
   */
  private void finishReleases() {
    releasing.keySet().removeIf(id -> !config.contains(id));
    leaveRequested.retainAll(releasing.keySet());
    List<String> done = new ArrayList<>();
    for (Map.Entry<String, Long> e : releasing.entrySet()) {
      if (now - e.getValue() > settings.failureTimeoutTicks()) {
        done.add(e.getKey());
      }
    }
    for (String id : done) {
      if (config.contains(id)
          && config.size() > 1
          && leaveRefusal(id) == null
          && anotherCompleteCopyHeardLately(id)) {
        drop(id);
      }
    }
  }

  /**
   * True if a caught-up member other than {@code nodeId} was heard from within the last quarter of
   * a failure timeout. The caught-up flags alone are not enough to let a member go: the others may
   * have crashed a moment ago, and failure detection has not noticed yet; letting the member go
   * then would leave the chain with no live complete copy, where without the release it would have
   * kept one.
   */
  private boolean anotherCompleteCopyHeardLately(String nodeId) {
    long recent = Math.max(1, settings.failureTimeoutTicks() / 4);
    for (Member m : config.members()) {
      if (!m.id().equals(nodeId)
          && caughtUp.getOrDefault(m.id(), false)
          && now - lastHeardTick.getOrDefault(m.id(), Long.MIN_VALUE / 2) <= recent) {
        return true;
      }
    }
    return false;
  }

  /** Why {@code nodeId} may not leave now, or null if it may (or is no member). */
  private ErrorReply leaveRefusal(String nodeId) {
    if (config.contains(nodeId) && now < quietUntilTick) {
      return new ErrorReply(
          ErrorCode.UNAVAILABLE,
          "a new coordinator leader took over; it lets members leave once the previous leader's"
              + " leases have ended (in "
              + (quietUntilTick - now)
              + " ticks); try again then",
          "");
    }
    if (config.contains(nodeId) && isOnlyCompleteCopy(nodeId)) {
      return new ErrorReply(
          ErrorCode.UNAVAILABLE,
          nodeId
              + " holds the only complete copy of the data while the other members catch up;"
              + " try again when they have",
          "");
    }
    return null;
  }

  private void drop(String nodeId) {
    List<Member> next = new ArrayList<>(config.members());
    next.removeIf(m -> m.id().equals(nodeId));
    forget(nodeId);
    install(next);
  }

  /**
   * Joins at the requested position. A member asking again with a new incarnation has restarted and
   * lost its dirty versions: it is moved to the tail with a new {@code joinedEpoch}, so it catches
   * up from its predecessor while the rest of the chain keeps its order; if no other member is
   * caught up it goes to the head instead (its store is the only complete copy). The same
   * incarnation asking again is a duplicate: it gets the current configuration.
   */
  private void onJoin(ClientRef ref, JoinRequest join) {
    Member current = config.member(join.nodeId());
    if (current != null && current.incarnation() == join.incarnation()) {
      reply(ref, new HeartbeatReply(join.nodeId(), 0, true, config));
      return;
    }
    List<Member> next = new ArrayList<>(config.members());
    boolean rejoin = next.removeIf(m -> m.id().equals(join.nodeId()));
    if (!rejoin && next.size() >= settings.membersMax()) {
      reply(
          ref,
          new ErrorReply(
              ErrorCode.BUSY, "the chain already has " + settings.membersMax() + " members", ""));
      return;
    }
    for (Member m : next) {
      if (m.address().equals(join.address())) {
        reply(
            ref,
            new ErrorReply(
                ErrorCode.INVALID_REQUEST,
                "address " + join.address() + " is already used by member " + m.id(),
                ""));
        return;
      }
    }
    long epoch = config.epoch() + 1;
    boolean othersCaughtUp = next.stream().anyMatch(m -> caughtUp.getOrDefault(m.id(), false));
    int position;
    if (rejoin && !othersCaughtUp) {
      // It held the only complete copy: it goes back to the head, where it copies from nobody,
      // rather than behind nodes that are still copying (they would become head with holes).
      position = 0;
    } else if (rejoin || join.position() < 0 || join.position() > next.size()) {
      position = next.size();
    } else {
      position = join.position();
    }
    if (rejoin && !othersCaughtUp) {
      // The others are still copying, and may hold dirty versions the returning node never made
      // durable (a node sends a version on before its own store write): they start their copy
      // again, dropping their dirty versions, so no version number is held with two values.
      next.replaceAll(m -> m.rejoinedAt(epoch));
    }
    next.add(position, new Member(join.nodeId(), join.address(), epoch, join.incarnation(), false));
    lastHeardTick.put(join.nodeId(), now);
    // The first member of an empty chain, or the returning holder of the only complete copy, has
    // nothing to copy: it is caught up by definition.
    caughtUp.put(join.nodeId(), next.size() == 1 || (rejoin && !othersCaughtUp));
    install(next);
    reply(ref, new HeartbeatReply(join.nodeId(), 0, true, config));
  }

  /** True if {@code nodeId} is caught up, another member exists, and none of them is. */
  private boolean isOnlyCompleteCopy(String nodeId) {
    return config.size() > 1
        && caughtUp.getOrDefault(nodeId, false)
        && config.members().stream()
            .noneMatch(m -> !m.id().equals(nodeId) && caughtUp.getOrDefault(m.id(), false));
  }

  private void forget(String nodeId) {
    releasing.remove(nodeId);
    leaveRequested.remove(nodeId);
    lastHeardTick.remove(nodeId);
    caughtUp.remove(nodeId);
  }

  /**
   * The head must be caught up whenever some member is: it numbers versions from what it holds, and
   * a head still catching up would copy from a successor that copies from it. So the first
   * caught-up member moves to the front; the others keep their order. The members it passes are
   * still copying and were upstream of it, so they may hold dirty versions it lacks and will number
   * again: they start their copy again ({@code joinedEpoch} = {@code epoch}), dropping their dirty
   * versions, so no version number is held with two values.
   */
  private static List<Member> caughtUpHeadFirst(
      List<Member> members, Map<String, Boolean> caughtUp, long epoch) {
    if (members.isEmpty() || caughtUp.getOrDefault(members.get(0).id(), false)) {
      return members;
    }
    for (int i = 1; i < members.size(); i++) {
      if (caughtUp.getOrDefault(members.get(i).id(), false)) {
        List<Member> reordered = new ArrayList<>(members);
        Member head = reordered.remove(i);
        for (int j = 0; j < i; j++) {
          reordered.set(j, reordered.get(j).rejoinedAt(epoch));
        }
        reordered.add(0, head);
        return reordered;
      }
    }
    return members;
  }

  private void install(List<Member> requested) {
    install(requested, false);
  }

  private void install(List<Member> requested, boolean evenIfUnchanged) {
    ChainConfig previous = config;
    List<Member> members = new ArrayList<>();
    for (Member m : caughtUpHeadFirst(requested, caughtUp, previous.epoch() + 1)) {
      members.add(m.withCaughtUp(caughtUp.getOrDefault(m.id(), false)));
    }
    if (members.equals(previous.members()) && !evenIfUnchanged) {
      return;
    }
    config = new ChainConfig(previous.epoch() + 1, members);
    effects.persist().add(new PersistConfig(config));
    List<Member> tellAll = new ArrayList<>(config.members());
    for (Member old : previous.members()) {
      if (!config.contains(old.id())) {
        tellAll.add(old); // a removed node learns it is out (if it can hear us)
      }
    }
    for (Member m : tellAll) {
      effects.sends().add(new Effects.Send(m, new ConfigPush(config)));
    }
  }

  public Effects drain() {
    checkInvariants();
    Effects out = effects;
    effects = Effects.empty();
    return out;
  }

  /**
   * Checked at every {@link #drain()}, in production too (a broken one stops the coordinator):
   * epochs only grow; member ids and addresses are unique and within the bound; the tables of when
   * members were heard from and whether they caught up cover the members and nothing else; the head
   * is caught up whenever some member is (it numbers versions from what it holds).
   */
  private void checkInvariants() {
    check(
        config.epoch() >= configEpochSeen,
        "epoch went back from %d to %d",
        configEpochSeen,
        config.epoch());
    configEpochSeen = config.epoch();
    check(
        config.size() <= settings.membersMax() || config.size() == 0,
        "%d members, the bound is %d",
        config.size(),
        settings.membersMax());
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (Member m : config.members()) {
      check(ids.add(m.id()), "member %s listed twice", m.id());
      check(addresses.add(m.address()), "address %s listed twice", m.address());
      check(
          m.caughtUp() == caughtUp.getOrDefault(m.id(), false),
          "member %s caught up %s in the configuration, %s in the table",
          m.id(),
          m.caughtUp(),
          caughtUp.get(m.id()));
    }
    check(
        ids.containsAll(caughtUp.keySet()) && ids.containsAll(lastHeardTick.keySet()),
        "tables hold nodes outside the chain: %s, %s",
        caughtUp.keySet(),
        lastHeardTick.keySet());
    boolean anyCaughtUp = config.members().stream().anyMatch(Member::caughtUp);
    check(
        !anyCaughtUp || config.head().caughtUp(),
        "head %s is not caught up while %s is",
        config.head(),
        config.members());
  }

  private void reply(ClientRef ref, Message message) {
    effects.replies().add(new Effects.Reply(ref, message));
  }
}

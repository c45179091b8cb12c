package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.Effects;
import io.craq.core.Effects.CommitVersion;
import io.craq.core.message.Message;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.Propagate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * When a node's effects may be performed relative to its store changes: the one schedule that the
 * node's driver and the simulation both follow, so that what the simulation checks is what runs.
 * Pure and single-threaded, like the machine; the driver calls it under the same lock.
 *
 * <p>The rules (parallel persistence, see {@link Effects}):
 *
 * <ol>
 *   <li>A drain's versions to pass down the chain ({@link Propagate}, in its chain's {@link
 *       Chained} envelope or not) go out at once, before its store changes are durable: the
 *       successor writes them while this node does.
 *   <li>A drain's store changes become one {@link Group}, written after every earlier group. A
 *       group must be made durable (one log force) unless it holds commit markers only: a lost
 *       commit marker only turns a committed version back into a dirty one every member holds,
 *       which a restart repairs, so commit markers ride on the next force.
 *   <li>Other sends and replies go out at once, unless a group holding a change that they depend on
 *       ({@link Effects#holdsSends}: committed puts from catch-up, discarding dirty versions) is
 *       not done yet; then they, and every later send and reply, wait for that group, in order.
 * </ol>
 *
 * <p>The driver writes the groups in order (it may merge queued ones, {@link #merge}), tells this
 * schedule which are done ({@link #done}), performs what that releases, and reports the group's
 * drain sequence to the machine ({@code NodeMachine.onPersisted}).
 */
public final class PersistSchedule {

  /**
   * Store changes of one or more drains, to be written together after every earlier group.
   *
   * @param id increasing from 1
   * @param drainSequence the machine's {@code drainSequence()} after the last drain it covers
   * @param force true if the group must be durable before it counts as done
   */
  public record Group(long id, List<Effects.StoreOp> ops, long drainSequence, boolean force) {
    public Group {
      ops = List.copyOf(ops);
    }
  }

  /** Sends and replies to perform now, in this order. */
  public record Release(List<Effects.Send> sends, List<Effects.Reply> replies) {
    public static final Release NONE = new Release(List.of(), List.of());

    public boolean isEmpty() {
      return sends.isEmpty() && replies.isEmpty();
    }
  }

  /**
   * What to do with one drain: perform {@code propagates} first, then queue {@code group} (null
   * when the drain changed nothing), then perform {@code now}.
   */
  public record Plan(List<Effects.Send> propagates, Group group, Release now) {}

  /** Sends and replies waiting for group {@code groupId}. */
  private record Held(long groupId, Release release) {}

  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private long nextGroupId = 1;
  private long doneGroupId;
  private long holdUntilGroupId;

  /** Splits one drain's effects; {@code drainSequence} is read right after that drain. */
  public Plan plan(Effects effects, long drainSequence) {
    List<Effects.Send> propagates = new ArrayList<>();
    List<Effects.Send> others = new ArrayList<>(effects.sends().size());
    for (Effects.Send send : effects.sends()) {
      (isPropagate(send.message()) ? propagates : others).add(send);
    }
    Group group = null;
    if (!effects.persist().isEmpty()) {
      boolean force = false;
      boolean holds = false;
      for (Effects.StoreOp op : effects.persist()) {
        force |= !(op instanceof CommitVersion);
        holds |= Effects.holdsSends(op);
      }
      group = new Group(nextGroupId++, effects.persist(), drainSequence, force);
      if (holds) {
        holdUntilGroupId = group.id();
      }
    }
    Release release = new Release(others, effects.replies());
    if (holdUntilGroupId > doneGroupId) {
      if (!release.isEmpty()) {
        held.addLast(new Held(holdUntilGroupId, release));
      }
      release = Release.NONE;
    }
    return new Plan(propagates, group, release);
  }

  /**
   * A {@link Propagate}, bare or in its chain's envelope (a node of many chains, {@link NodeHost}).
   */
  static boolean isPropagate(Message message) {
    return message instanceof Propagate
        || (message instanceof Chained chained && chained.message() instanceof Propagate);
  }

  /**
   * Every group up to {@code groupId} is done: written in order and, where it asked for it,
   * durable. Returns what waited for them, in order.
   */
  public Release done(long groupId) {
    check(
        groupId < nextGroupId, "group %d done, but only %d were planned", groupId, nextGroupId - 1);
    if (groupId <= doneGroupId) {
      return Release.NONE;
    }
    doneGroupId = groupId;
    if (held.isEmpty() || held.peekFirst().groupId() > groupId) {
      return Release.NONE;
    }
    List<Effects.Send> sends = new ArrayList<>();
    List<Effects.Reply> replies = new ArrayList<>();
    while (!held.isEmpty() && held.peekFirst().groupId() <= groupId) {
      Release release = held.pollFirst().release();
      sends.addAll(release.sends());
      replies.addAll(release.replies());
    }
    return new Release(sends, replies);
  }

  /** True while sends and replies wait for a group. */
  public boolean holding() {
    return holdUntilGroupId > doneGroupId;
  }

  /** The groups {@code groups} (consecutive, oldest first) as one: written and forced together. */
  public static Group merge(List<Group> groups) {
    check(!groups.isEmpty(), "nothing to merge");
    if (groups.size() == 1) {
      return groups.get(0);
    }
    List<Effects.StoreOp> ops = new ArrayList<>();
    boolean force = false;
    for (Group group : groups) {
      ops.addAll(group.ops());
      force |= group.force();
    }
    Group last = groups.get(groups.size() - 1);
    return new Group(last.id(), ops, last.drainSequence(), force);
  }
}

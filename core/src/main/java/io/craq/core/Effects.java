package io.craq.core;

import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * What a state machine asks its driver to do, collected since the last {@code drain()}.
 *
 * <p>The driver's contract (persist-before-send, as etcd raft's {@code Ready}): make every entry
 * of {@link #persist()} durable, in order, before performing any entry of {@link #sends()} or
 * {@link #replies()}. The state machine's memory already reflects the persisted entries.
 *
 * <p>One exception: a {@link CommitVersion} may be delayed, i.e. made durable after the sends
 * and replies that follow it, provided the delayed entries are made durable in order and before
 * any later entry of another kind (in practice: first thing in the next storage transaction). A
 * commit marker lost in a crash only turns a committed version back into a dirty one that every
 * other member already holds, which a restart repairs (a re-joining node drops its dirty versions
 * and catches up; a re-joining sole copy returns as head and commits them again). The node's
 * drivers (NodeServer, and the simulation, which checks it) delay them so that a write costs an
 * fsync at each node on its way down the chain, not also on the way back.
 */
public record Effects(List<StoreOp> persist, List<Send> sends, List<Reply> replies) {

  public static Effects empty() {
    return new Effects(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
  }

  public boolean isEmpty() {
    return persist.isEmpty() && sends.isEmpty() && replies.isEmpty();
  }

  /** A message to another process. The coordinator is addressed as {@link #COORDINATOR}. */
  public record Send(Member to, Message message) {}

  /** The answer to a client request the state machine was given with {@code ref}. */
  public record Reply(ClientRef ref, Message message) {}

  /** Who asked: an opaque handle the driver gave with a client request. */
  public interface ClientRef {}

  /** The coordinator as a destination of {@link Send}. */
  public static final Member COORDINATOR = new Member("coordinator", "coordinator");

  /** One change to durable state. */
  public sealed interface StoreOp {}

  /**
   * Store a version: dirty, or already committed ({@code committed} true: it becomes the key's
   * clean version and older versions of the key may be dropped).
   */
  public record PutVersion(VersionRecord version, boolean committed) implements StoreOp {}

  /** Version {@code version} of {@code key} is committed; older versions may be dropped. */
  public record CommitVersion(String key, long version) implements StoreOp {}

  /** Throw away every dirty version (a node re-joining the chain starts from committed state). */
  public record DiscardAllDirty() implements StoreOp {}

  /** The coordinator's chain configuration, to be stored durably. */
  public record PersistConfig(io.craq.core.message.ChainConfig config) implements StoreOp {}
}

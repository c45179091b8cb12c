package io.craq.core;

import io.craq.core.chain.ChainSlice;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * What a state machine asks its driver to do, collected since the last {@code drain()}.
 *
 * <p>The driver's contract (persist-before-send, as etcd raft's {@code Ready}): make every entry of
 * {@link #persist()} durable, in order, before performing any entry of {@link #sends()} or {@link
 * #replies()}. The state machine's memory already reflects the persisted entries.
 *
 * <p>Node drivers relax this for speed (parallel persistence), by the rules of {@code
 * io.craq.core.node.PersistSchedule}, which {@code NodeServer} and the simulation both follow: (1)
 * a drain's {@code Propagate} sends may go before its persist entries are durable, so a node's
 * successors write a version to their stores while it writes it to its own; (2) its other sends and
 * replies need not wait for its {@link PutVersion} entries of dirty versions either, only for its
 * other entries (committed puts, {@link DiscardAllDirty}), and so does every later send and reply;
 * (3) persist entries are written in drain order, in the background, and each completion is
 * reported with {@code NodeMachine.onPersisted(seq)} ({@code seq} read with {@code drainSequence()}
 * after the drain). The machine counts a version as durable at a node only once reported, and
 * commits it only when it is durable at every member ({@code Durable} messages flow down the
 * chain): nothing becomes visible or acknowledged before every member holds it durably, as with
 * persist-before-send.
 *
 * <p>One more exception: a {@link CommitVersion} need not be durable when reported done, only
 * written (visible to reads of the store), provided it becomes durable in order and before any
 * later entry of another kind (a write-ahead log gives this: the next force covers it). A commit
 * marker lost in a crash only turns a committed version back into a dirty one that every other
 * member already holds, which a restart repairs (a re-joining node drops its dirty versions and
 * catches up; a re-joining sole copy returns as head and commits them again at once). So a write
 * costs a log force at each node on its way down the chain, not also on the way back.
 */
public record Effects(List<StoreOp> persist, List<Send> sends, List<Reply> replies) {

  public static Effects empty() {
    return new Effects(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
  }

  public boolean isEmpty() {
    return persist.isEmpty() && sends.isEmpty() && replies.isEmpty();
  }

  /**
   * True if the sends and replies of the drain holding {@code op}, and all later ones, must wait
   * until {@code op} is durable (see the class comment): all but dirty puts and commit markers.
   */
  public static boolean holdsSends(StoreOp op) {
    return !(op instanceof PutVersion put && !put.committed()) && !(op instanceof CommitVersion);
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

  /**
   * Throw away every dirty version of the keys of {@code slice} (a node re-joining a chain starts
   * from committed state); {@link ChainSlice#ALL} is every key.
   */
  public record DiscardAllDirty(ChainSlice slice) implements StoreOp {
    public DiscardAllDirty {
      java.util.Objects.requireNonNull(slice, "slice");
    }

    /** Every dirty version of every key. */
    public DiscardAllDirty() {
      this(ChainSlice.ALL);
    }
  }

  /** The coordinator's chain configuration, to be stored durably. */
  public record PersistConfig(io.craq.core.message.ChainConfig config) implements StoreOp {}

  /**
   * The coordinator's chain map (every chain's configuration and the pool), to be stored durably as
   * one unit before anything else of the same drain is sent.
   */
  public record PersistMap(io.craq.core.message.ChainMap map) implements StoreOp {}
}

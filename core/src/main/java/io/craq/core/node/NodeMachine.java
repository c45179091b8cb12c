package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Effects.CommitVersion;
import io.craq.core.Effects.DiscardAllDirty;
import io.craq.core.Effects.PutVersion;
import io.craq.core.Int64Text;
import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.AppendRequest;
import io.craq.core.message.Message.CatchUpBatch;
import io.craq.core.message.Message.CatchUpRequest;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.Durable;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.IncrementRequest;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.UpdateReply;
import io.craq.core.message.Message.VersionQuery;
import io.craq.core.message.Message.VersionReply;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyOrder;
import io.craq.core.store.KeyPage;
import io.craq.core.store.KeyPages;
import io.craq.core.store.SliceView;
import io.craq.core.store.StoreView;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One CRAQ node as a deterministic state machine (CRAQ §2.3-2.5, Chain Replication §3). Not
 * thread-safe: the driver calls it from one thread, then {@link #drain()}s the effects and performs
 * them persist-first (see {@link Effects}).
 *
 * <p>Inputs: {@link #tick()}, {@link #onClientRequest} for requests that expect a reply, and {@link
 * #onMessage} for one-way protocol messages from peers and the coordinator.
 *
 * <p>Safety rests on five rules. (1) Upstream nodes hold a superset of the versions of downstream
 * ones, so the tail's committed version of a key is always held by every node in the same epoch.
 * (1a) A node passes a version on before its own store has made it durable (the driver reports that
 * later, {@link #onPersisted(long)}), but a version is committed only once it is durable at every
 * member: each node tells its successor which versions are durable at it and above ({@link
 * Durable}), and the tail commits what is durable there and at itself. (2) A node acts only on
 * node-to-node messages of its own epoch. (3) Strong reads, version-query answers and new writes
 * need a lease, which ends before the coordinator may remove the node. (4) A node that (re-)joins
 * catches up from its predecessor before serving reads.
 *
 * <p>The store holds the data ({@link StoreView}). The machine keeps a key in memory ({@link
 * KeyState}) only while it has something in flight for it: dirty versions, or store changes the
 * driver has not reported done yet; every other key is read from the store. So memory follows what
 * is in flight, not the size of the data set.
 *
 * <p>When every member holding a complete copy is down, the chain waits for one to return: the
 * coordinator never fails out, nor lets leave, the last complete copy, and a returning one goes
 * back to the head with its recovered versions. If none ever returns, the chain stays unavailable
 * rather than serve partial data.
 *
 * <p>A machine serves one chain's keys, its {@link ChainSlice}: a node of a cluster of many chains
 * runs one machine per chain over one store ({@link NodeHost}). The machine sees, copies and drops
 * only its slice's keys (it reads the store through a {@link SliceView}) and refuses others.
 */
public final class NodeMachine {

  /** When a machine asks the coordinator to join its chain on its own ({@link JoinRequest}). */
  public enum JoinPolicy {
    /** Whenever it is not a member: a node of a single-chain cluster. */
    WHENEVER_OUTSIDE,
    /**
     * Until the coordinator has placed this incarnation, and only while the chain still lists an
     * earlier run of the process: a restarted node taking back its place. Once placed, as {@link
     * #NEVER}.
     */
    UNTIL_PLACED,
    /** Never: the coordinator's placement adds it to the chain and removes it. */
    NEVER
  }

  private final String selfId;
  private final String selfAddress;
  private final NodeSettings settings;
  private final int joinPosition;
  private final long incarnation;
  private final ChainSlice slice;
  private final JoinPolicy joinPolicy;

  private long now;
  private ChainConfig config = ChainConfig.EMPTY;
  private boolean member;

  /** Whether this process has been a member before (see {@link #startJoin}). */
  private boolean joinedBefore;

  private long joinedEpoch = -1;

  private final StoreView store;

  /**
   * Keys with something in flight (see the class comment). A hash map: lookups are per message, key
   * order is needed only for the pages of a catch-up or read-all ({@link #page}).
   */
  private final HashMap<String, KeyState> keys = new HashMap<>();

  /**
   * Keys that may leave {@link #keys} once a store change is done: the sequence number of every
   * change asked for, with its key, oldest first (see {@link #onPersisted}).
   */
  private final ArrayDeque<KeyChange> keyChanges = new ArrayDeque<>();

  private record KeyChange(long seq, String key) {}

  /** Head only: client writes waiting for their commit, in assignment order. */
  private final LinkedHashMap<KeyVersion, PendingWrite> pendingWrites = new LinkedHashMap<>();

  /** Bytes of the values of {@link #pendingWrites}: bounded by {@link #bytesFit}. */
  private long pendingBytes;

  /** Non-tail: dirty versions sent to the successor and not yet committed, and when to resend. */
  private final Retransmits retransmits;

  /** Which dirty versions are durable here and above (parallel persistence). */
  private final DurabilityTracker durability = new DurabilityTracker();

  /**
   * Store changes asked for so far, asked for before the last {@link #drain()}, and reported done
   * by the driver ({@link #onPersisted}).
   */
  private long persistSeq;

  private long drainedSeq;
  private long persistedSeq;

  /**
   * Value bytes a catch-up or read-all page, or one message of versions passed down the chain,
   * holds before it stops early (after the key or version that passes it): messages stay well
   * inside a frame.
   */
  static final long PAGE_BYTES_SOFT_MAX = 512 << 10;

  /** The retransmit timeout is at most this many times {@code retransmitTicks}. */
  static final int RETRANSMIT_TIMEOUT_FACTOR_MAX = Retransmits.TIMEOUT_FACTOR_MAX;

  /** Strong reads of dirty keys waiting for the tail's committed version. */
  private final VersionQueries versionQueries;

  private long heartbeatSeq;
  private final LinkedHashMap<Long, Long> heartbeatSentTicks = new LinkedHashMap<>();
  private long lastHeartbeatTick = Long.MIN_VALUE / 2;
  private long leaseExpiryTick = Long.MIN_VALUE / 2;

  /**
   * Keys whose dirty versions were copied while catching up, with the highest copied: see {@link
   * #copiedDirtyPending}. Entries leave when the key commits that version or drops its dirty ones.
   */
  private final Map<String, Long> copiedDirty = new HashMap<>();

  private long lastJoinRequestTick = Long.MIN_VALUE / 2;

  /** A member still copying from its predecessor (CR §3), which serves no reads. */
  private boolean catchingUp;

  private String catchUpCursor = "";

  /**
   * The store change that the last catch-up page asked for, while waiting for it to be durable; -1
   * otherwise (see {@link #finishCatchUpIfDurable}).
   */
  private long catchUpDurableSeq = -1;

  private long catchUpRequestId;
  private long catchUpRequestTick;
  private long nextCatchUpRequestId = 1;

  private final List<VersionRecord> outPropagate = new ArrayList<>();
  private final List<KeyVersion> outCommit = new ArrayList<>();
  private final Set<KeyVersion> outDurable = new LinkedHashSet<>();
  private Effects effects = Effects.empty();

  /** Event counters since creation, each moved in the one place its event happens. */
  private final NodeCounters.Tally counts = new NodeCounters.Tally();

  /**
   * A client write waiting for its commit. {@code multi} is null for a single-key write; for a
   * multi-key write it lists the versions to answer with (request order), and the write waits under
   * its first version only: its versions commit together (see {@link #commitGroupAtTail}). An
   * increment or append ({@code update}) is answered with {@code result}.
   */
  private record PendingWrite(
      ClientRef ref, long tick, List<KeyVersion> multi, boolean update, long result, long bytes) {
    static PendingWrite single(ClientRef ref, long tick, long bytes) {
      return new PendingWrite(ref, tick, null, false, 0, bytes);
    }

    static PendingWrite update(ClientRef ref, long tick, long result, long bytes) {
      return new PendingWrite(ref, tick, null, true, result, bytes);
    }

    /** The answer once the version {@code version} of {@code key} it waits for is committed. */
    Message.Reply answer(String key, long version) {
      if (multi != null) {
        return new MultiWriteReply(multi);
      }
      return update ? new UpdateReply(key, version, result) : new WriteReply(key, version);
    }
  }

  /**
   * Versions of multi-key writes durable here and above at the tail whose group was not complete
   * then. The last of a group to become durable commits it; this covers the rest (a version of the
   * group committed by a catch-up page, or this node becoming the tail), retried every tick.
   */
  private final Set<KeyVersion> blockedGroups = new LinkedHashSet<>();

  /**
   * Versions of multi-key writes put in {@link #outPropagate} since the last flush: a group is
   * added at once, and only once.
   */
  private final Set<KeyVersion> outPropagateIds = new HashSet<>();

  /**
   * A node of a single-chain cluster that has not joined yet, over its store: it serves every key
   * ({@link ChainSlice#ALL}) and asks to join whenever it is not a member ({@link
   * JoinPolicy#WHENEVER_OUTSIDE}).
   *
   * @param joinPosition where to ask to join (0 = head, -1 = tail)
   * @param incarnation different for every start of the process (the driver uses the start time)
   * @param store the node's store: what it holds when the machine starts, then every change the
   *     machine asks for (see {@link StoreView})
   * @param recoveredDirty the dirty versions the store holds. They are kept only if the node
   *     re-joins as head (it then held the only complete copy, and versions it numbered may already
   *     be committed further down); anywhere else they may be stale and are dropped at join.
   */
  public NodeMachine(
      String selfId,
      String selfAddress,
      NodeSettings settings,
      int joinPosition,
      long incarnation,
      StoreView store,
      Iterable<VersionRecord> recoveredDirty) {
    this(
        selfId,
        selfAddress,
        settings,
        joinPosition,
        incarnation,
        store,
        recoveredDirty,
        ChainSlice.ALL,
        JoinPolicy.WHENEVER_OUTSIDE);
  }

  /**
   * A machine of one chain that has not joined yet, over the node's store.
   *
   * @param store the node's store, all chains; the machine reads it through a {@link SliceView} of
   *     {@code slice}
   * @param recoveredDirty the dirty versions the store holds of {@code slice}'s keys (every one of
   *     them in {@code slice}); see the other constructor
   * @param slice the keys of this machine's chain
   * @param joinPolicy when the machine asks to join on its own
   */
  public NodeMachine(
      String selfId,
      String selfAddress,
      NodeSettings settings,
      int joinPosition,
      long incarnation,
      StoreView store,
      Iterable<VersionRecord> recoveredDirty,
      ChainSlice slice,
      JoinPolicy joinPolicy) {
    this.incarnation = incarnation;
    this.selfId = selfId;
    this.selfAddress = selfAddress;
    this.settings = settings;
    this.joinPosition = joinPosition;
    this.slice = java.util.Objects.requireNonNull(slice, "slice");
    this.joinPolicy = java.util.Objects.requireNonNull(joinPolicy, "joinPolicy");
    this.store = SliceView.of(store, slice);
    this.retransmits = new Retransmits(settings.retransmitTicks());
    this.versionQueries = new VersionQueries(settings.pendingReadsMax());
    for (VersionRecord record : recoveredDirty) {
      check(
          slice.contains(record.key()),
          "%s: recovered %s@%d, which is not of %s",
          selfId,
          record.key(),
          record.version(),
          slice);
      KeyState state = stateFor(record.key());
      if (record.version() > state.committedVersion()) {
        state.dirty.put(record.version(), record);
        // durable here; above is unknown until the node learns its place (kept only at the head)
        durability.recovered(new KeyVersion(record.key(), record.version()));
      }
      releaseIfIdle(record.key(), state);
    }
  }

  // ------------------------------------------------------------------------------------ inputs

  /**
   * Advances time to {@code tick} (counted from this machine's creation). Drivers call it with
   * their monotonic clock before every input: after a process pause (SIGSTOP, GC), the clock must
   * catch up before a buffered message is handled, or a node whose lease ran out while it was
   * frozen would still serve reads.
   */
  public void advanceTo(long tick) {
    if (tick > now) {
      // Every timer compares against now, so one jump is the same as many ticks, without a
      // heartbeat and retransmit burst for each interval of a long pause.
      now = tick - 1;
      tick();
    }
  }

  /** Advances time by one tick: heartbeats, joins, retransmits, timeouts, catch-up retries. */
  public void tick() {
    now++;
    if (asksToJoin() && now - lastJoinRequestTick >= settings.heartbeatIntervalTicks() * 2L) {
      lastJoinRequestTick = now;
      send(Effects.COORDINATOR, new JoinRequest(selfId, selfAddress, joinPosition, incarnation));
    }
    if (now - lastHeartbeatTick >= settings.heartbeatIntervalTicks()
        && (member || joinPolicy == JoinPolicy.WHENEVER_OUTSIDE || asksToJoin())) {
      // A machine of a chain that does not list it waits to be placed: its node's map (and the
      // coordinator's pushes) bring it every new configuration, so it keeps quiet.
      sendHeartbeat();
    }
    if (!member) {
      return;
    }
    retransmit();
    retryBlockedGroups();
    expireWrites();
    expireQueries();
    if (catchingUp
        && catchUpRequestId != 0
        && now - catchUpRequestTick >= settings.catchUpRetryTicks()) {
      requestCatchUp();
    }
  }

  /** True if the machine asks the coordinator to join now (see {@link JoinPolicy}). */
  private boolean asksToJoin() {
    return switch (joinPolicy) {
      case WHENEVER_OUTSIDE -> !member;
      // Not placed in this run yet, and the chain lists an earlier run (any entry of ours is one).
      case UNTIL_PLACED -> !member && !joinedBefore && config.contains(selfId);
      case NEVER -> false;
    };
  }

  /** A request that expects an answer: writes, reads, read-all, chain, stats. */
  public void onClientRequest(ClientRef ref, Message.NodeRequest request) {
    switch (request) {
      case WriteRequest write -> onWrite(ref, write);
      case MultiWriteRequest multi -> onMultiWrite(ref, multi);
      case IncrementRequest increment -> onIncrement(ref, increment);
      case AppendRequest append -> onAppend(ref, append);
      case ReadRequest read -> onRead(ref, read);
      case ReadAllRequest readAll -> onReadAll(ref, readAll);
      case ChainRequest ignored -> reply(ref, new ChainReply(config));
      // Answered in any state (outside the chain, catching up, no lease): it is for operators.
      case StatsRequest ignored ->
          reply(ref, new StatsReply(selfId, config.epoch(), role(), counters().toMap()));
    }
  }

  /** A one-way message from a peer node or the coordinator. */
  public void onMessage(Message.NodeMessage message) {
    switch (message) {
      case Propagate propagate -> onPropagate(propagate);
      case Commit commit -> onCommit(commit);
      case Durable durable -> onDurable(durable);
      case VersionQuery query -> onVersionQuery(query);
      case VersionReply versionReply -> onVersionReply(versionReply);
      case CatchUpRequest request -> onCatchUpRequest(request);
      case CatchUpBatch batch -> onCatchUpBatch(batch);
      case HeartbeatReply heartbeatReply -> onHeartbeatReply(heartbeatReply);
      case ConfigPush push -> adoptConfig(push.config());
    }
  }

  /** The effects produced since the last call; the caller performs them persist-first. */
  public Effects drain() {
    drainedSeq = persistSeq;
    flushOutbound();
    checkStepInvariants();
    Effects out = effects;
    effects = Effects.empty();
    return out;
  }

  /**
   * Identifies the store changes drained so far: pass it to {@link #onPersisted(long)} once they
   * are durable. Read it right after the {@link #drain()} whose store changes it is to cover.
   */
  public long drainSequence() {
    return drainedSeq;
  }

  /**
   * The driver made the store changes of every drain up to the one {@code drainSequence} was read
   * after durable (commit markers need only be applied, see {@link Effects}), and the store shows
   * them. Versions they wrote may now be passed on as durable or, at the tail, committed; the
   * effects follow at the next {@link #drain()}. Keys with nothing else in flight leave memory: the
   * store answers for them from now on. A driver may persist in the background and keep draining
   * meanwhile; it reports completions in drain order.
   */
  public void onPersisted(long drainSequence) {
    check(
        drainSequence <= drainedSeq,
        "%s: persisted %d, but only %d was drained",
        selfId,
        drainSequence,
        drainedSeq);
    if (drainSequence <= persistedSeq) {
      return;
    }
    persistedSeq = drainSequence;
    finishCatchUpIfDurable();
    releaseKeysDoneBy(drainSequence);
    for (KeyVersion id : durability.persisted(drainSequence)) {
      becameDurable(id);
    }
  }

  // ------------------------------------------------------------------------- queries (read-only)

  public String id() {
    return selfId;
  }

  public ChainConfig config() {
    return config;
  }

  /** The keys of this machine's chain. */
  public ChainSlice slice() {
    return slice;
  }

  public JoinPolicy joinPolicy() {
    return joinPolicy;
  }

  /**
   * True once the coordinator has placed this incarnation in the chain (it may have left since).
   */
  public boolean placedBefore() {
    return joinedBefore;
  }

  public boolean isMember() {
    return member;
  }

  public boolean isCatchingUp() {
    return catchingUp;
  }

  public boolean hasLease() {
    return now < leaseExpiryTick;
  }

  /** The event counters since this machine was created (an immutable snapshot). */
  public NodeCounters counters() {
    return counts.snapshot();
  }

  /**
   * This node's role as operators see it: {@code outside} (not a member), {@code catching-up} (a
   * member still catching up), else {@code head}, {@code middle}, {@code tail} or {@code
   * head+tail}.
   */
  public String role() {
    if (!member) {
      return "outside";
    }
    if (catchingUp) {
      return "catching-up";
    }
    boolean head = isHead();
    boolean tail = isTail();
    return head && tail ? "head+tail" : head ? "head" : tail ? "tail" : "middle";
  }

  public long now() {
    return now;
  }

  /** The newest committed version of {@code key} this node holds, or null. */
  public VersionRecord committed(String key) {
    KeyState state = keys.get(key);
    return state == null ? store.committedRecord(key) : state.committed;
  }

  /** Number of keys held in memory (those with something in flight). */
  public int keysInMemory() {
    return keys.size();
  }

  /** Number of dirty versions held, all keys. */
  public int dirtyCount() {
    int count = 0;
    for (KeyState state : keys.values()) {
      count += state.dirty.size();
    }
    return count;
  }

  /**
   * Every committed version held, in key order. Reads the whole store: for tests and convergence
   * checks, not for the serving path.
   */
  public List<VersionRecord> committedSnapshot() {
    List<VersionRecord> out = new ArrayList<>();
    String after = null;
    while (true) {
      KeyPage page = page(after, Integer.MAX_VALUE, Long.MAX_VALUE);
      for (KeyRecord record : page.records()) {
        if (record.committed() != null) {
          out.add(record.committed());
        }
      }
      if (page.done()) {
        return out;
      }
      after = page.resumeAfterKey();
    }
  }

  /**
   * The invariants that cost O(1), checked at every {@link #drain()} in production too (a broken
   * one stops the node); the parts check their own as they change. {@link #checkInvariants()} adds
   * the per-key ones.
   */
  private void checkStepInvariants() {
    check(
        pendingWrites.size() <= settings.pendingWritesMax(),
        "%s: pending writes over bound",
        selfId);
    check(
        pendingBytes >= 0 && (!pendingWrites.isEmpty() || pendingBytes == 0),
        "%s: pending bytes %s do not match the pending writes",
        selfId,
        pendingBytes);
    check(
        !member || !isTail() || retransmits.isEmpty(),
        "%s: the tail has unacknowledged versions",
        selfId);
    check(
        !member || predecessor() != null || !durability.waitsAbove(),
        "%s: the head waits for durability above it",
        selfId);
    check(
        keyChanges.isEmpty() || keyChanges.peekFirst().seq() > persistedSeq,
        "%s: a key change done at %d is still pending",
        selfId,
        persistedSeq);
    check(
        persistedSeq <= drainedSeq && drainedSeq <= persistSeq,
        "%s: store changes persisted %d, drained %d, asked %d",
        selfId,
        persistedSeq,
        drainedSeq,
        persistSeq);
  }

  /**
   * Checks every internal invariant, per key too; throws {@link
   * io.craq.core.Check.InvariantViolation}. O(keys in memory): for tests and the simulation.
   */
  public void checkInvariants() {
    checkStepInvariants();
    for (Map.Entry<String, KeyState> e : keys.entrySet()) {
      e.getValue().checkInvariants();
      check(
          !e.getValue().dirty.isEmpty() || e.getValue().lastPersistSeq > persistedSeq,
          "%s: key %s is held in memory with nothing in flight",
          selfId,
          e.getKey());
    }
    for (KeyVersion id : durability.tracked()) {
      check(holdsDirty(id), "%s: tracks the durability of %s, not held dirty", selfId, id);
    }
    long bytes = 0;
    for (PendingWrite pending : pendingWrites.values()) {
      bytes += pending.bytes();
    }
    check(
        bytes == pendingBytes,
        "%s: pending bytes %s, the writes hold %s",
        selfId,
        pendingBytes,
        bytes);
  }

  private boolean holdsDirty(KeyVersion id) {
    KeyState state = keys.get(id.key());
    return state != null && state.dirty.containsKey(id.version());
  }

  // ---------------------------------------------------------------------------------- roles

  private boolean isHead() {
    return member && config.indexOf(selfId) == 0;
  }

  private boolean isTail() {
    return member && config.indexOf(selfId) == config.size() - 1;
  }

  private Member successor() {
    return config.successorOf(selfId);
  }

  private Member predecessor() {
    return config.predecessorOf(selfId);
  }

  private boolean canServe() {
    return member && !catchingUp && hasLease();
  }

  // --------------------------------------------------------------------------------- writes

  private void onWrite(ClientRef ref, WriteRequest write) {
    KeyState state = admitWrite(ref, write.key(), write.delete() ? null : write.value());
    if (state == null) {
      return;
    }
    if (write.expectedVersion() != Message.ANY_VERSION && !conditionHolds(state, write)) {
      reply(
          ref,
          new ErrorReply(
              ErrorCode.VERSION_MISMATCH,
              "key "
                  + write.key()
                  + " is at version "
                  + state.committedVersion()
                  + (state.dirty.isEmpty() ? "" : " with writes in flight"),
              Long.toString(state.committedVersion())));
      releaseIfIdle(write.key(), state);
      return;
    }
    byte[] value = write.delete() ? new byte[0] : write.value();
    newVersion(state, write.delete(), value, PendingWrite.single(ref, now, value.length));
  }

  /**
   * The checks every single-key write, increment and append takes, in order: the key is of this
   * chain, this node is the head and serves, the key (and {@code value}, unless null) are within
   * the limits, the in-flight table has room, and no multi-key write of the key is in flight.
   * Returns the key's state, or null after answering with the refusal.
   */
  private KeyState admitWrite(ClientRef ref, String key, byte[] value) {
    if (!slice.contains(key)) {
      reply(ref, wrongChain(key));
      return null;
    }
    if (!isHead()) {
      reply(ref, notHead());
      return null;
    }
    if (!canServe()) {
      reply(ref, error(ErrorCode.UNAVAILABLE, unavailableReason()));
      return null;
    }
    try {
      Limits.checkKey(key);
      if (value != null) {
        Limits.checkValue(value, settings.valueBytesMax());
      }
    } catch (Limits.InvalidInputException e) {
      reply(ref, error(ErrorCode.INVALID_REQUEST, e.getMessage()));
      return null;
    }
    if (pendingWrites.size() >= settings.pendingWritesMax()) {
      reply(
          ref,
          error(ErrorCode.BUSY, "too many writes in flight (" + settings.pendingWritesMax() + ")"));
      return null;
    }
    if (value != null && !bytesFit(value.length)) {
      reply(ref, bytesBusy());
      return null;
    }
    KeyState state = stateFor(key);
    if (inMultiWrite(state)) {
      reply(ref, multiWriteInFlight(key));
      return null; // not idle: a version is in flight
    }
    return state;
  }

  /**
   * Gives the key its next version with {@code value} (or a tombstone), passes it down the chain,
   * and answers {@code pending} once it is committed.
   */
  private void newVersion(KeyState state, boolean delete, byte[] value, PendingWrite pending) {
    // CRAQ §2.3: the head numbers from the highest version it holds, clean or dirty.
    long version = state.highestVersion() + 1;
    VersionRecord record = new VersionRecord(state.key, version, delete, value);
    pendingWrites.put(new KeyVersion(state.key, version), pending);
    pendingBytes += pending.bytes();
    counts.writesAccepted++;
    acceptVersion(state, record);
  }

  /**
   * CRAQ §4.1 read-modify-write: the head adds to the newest value it holds (dirty included), so
   * increments in flight build on each other, and writes the sum as the key's next version. The
   * head orders every version of a key, so the increment takes effect at one point between the
   * versions before and after it, whatever happens to them later: it commits with them, or fails
   * over with them (an outcome then unknown, like a write's).
   */
  private void onIncrement(ClientRef ref, IncrementRequest increment) {
    KeyState state = admitWrite(ref, increment.key(), null);
    if (state == null) {
      return;
    }
    VersionRecord newest = state.newest();
    long sum;
    try {
      long current = newest == null || newest.tombstone() ? 0 : Int64Text.parse(newest.value());
      sum = Math.addExact(current, increment.delta());
    } catch (NumberFormatException e) {
      refuseUpdate(ref, state, error(ErrorCode.NOT_AN_INTEGER, Int64Text.NOT_AN_INTEGER));
      return;
    } catch (ArithmeticException e) {
      refuseUpdate(ref, state, error(ErrorCode.NOT_AN_INTEGER, Int64Text.OVERFLOW));
      return;
    }
    byte[] value = Int64Text.format(sum);
    if (value.length > settings.valueBytesMax()) {
      refuseUpdate(ref, state, tooLarge(increment.key(), value.length));
      return;
    }
    newVersion(state, false, value, PendingWrite.update(ref, now, sum, value.length));
  }

  /** CRAQ §4.1 read-modify-write: as {@link #onIncrement}, appending to the newest value. */
  private void onAppend(ClientRef ref, AppendRequest append) {
    KeyState state = admitWrite(ref, append.key(), append.suffix());
    if (state == null) {
      return;
    }
    VersionRecord newest = state.newest();
    byte[] current = newest == null || newest.tombstone() ? new byte[0] : newest.value();
    long length = (long) current.length + append.suffix().length;
    if (length > settings.valueBytesMax()) {
      refuseUpdate(ref, state, tooLarge(append.key(), length));
      return;
    }
    if (!bytesFit(length)) {
      refuseUpdate(ref, state, bytesBusy()); // each append in flight is a whole new value
      return;
    }
    byte[] value = Arrays.copyOf(current, (int) length);
    System.arraycopy(append.suffix(), 0, value, current.length, append.suffix().length);
    newVersion(state, false, value, PendingWrite.update(ref, now, length, length));
  }

  /**
   * True if a write of {@code bytes} more fits in the head's in-flight budget ({@link
   * NodeSettings#pendingBytesMax()}); one write always fits when none is in flight, so every value
   * within the limits can be written.
   */
  private boolean bytesFit(long bytes) {
    return pendingWrites.isEmpty() || pendingBytes + bytes <= settings.pendingBytesMax();
  }

  private ErrorReply bytesBusy() {
    return error(
        ErrorCode.BUSY,
        "too many bytes of writes in flight ("
            + pendingBytes
            + ", the limit is "
            + settings.pendingBytesMax()
            + "); retry later");
  }

  private void refuseUpdate(ClientRef ref, KeyState state, ErrorReply refusal) {
    reply(ref, refusal);
    releaseIfIdle(state.key, state);
  }

  private ErrorReply tooLarge(String key, long bytes) {
    return error(
        ErrorCode.INVALID_REQUEST,
        "nothing written: the value of "
            + key
            + " would be "
            + bytes
            + " bytes, the limit is "
            + settings.valueBytesMax());
  }

  /**
   * CRAQ §4.2 single-chain mini-transaction: checks every write, then gives each key its next
   * version in one step. The versions carry their group, and the tail commits them together.
   */
  private void onMultiWrite(ClientRef ref, MultiWriteRequest multi) {
    List<WriteRequest> writes = multi.writes();
    ErrorReply refusal = checkMultiWrite(writes);
    if (refusal != null) {
      reply(ref, refusal);
      return;
    }
    if (pendingWrites.size() >= settings.pendingWritesMax()) {
      reply(
          ref,
          error(ErrorCode.BUSY, "too many writes in flight (" + settings.pendingWritesMax() + ")"));
      return;
    }
    long bytes = 0;
    for (WriteRequest write : writes) {
      bytes += write.delete() ? 0 : write.value().length;
    }
    if (!bytesFit(bytes)) {
      reply(ref, bytesBusy());
      return;
    }
    List<KeyState> states = new ArrayList<>(writes.size());
    for (WriteRequest write : writes) {
      states.add(stateFor(write.key()));
    }
    ErrorReply conflict = null;
    for (int i = 0; i < writes.size() && conflict == null; i++) {
      WriteRequest write = writes.get(i);
      KeyState state = states.get(i);
      if (inMultiWrite(state)) {
        conflict = multiWriteInFlight(write.key());
      } else if (write.expectedVersion() != Message.ANY_VERSION && !conditionHolds(state, write)) {
        conflict =
            new ErrorReply(
                ErrorCode.VERSION_MISMATCH,
                "nothing written: key "
                    + write.key()
                    + " is at version "
                    + state.committedVersion()
                    + (state.dirty.isEmpty() ? "" : " with writes in flight")
                    + ", not "
                    + write.expectedVersion(),
                Long.toString(state.committedVersion()));
      }
    }
    if (conflict != null) {
      reply(ref, conflict);
      for (int i = 0; i < writes.size(); i++) {
        releaseIfIdle(writes.get(i).key(), states.get(i));
      }
      return;
    }
    List<KeyVersion> versions = new ArrayList<>(writes.size());
    for (int i = 0; i < writes.size(); i++) {
      // CRAQ §2.3: the head numbers from the highest version it holds, clean or dirty.
      versions.add(new KeyVersion(writes.get(i).key(), states.get(i).highestVersion() + 1));
    }
    List<KeyVersion> group = writes.size() == 1 ? List.of() : sortedByKey(versions);
    pendingWrites.put(versions.get(0), new PendingWrite(ref, now, versions, false, 0, bytes));
    pendingBytes += bytes;
    counts.writesAccepted++;
    for (int i = 0; i < writes.size(); i++) {
      WriteRequest write = writes.get(i);
      acceptVersion(
          states.get(i),
          new VersionRecord(
              write.key(),
              versions.get(i).version(),
              write.delete(),
              write.delete() ? new byte[0] : write.value(),
              group));
    }
  }

  /** Why a multi-key write cannot be taken here, or null if it can. */
  private ErrorReply checkMultiWrite(List<WriteRequest> writes) {
    if (writes.isEmpty()) {
      return error(ErrorCode.INVALID_REQUEST, "a multi-key write needs at least one key");
    }
    if (writes.size() > Limits.MULTI_WRITE_KEYS_MAX) {
      return error(
          ErrorCode.INVALID_REQUEST,
          "a multi-key write has at most "
              + Limits.MULTI_WRITE_KEYS_MAX
              + " keys, this one has "
              + writes.size());
    }
    Set<String> seen = new HashSet<>();
    long valueBytes = 0;
    for (WriteRequest write : writes) {
      try {
        Limits.checkKey(write.key());
        if (!write.delete()) {
          Limits.checkValue(write.value(), settings.valueBytesMax());
          valueBytes += write.value().length;
        }
      } catch (Limits.InvalidInputException e) {
        return error(ErrorCode.INVALID_REQUEST, e.getMessage());
      }
      if (!seen.add(write.key())) {
        return error(
            ErrorCode.INVALID_REQUEST,
            "key " + write.key() + " appears twice in a multi-key write");
      }
      if (!slice.contains(write.key())) {
        String first = writes.get(0).key();
        if (!slice.contains(first)) {
          return wrongChain(first);
        }
        return error(
            ErrorCode.INVALID_REQUEST,
            "keys "
                + first
                + " and "
                + write.key()
                + " are of different chains ("
                + slice.chain()
                + " and "
                + KeySlots.chainOf(write.key(), slice.chains())
                + "); a multi-key write needs keys of one chain: give them a common {hash tag}");
      }
    }
    if (valueBytes > settings.valueBytesMax()) {
      return error(
          ErrorCode.INVALID_REQUEST,
          "the values of a multi-key write are "
              + valueBytes
              + " bytes together, the limit is "
              + settings.valueBytesMax());
    }
    if (!isHead()) {
      return notHead();
    }
    if (!canServe()) {
      return error(ErrorCode.UNAVAILABLE, unavailableReason());
    }
    return null;
  }

  /**
   * True if a version of this key written by a multi-key write is in flight. The head takes no
   * other write of such a key until it is committed: a newer version committing first would make
   * part of the multi-key write visible before the rest.
   */
  private static boolean inMultiWrite(KeyState state) {
    for (VersionRecord record : state.dirty.values()) {
      if (record.grouped()) {
        return true;
      }
    }
    return false;
  }

  /** The refusal of a write sent to a node that is not the head; the hint is the head's address. */
  private ErrorReply notHead() {
    Member head = config.head();
    return new ErrorReply(
        ErrorCode.NOT_HEAD, selfId + " is not the head", head == null ? "" : head.address());
  }

  private ErrorReply multiWriteInFlight(String key) {
    return error(
        ErrorCode.BUSY,
        "key " + key + " is being written by a multi-key write that is not committed yet");
  }

  private static List<KeyVersion> sortedByKey(List<KeyVersion> versions) {
    List<KeyVersion> sorted = new ArrayList<>(versions);
    sorted.sort((a, b) -> KeyOrder.INSTANCE.compare(a.key(), b.key()));
    return List.copyOf(sorted);
  }

  /** CRAQ §4.1 test-and-set: the committed version matches and nothing is in flight. */
  private static boolean conditionHolds(KeyState state, WriteRequest write) {
    if (!state.dirty.isEmpty()) {
      return false;
    }
    long expected = write.expectedVersion();
    if (expected == 0) {
      return state.committed == null || state.committed.tombstone();
    }
    return state.committedVersion() == expected;
  }

  /**
   * Stores a new version (head or from the predecessor) dirty and passes it on at once; it is
   * committed (tail) or passed on as durable once it is durable here and above (see {@link
   * DurabilityTracker}).
   */
  private void acceptVersion(KeyState state, VersionRecord record) {
    state.dirty.put(record.version(), record);
    long seq = persist(state, record.key(), new PutVersion(record, false));
    KeyVersion id = new KeyVersion(record.key(), record.version());
    durability.accepted(id, seq, predecessor() != null);
    if (!isTail()) {
      forward(record);
    }
  }

  /**
   * Puts a version in the next propagation. A version of a multi-key write takes the others of its
   * group that this node holds along, so a group travels in one message (see {@link
   * #sendPropagates}) and a node holds all of it or none.
   */
  private void forward(VersionRecord record) {
    if (!record.grouped()) {
      forwardOne(record, new KeyVersion(record.key(), record.version()));
      return;
    }
    for (KeyVersion member : record.group()) {
      KeyState state = keys.get(member.key());
      VersionRecord held = state == null ? null : state.dirty.get(member.version());
      if (held != null && outPropagateIds.add(member)) {
        forwardOne(held, member);
      }
    }
  }

  private void forwardOne(VersionRecord record, KeyVersion id) {
    outPropagate.add(record);
    retransmits.sent(id, now);
    if (isDurableHereAndAbove(id)) {
      outDurable.add(id); // a resend: the successor may have missed that it is durable, too
    }
  }

  private boolean isDurableHereAndAbove(KeyVersion id) {
    return durability.isDurableHereAndAbove(id);
  }

  /**
   * Dirty version {@code id} is now durable here and at every node above: the tail commits it, any
   * other node tells its successor.
   */
  private void becameDurable(KeyVersion id) {
    KeyState state = keys.get(id.key());
    VersionRecord record = state == null ? null : state.dirty.get(id.version());
    if (record == null) {
      return; // superseded meanwhile
    }
    if (!isTail()) {
      outDurable.add(id);
    } else if (record.grouped()) {
      commitGroupAtTail(record);
    } else {
      commitHere(state, record, new CommitVersion(id.key(), id.version()), true);
    }
  }

  /**
   * CRAQ §4.2: the tail commits the versions of a multi-key write in one step, once every one of
   * them is durable here and above (or committed here already); until then it commits none of them.
   * Returns whether it committed them.
   */
  private boolean commitGroupAtTail(VersionRecord record) {
    List<VersionRecord> toCommit = new ArrayList<>(record.group().size());
    for (KeyVersion member : record.group()) {
      KeyState state = keys.get(member.key());
      long committed =
          state == null ? store.committedVersion(member.key()) : state.committedVersion();
      if (committed >= member.version()) {
        continue;
      }
      VersionRecord held = state == null ? null : state.dirty.get(member.version());
      if (held == null || !isDurableHereAndAbove(member)) {
        blockedGroups.add(new KeyVersion(record.key(), record.version()));
        return false;
      }
      toCommit.add(held);
    }
    counts.multiWritesCommitted++;
    for (VersionRecord held : toCommit) {
      commitHere(keys.get(held.key()), held, new CommitVersion(held.key(), held.version()), true);
    }
    return true;
  }

  private void onDurable(Durable durable) {
    if (!fromPeer(durable.epoch(), durable.from(), predecessor())) {
      return;
    }
    for (KeyVersion id : durable.versions()) {
      if (durability.durableAbove(id)) {
        becameDurable(id);
      }
    }
  }

  private void onPropagate(Propagate propagate) {
    if (!fromPeer(propagate.epoch(), propagate.from(), predecessor())) {
      return;
    }
    counts.propagationsReceived++;
    for (VersionRecord record : propagate.versions()) {
      KeyState state = stateFor(record.key());
      if (record.version() <= state.committedVersion()) {
        // Already committed here (a resend): tell the predecessor again, it may have missed it.
        outCommit.add(new KeyVersion(record.key(), state.committedVersion()));
      } else if (!state.dirty.containsKey(record.version())) {
        counts.propagatedVersionsReceived++;
        acceptVersion(state, record);
      }
      releaseIfIdle(record.key(), state);
    }
  }

  private void onCommit(Commit commit) {
    if (!fromPeer(commit.epoch(), commit.from(), successor())) {
      return;
    }
    for (KeyVersion kv : commit.versions()) {
      KeyState state = keys.get(kv.key());
      if (state == null || kv.version() <= state.committedVersion()) {
        continue;
      }
      VersionRecord record = state.dirty.get(kv.version());
      if (record == null) {
        // Never delete on an unknown commit; catch-up will bring the version.
        continue;
      }
      commitHere(state, record, new CommitVersion(kv.key(), kv.version()), true);
    }
  }

  /**
   * Makes {@code record} the clean version of its key and persists it with {@code op}; then stops
   * retransmitting it and the dirty versions it supersedes, passes the commit up if asked, and
   * answers the client writes it completes. Costs O(versions committed), not O(in flight).
   */
  private void commitHere(
      KeyState state, VersionRecord record, Effects.StoreOp op, boolean tellPredecessor) {
    String key = record.key();
    copiedDirty.computeIfPresent(key, (k, copied) -> copied <= record.version() ? null : copied);
    List<Long> superseded = new ArrayList<>(state.dirty.headMap(record.version(), false).keySet());
    superseded.add(record.version());
    state.commit(record);
    persist(state, key, op);
    counts.versionsCommitted++;
    for (long version : superseded) {
      KeyVersion id = new KeyVersion(key, version);
      durability.forget(id);
      retransmits.done(id, now, version == record.version());
      PendingWrite pending = pendingWrites.remove(id);
      if (pending != null) {
        pendingBytes -= pending.bytes();
        // Versions of one key commit in order: an older one is superseded, so it took effect.
        // A multi-key write's versions commit together: one of them committed, all did.
        reply(pending.ref(), pending.answer(key, version));
      }
    }
    if (tellPredecessor && predecessor() != null) {
      outCommit.add(new KeyVersion(key, record.version()));
    }
  }

  private void retryBlockedGroups() {
    if (blockedGroups.isEmpty()) {
      return;
    }
    List<KeyVersion> blocked = new ArrayList<>(blockedGroups);
    blockedGroups.clear();
    if (!isTail()) {
      return; // the next tail commits them when it becomes the tail (commitAllDirty)
    }
    for (KeyVersion id : blocked) {
      KeyState state = keys.get(id.key());
      VersionRecord record = state == null ? null : state.dirty.get(id.version());
      if (record != null && isDurableHereAndAbove(id)) {
        commitGroupAtTail(record); // puts it back if still blocked
      }
    }
  }

  /** Ticks without a commit after which a version is resent (see {@link Retransmits}). */
  long retransmitTimeoutTicks() {
    return retransmits.timeoutTicks();
  }

  /**
   * Retransmits versions the successor has not acknowledged within the retransmit timeout (bounded
   * per tick).
   */
  private void retransmit() {
    if (retransmits.isEmpty() || successor() == null) {
      return;
    }
    boolean resent = false;
    for (KeyVersion kv : retransmits.due(now, settings.resendBatchMax())) {
      KeyState state = keys.get(kv.key());
      VersionRecord record = state == null ? null : state.dirty.get(kv.version());
      if (record == null) {
        retransmits.done(kv, now, false);
      } else {
        counts.versionsResent++;
        resent = true;
        forward(record);
      }
    }
    if (resent) {
      retransmits.backOff();
    }
  }

  private void expireWrites() {
    Iterator<Map.Entry<KeyVersion, PendingWrite>> it = pendingWrites.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<KeyVersion, PendingWrite> e = it.next();
      if (now - e.getValue().tick() < settings.writeTimeoutTicks()) {
        break; // insertion order = age order
      }
      reply(
          e.getValue().ref(),
          error(
              ErrorCode.AMBIGUOUS,
              (e.getValue().multi() == null
                      ? "write " + e.getKey()
                      : "multi-key write of " + e.getValue().multi())
                  + " not committed in time; it may still take effect"));
      pendingBytes -= e.getValue().bytes();
      it.remove();
    }
  }

  private void failAllWrites(String why) {
    for (PendingWrite pending : pendingWrites.values()) {
      reply(pending.ref(), error(ErrorCode.AMBIGUOUS, why + "; the write may still take effect"));
    }
    pendingWrites.clear();
    pendingBytes = 0;
  }

  // ---------------------------------------------------------------------------------- reads

  private void onRead(ClientRef ref, ReadRequest read) {
    if (!slice.contains(read.key())) {
      answerRead(ref, false, wrongChain(read.key()));
      return;
    }
    if (!member || catchingUp || (read.mode() != ReadMode.EVENTUAL && !hasLease())) {
      answerRead(ref, false, error(ErrorCode.UNAVAILABLE, unavailableReason()));
      return;
    }
    try {
      Limits.checkKey(read.key());
    } catch (Limits.InvalidInputException e) {
      answerRead(ref, false, error(ErrorCode.INVALID_REQUEST, e.getMessage()));
      return;
    }
    KeyState state = keys.get(read.key());
    if (state == null) {
      // Nothing in flight: the store's committed version is the newest there is, and clean.
      answerRead(ref, false, readReply(read.key(), store.committedRecord(read.key()), false));
      return;
    }
    switch (read.mode()) {
      case EVENTUAL ->
          answerRead(ref, false, readReply(read.key(), state.newest(), !state.dirty.isEmpty()));
      case BOUNDED -> {
        if (state.dirty.isEmpty()
            || state.highestVersion() - state.committedVersion() <= read.bound()) {
          answerRead(ref, false, readReply(read.key(), state.newest(), !state.dirty.isEmpty()));
        } else {
          strongRead(ref, read.key(), state);
        }
      }
      case STRONG -> strongRead(ref, read.key(), state);
    }
  }

  /** CRAQ §2.3: clean -> local; dirty -> ask the tail which version is committed. */
  private void strongRead(ClientRef ref, String key, KeyState state) {
    if (isTail() && copiedDirtyPending(key, state)) {
      answerRead(
          ref,
          false,
          error(
              ErrorCode.UNAVAILABLE,
              selfId
                  + " re-joined as tail and copied a version of this key that an earlier tail may"
                  + " have committed; retry when it is committed here"));
      return;
    }
    if (state.dirty.isEmpty() || isTail()) {
      answerRead(ref, false, readReply(key, state.committed, false));
      return;
    }
    if (!versionQueries.enqueue(ref, key, now)) {
      answerRead(ref, false, error(ErrorCode.BUSY, "too many reads waiting for the tail"));
    }
  }

  private void onVersionReply(VersionReply versionReply) {
    VersionQueries.Query query = versionQueries.answered(versionReply.queryId());
    if (query == null) {
      return; // timed out or failed already
    }
    if (versionReply.error() != null
        || query.epoch() != config.epoch()
        || versionReply.versions().size() != query.reads().size()) {
      for (VersionQueries.PendingRead read : query.reads()) {
        answerRead(
            read.ref(),
            true,
            error(
                ErrorCode.UNAVAILABLE,
                "the tail did not answer the version query"
                    + (versionReply.error() == null ? "" : ": " + versionReply.error())));
      }
      return;
    }
    for (int i = 0; i < query.reads().size(); i++) {
      VersionQueries.PendingRead read = query.reads().get(i);
      long tailVersion = versionReply.versions().get(i).version();
      answerRead(read.ref(), true, readAtTailVersion(read.key(), tailVersion));
    }
  }

  /**
   * The read answer for the tail's committed version. If this node has meanwhile learned of a newer
   * commit it returns that one: it was committed after the query reached the tail, so within the
   * read's interval.
   */
  private Message readAtTailVersion(String key, long tailVersion) {
    KeyState state = keys.get(key);
    if (state == null) {
      // Committed meanwhile and left memory: the store holds the newest committed version.
      VersionRecord committed = store.committedRecord(key);
      if (tailVersion <= (committed == null ? 0 : committed.version())) {
        return readReply(key, committed, false);
      }
      return error(
          ErrorCode.UNAVAILABLE,
          "tail committed " + key + "@" + tailVersion + " which this node does not hold");
    }
    if (tailVersion <= state.committedVersion()) {
      return readReply(key, state.committed, false);
    }
    VersionRecord record = state.dirty.get(tailVersion);
    if (record == null) {
      // Rule (1) says this cannot happen within one epoch; refuse rather than guess.
      return error(
          ErrorCode.UNAVAILABLE,
          "tail committed " + key + "@" + tailVersion + " which this node does not hold");
    }
    return readReply(key, record, false);
  }

  private void expireQueries() {
    failReads(
        versionQueries.expired(now, settings.versionQueryTimeoutTicks()),
        "the tail did not answer in time");
  }

  private void failReads(List<VersionQueries.PendingRead> reads, String why) {
    for (VersionQueries.PendingRead read : reads) {
      answerRead(read.ref(), true, error(ErrorCode.UNAVAILABLE, why));
    }
  }

  private void onVersionQuery(VersionQuery query) {
    Member to = config.member(query.from());
    if (to == null) {
      return; // not a member in our epoch: we have no address to answer, and it will refresh
    }
    ErrorCode refusal = null;
    if (query.epoch() != config.epoch()) {
      refusal = ErrorCode.STALE_EPOCH;
    } else if (!isTail()) {
      refusal = ErrorCode.NOT_TAIL; // only the real tail may answer: its commits are the truth
    } else if (!canServe()) {
      refusal = ErrorCode.UNAVAILABLE;
    }
    if (refusal != null) {
      counts.versionQueriesRefused++;
      send(to, new VersionReply(config.epoch(), selfId, query.queryId(), List.of(), refusal));
      return;
    }
    for (String key : query.keys()) {
      if (copiedDirtyPending(key, keys.get(key))) {
        counts.versionQueriesRefused++;
        send(
            to,
            new VersionReply(
                config.epoch(), selfId, query.queryId(), List.of(), ErrorCode.UNAVAILABLE));
        return;
      }
    }
    counts.versionQueriesServed++;
    counts.versionQueryKeysServed += query.keys().size();
    List<KeyVersion> answer = new ArrayList<>(query.keys().size());
    for (String key : query.keys()) {
      KeyState state = keys.get(key);
      answer.add(
          new KeyVersion(
              key, state == null ? store.committedVersion(key) : state.committedVersion()));
    }
    send(to, new VersionReply(config.epoch(), selfId, query.queryId(), answer, null));
  }

  /**
   * One page of committed versions in key order, tombstones included (they let the reader move past
   * deleted keys; clients leave them out). Keys with no committed version yet are skipped, but a
   * page with entries is returned whenever one exists, so a reader always makes progress.
   */
  private void onReadAll(ClientRef ref, ReadAllRequest request) {
    if (!member || catchingUp) {
      reply(ref, error(ErrorCode.UNAVAILABLE, unavailableReason()));
      return;
    }
    int limit = Math.max(1, Math.min(request.limit(), settings.catchUpKeysMax()));
    List<VersionRecord> entries = new ArrayList<>();
    String after = request.afterKey().isEmpty() ? null : request.afterKey();
    KeyPage page;
    do {
      page = page(after, limit, PAGE_BYTES_SOFT_MAX);
      for (KeyRecord record : page.records()) {
        if (record.committed() != null) {
          entries.add(record.committed());
        }
      }
      after = page.resumeAfterKey();
    } while (entries.isEmpty() && !page.done());
    reply(ref, new ReadAllReply(entries, !page.done()));
  }

  private static ReadReply readReply(String key, VersionRecord record, boolean dirty) {
    if (record == null) {
      return new ReadReply(key, false, 0, new byte[0], false);
    }
    if (record.tombstone()) {
      return new ReadReply(key, false, record.version(), new byte[0], dirty);
    }
    return new ReadReply(key, true, record.version(), record.value(), dirty);
  }

  // ---------------------------------------------------------------------- membership and lease

  private void sendHeartbeat() {
    lastHeartbeatTick = now;
    heartbeatSeq++;
    heartbeatSentTicks.put(heartbeatSeq, now);
    while (heartbeatSentTicks.size() > 64) {
      heartbeatSentTicks.remove(heartbeatSentTicks.keySet().iterator().next());
    }
    send(
        Effects.COORDINATOR,
        new Heartbeat(selfId, config.epoch(), heartbeatSeq, member && !catchingUp));
  }

  private void onHeartbeatReply(HeartbeatReply heartbeatReply) {
    if (!heartbeatReply.nodeId().equals(selfId)) {
      return;
    }
    adoptConfig(heartbeatReply.config());
    Long sentTick = heartbeatSentTicks.get(heartbeatReply.seq());
    if (sentTick != null
        && heartbeatReply.member()
        && member
        && heartbeatReply.config().epoch() == config.epoch()) {
      // The lease runs from when the heartbeat was sent, which is before the coordinator heard
      // it: the coordinator's failure timeout, counted from hearing it, ends later (CRAQ §2.5).
      leaseExpiryTick = Math.max(leaseExpiryTick, sentTick + settings.leaseTicks());
    }
  }

  /** Takes a newer configuration and performs the reconfiguration rules of CR §3 / CRAQ §2.5. */
  private void adoptConfig(ChainConfig next) {
    if (next.epoch() <= config.epoch()) {
      return;
    }
    flushOutbound(); // what was batched for the old neighbours goes out under the old epoch
    boolean wasTail = isTail();
    Member self = next.member(selfId);
    if (self != null && self.incarnation() != incarnation) {
      // An entry of an earlier run of this process: the coordinator has not seen our join yet.
      // Acting on it could make us head with a store that lacks versions the earlier run sent on
      // before they were durable; we wait until the coordinator places this run.
      self = null;
    }
    config = next;
    if (self == null) {
      if (member) {
        member = false;
        leaseExpiryTick = Long.MIN_VALUE / 2;
        failAllWrites(selfId + " left the chain");
        failQueries("the chain changed");
        retransmits.clear();
      }
      return;
    }
    failQueries("the chain changed");
    if (!member || self.joinedEpoch() != joinedEpoch) {
      startJoin(self);
    } else if (!isHead()) {
      failAllWrites(selfId + " is no longer the head");
    }
    if (predecessor() == null) {
      releaseUpstream();
    }
    if (isTail() && !wasTail) {
      commitAllDirty();
    }
    if (successor() != null) {
      resendAllDirty();
    }
  }

  /**
   * (Re-)joined: anything dirty may be stale (versions reassigned while we were out), so drop it,
   * and catch up from the predecessor before serving reads.
   */
  private void startJoin(Member self) {
    member = true;
    copiedDirty.clear();
    joinedEpoch = self.joinedEpoch();
    failAllWrites(selfId + " re-joined the chain");
    retransmits.clear();
    boolean firstJoin = !joinedBefore;
    joinedBefore = true;
    if (predecessor() == null) {
      // Head: the coordinator gives the head only to a node with a complete copy, so what it
      // holds, dirty included, is the newest the chain has; it will resend it downstream.
      catchingUp = false;
      catchUpRequestId = 0;
      if (firstJoin) {
        commitRecovered();
      }
      return;
    }
    List<String> hadDirty = new ArrayList<>();
    for (Map.Entry<String, KeyState> e : keys.entrySet()) {
      if (!e.getValue().dirty.isEmpty()) {
        hadDirty.add(e.getKey());
        e.getValue().dirty.clear();
      }
    }
    durability.clear();
    if (!hadDirty.isEmpty()) {
      long seq = persist(new DiscardAllDirty(slice));
      for (String key : hadDirty) {
        keyChanged(keys.get(key), key, seq); // in memory until the store has dropped them too
      }
    }
    for (String key : new ArrayList<>(keys.keySet())) {
      releaseIfIdle(key, keys.get(key));
    }
    catchingUp = true;
    catchUpDurableSeq = -1;
    catchUpCursor = "";
    requestCatchUp();
  }

  /**
   * A restarted process that comes back as head held the only complete copy, and the others catch
   * up from it afresh. The dirty versions it recovered may have been committed, and read, before
   * the crash took the commit marker (markers are made durable lazily, see {@link Effects}); until
   * the tail committed them again, a read could see an older version. So the head commits them at
   * once: each is durable here, and its write's outcome was never given as a failure (a write's
   * client is told AMBIGUOUS once its version exists), so it may take effect.
   */
  private void commitRecovered() {
    for (KeyState state : new ArrayList<>(keys.values())) {
      if (!state.dirty.isEmpty()) {
        VersionRecord newest = state.dirty.lastEntry().getValue();
        commitHere(state, newest, new CommitVersion(newest.key(), newest.version()), false);
      }
    }
    durability.clearAbove();
  }

  /**
   * CR §3: a new tail commits what it holds and tells the chain: per key, the newest version
   * durable here and above at once; the others when they become so ({@link #becameDurable}).
   */
  private void commitAllDirty() {
    for (Map.Entry<String, KeyState> e : keys.entrySet()) {
      KeyState state = e.getValue();
      for (VersionRecord record : new ArrayList<>(state.dirty.descendingMap().values())) {
        if (!isDurableHereAndAbove(new KeyVersion(e.getKey(), record.version()))) {
          continue;
        }
        if (!record.grouped()) {
          commitHere(state, record, new CommitVersion(e.getKey(), record.version()), true);
          break;
        }
        if (commitGroupAtTail(record)) {
          break;
        }
        // Not all of its multi-key write is here and durable: an older version may commit.
      }
    }
    retransmits.clear();
  }

  /** The head has no node above it: what waited only for durability above is durable. */
  private void releaseUpstream() {
    for (KeyVersion id : durability.noneAbove()) {
      becameDurable(id);
    }
  }

  /** CR §3: a new successor may lack any dirty version: send them all, before anything new. */
  private void resendAllDirty() {
    retransmits.clear();
    for (KeyState state : keys.values()) {
      for (VersionRecord record : state.dirty.values()) {
        forward(record);
      }
    }
  }

  private void failQueries(String why) {
    failReads(versionQueries.takeAll(), why);
  }

  // ---------------------------------------------------------------------------------- catch-up

  /** Ends a catch-up whose last page has arrived once all its pages are durable here. */
  private void finishCatchUpIfDurable() {
    if (catchingUp && catchUpDurableSeq >= 0 && persistedSeq >= catchUpDurableSeq) {
      catchingUp = false;
      catchUpDurableSeq = -1;
    }
  }

  private void requestCatchUp() {
    // Catch up from the predecessor: it holds a superset of everything downstream. The
    // coordinator keeps a caught-up node at the head whenever one exists, so a head has nothing
    // to copy (it is the first member, or every member is new).
    Member source = predecessor();
    if (source == null) {
      catchingUp = false;
      catchUpRequestId = 0;
      return;
    }
    catchUpRequestId = nextCatchUpRequestId++;
    catchUpRequestTick = now;
    send(
        source,
        new CatchUpRequest(
            config.epoch(), selfId, catchUpRequestId, catchUpCursor, settings.catchUpKeysMax()));
  }

  private void onCatchUpRequest(CatchUpRequest request) {
    Member asker = config.member(request.from());
    if (request.epoch() != config.epoch() || asker == null || !member || catchingUp) {
      return; // the asker retries; a node still catching up has nothing reliable to give
    }
    int keysMax = Math.max(1, Math.min(request.keysMax(), settings.catchUpKeysMax()));
    // The asker stops at an empty page: skip past keys that turn out to be gone.
    String after = request.afterKey().isEmpty() ? null : request.afterKey();
    KeyPage merged;
    do {
      merged = page(after, keysMax, PAGE_BYTES_SOFT_MAX);
      after = merged.resumeAfterKey();
    } while (merged.records().isEmpty() && !merged.done());
    List<KeyRecord> page = merged.records();
    flushOutbound(); // versions sent before this page must arrive before it
    send(asker, new CatchUpBatch(config.epoch(), selfId, request.requestId(), page, merged.done()));
    if (asker.equals(successor())) {
      // The asker takes the page's dirty versions now; which of them are durable up to here
      // went to it before it held them (or will, when they become so).
      List<KeyVersion> durable = new ArrayList<>();
      for (KeyRecord record : page) {
        for (VersionRecord dirty : record.dirty()) {
          KeyVersion id = new KeyVersion(record.key(), dirty.version());
          if (isDurableHereAndAbove(id)) {
            durable.add(id);
          }
        }
      }
      if (!durable.isEmpty()) {
        send(asker, new Durable(config.epoch(), selfId, durable));
      }
    }
  }

  private void onCatchUpBatch(CatchUpBatch batch) {
    if (!catchingUp || batch.epoch() != config.epoch() || batch.requestId() != catchUpRequestId) {
      return;
    }
    counts.catchUpPagesReceived++;
    counts.catchUpKeysReceived += batch.keys().size();
    for (KeyRecord record : batch.keys()) {
      applyCatchUp(record);
    }
    if (batch.done() || batch.keys().isEmpty()) {
      catchUpRequestId = 0;
      // Caught up once every page is durable here: pages are separate store batches, and a
      // multi-key write's versions may come in two of them. A member that said it was caught up
      // with only some of a group durable could, after every copy crashed, come back as the only
      // complete copy and commit part of it.
      catchUpDurableSeq = persistSeq;
      finishCatchUpIfDurable();
      return;
    }
    catchUpCursor = batch.keys().get(batch.keys().size() - 1).key();
    requestCatchUp();
  }

  /**
   * Merges one key from the source: the newer committed version wins, and the source's dirty
   * versions above it are taken (they were sent to us or will be; duplicates are idempotent).
   */
  private void applyCatchUp(KeyRecord record) {
    KeyState state = stateFor(record.key());
    VersionRecord theirs = record.committed();
    if (theirs != null && theirs.version() > state.committedVersion()) {
      commitHere(state, theirs, new PutVersion(theirs, true), isTail());
    }
    for (VersionRecord dirty : record.dirty()) {
      if (dirty.version() <= state.committedVersion()) {
        continue;
      }
      if (!state.dirty.containsKey(dirty.version())) {
        acceptVersion(state, dirty);
      }
      // Held already or not (a restarted node may have kept it from before), it may be committed
      // at an earlier tail.
      copiedDirty.merge(record.key(), dirty.version(), Math::max);
    }
    releaseIfIdle(record.key(), state);
  }

  /**
   * True if {@code key} has a dirty version copied from the predecessor while catching up that is
   * not committed here yet. Such a version may have been committed, and read, at an earlier tail
   * (this node before a crash took its lazily written commit marker) while the predecessor never
   * heard of the commit: a tail must not answer with an older committed version until it has
   * committed the copy itself (CRAQ §2.3 makes the tail's committed version the truth).
   */
  private boolean copiedDirtyPending(String key, KeyState state) {
    Long copied = copiedDirty.get(key);
    if (copied == null) {
      return false;
    }
    if (state == null || state.committedVersion() >= copied || state.dirty.isEmpty()) {
      copiedDirty.remove(key); // committed, or dropped with every dirty version
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------------------------- plumbing

  private boolean fromPeer(long epoch, String from, Member expected) {
    if (!member || epoch != config.epoch()) {
      if (epoch > config.epoch()) {
        sendHeartbeat(); // we are behind: the reply carries the newer configuration
      }
      return false; // CRAQ §2.5: never act on a message from another configuration
    }
    return expected != null && expected.id().equals(from);
  }

  /** The key's in-memory state, read from the store if the key has none yet. */
  private KeyState stateFor(String key) {
    KeyState state = keys.get(key);
    if (state == null) {
      state = new KeyState(key, store.committedRecord(key));
      keys.put(key, state);
    }
    return state;
  }

  /** Lets the key leave memory if nothing is in flight for it: the store answers for it then. */
  private void releaseIfIdle(String key, KeyState state) {
    if (state.dirty.isEmpty() && state.lastPersistSeq <= persistedSeq) {
      keys.remove(key);
    }
  }

  /** Store changes up to {@code seq} are done: keys they kept in memory may leave. */
  private void releaseKeysDoneBy(long seq) {
    while (!keyChanges.isEmpty() && keyChanges.peekFirst().seq() <= seq) {
      String key = keyChanges.pollFirst().key();
      KeyState state = keys.get(key);
      if (state != null) {
        releaseIfIdle(key, state);
      }
    }
  }

  /**
   * One page of keys after {@code afterKey} (from the first when null): the store's, with the state
   * of the keys held in memory in their place (theirs is newer).
   */
  private KeyPage page(String afterKey, int keysMax, long bytesSoftMax) {
    TreeSet<String> held = new TreeSet<>(KeyOrder.INSTANCE);
    held.addAll(keys.keySet());
    return KeyPages.overlay(
        store.readKeys(afterKey, keysMax, bytesSoftMax),
        afterKey,
        held,
        key -> keys.get(key).isEmpty() ? null : keys.get(key).toRecord(),
        keysMax,
        bytesSoftMax);
  }

  private String unavailableReason() {
    if (!member) {
      return selfId + " is not a member of the chain";
    }
    if (catchingUp) {
      return selfId + " is catching up";
    }
    return selfId + " has no lease from the coordinator";
  }

  private void flushOutbound() {
    Member successor = successor();
    if (!outPropagate.isEmpty() && successor != null) {
      sendPropagates(successor);
    }
    outPropagate.clear();
    outPropagateIds.clear();
    Member predecessor = predecessor();
    if (!outCommit.isEmpty() && predecessor != null) {
      send(predecessor, new Commit(config.epoch(), selfId, new ArrayList<>(outCommit)));
    }
    outCommit.clear();
    if (!outDurable.isEmpty() && successor != null) {
      send(successor, new Durable(config.epoch(), selfId, new ArrayList<>(outDurable)));
    }
    outDurable.clear();
    if (versionQueries.hasQueued()) {
      long queryId = versionQueries.takeQueued(config.epoch(), now);
      List<VersionQueries.PendingRead> reads = versionQueries.query(queryId).reads();
      List<String> keyList = new ArrayList<>(reads.size());
      for (VersionQueries.PendingRead read : reads) {
        keyList.add(read.key());
      }
      counts.versionQueriesSent++;
      counts.versionQueryKeysSent += keyList.size();
      send(config.tail(), new VersionQuery(config.epoch(), selfId, queryId, keyList));
    }
  }

  /**
   * Sends {@link #outPropagate} in messages of at most {@link #PAGE_BYTES_SOFT_MAX} value bytes (at
   * least one version each), so a burst of large values never exceeds a frame.
   */
  private void sendPropagates(Member successor) {
    List<VersionRecord> chunk = new ArrayList<>();
    long bytes = 0;
    List<KeyVersion> previousGroup = List.of();
    for (VersionRecord record : outPropagate) {
      // The versions of one multi-key write are next to each other (see forward) and stay in
      // one message; the group bound keeps such a message within a frame.
      boolean sameGroup = record.grouped() && record.group().equals(previousGroup);
      if (!chunk.isEmpty() && !sameGroup && bytes + record.payloadBytes() > PAGE_BYTES_SOFT_MAX) {
        send(successor, new Propagate(config.epoch(), selfId, chunk));
        chunk = new ArrayList<>();
        bytes = 0;
      }
      chunk.add(record);
      bytes += record.payloadBytes();
      previousGroup = record.group();
    }
    send(successor, new Propagate(config.epoch(), selfId, chunk));
  }

  /** Asks the driver for a store change; returns its sequence number (see onPersisted). */
  private long persist(Effects.StoreOp op) {
    effects.persist().add(op);
    return ++persistSeq;
  }

  /** Asks for a store change of {@code key}, which stays in memory until the change is done. */
  private long persist(KeyState state, String key, Effects.StoreOp op) {
    long seq = persist(op);
    keyChanged(state, key, seq);
    return seq;
  }

  private void keyChanged(KeyState state, String key, long seq) {
    state.lastPersistSeq = seq;
    keyChanges.addLast(new KeyChange(seq, key));
  }

  private void send(Member to, Message message) {
    effects.sends().add(new Effects.Send(to, message));
  }

  /**
   * Answers a read and counts how it was answered: each read is counted once, when answered. {@code
   * afterQuery}: the read waited for a version query (then an answer is never dirty).
   */
  private void answerRead(ClientRef ref, boolean afterQuery, Message answer) {
    if (!(answer instanceof ReadReply read)) {
      counts.readsRefused++;
    } else if (afterQuery) {
      counts.readsAfterQuery++;
    } else if (read.dirty()) {
      counts.readsDirty++;
    } else {
      counts.readsClean++;
    }
    reply(ref, answer);
  }

  private void reply(ClientRef ref, Message message) {
    effects.replies().add(new Effects.Reply(ref, message));
  }

  /**
   * The refusal of a key of another chain. The node routes keys to their chains' machines, so this
   * is a defence only; the machine knows no map version, so its hint is 0 (any map).
   */
  private ErrorReply wrongChain(String key) {
    return new ErrorReply(
        ErrorCode.WRONG_CHAIN,
        "key " + key + " is not of " + slice + ", the chain this machine of " + selfId + " serves",
        "0");
  }

  private static ErrorReply error(ErrorCode code, String message) {
    return new ErrorReply(code, message, "");
  }
}

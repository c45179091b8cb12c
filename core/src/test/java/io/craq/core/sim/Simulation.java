package io.craq.core.sim;

import io.craq.check.HistoryRecorder;
import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Effects.PersistMap;
import io.craq.core.Effects.PutVersion;
import io.craq.core.chain.KeySlots;
import io.craq.core.chain.Placement;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.coordinator.MapMachine;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.AppendRequest;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.IncrementRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.UpdateReply;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.node.NodeCounters;
import io.craq.core.node.NodeHost;
import io.craq.core.node.NodeMachine;
import io.craq.core.node.NodeSettings;
import io.craq.core.node.PersistSchedule;
import io.craq.core.store.ModelStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A whole CRAQ cluster in one thread: a coordinator, nodes and clients over a {@link SimNetwork},
 * with crashes (storage keeps what was persisted), pauses, partitions, coordinator restarts, nodes
 * joining the pool and leaving it, all drawn from one seed. Clients record a history for the
 * linearizability checker.
 *
 * <p>The processes are driven as their real drivers drive them: each node is a {@link NodeHost} (a
 * machine per chain over one store), the coordinator a {@link MapMachine} whose chain map is its
 * disk. A node's sends to the coordinator are a {@link Message.NodeHello} (answered with the map)
 * or a {@link Chained} join, heartbeat or leave of one chain, whose answer, never wrapped, the
 * node's driver hands back in the chain it asked about; everything between nodes travels in {@link
 * Chained} envelopes. Clients route each key by the chain map ({@link KeySlots}) and refresh it on
 * {@code WRONG_CHAIN}. With one chain and the single-chain settings every node is a member of the
 * one chain, as ever; with several ({@link SimOptions#manyChains}), the coordinator places chains
 * on the pool, moves them onto nodes that join and off nodes that an operator asks to leave (the
 * operator stops such a node once the map lists it in no chain).
 *
 * <p>With {@link SimOptions#zookeeper()}, the single file-based coordinator gives way to several
 * {@link SimCoordinator}s that keep the map in a {@link SimZooKeeper} and elect a leader there;
 * nodes and clients follow the leader by redirects. Further faults: coordinator crashes and pauses
 * (the leader past its session timeout), coordinators cut from the store or from nodes, and the
 * store losing its quorum.
 *
 * <p>Invariants checked as the run goes, per chain: at most one configuration per epoch among all
 * that were stored, persisted or sent by any coordinator; nothing sent beyond the newest stored
 * epoch (an epoch a coordinator passed through within one drain goes out once a map with a newer
 * one is stored); the stored epoch never goes back and the map version grows with every write; no
 * node adopts an older epoch, nor one never stored or sent; no member is removed while it still
 * holds a read lease (a node cut off from every coordinator stops serving strong reads before the
 * chain moves on without it, and a chain moved off a live node must not leave it serving); no
 * coordinator grants a lease in an older epoch to a node that a newer stored configuration left
 * out; a committed version has one value wherever it is held. After healing: every caught-up member
 * of a chain holds the same committed state for that chain's keys, and the map is balanced as the
 * placement rules say.
 */
final class Simulation {
  static final String COORDINATOR = "coordinator";

  final long seed;
  final SimOptions options;
  final Random random;
  final SimNetwork network;
  final NodeSettings nodeSettings = new NodeSettings(3, 12, 8, 120, 15, 8, 15, 64, 64, 64, 1024);
  final CoordinatorSettings coordinatorSettings;
  final int chainCount;

  long now;
  final HistoryRecorder recorder = new HistoryRecorder(() -> now);

  // coordinator
  MapMachine coordinator;
  ChainMap coordinatorDisk;
  boolean coordinatorUp = true;
  long coordinatorRestartTick;

  // ZooKeeper mode: the store, the coordinators (in the order nodes and clients list them)
  SimZooKeeper store;
  final Map<String, SimCoordinator> coordinators = new LinkedHashMap<>();
  final List<String> coordinatorNames = new ArrayList<>();
  long nextRequestId = 1;

  /**
   * Every configuration stored, persisted or sent by any coordinator, by chain and epoch (one per
   * epoch of a chain).
   */
  final Map<String, ChainConfig> configsByEpoch = new HashMap<>();

  /** Counts of what the coordinators did (takeovers, fencing, freezes...), for the summary. */
  final Map<String, Integer> events = new TreeMap<>();

  /** Links whose messages were held over this tick: later ones on the link wait too (FIFO). */
  final Set<String> heldLinks = new HashSet<>();

  /** When each heartbeat was sent, by node, chain, incarnation and sequence number. */
  final Map<String, Long> heartbeatSentTick = new HashMap<>();

  /** When the stored map first left each node out of a chain's configuration, by epoch. */
  final Map<String, TreeMap<Long, Long>> leftOutTick = new HashMap<>();

  /** The coordinators acting at the last step, for the trace. */
  String actingLeaders = "";

  /** A node an operator asked to leave the pool, until the answer (or a time without one). */
  SimNode pendingLeave;

  long pendingLeaveUntil;

  /** Ticks a node or client waits for any answer from its coordinator before trying the next. */
  static final int COORDINATOR_SILENCE_TICKS = 10;

  final Map<String, SimNode> nodes = new LinkedHashMap<>();
  final List<SimClient> clients = new ArrayList<>();
  int nextNodeNumber;
  long incarnationCounter;
  long nextProcess;

  // fault bookkeeping
  final Map<String, Integer> faults = new TreeMap<>();
  final Map<String, long[]> committedValueCheck = new HashMap<>();
  long opsStarted;
  List<String> keys = new ArrayList<>();

  /**
   * Keys that take increments and appends (CRAQ §4.1) besides reads, writes and deletes; their
   * histories are checked against the kv model ({@link #isCounterKey}), the others' against the
   * register model.
   */
  List<String> counterKeys = new ArrayList<>();

  final Set<String> allKeys = new LinkedHashSet<>();
  int keyGeneration;

  /** Why the run did not settle or converge, for the failure message; empty if it did. */
  String convergenceProblem = "";

  Simulation(long seed, SimOptions options) {
    this.seed = seed;
    this.options = options;
    this.random = new Random(seed);
    this.network = new SimNetwork(random);
    this.coordinatorSettings = options.coordinatorSettings();
    this.chainCount = coordinatorSettings.chains();
    ChainMap empty = ChainMap.empty(chainCount, coordinatorSettings.replicas());
    this.coordinatorDisk = empty;
    this.coordinator = new MapMachine(coordinatorSettings, empty);
    for (int c = 0; c < chainCount; c++) {
      configsByEpoch.put(c + "#0", ChainConfig.EMPTY);
    }
    if (options.zookeeper()) {
      store = new SimZooKeeper(this, empty, this::onStoreWrite);
      network.exactlyOnce(SimZooKeeper.NAME);
      for (int i = 1; i <= options.coordinators(); i++) {
        String name = "coord" + i;
        coordinatorNames.add(name);
        coordinators.put(
            name, new SimCoordinator(this, name, options.leaseTicks(), options.sessionTicks()));
      }
      trace(
          "zookeeper mode: "
              + options.coordinators()
              + " coordinators, session "
              + options.sessionTicks()
              + " ticks, leader lease "
              + options.leaseTicks()
              + " ticks");
    }
    trace("cluster: " + options.describe());
    for (int i = 0; i < options.nodes(); i++) {
      addNode(-1);
    }
    for (int i = 0; i < options.clients(); i++) {
      clients.add(new SimClient(nextProcess++));
    }
    rotateKeys();
  }

  // ------------------------------------------------------------------------------- processes

  /**
   * One simulated node process with its store. The store is a write-ahead log in front of a
   * checkpointed store, as the real node's: what a crash keeps is every change up to the last log
   * force, then any prefix of what was written after it (the operating system may have put some of
   * it on disk), never a gap. A checkpoint only ever covers forced changes, so it does not change
   * what survives, and is not modelled.
   */
  final class SimNode {
    final String id;
    final int joinPosition;
    NodeHost host;

    /** What survives a crash for certain: every change up to the last log force. */
    final ModelStore durable = new ModelStore();

    /** What the store shows (the machines' view): {@link #durable} plus {@link #unforced}. */
    ModelStore applied;

    /**
     * Batches written to the store after the last log force, in order. A store applies a batch
     * atomically across a crash (a log record, a storage transaction), so a crash keeps a prefix of
     * whole batches.
     */
    final List<List<Effects.StoreOp>> unforced = new ArrayList<>();

    /** The driver's schedule, the same class the real node uses. */
    PersistSchedule schedule;

    /** Store groups queued for the node's store thread, not yet written, oldest first. */
    final ArrayDeque<PersistSchedule.Group> queued = new ArrayDeque<>();

    boolean up = true;
    boolean paused;
    boolean left;
    long incarnation;
    long wakeTick;
    long startTick;

    /** Reads this incarnation answered, and its counters when last checked. */
    long readAnswers;

    /** ZooKeeper mode: the coordinator this process talks to (index into the list it was given). */
    int coordinatorIndex;

    /** When the first request since the coordinator's last answer was sent; -1 if none waits. */
    long awaitingSince = -1;

    /** The newest epoch of each chain this incarnation held: a node never goes back to older. */
    final Map<Integer, Long> epochSeen = new HashMap<>();

    NodeCounters lastCounters = NodeCounters.ZERO;

    SimNode(String id, int joinPosition) {
      this.id = id;
      this.joinPosition = joinPosition;
      start();
    }

    /** Starts a process over what its store recovers (the log replayed over the checkpoint). */
    void start() {
      applied = durable.copy();
      unforced.clear();
      queued.clear();
      schedule = new PersistSchedule();
      host =
          new NodeHost(
              id,
              id,
              nodeSettings,
              joinPosition,
              incarnation = ++incarnationCounter,
              applied,
              applied.allDirty());
      up = true;
      paused = false;
      startTick = now;
      readAnswers = 0;
      lastCounters = NodeCounters.ZERO;
      coordinatorIndex = 0;
      awaitingSince = -1;
      epochSeen.clear();
    }

    /** The host's clock follows real time, paused or not (a monotonic clock does). */
    void catchUpClock() {
      host.advanceTo(now - startTick);
    }

    /** The machine of {@code chain} if this process runs and has one, else null. */
    NodeMachine machine(int chain) {
      return host == null ? null : host.machine(chain);
    }

    /**
     * The store thread writes the oldest {@code count} queued groups as one (log append, then the
     * store shows them), forcing the log if one of them asks for it.
     */
    PersistSchedule.Group writeGroups(int count) {
      List<PersistSchedule.Group> groups = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        groups.add(queued.pollFirst());
      }
      PersistSchedule.Group merged = PersistSchedule.merge(groups);
      applied.applyAll(merged.ops());
      unforced.add(merged.ops());
      if (merged.force()) {
        unforced.forEach(durable::applyAll);
        unforced.clear();
      }
      return merged;
    }
  }

  /** A client process; an op whose outcome is unknown retires it (a new process id follows). */
  final class SimClient {
    long process;
    ChainMap known;
    Op op;
    long nextRefreshTick;
    final Map<String, Long> lastVersionSeen = new HashMap<>();
    int coordinatorIndex;

    SimClient(long process) {
      this.process = process;
    }
  }

  /** An operation in flight. */
  final class Op implements ClientRef {
    final SimClient client;
    final HistoryRecorder.Pending pending; // null for unrecorded ops (map refresh, eventual)
    final Message request;
    final long deadline;
    final String target;

    Op(SimClient client, HistoryRecorder.Pending pending, Message request, String target) {
      this.client = client;
      this.pending = pending;
      this.request = request;
      this.target = target;
      this.deadline = now + 40;
    }
  }

  /**
   * Routes a coordinator answer back to the node that asked: {@code chain} is the chain its request
   * was for (the node's driver hands the answer back in that chain), -1 for a request of no chain
   * (a hello).
   */
  record NodeRef(String nodeId, int chain) implements ClientRef {}

  /** An operator's request (a leave) handed to the leading coordinator. */
  record OperatorRef(String nodeId) implements ClientRef {}

  private SimNode addNode(int position) {
    String id = "n" + (++nextNodeNumber);
    SimNode node = new SimNode(id, position);
    nodes.put(id, node);
    trace("start " + id);
    return node;
  }

  // -------------------------------------------------------------------------------- the loop

  /** Runs the faulty phase, heals, lets the cluster settle, then reads every key everywhere. */
  SimResult run() {
    for (int i = 0; i < options.faultTicks(); i++) {
      if (options.faults()) {
        maybeInjectFault();
      }
      step(true);
    }
    heal();
    long healTick = now;
    long firstWriteAfterHeal = -1;
    int settleTicks = 0;
    while (settleTicks < 600 && (!settled() || clientsBusy())) {
      step(settleTicks < 200);
      if (firstWriteAfterHeal < 0 && lastWriteOkTick > healTick) {
        firstWriteAfterHeal = lastWriteOkTick - healTick;
      }
      settleTicks++;
    }
    boolean settled = settled();
    String problem = "";
    if (!settled) {
      problem = "did not settle: " + convergenceProblem;
      trace(problem + "\n" + describe());
    }
    finalReads();
    checkStatsReplies();
    boolean converged = converged();
    if (!converged) {
      problem += (problem.isEmpty() ? "" : "; ") + "did not converge: " + convergenceProblem;
      trace("did not converge: " + convergenceProblem + "\n" + describe());
    }
    return new SimResult(
        seed,
        recorder.history(),
        faults,
        events,
        network,
        settled,
        converged,
        firstWriteAfterHeal,
        now,
        problem,
        traceText());
  }

  long lastWriteOkTick = -1;

  void step(boolean clientsActive) {
    now++;
    if (pendingLeave != null && now > pendingLeaveUntil) {
      trace("the operator hears nothing about the leave of " + pendingLeave.id);
      pendingLeave = null; // its request was dropped with a drain; the operator may try again
    }
    if (options.zookeeper()) {
      if (!store.up && now >= store.upAgainTick) {
        store.regainQuorum();
      }
      // A paused coordinator wakes before its queued messages are handled: the harder case.
      coordinators.values().forEach(SimCoordinator::wakeIfDue);
      heldLinks.clear();
    }
    for (SimNetwork.Envelope envelope : network.due(now)) {
      deliver(envelope);
    }
    if (options.zookeeper()) {
      store.tick();
      coordinators.values().forEach(SimCoordinator::step);
      String acting =
          String.join(
              ",",
              coordinators.values().stream()
                  .filter(c -> c.up && !c.paused && c.acting())
                  .map(c -> c.name)
                  .toList());
      if (acting.isEmpty()) {
        event("ticks-without-an-acting-leader");
      }
      if (!acting.equals(actingLeaders)) {
        trace("acting leader(s): [" + acting + "]");
        actingLeaders = acting;
      }
    } else if (coordinatorUp) {
      coordinator.tick();
      performCoordinator();
    } else if (now >= coordinatorRestartTick && coordinatorRestartTick > 0) {
      restartCoordinator();
    }
    for (SimNode node : new ArrayList<>(nodes.values())) {
      if (!node.up && node.wakeTick > 0 && now >= node.wakeTick && !node.left) {
        trace("restart " + node.id);
        node.start();
        node.wakeTick = 0;
      }
      if (node.paused && now >= node.wakeTick) {
        trace("resume " + node.id);
        node.paused = false;
      }
      if (node.up && !node.paused) {
        node.catchUpClock();
        if (options.zookeeper()
            && node.awaitingSince >= 0
            && now - node.awaitingSince >= COORDINATOR_SILENCE_TICKS) {
          node.coordinatorIndex = nextCoordinator(node.coordinatorIndex, "");
          node.awaitingSince = -1;
          trace(node.id + " hears nothing from its coordinator: tries " + coordinatorOf(node));
        }
        if (random.nextInt(3) == 0) {
          completeStore(node);
        }
        perform(node);
        node.host.checkInvariants();
      }
    }
    checkNodeEpochs();
    checkCommittedAgreement();
    for (SimClient client : clients) {
      clientStep(client, clientsActive);
    }
  }

  private void deliver(SimNetwork.Envelope e) {
    if (TRACE_NODE != null && (e.to().equals(TRACE_NODE) || e.from().equals(TRACE_NODE))) {
      trace("deliver " + e.from() + " -> " + e.to() + ": " + e.payload());
    }
    if (options.zookeeper()) {
      if (e.to().equals(SimZooKeeper.NAME)) {
        store.onRequest(e.from(), (SimZooKeeper.Request) e.payload());
        return;
      }
      SimCoordinator c = coordinators.get(e.to());
      if (c != null) {
        deliverToCoordinator(c, e);
        return;
      }
    }
    if (e.to().equals(COORDINATOR)) {
      if (!coordinatorUp) {
        return;
      }
      Routed routed = (Routed) e.payload();
      coordinator.onRequest(routed.ref(), routed.message());
      performCoordinator();
      return;
    }
    SimNode node = nodes.get(e.to());
    if (node != null) {
      if (!node.up) {
        return;
      }
      if (node.paused) {
        network.holdOver(now, e);
        return;
      }
      node.catchUpClock();
      if (options.zookeeper() && coordinators.containsKey(e.from())) {
        followCoordinator(node, e.from(), e.payload());
      }
      switch (e.payload()) {
        case Routed routed -> node.host.onClientRequest(routed.ref(), routed.message());
        case Answer answer when answer.ref() instanceof NodeRef ref ->
            onCoordinatorAnswer(node, ref, answer.message());
        case Message message -> node.host.onMessage(message);
        default -> throw new AssertionError(node.id + " got " + e.payload());
      }
      perform(node);
      return;
    }
    if (e.payload() instanceof Answer answer && answer.ref() instanceof Op op) {
      completeOp(op, answer.message());
    }
  }

  /**
   * The node's driver hands the coordinator's answer to the host: in the chain its request was for
   * (answers are never wrapped), or as it is for a hello. A refusal is only logged.
   */
  private void onCoordinatorAnswer(SimNode node, NodeRef ref, Message answer) {
    if (answer instanceof ErrorReply) {
      return;
    }
    if (ref.chain() >= 0) {
      node.host.onMessage(new Chained(ref.chain(), answer));
    } else {
      node.host.onMessage(answer);
    }
  }

  /**
   * A coordinator takes what comes from the store at once; a request from a node or client waits
   * (held in the network, as in the kernel's buffers) while the process is paused or blocked on a
   * store write, and so does everything after it on the same link.
   */
  private void deliverToCoordinator(SimCoordinator c, SimNetwork.Envelope e) {
    if (!c.up) {
      return;
    }
    String link = e.from() + ">" + e.to();
    boolean fromStore = e.from().equals(SimZooKeeper.NAME);
    if (c.paused || heldLinks.contains(link) || (!fromStore && !c.takesRequests())) {
      heldLinks.add(link);
      network.holdOver(now, e);
      return;
    }
    c.onMessage(e.from(), e.payload());
  }

  /**
   * The node's driver follows the leader: an answer from its coordinator ends the wait; a
   * NOT_LEADER refusal sends it to the hinted leader, or to the next coordinator of its list when
   * there is no hint. (A configuration push is no answer.)
   */
  private void followCoordinator(SimNode node, String from, Object payload) {
    if (!from.equals(coordinatorOf(node)) || !(payload instanceof Answer answer)) {
      return;
    }
    node.awaitingSince = -1;
    if (answer.message() instanceof ErrorReply error && error.code() == ErrorCode.NOT_LEADER) {
      node.coordinatorIndex = nextCoordinator(node.coordinatorIndex, error.hint());
      event("node-redirect" + (error.hint().isEmpty() ? "-no-leader" : ""));
    }
  }

  String coordinatorOf(SimNode node) {
    return coordinatorNames.get(node.coordinatorIndex);
  }

  /** The hinted coordinator if it is another one of the list, else the next one in the list. */
  int nextCoordinator(int current, String hint) {
    int hinted = coordinatorNames.indexOf(hint);
    return hinted >= 0 && hinted != current ? hinted : (current + 1) % coordinatorNames.size();
  }

  /** A request and who asked, as it travels to the server. */
  record Routed(ClientRef ref, Message message) {}

  /** A reply on its way back. */
  record Answer(ClientRef ref, Message message) {}

  /**
   * Performs the node's effects as its driver (NodeServer) does, by the same {@link
   * PersistSchedule}: versions sent on first; store changes queued for the store thread, which
   * writes them later (see {@link #completeStore}); the other sends and replies at once, unless
   * they must wait for a queued store change.
   */
  private void perform(SimNode node) {
    performEffects(node, node.host.drain());
    checkCounters(node);
  }

  private void performEffects(SimNode node, Effects effects) {
    PersistSchedule.Plan plan = node.schedule.plan(effects, node.host.drainSequence());
    for (Effects.Send send : plan.propagates()) {
      network.send(now, node.id, send.to().id(), send.message());
    }
    if (plan.group() != null) {
      for (Effects.StoreOp op : plan.group().ops()) {
        if (TRACE_KEY != null && op.toString().contains(TRACE_KEY)) {
          trace(
              node.id
                  + " persist "
                  + op
                  + (op instanceof PutVersion p
                      ? " value " + new String(p.version().value(), StandardCharsets.UTF_8)
                      : ""));
        }
      }
      node.queued.addLast(plan.group());
    }
    for (Effects.Reply reply : effects.replies()) {
      if (((Op) reply.ref()).request instanceof ReadRequest) {
        node.readAnswers++; // answered by the host, though the driver may hold the reply
        if (TRACE_KEY != null
            && reply.message() instanceof ReadReply read
            && read.key().equals(TRACE_KEY)) {
          NodeMachine m = node.machine(KeySlots.chainOf(read.key(), chainCount));
          trace(
              node.id
                  + " answers a read of "
                  + read.key()
                  + ": "
                  + (read.found() ? new String(read.value(), StandardCharsets.UTF_8) : "absent")
                  + " @v"
                  + read.version()
                  + (m == null ? "" : " (epoch " + m.config().epoch() + ", " + m.role() + ")"));
        }
      }
    }
    sendAndReply(node, plan.now());
  }

  private void sendAndReply(SimNode node, PersistSchedule.Release release) {
    for (Effects.Send send : release.sends()) {
      if (!Effects.COORDINATOR.equals(send.to())) {
        network.send(now, node.id, send.to().id(), send.message());
        continue;
      }
      int chain = send.message() instanceof Chained chained ? chained.chain() : -1;
      Message inner =
          send.message() instanceof Chained chained ? chained.message() : send.message();
      if (inner instanceof Message.Heartbeat heartbeat) {
        heartbeatSentTick.put(
            node.id + "#" + chain + "#" + node.incarnation + "#" + heartbeat.seq(), now);
      }
      Routed routed = new Routed(new NodeRef(node.id, chain), send.message());
      if (node.id.equals(TRACE_NODE)) {
        trace("send " + node.id + " -> coordinator: " + send.message());
      }
      if (options.zookeeper()) {
        network.send(now, node.id, coordinatorOf(node), routed);
        if (node.awaitingSince < 0) {
          node.awaitingSince = now;
        }
      } else {
        network.send(now, node.id, COORDINATOR, routed);
      }
    }
    for (Effects.Reply reply : release.replies()) {
      Op op = (Op) reply.ref();
      network.send(now, node.id, "client" + op.client.process, new Answer(op, reply.message()));
    }
  }

  /**
   * The node's store thread finishes a write: some of the queued groups (oldest first) are written;
   * what waited for them is released, and the host is told.
   */
  private void completeStore(SimNode node) {
    if (node.queued.isEmpty()) {
      return;
    }
    PersistSchedule.Group written = node.writeGroups(1 + random.nextInt(node.queued.size()));
    sendAndReply(node, node.schedule.done(written.id()));
    node.host.onPersisted(written.drainSequence());
    perform(node);
  }

  /**
   * The node's counters only grow, count every answered read exactly once, and count no read
   * answered after a version query whose key was not sent to the tail.
   */
  private void checkCounters(SimNode node) {
    NodeCounters current = node.host.counters();
    if (current.readsAnswered() != node.readAnswers) {
      fail(node.id + " answered " + node.readAnswers + " reads but counted " + current);
    }
    if (current.equals(node.lastCounters)) {
      return;
    }
    Map<String, Long> before = node.lastCounters.toMap();
    current
        .toMap()
        .forEach((name, value) -> {
          if (value < before.get(name)) {
            fail(
                node.id
                    + " counter "
                    + name
                    + " went down from "
                    + before.get(name)
                    + " to "
                    + value);
          }
        });
    if (current.readsAfterQuery() > current.versionQueryKeysSent()
        || current.versionQueryKeysSent() < current.versionQueriesSent()) {
      fail(node.id + " version-query counters disagree: " + current);
    }
    node.lastCounters = current;
  }

  /** After the run: each live node answers a StatsRequest with exactly its own counters. */
  private void checkStatsReplies() {
    for (SimNode node : nodes.values()) {
      if (!node.up || node.left) {
        continue;
      }
      perform(node);
      node.host.onClientRequest(new NodeRef("stats", -1), new StatsRequest());
      Effects effects = node.host.drain();
      boolean ok =
          effects.replies().size() == 1
              && effects.replies().get(0).message() instanceof StatsReply stats
              && stats.nodeId().equals(node.id)
              && stats.role().equals(node.host.role())
              && stats.counters().equals(node.host.counters().toMap())
              && (chainCount > 1
                  || node.machine(0) == null
                  || stats.epoch() == node.machine(0).config().epoch());
      if (!ok) {
        fail(
            node.id
                + " answered a StatsRequest with "
                + effects.replies()
                + ", expected its role "
                + node.host.role()
                + " and counters "
                + node.host.counters().toMap());
      }
    }
  }

  private void performCoordinator() {
    performCoordinator(coordinator.drain());
  }

  private void performCoordinator(Effects effects) {
    for (Effects.StoreOp op : effects.persist()) {
      ChainMap previous = coordinatorDisk;
      coordinatorDisk = ((PersistMap) op).map();
      trace("map " + coordinatorDisk);
      onMapWritten(previous, coordinatorDisk, COORDINATOR);
    }
    for (Effects.Send send : effects.sends()) {
      checkSent(COORDINATOR, null, send.message());
      network.send(now, COORDINATOR, send.to().id(), send.message());
    }
    for (Effects.Reply reply : effects.replies()) {
      checkSent(COORDINATOR, reply.ref(), reply.message());
      switch (reply.ref()) {
        case NodeRef nodeRef ->
            network.send(now, COORDINATOR, nodeRef.nodeId(), new Answer(nodeRef, reply.message()));
        case Op op ->
            network.send(
                now, COORDINATOR, "client" + op.client.process, new Answer(op, reply.message()));
        case OperatorRef operator -> onOperatorReply(operator, reply.message());
        default -> throw new AssertionError("unknown reference " + reply.ref());
      }
    }
  }

  // -------------------------------------------------------------------------------- clients

  private void clientStep(SimClient client, boolean active) {
    if (client.op != null) {
      if (now >= client.op.deadline) {
        Op op = client.op;
        client.op = null;
        if (coordinators.containsKey(op.target)) {
          client.coordinatorIndex = nextCoordinator(client.coordinatorIndex, "");
        }
        if (op.pending != null) {
          if (op.request instanceof ReadRequest) {
            op.pending.fail(); // a read has no effect: a lost one simply did not happen
          } else {
            op.pending.info();
            retire(client);
          }
        }
      }
      return;
    }
    if (client.known == null || now >= client.nextRefreshTick) {
      client.nextRefreshTick = now + 30;
      issue(client, null, new MapRequest(), mapSource(client));
      return;
    }
    if (!active || random.nextInt(3) != 0) {
      return;
    }
    boolean counter = random.nextInt(4) == 0;
    String key =
        counter
            ? counterKeys.get(random.nextInt(counterKeys.size()))
            : keys.get(random.nextInt(keys.size()));
    List<Member> members = client.known.chainFor(key).members();
    if (members.isEmpty()) {
      client.nextRefreshTick = now; // the map has no members for this chain yet
      return;
    }
    opsStarted++;
    if (opsStarted % options.opsPerKeyGeneration() == 0) {
      rotateKeys(); // this operation is the last on the current keys
    }
    int dice = random.nextInt(100);
    String anyNode = members.get(random.nextInt(members.size())).id();
    String head = members.get(0).id();
    if (counter) {
      counterStep(client, key, dice, anyNode, head);
    } else if (dice < 45) {
      issue(
          client,
          recorder.read(client.process, key),
          new ReadRequest(key, ReadMode.STRONG, 0),
          anyNode);
    } else if (dice < 50) {
      ReadMode mode = random.nextBoolean() ? ReadMode.EVENTUAL : ReadMode.BOUNDED;
      issue(client, null, new ReadRequest(key, mode, 1), anyNode);
    } else if (dice < 80 && dice >= 72 && multiWrite(client, key, head)) {
      return;
    } else if (dice < 80) {
      String value = "v" + client.process + "-" + opsStarted;
      issue(
          client,
          recorder.write(client.process, key, value),
          new WriteRequest(key, bytes(value), false, Message.ANY_VERSION),
          head);
    } else if (dice < 88) {
      issue(
          client,
          recorder.delete(client.process, key),
          new WriteRequest(key, new byte[0], true, Message.ANY_VERSION),
          head);
    } else {
      long expected = client.lastVersionSeen.getOrDefault(key, 0L);
      String value = "c" + client.process + "-" + opsStarted;
      issue(
          client,
          recorder.writeIfVersion(client.process, key, expected, value),
          new WriteRequest(key, bytes(value), false, expected),
          head);
    }
  }

  /**
   * One operation on a counter key: a strong read, an increment (now and then one that overflows),
   * an append of a digit (which may leave a value that is not an integer, "07") or of a letter, a
   * write of a small or a near-overflow integer or of a non-integer, or a delete. Values are never
   * empty: the kv model does not tell an empty value from an absent key.
   */
  private void counterStep(SimClient client, String key, int dice, String anyNode, String head) {
    if (dice < 40) {
      issue(
          client,
          recorder.read(client.process, key),
          new ReadRequest(key, ReadMode.STRONG, 0),
          anyNode);
    } else if (dice < 75) {
      long delta =
          switch (random.nextInt(20)) {
            case 0 -> Long.MAX_VALUE - random.nextInt(3);
            case 1 -> Long.MIN_VALUE + random.nextInt(3);
            default -> random.nextInt(11) - 3;
          };
      issue(
          client,
          recorder.increment(client.process, key, delta),
          new IncrementRequest(key, delta),
          head);
    } else if (dice < 88) {
      String suffix = random.nextInt(6) == 0 ? "x" : Integer.toString(random.nextInt(10));
      issue(
          client,
          recorder.append(client.process, key, suffix),
          new AppendRequest(key, bytes(suffix)),
          head);
    } else if (dice < 95) {
      String value =
          switch (random.nextInt(8)) {
            case 0 -> Long.toString(Long.MAX_VALUE - random.nextInt(5));
            case 1 -> "w" + client.process + "-" + opsStarted;
            default -> Integer.toString(random.nextInt(100) - 50);
          };
      issue(
          client,
          recorder.write(client.process, key, value),
          new WriteRequest(key, bytes(value), false, Message.ANY_VERSION),
          head);
    } else {
      issue(
          client,
          recorder.delete(client.process, key),
          new WriteRequest(key, new byte[0], true, Message.ANY_VERSION),
          head);
    }
  }

  /** True for the keys that take increments and appends (see {@link #counterKeys}). */
  static boolean isCounterKey(String key) {
    return key.startsWith("n");
  }

  /**
   * Writes {@code key} and one to three other keys of its chain in one multi-key write, if there
   * are such keys (a few keys share a hash tag); now and then one of them is deleted.
   */
  private boolean multiWrite(SimClient client, String key, String head) {
    int chain = KeySlots.chainOf(key, chainCount);
    List<String> sameChain = new ArrayList<>();
    for (String other : keys) {
      if (!other.equals(key) && KeySlots.chainOf(other, chainCount) == chain) {
        sameChain.add(other);
      }
    }
    if (sameChain.isEmpty()) {
      return false;
    }
    java.util.Collections.shuffle(sameChain, random);
    List<String> chosen = new ArrayList<>();
    chosen.add(key);
    chosen.addAll(sameChain.subList(0, Math.min(sameChain.size(), 1 + random.nextInt(3))));
    List<WriteRequest> writes = new ArrayList<>();
    SortedMap<String, String> recorded = new TreeMap<>();
    for (String k : chosen) {
      if (random.nextInt(8) == 0) {
        writes.add(new WriteRequest(k, new byte[0], true, Message.ANY_VERSION));
        recorded.put(k, null);
      } else {
        String value = "m" + client.process + "-" + opsStarted + "-" + k;
        writes.add(new WriteRequest(k, bytes(value), false, Message.ANY_VERSION));
        recorded.put(k, value);
      }
    }
    issue(
        client, recorder.multiWrite(client.process, recorded), new MultiWriteRequest(writes), head);
    return true;
  }

  /**
   * Where a client fetches the map: its coordinator, or now and then (once it knows a map) any node
   * of it, which answers with the map it knows.
   */
  private String mapSource(SimClient client) {
    if (client.known != null && random.nextInt(4) == 0) {
      List<String> members = new ArrayList<>();
      client.known.chains().forEach(c -> c.members().forEach(m -> members.add(m.id())));
      if (!members.isEmpty()) {
        return members.get(random.nextInt(members.size()));
      }
    }
    return options.zookeeper() ? coordinatorNames.get(client.coordinatorIndex) : COORDINATOR;
  }

  private void issue(
      SimClient client, HistoryRecorder.Pending pending, Message request, String target) {
    Op op = new Op(client, pending, request, target);
    client.op = op;
    network.send(now, "client" + client.process, target, new Routed(op, request));
  }

  private void completeOp(Op op, Message answer) {
    SimClient client = op.client;
    if (client.op != op) {
      return; // timed out already
    }
    client.op = null;
    if (op.request instanceof MapRequest) {
      switch (answer) {
        case MapReply reply -> {
          if (client.known == null || reply.map().version() >= client.known.version()) {
            client.known = reply.map();
          }
        }
        case ErrorReply error when coordinators.containsKey(op.target) -> {
          // A standby's refusal: ask the hinted leader at once, or the next one a little later.
          client.coordinatorIndex = nextCoordinator(client.coordinatorIndex, error.hint());
          client.nextRefreshTick = now + (error.hint().isEmpty() ? 5 : 0);
        }
        default -> client.nextRefreshTick = now + 5;
      }
      return;
    }
    if (op.pending == null) {
      return;
    }
    switch (answer) {
      case ReadReply read -> {
        String value = read.found() ? new String(read.value(), StandardCharsets.UTF_8) : null;
        op.pending.okRead(value, read.version());
        client.lastVersionSeen.put(read.key(), read.version());
      }
      case WriteReply write -> {
        op.pending.ok(io.craq.check.Output.done(write.version()));
        client.lastVersionSeen.put(write.key(), write.version());
        lastWriteOkTick = now;
      }
      case UpdateReply update -> {
        if (op.request instanceof IncrementRequest) {
          op.pending.okIncremented(update.result(), update.version());
          event("increment-ok");
        } else {
          op.pending.ok(io.craq.check.Output.done(update.version()));
          event("append-ok");
        }
        client.lastVersionSeen.put(update.key(), update.version());
        lastWriteOkTick = now;
      }
      case MultiWriteReply multi -> {
        Map<String, Long> versions = new HashMap<>();
        for (KeyVersion version : multi.versions()) {
          versions.put(version.key(), version.version());
          client.lastVersionSeen.put(version.key(), version.version());
        }
        op.pending.ok(versions);
        lastWriteOkTick = now;
        event("multi-write-committed");
      }
      case ErrorReply error -> {
        if (op.request instanceof MultiWriteRequest) {
          event("multi-write-" + error.code().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (op.request instanceof IncrementRequest || op.request instanceof AppendRequest) {
          event(
              (op.request instanceof IncrementRequest ? "increment-" : "append-")
                  + error.code().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (error.code() == ErrorCode.NOT_HEAD
            || error.code() == ErrorCode.STALE_EPOCH
            || error.code() == ErrorCode.WRONG_CHAIN) {
          client.nextRefreshTick = now;
        }
        if (error.code().definite()) {
          op.pending.fail();
        } else {
          op.pending.info();
          retire(client);
        }
      }
      default -> throw new AssertionError("unexpected answer " + answer);
    }
  }

  private void retire(SimClient client) {
    client.process = nextProcess++;
    client.lastVersionSeen.clear();
  }

  /**
   * Fresh keys. With several chains, three of them share a hash tag (so they share a chain), the
   * others spread over the chains by their hash.
   */
  private void rotateKeys() {
    keyGeneration++;
    keys = new ArrayList<>();
    int tagged = chainCount > 1 ? Math.min(3, options.keysPerGeneration()) : 0;
    for (int i = 0; i < options.keysPerGeneration(); i++) {
      keys.add(
          i < options.keysPerGeneration() - tagged
              ? "k" + keyGeneration + "-" + i
              : "u{" + keyGeneration + "}:" + i);
    }
    allKeys.addAll(keys);
    counterKeys = List.of("n" + keyGeneration + "-0", "n" + keyGeneration + "-1");
    allKeys.addAll(counterKeys);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // --------------------------------------------------------------------------------- faults

  private void maybeInjectFault() {
    if (random.nextInt(options.faultEveryTicks()) != 0) {
      return;
    }
    if (options.zookeeper()) {
      maybeInjectZooKeeperFault();
      return;
    }
    int dice = random.nextInt(100);
    List<SimNode> upNodes =
        nodes.values().stream().filter(n -> n.up && !n.paused && !n.left).toList();
    SimNode victim = upNodes.isEmpty() ? null : upNodes.get(random.nextInt(upNodes.size()));
    // The fault model: in every chain, at least one member stays caught up, running and
    // reachable, or nothing can be promised (no acknowledged write is lost while one complete
    // copy survives). Hurt the victim only if each of its chains keeps another such member.
    boolean mayHurt = victim != null && pendingLeave == null && othersHealthyInChainsOf(victim);
    boolean mayCrash = mayHurt || (options.crashLastCaughtUp() && victim != null);
    if (dice < 20 && mayCrash) {
      count("crash");
      trace("crash " + victim.id);
      persistAndCrash(victim);
      victim.wakeTick = now + 10 + random.nextInt(60);
    } else if (dice < 32 && mayHurt) {
      count("pause");
      trace("pause " + victim.id);
      victim.paused = true;
      victim.wakeTick = now + coordinatorSettings.failureTimeoutTicks() + random.nextInt(40);
    } else if (dice < 45 && mayHurt) {
      count("partition-from-coordinator");
      trace("cut " + victim.id + " from coordinator");
      network.cutBothWays(victim.id, COORDINATOR);
    } else if (dice < 55 && mayHurt) {
      count("partition-node");
      trace("isolate " + victim.id + " from nodes");
      network.isolate(victim.id, new ArrayList<>(nodes.keySet()));
    } else if (dice < 62) {
      count("heal-partitions");
      network.healAll();
    } else if (dice < 70 && coordinatorUp) {
      count("coordinator-crash");
      trace("crash the coordinator");
      coordinatorUp = false;
      coordinatorRestartTick = now + 5 + random.nextInt(30);
      network.dropAllOf(COORDINATOR);
    } else if (dice < 78 && nodes.size() < options.nodesMax()) {
      count("join");
      int position = random.nextBoolean() ? -1 : 1 + random.nextInt(Math.max(1, nodes.size()));
      addNode(position);
    } else if (dice < 83 && mayHurt && coordinatorUp && mayLeave()) {
      // An operator decommissions the node: the request is retried until answered, so it is
      // handed to the coordinator directly; the node stops once the map lists it in no chain.
      askToLeave(victim);
      coordinator.onRequest(new OperatorRef(victim.id), new Message.LeaveRequest(victim.id));
      performCoordinator();
    } else if (dice < 91) {
      count("lossy-network");
      network.dropProbability = random.nextDouble() * 0.05;
      network.duplicateProbability = random.nextDouble() * 0.05;
    } else {
      network.dropProbability = 0;
      network.duplicateProbability = 0;
    }
  }

  /**
   * The faults of ZooKeeper mode: the node faults of the standard mode (a node is cut from every
   * coordinator rather than from the one), and the coordinators' and the store's.
   */
  private void maybeInjectZooKeeperFault() {
    int dice = random.nextInt(100);
    List<SimNode> upNodes =
        nodes.values().stream().filter(n -> n.up && !n.paused && !n.left).toList();
    SimNode victim = upNodes.isEmpty() ? null : upNodes.get(random.nextInt(upNodes.size()));
    // The fault model of the standard mode; a pending leave counts as hurting its node.
    boolean mayHurt = victim != null && pendingLeave == null && othersHealthyInChainsOf(victim);
    List<SimCoordinator> upCoordinators =
        coordinators.values().stream().filter(c -> c.up && !c.paused).toList();
    SimCoordinator leader =
        upCoordinators.stream().filter(c -> c.replica.leading()).findFirst().orElse(null);
    SimCoordinator someCoordinator =
        upCoordinators.isEmpty() ? null : upCoordinators.get(random.nextInt(upCoordinators.size()));
    SimCoordinator leaderOrAny = leader != null && random.nextBoolean() ? leader : someCoordinator;
    long lease = options.leaseTicks();
    long session = options.sessionTicks();
    if (dice < 12 && mayHurt) {
      count("crash");
      trace("crash " + victim.id);
      persistAndCrash(victim);
      victim.wakeTick = now + 10 + random.nextInt(60);
    } else if (dice < 20 && mayHurt) {
      count("pause");
      trace("pause " + victim.id);
      victim.paused = true;
      victim.wakeTick = now + coordinatorSettings.failureTimeoutTicks() + random.nextInt(40);
    } else if (dice < 26 && mayHurt) {
      count("partition-from-coordinators");
      trace("cut " + victim.id + " from every coordinator");
      network.isolate(victim.id, coordinatorNames);
    } else if (dice < 31 && mayHurt) {
      count("partition-node");
      trace("isolate " + victim.id + " from nodes");
      network.isolate(victim.id, new ArrayList<>(nodes.keySet()));
    } else if (dice < 37) {
      count("heal-partitions");
      network.healAll();
    } else if (dice < 41 && nodes.size() < options.nodesMax()) {
      count("join");
      int position = random.nextBoolean() ? -1 : 1 + random.nextInt(Math.max(1, nodes.size()));
      addNode(position);
    } else if (dice < 45 && mayHurt && leader != null && leader.readyLeader() && mayLeave()) {
      // An operator decommissions the node through the leader; the node stops once a stored map
      // lists it in no chain (see onMapWritten).
      trace("operator asks " + leader.name + " to let " + victim.id + " leave");
      askToLeave(victim);
      leader.onMessage(
          "operator", new Routed(new OperatorRef(victim.id), new Message.LeaveRequest(victim.id)));
    } else if (dice < 50) {
      count("lossy-network");
      network.dropProbability = random.nextDouble() * 0.05;
      network.duplicateProbability = random.nextDouble() * 0.05;
    } else if (dice < 53) {
      network.dropProbability = 0;
      network.duplicateProbability = 0;
    } else if (dice < 61 && leaderOrAny != null) {
      count(leaderOrAny == leader ? "coordinator-crash-leader" : "coordinator-crash");
      leaderOrAny.crash(now + 10 + random.nextInt(60));
    } else if (dice < 69 && leader != null) {
      if (random.nextInt(3) > 0) {
        count("leader-pause-past-session");
        leader.pause(now + session + 1 + random.nextInt((int) lease + 10), "past-session");
      } else {
        count("leader-pause-short");
        leader.pause(now + 1 + random.nextInt((int) Math.max(1, session / 2)), "short");
      }
    } else if (dice < 75 && leaderOrAny != null) {
      count("coordinator-cut-from-store");
      trace("cut " + leaderOrAny.name + " from the store");
      network.cutBothWays(leaderOrAny.name, SimZooKeeper.NAME);
    } else if (dice < 81 && someCoordinator != null && !nodes.isEmpty()) {
      count("coordinator-cut-from-nodes");
      List<String> cut = new ArrayList<>();
      for (String id : nodes.keySet()) {
        if (random.nextBoolean()) {
          cut.add(id);
        }
      }
      trace("cut " + someCoordinator.name + " from " + cut);
      cut.forEach(id -> network.cutBothWays(someCoordinator.name, id));
    } else if (dice < 85 && store.up) {
      count("store-outage-shorter-than-lease");
      store.loseQuorum(now + 1 + random.nextInt((int) Math.max(1, lease - 2)));
    } else if (dice < 88 && store.up) {
      count("store-outage-longer-than-lease");
      store.loseQuorum(now + lease + random.nextInt((int) (lease + session)));
    }
  }

  /**
   * An operator may decommission a node while more than a few remain: three with one chain of every
   * node, one more than a chain's members with several chains (so chains keep their size).
   */
  private boolean mayLeave() {
    long remaining = nodes.values().stream().filter(n -> !n.left && !leavingInMap(n)).count();
    return remaining > (options.replicas() == 0 ? 2 : options.replicas());
  }

  private void askToLeave(SimNode victim) {
    count("leave-requested");
    trace("operator asks for " + victim.id + " to leave the pool");
    pendingLeave = victim;
    pendingLeaveUntil = now + 120; // beyond a write retried on a new session
  }

  /** The leading coordinator answered an operator's request. */
  void onOperatorReply(OperatorRef ref, Message reply) {
    if (pendingLeave == null || !pendingLeave.id.equals(ref.nodeId())) {
      return;
    }
    SimNode victim = pendingLeave;
    pendingLeave = null;
    if (reply instanceof ErrorReply error) {
      trace("leave of " + victim.id + " refused: " + error.message());
      event("leave-refused");
    } else {
      trace("leave of " + victim.id + " accepted");
      event("leave-accepted");
      finishLeaves(storedMap());
    }
  }

  /** True if the stored map marks {@code node} as leaving the pool. */
  private boolean leavingInMap(SimNode node) {
    PoolNode entry = storedMap().poolNode(node.id);
    return entry != null && entry.leaving();
  }

  /**
   * The operator stops every node that {@code map} (a stored one) marks as leaving and lists in no
   * chain: its chains have been moved off it.
   */
  private void finishLeaves(ChainMap map) {
    for (SimNode node : nodes.values()) {
      PoolNode entry = map.poolNode(node.id);
      if (node.left || entry == null || !entry.leaving() || inAnyChain(map, node.id)) {
        continue;
      }
      if (pendingLeave == node) {
        pendingLeave = null;
      }
      leave(node);
    }
  }

  private static boolean inAnyChain(ChainMap map, String nodeId) {
    return map.chains().stream().anyMatch(c -> c.contains(nodeId));
  }

  private void leave(SimNode victim) {
    count("leave");
    trace("leave " + victim.id + ": the operator stops it");
    victim.left = true;
    if (victim.up) {
      persistAndCrash(victim);
    }
  }

  /**
   * True if every chain the stored map lists {@code victim} in has another member that is caught up
   * in the stored epoch, running and reachable.
   */
  private boolean othersHealthyInChainsOf(SimNode victim) {
    ChainMap map = storedMap();
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      if (chain.contains(victim.id) && healthyMembersOtherThan(victim, c, chain) == 0) {
        return false;
      }
    }
    return true;
  }

  private long healthyMembersOtherThan(SimNode victim, int c, ChainConfig chain) {
    long healthy = 0;
    for (Member m : chain.members()) {
      SimNode n = nodes.get(m.id());
      if (n == null || n == victim || !n.up || n.paused || n.left) {
        continue;
      }
      NodeMachine machine = n.machine(c);
      if (machine != null
          && machine.isMember()
          && !machine.isCatchingUp()
          && machine.config().epoch() == chain.epoch()
          && network.cutCountOf(n.id) == 0) {
        healthy++;
      }
    }
    return healthy;
  }

  /**
   * Crashes a node: everything up to its last log force survives, then any prefix of the batches
   * written after it or being written (queued groups, each a batch); the rest and all memory are
   * lost.
   */
  private void persistAndCrash(SimNode node) {
    if (random.nextBoolean()) {
      // crashed after sending versions on (the driver does that before queueing its store write)
      Effects effects = node.host.drain();
      PersistSchedule.Plan plan = node.schedule.plan(effects, node.host.drainSequence());
      for (Effects.Send send : plan.propagates()) {
        network.send(now, node.id, send.to().id(), send.message());
      }
      if (plan.group() != null) {
        node.queued.addLast(plan.group());
      }
    }
    List<List<Effects.StoreOp>> notForced = new ArrayList<>(node.unforced);
    node.queued.forEach(group -> notForced.add(group.ops()));
    int reachedDisk = random.nextInt(notForced.size() + 1);
    notForced.subList(0, reachedDisk).forEach(node.durable::applyAll);
    trace("crash keeps " + reachedDisk + " of " + notForced.size() + " unforced store batches");
    node.unforced.clear();
    node.queued.clear();
    node.up = false;
    node.host = null;
    network.dropAllOf(node.id);
  }

  private void restartCoordinator() {
    trace("restart the coordinator from " + coordinatorDisk);
    coordinator = new MapMachine(coordinatorSettings, coordinatorDisk);
    coordinatorUp = true;
    coordinatorRestartTick = 0;
  }

  private void count(String fault) {
    faults.merge(fault, 1, Integer::sum);
    trace("fault " + fault);
  }

  /** Recent events, printed when a run fails (-Dcraq.sim.trace=true prints them as they come). */
  final ArrayDeque<String> trace = new ArrayDeque<>();

  private static final String TRACE_KEY = System.getProperty("craq.sim.traceKey");
  private static final boolean TRACE_LIVE = Boolean.getBoolean("craq.sim.trace");

  /**
   * Whether a member removed from a chain while it still holds a read lease there fails the run
   * (the default). {@code -Dcraq.sim.checkRemovedLeases=false} lets such runs go on, to see what
   * else they find (the linearizability check still judges their histories).
   */
  private static final boolean CHECK_REMOVED_LEASES =
      !"false".equals(System.getProperty("craq.sim.checkRemovedLeases"));

  /** Every message delivered to or from this node goes to the trace. */
  private static final String TRACE_NODE = System.getProperty("craq.sim.traceNode");

  void trace(String event) {
    String line = "t=" + now + " " + event;
    if (TRACE_LIVE) {
      System.out.println(line);
    }
    trace.addLast(line);
    if (trace.size() > 400) {
      trace.removeFirst();
    }
  }

  String traceText() {
    return String.join("\n", trace);
  }

  private void heal() {
    trace("heal");
    network.healAll();
    network.dropProbability = 0;
    network.duplicateProbability = 0;
    if (options.zookeeper()) {
      store.regainQuorum();
      for (SimCoordinator c : coordinators.values()) {
        if (!c.up) {
          trace("restart " + c.name + " as a standby");
          c.start();
        }
        c.wake();
      }
    } else if (!coordinatorUp) {
      restartCoordinator();
    }
    for (SimNode node : nodes.values()) {
      if (!node.left && !node.up) {
        node.start();
      }
      node.paused = false;
    }
  }

  // --------------------------------------------------------------------------------- checks

  /** The map as the coordinators have it stored: on the coordinator's disk, or in ZooKeeper. */
  ChainMap storedMap() {
    return options.zookeeper() ? store.map : coordinatorDisk;
  }

  /**
   * Settled: a coordinator leads with the stored map, no leave is under way, the map is balanced,
   * and every member of every chain is caught up in the chain's epoch, holds a lease and has
   * nothing in flight.
   */
  private boolean settled() {
    ChainMap map = storedMap();
    if (options.zookeeper()
        && coordinators.values().stream()
            .noneMatch(
                c -> c.readyLeader() && !c.replica.frozen() && map.equals(c.replica.map()))) {
      return unsettled("no coordinator leads with the stored map");
    }
    if (!options.zookeeper() && !(coordinatorUp && map.equals(coordinator.map()))) {
      return unsettled("the coordinator is down or has changes not yet persisted");
    }
    if (pendingLeave != null) {
      return unsettled("the operator waits for the leave of " + pendingLeave.id);
    }
    String unbalanced = unbalanced(map);
    if (unbalanced != null) {
      return unsettled(unbalanced);
    }
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      for (Member member : chain.members()) {
        SimNode node = nodes.get(member.id());
        NodeMachine m = node == null ? null : node.machine(c);
        if (m == null
            || node.paused
            || !m.isMember()
            || m.isCatchingUp()
            || !m.hasLease()
            || m.dirtyCount() > 0
            || m.config().epoch() != chain.epoch()) {
          return unsettled(
              "chain "
                  + c
                  + " member "
                  + member.id()
                  + " is not caught up in epoch "
                  + chain.epoch());
        }
      }
    }
    convergenceProblem = "";
    return true;
  }

  private boolean unsettled(String why) {
    convergenceProblem = why;
    return false;
  }

  /**
   * Why {@code map} is not balanced as the placement rules say, or null if it is: every running
   * node is in the pool; every chain has min(replicas, eligible) members, all eligible (in the
   * pool, running, not leaving); memberships per eligible node differ by at most one; and the
   * placement has no step left to take.
   */
  private String unbalanced(ChainMap map) {
    Set<String> live = new LinkedHashSet<>();
    Set<String> eligible = new LinkedHashSet<>();
    for (SimNode node : nodes.values()) {
      if (node.left) {
        continue;
      }
      PoolNode entry = map.poolNode(node.id);
      if (entry == null) {
        return node.id + " is not in the pool";
      }
      live.add(node.id);
      if (!entry.leaving()) {
        eligible.add(node.id);
      }
    }
    int wanted = Math.min(options.replicasWanted(), eligible.size());
    Map<String, Integer> load = new TreeMap<>();
    eligible.forEach(id -> load.put(id, 0));
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      if (chain.size() != wanted) {
        return "chain " + c + " has " + chain.size() + " members, not " + wanted;
      }
      for (Member m : chain.members()) {
        if (!eligible.contains(m.id())) {
          return "chain " + c + " has " + m.id() + ", which is not an eligible pool node";
        }
        load.merge(m.id(), 1, Integer::sum);
      }
    }
    if (!load.isEmpty()) {
      int most = load.values().stream().max(Integer::compare).orElseThrow();
      int least = load.values().stream().min(Integer::compare).orElseThrow();
      if (most - least > 1) {
        return "memberships per node are uneven: " + load;
      }
    }
    List<Placement.Step> steps = Placement.next(map, live, coordinatorSettings.movesMax());
    if (!steps.isEmpty()) {
      return "placement still has steps to take: " + steps;
    }
    return null;
  }

  /** One line per process, for failure messages. */
  String describe() {
    StringBuilder out = new StringBuilder();
    if (options.zookeeper()) {
      out.append(store.describe()).append('\n');
      coordinators.values().forEach(c -> out.append(c.describe()).append('\n'));
    } else {
      out.append("coordinator ")
          .append(coordinatorUp ? "up " : "down ")
          .append(coordinator.map())
          .append("\ncoordinator disk ")
          .append(coordinatorDisk)
          .append('\n');
    }
    for (SimNode node : nodes.values()) {
      out.append(node.id)
          .append(node.left ? " left" : node.up ? "" : " down")
          .append(node.paused ? " paused" : "");
      if (node.host != null) {
        out.append(" map=").append(node.host.map().version());
        node.host
            .machines()
            .forEach((c, m) ->
                out.append(" | c")
                    .append(c)
                    .append(" member=")
                    .append(m.isMember())
                    .append(" catchingUp=")
                    .append(m.isCatchingUp())
                    .append(" lease=")
                    .append(m.hasLease())
                    .append(" dirty=")
                    .append(m.dirtyCount())
                    .append(" epoch=")
                    .append(m.config().epoch()));
      }
      out.append('\n');
    }
    return out.toString();
  }

  private boolean clientsBusy() {
    return clients.stream().anyMatch(c -> c.op != null);
  }

  // ------------------------------------------------------------- coordinator invariants

  /** The store accepted {@code written}: the invariants of {@link #onMapWritten}. */
  private void onStoreWrite(ChainMap previous, ChainMap written, int version, String by) {
    onMapWritten(previous, written, by + " (store version " + version + ")");
  }

  /**
   * A map was made durable (stored in ZooKeeper, or on the file-based coordinator's disk): its
   * version grows; in every chain the epoch never goes back and an epoch keeps its configuration,
   * and a chain with members counts one of them caught up (once a chain has a complete copy, it
   * never goes on without one: it waits for that member to come back); a member removed from a
   * chain holds no read lease in it any more (unless its operator stops it now: it was leaving and
   * is in no chain any more).
   */
  private void onMapWritten(ChainMap previous, ChainMap written, String by) {
    if (written.version() <= previous.version()) {
      fail(
          "the stored map version went from "
              + previous.version()
              + " to "
              + written.version()
              + " (written by "
              + by
              + ")");
    }
    if (written.chainCount() != chainCount) {
      fail(by + " stored a map of " + written.chainCount() + " chains, not " + chainCount);
    }
    for (int c = 0; c < chainCount; c++) {
      ChainConfig before = previous.chain(c);
      ChainConfig after = written.chain(c);
      if (after.epoch() < before.epoch()
          || (after.epoch() == before.epoch() && !after.equals(before))) {
        fail(
            by
                + " stored chain "
                + c
                + " epoch "
                + after.epoch()
                + " "
                + after
                + " over epoch "
                + before.epoch()
                + " "
                + before);
      }
      if (after.size() > 0 && after.members().stream().noneMatch(Member::caughtUp)) {
        fail(by + " stored chain " + c + " with no caught-up member: " + after);
      }
      registerStored(c, after, "stored by " + by);
    }
    finishLeaves(written);
    for (int c = 0; c < chainCount; c++) {
      checkRemovals(c, previous.chain(c), written.chain(c), by);
    }
  }

  private void checkRemovals(int c, ChainConfig previous, ChainConfig written, String by) {
    if (written.epoch() == previous.epoch()) {
      return;
    }
    for (Member m : written.members()) {
      if (!previous.contains(m.id())) {
        event("member-added");
      }
    }
    for (Member m : previous.members()) {
      SimNode node = nodes.get(m.id());
      if (!written.contains(m.id())) {
        leftOutTick
            .computeIfAbsent(m.id() + "#" + c, id -> new TreeMap<>())
            .putIfAbsent(written.epoch(), now);
        if (node == null || !node.left) {
          event("member-removed");
        }
      }
      if (written.contains(m.id())
          || node == null
          || node.left
          || !node.up
          || node.paused
          || node.machine(c) == null) {
        continue;
      }
      node.catchUpClock();
      NodeMachine machine = node.machine(c);
      if (CHECK_REMOVED_LEASES
          && machine.isMember()
          && machine.hasLease()
          && machine.config().epoch() < written.epoch()) {
        fail(
            by
                + " stored chain "
                + c
                + " epoch "
                + written.epoch()
                + " without "
                + m.id()
                + ", which still holds a read lease in its epoch "
                + machine.config().epoch());
      }
    }
  }

  /** A coordinator's write succeeded: every map of its drain is persisted. */
  void persistedByCoordinator(String by, List<ChainMap> maps) {
    for (ChainMap map : maps) {
      for (int c = 0; c < map.chainCount(); c++) {
        registerStored(c, map.chain(c), "persisted by " + by);
      }
    }
  }

  /** The newest epoch of each chain in a stored or persisted map. */
  final Map<Integer, Long> storedEpochMax = new HashMap<>();

  private void registerStored(int chain, ChainConfig config, String how) {
    storedEpochMax.merge(chain, config.epoch(), Math::max);
    registerConfig(chain, config, how);
  }

  private void registerConfig(int chain, ChainConfig config, String how) {
    ChainConfig known = configsByEpoch.putIfAbsent(chain + "#" + config.epoch(), config);
    if (known != null && !known.equals(config)) {
      fail(
          "two configurations for chain "
              + chain
              + " epoch "
              + config.epoch()
              + ": "
              + known
              + " and, "
              + how
              + ", "
              + config);
    }
  }

  /**
   * A coordinator sends {@code message} (a reply to {@code ref}, or a push when {@code ref} is
   * null): every configuration in it was stored, and is that epoch's; a lease it grants is for a
   * node that no newer stored configuration of the chain has left out.
   */
  void checkSent(String by, ClientRef ref, Message message) {
    int refChain = ref instanceof NodeRef nodeRef ? nodeRef.chain() : -1;
    switch (message) {
      case Chained chained when chained.message() instanceof Message.ConfigPush push ->
          checkSentConfig(by, chained.chain(), push.config());
      case Message.ConfigPush push -> fail(by + " pushed an unwrapped configuration " + push);
      case Message.HeartbeatReply reply -> {
        if (refChain < 0) {
          fail(by + " answered " + reply + " to a request of no chain (" + ref + ")");
        }
        checkSentConfig(by, refChain, reply.config());
        if (reply.member() && reply.seq() > 0) {
          checkLeaseGrant(by, refChain, reply);
        }
      }
      case MapReply reply -> {
        for (int c = 0; c < reply.map().chainCount(); c++) {
          checkSentConfig(by, c, reply.map().chain(c));
        }
      }
      case ChainReply reply -> checkSentConfig(by, Math.max(0, refChain), reply.config());
      default -> {}
    }
  }

  private void checkSentConfig(String by, int chain, ChainConfig config) {
    ChainConfig known = configsByEpoch.get(chain + "#" + config.epoch());
    if (known == null && config.epoch() <= storedEpochMax.getOrDefault(chain, 0L)) {
      // An epoch the coordinator went through within one drain, whose map persisted a newer one:
      // no coordinator can issue this epoch again (every one starts above a stored epoch), so it
      // is this chain's from now on.
      event("unstored-intermediate-epoch-sent");
      registerConfig(chain, config, "sent by " + by);
    } else if (known == null) {
      fail(
          by
              + " sent chain "
              + chain
              + " epoch "
              + config.epoch()
              + " before it was stored: "
              + config);
    } else if (!known.equals(config)) {
      fail(
          by
              + " sent chain "
              + chain
              + " "
              + config
              + " but epoch "
              + config.epoch()
              + " is "
              + known
              + " elsewhere");
    }
  }

  /**
   * A lease granted in an epoch must end before any newer stored configuration of the chain left
   * the node out: once a leader moves the chain on from that configuration, a node that still holds
   * a lease of an older epoch serves stale reads. The node counts its lease from when it sent the
   * heartbeat the answer is for (a join's answer, sequence number 0, grants none), so a late answer
   * to an old heartbeat grants nothing new.
   */
  private void checkLeaseGrant(String by, int chain, Message.HeartbeatReply reply) {
    Member member = reply.config().member(reply.nodeId());
    Long sent =
        member == null
            ? null
            : heartbeatSentTick.get(
                reply.nodeId() + "#" + chain + "#" + member.incarnation() + "#" + reply.seq());
    TreeMap<Long, Long> leftOut = leftOutTick.get(reply.nodeId() + "#" + chain);
    if (sent == null || leftOut == null) {
      return;
    }
    Map.Entry<Long, Long> newer = leftOut.higherEntry(reply.config().epoch());
    long leaseEnd = sent + nodeSettings.leaseTicks();
    if (newer != null && leaseEnd > newer.getValue()) {
      fail(
          by
              + " grants "
              + reply.nodeId()
              + " a lease in chain "
              + chain
              + " epoch "
              + reply.config().epoch()
              + " until t="
              + leaseEnd
              + ", but the store left it out of epoch "
              + newer.getKey()
              + " at t="
              + newer.getValue());
    }
  }

  /** In every chain, no node goes back to an older epoch, nor holds one never stored. */
  private void checkNodeEpochs() {
    for (SimNode node : nodes.values()) {
      if (node.host == null) {
        continue;
      }
      node.host
          .machines()
          .forEach((c, machine) -> {
            ChainConfig config = machine.config();
            long seen = node.epochSeen.getOrDefault(c, 0L);
            if (config.epoch() < seen) {
              fail(
                  node.id
                      + " went back in chain "
                      + c
                      + " from epoch "
                      + seen
                      + " to "
                      + config.epoch());
            }
            node.epochSeen.put(c, config.epoch());
            ChainConfig stored = configsByEpoch.get(c + "#" + config.epoch());
            if (!config.equals(stored)) {
              fail(
                  node.id
                      + " holds chain "
                      + c
                      + " "
                      + config
                      + ", but epoch "
                      + config.epoch()
                      + " is "
                      + stored);
            }
          });
    }
  }

  void event(String what) {
    events.merge(what, 1, Integer::sum);
  }

  /** An invariant broke: stop the run loudly, with the seed and the recent events. */
  void fail(String what) {
    throw new AssertionError(
        "seed "
            + seed
            + " ("
            + options.describe()
            + "): "
            + what
            + " at t="
            + now
            + " (replay: -Dcraq.seed="
            + seed
            + ")\n"
            + describe()
            + traceText());
  }

  /** A committed (key, version) has one value, wherever it is held. */
  private void checkCommittedAgreement() {
    for (SimNode node : nodes.values()) {
      if (node.host == null) {
        continue;
      }
      for (NodeMachine machine : node.host.machines().values()) {
        for (VersionRecord r : machine.committedSnapshot()) {
          String id = r.key() + "@" + r.version();
          long[] fingerprint = {java.util.Arrays.hashCode(r.value()), r.tombstone() ? 1 : 0};
          long[] seen = committedValueCheck.putIfAbsent(id, fingerprint);
          if (seen != null && (seen[0] != fingerprint[0] || seen[1] != fingerprint[1])) {
            fail(id + " committed with two values at " + node.id);
          }
        }
      }
    }
  }

  /**
   * Per chain of the stored map: every member caught up in it holds the same committed state for
   * the chain's keys.
   */
  private boolean converged() {
    ChainMap map = storedMap();
    for (int c = 0; c < map.chainCount(); c++) {
      List<VersionRecord> reference = null;
      String referenceNode = null;
      for (Member member : map.chain(c).members()) {
        SimNode node = nodes.get(member.id());
        NodeMachine m = node == null ? null : node.machine(c);
        if (node == null || node.left || m == null || !m.isMember() || m.isCatchingUp()) {
          continue;
        }
        List<VersionRecord> mine = new ArrayList<>();
        for (VersionRecord r : m.committedSnapshot()) {
          if (KeySlots.chainOf(r.key(), chainCount) == c) {
            mine.add(r);
          }
        }
        if (reference == null) {
          reference = mine;
          referenceNode = node.id;
        } else if (!reference.equals(mine)) {
          convergenceProblem =
              "chain "
                  + c
                  + ": "
                  + node.id
                  + " holds "
                  + mine
                  + " but "
                  + referenceNode
                  + " "
                  + reference;
          return false;
        }
      }
    }
    return true;
  }

  /** Strong reads of every key at every member of its chain, through the network, recorded. */
  private void finalReads() {
    SimClient reader = new SimClient(nextProcess++);
    reader.known = storedMap();
    reader.nextRefreshTick = Long.MAX_VALUE;
    clients.clear();
    clients.add(reader);
    for (String key : allKeys) {
      for (Member m : storedMap().chainFor(key).members()) {
        issue(
            reader,
            recorder.read(reader.process, key),
            new ReadRequest(key, ReadMode.STRONG, 0),
            m.id());
        for (int t = 0; t < 60 && reader.op != null; t++) {
          step(false);
        }
      }
    }
  }
}

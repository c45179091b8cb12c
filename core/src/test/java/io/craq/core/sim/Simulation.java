package io.craq.core.sim;

import io.craq.check.HistoryRecorder;
import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Effects.PersistConfig;
import io.craq.core.Effects.PutVersion;
import io.craq.core.coordinator.CoordinatorMachine;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.node.NodeCounters;
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
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A whole CRAQ cluster in one thread: a coordinator, nodes and clients over a {@link SimNetwork},
 * with crashes (storage keeps what was persisted), pauses, partitions, coordinator restarts, joins
 * and leaves, all drawn from one seed. Clients record a history for the linearizability checker.
 *
 * <p>With {@link SimOptions#zookeeper()}, the single file-based coordinator gives way to several
 * {@link SimCoordinator}s that keep the configuration in a {@link SimZooKeeper} and elect a leader
 * there; nodes and clients follow the leader by redirects. Further faults: coordinator crashes and
 * pauses (the leader past its session timeout), coordinators cut from the store or from nodes, and
 * the store losing its quorum. Further invariants, checked as the run goes: at most one
 * configuration per epoch among all that were stored, persisted or sent by any coordinator; nothing
 * sent before it was stored; the stored epoch only grows; no node adopts an older epoch; no member
 * is removed while it still holds a read lease (a node cut off from every coordinator stops serving
 * strong reads before a new leader moves the chain on without it); and no coordinator grants a
 * lease in an older epoch to a node that a newer stored configuration left out.
 */
final class Simulation {
  static final String COORDINATOR = "coordinator";

  final long seed;
  final SimOptions options;
  final Random random;
  final SimNetwork network;
  final NodeSettings nodeSettings = new NodeSettings(3, 12, 8, 120, 15, 8, 15, 64, 64, 64, 1024);
  final CoordinatorSettings coordinatorSettings = new CoordinatorSettings(16, 16);

  long now;
  final HistoryRecorder recorder = new HistoryRecorder(() -> now);

  // coordinator
  CoordinatorMachine coordinator;
  ChainConfig coordinatorDisk = ChainConfig.EMPTY;
  boolean coordinatorUp = true;
  long coordinatorRestartTick;

  // ZooKeeper mode: the store, the coordinators (in the order nodes and clients list them)
  SimZooKeeper store;
  final Map<String, SimCoordinator> coordinators = new LinkedHashMap<>();
  final List<String> coordinatorNames = new ArrayList<>();
  long nextRequestId = 1;

  /** Every configuration stored, persisted or sent by any coordinator, by epoch (one per epoch). */
  final Map<Long, ChainConfig> configsByEpoch = new HashMap<>();

  /** Counts of what the coordinators did (takeovers, fencing, freezes...), for the summary. */
  final Map<String, Integer> events = new TreeMap<>();

  /** Links whose messages were held over this tick: later ones on the link wait too (FIFO). */
  final Set<String> heldLinks = new HashSet<>();

  /** When each heartbeat was sent, by node, incarnation and sequence number (ZooKeeper mode). */
  final Map<String, Long> heartbeatSentTick = new HashMap<>();

  /** When the store first left each node out of a configuration, by node and epoch. */
  final Map<String, TreeMap<Long, Long>> leftOutTick = new HashMap<>();

  /** The coordinators acting at the last step, for the trace. */
  String actingLeaders = "";

  /** A node an operator asked to leave, waiting for the coordinators' answer. */
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
  int keyGeneration;

  Simulation(long seed, SimOptions options) {
    this.seed = seed;
    this.options = options;
    this.random = new Random(seed);
    this.network = new SimNetwork(random);
    this.coordinator = new CoordinatorMachine(coordinatorSettings, ChainConfig.EMPTY);
    if (options.zookeeper()) {
      store = new SimZooKeeper(this, this::onStoreWrite);
      network.exactlyOnce(SimZooKeeper.NAME);
      configsByEpoch.put(0L, ChainConfig.EMPTY);
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
    NodeMachine machine;

    /** What survives a crash for certain: every change up to the last log force. */
    final ModelStore durable = new ModelStore();

    /** What the store shows (the machine's view): {@link #durable} plus {@link #unforced}. */
    ModelStore applied;

    /** Changes written to the store after the last log force, in order. */
    final List<Effects.StoreOp> unforced = new ArrayList<>();

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

    /** The newest epoch this incarnation held: a node never goes back to an older one. */
    long epochSeen;

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
      machine =
          new NodeMachine(
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
      epochSeen = 0;
    }

    /** The machine's clock follows real time, paused or not (a monotonic clock does). */
    void catchUpClock() {
      machine.advanceTo(now - startTick);
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
      unforced.addAll(merged.ops());
      if (merged.force()) {
        durable.applyAll(unforced);
        unforced.clear();
      }
      return merged;
    }
  }

  /** A client process; an op whose outcome is unknown retires it (a new process id follows). */
  final class SimClient {
    long process;
    ChainConfig known = ChainConfig.EMPTY;
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
    final HistoryRecorder.Pending pending; // null for unrecorded ops (chain refresh, eventual)
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

  /** Routes a coordinator answer back to the node that asked. */
  record NodeRef(String nodeId) implements ClientRef {}

  /** An operator's request (a leave) handed to the leading coordinator. */
  record OperatorRef(String nodeId) implements ClientRef {}

  private SimNode addNode(int position) {
    String id = "n" + (++nextNodeNumber);
    SimNode node = new SimNode(id, position);
    nodes.put(id, node);
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
    if (!settled) {
      trace("did not settle:\n" + describe());
    }
    finalReads();
    checkStatsReplies();
    return new SimResult(
        seed,
        recorder.history(),
        faults,
        events,
        network,
        settled,
        converged(),
        firstWriteAfterHeal,
        now,
        traceText());
  }

  long lastWriteOkTick = -1;

  void step(boolean clientsActive) {
    now++;
    if (options.zookeeper()) {
      if (pendingLeave != null && now > pendingLeaveUntil) {
        pendingLeave = null; // its request was dropped with a drain: the node stays
      }
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
        node.machine.checkInvariants();
      }
    }
    checkNodeEpochs();
    checkCommittedAgreement();
    for (SimClient client : clients) {
      clientStep(client, clientsActive);
    }
  }

  private void deliver(SimNetwork.Envelope e) {
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
      coordinator.onRequest(routed.ref(), (Message.CoordinatorRequest) routed.message());
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
      if (e.payload() instanceof Routed routed) {
        node.machine.onClientRequest(routed.ref(), (Message.NodeRequest) routed.message());
      } else if (e.payload() instanceof Message.NodeMessage message) {
        node.machine.onMessage(message);
      } // else a refusal from the coordinator: the node's driver only logs it
      perform(node);
      return;
    }
    if (e.payload() instanceof Answer answer && answer.ref() instanceof Op op) {
      completeOp(op, answer.message());
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
    if (!from.equals(coordinatorOf(node)) || payload instanceof Message.ConfigPush) {
      return;
    }
    node.awaitingSince = -1;
    if (payload instanceof ErrorReply error && error.code() == ErrorCode.NOT_LEADER) {
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
    performEffects(node, node.machine.drain());
    checkCounters(node);
  }

  private void performEffects(SimNode node, Effects effects) {
    PersistSchedule.Plan plan = node.schedule.plan(effects, node.machine.drainSequence());
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
        node.readAnswers++; // answered by the machine, though the driver may hold the reply
        if (TRACE_KEY != null
            && reply.message() instanceof ReadReply read
            && read.key().equals(TRACE_KEY)) {
          trace(
              node.id
                  + " answers a read of "
                  + read.key()
                  + ": "
                  + (read.found() ? new String(read.value(), StandardCharsets.UTF_8) : "absent")
                  + " @v"
                  + read.version()
                  + " (epoch "
                  + node.machine.config().epoch()
                  + ", "
                  + node.machine.role()
                  + ")");
        }
      }
    }
    sendAndReply(node, plan.now());
  }

  private void sendAndReply(SimNode node, PersistSchedule.Release release) {
    for (Effects.Send send : release.sends()) {
      if (send.to() == Effects.COORDINATOR && options.zookeeper()) {
        if (send.message() instanceof Message.Heartbeat heartbeat) {
          heartbeatSentTick.put(node.id + "#" + node.incarnation + "#" + heartbeat.seq(), now);
        }
        network.send(
            now, node.id, coordinatorOf(node), new Routed(new NodeRef(node.id), send.message()));
        if (node.awaitingSince < 0) {
          node.awaitingSince = now;
        }
      } else if (send.to() == Effects.COORDINATOR) {
        network.send(now, node.id, COORDINATOR, new Routed(new NodeRef(node.id), send.message()));
      } else {
        network.send(now, node.id, send.to().id(), send.message());
      }
    }
    for (Effects.Reply reply : release.replies()) {
      Op op = (Op) reply.ref();
      network.send(now, node.id, "client" + op.client.process, new Answer(op, reply.message()));
    }
  }

  /**
   * The node's store thread finishes a write: some of the queued groups (oldest first) are written;
   * what waited for them is released, and the machine is told.
   */
  private void completeStore(SimNode node) {
    if (node.queued.isEmpty()) {
      return;
    }
    PersistSchedule.Group written = node.writeGroups(1 + random.nextInt(node.queued.size()));
    sendAndReply(node, node.schedule.done(written.id()));
    node.machine.onPersisted(written.drainSequence());
    perform(node);
  }

  /**
   * The node's counters only grow, count every answered read exactly once, and count no read
   * answered after a version query whose key was not sent to the tail.
   */
  private void checkCounters(SimNode node) {
    NodeCounters current = node.machine.counters();
    Map<String, Long> before = node.lastCounters.toMap();
    current
        .toMap()
        .forEach((name, value) -> {
          if (value < before.get(name)) {
            throw new AssertionError(
                "seed "
                    + seed
                    + ": "
                    + node.id
                    + " counter "
                    + name
                    + " went down from "
                    + before.get(name)
                    + " to "
                    + value);
          }
        });
    if (current.readsAnswered() != node.readAnswers) {
      throw new AssertionError(
          "seed "
              + seed
              + ": "
              + node.id
              + " answered "
              + node.readAnswers
              + " reads but counted "
              + current);
    }
    if (current.readsAfterQuery() > current.versionQueryKeysSent()
        || current.versionQueryKeysSent() < current.versionQueriesSent()) {
      throw new AssertionError(
          "seed " + seed + ": " + node.id + " version-query counters " + "disagree: " + current);
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
      node.machine.onClientRequest(new NodeRef("stats"), new StatsRequest());
      Effects effects = node.machine.drain();
      StatsReply expected =
          new StatsReply(
              node.id,
              node.machine.config().epoch(),
              node.machine.role(),
              node.machine.counters().toMap());
      if (effects.replies().size() != 1 || !expected.equals(effects.replies().get(0).message())) {
        throw new AssertionError(
            "seed "
                + seed
                + ": "
                + node.id
                + " answered a StatsRequest "
                + "with "
                + effects.replies()
                + ", expected "
                + expected);
      }
    }
  }

  private void performCoordinator() {
    performCoordinator(coordinator.drain());
  }

  private void performCoordinator(Effects effects) {
    for (Effects.StoreOp op : effects.persist()) {
      coordinatorDisk = ((PersistConfig) op).config();
      trace("config " + coordinatorDisk);
    }
    for (Effects.Send send : effects.sends()) {
      network.send(now, COORDINATOR, send.to().id(), send.message());
    }
    for (Effects.Reply reply : effects.replies()) {
      if (reply.ref() instanceof NodeRef nodeRef) {
        network.send(now, COORDINATOR, nodeRef.nodeId(), reply.message());
      } else if (reply.ref() instanceof Op op) {
        network.send(
            now, COORDINATOR, "client" + op.client.process, new Answer(op, reply.message()));
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
    if (client.known.size() == 0 || now >= client.nextRefreshTick) {
      client.nextRefreshTick = now + 30;
      String target =
          options.zookeeper() ? coordinatorNames.get(client.coordinatorIndex) : COORDINATOR;
      issue(client, null, new ChainRequest(), target);
      return;
    }
    if (!active || random.nextInt(3) != 0) {
      return;
    }
    if (opsStarted > 0 && opsStarted % options.opsPerKeyGeneration() == 0) {
      rotateKeys();
    }
    opsStarted++;
    String key = keys.get(random.nextInt(keys.size()));
    int dice = random.nextInt(100);
    List<Member> members = client.known.members();
    String anyNode = members.get(random.nextInt(members.size())).id();
    String head = members.get(0).id();
    if (dice < 45) {
      issue(
          client,
          recorder.read(client.process, key),
          new ReadRequest(key, ReadMode.STRONG, 0),
          anyNode);
    } else if (dice < 50) {
      ReadMode mode = random.nextBoolean() ? ReadMode.EVENTUAL : ReadMode.BOUNDED;
      issue(client, null, new ReadRequest(key, mode, 1), anyNode);
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
    if (answer instanceof ErrorReply error
        && op.request instanceof ChainRequest
        && coordinators.containsKey(op.target)) {
      // A standby's refusal: ask the hinted leader at once, or the next one a little later.
      client.coordinatorIndex = nextCoordinator(client.coordinatorIndex, error.hint());
      client.nextRefreshTick = now + (error.hint().isEmpty() ? 5 : 0);
      return;
    }
    if (answer instanceof ChainReply chain) {
      if (chain.config().epoch() >= client.known.epoch()) {
        client.known = chain.config();
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
      case ErrorReply error -> {
        if (error.code() == ErrorCode.NOT_HEAD || error.code() == ErrorCode.STALE_EPOCH) {
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

  private void rotateKeys() {
    keyGeneration++;
    keys = new ArrayList<>();
    for (int i = 0; i < options.keysPerGeneration(); i++) {
      keys.add("k" + keyGeneration + "-" + i);
    }
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
    // The fault model: at least one member stays caught up, running and reachable, or nothing
    // can be promised (no acknowledged write is lost while one complete copy survives). Hurt the
    // victim only if another such member remains.
    boolean mayHurt = victim != null && healthyMembersOtherThan(victim) > 0;
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
      coordinatorUp = false;
      coordinatorRestartTick = now + 5 + random.nextInt(30);
      network.dropAllOf(COORDINATOR);
    } else if (dice < 78 && nodes.size() < options.nodesMax()) {
      count("join");
      int position = random.nextBoolean() ? -1 : 1 + random.nextInt(Math.max(1, nodes.size()));
      addNode(position);
    } else if (dice < 83
        && mayHurt
        && coordinatorUp
        && nodes.values().stream().filter(n -> !n.left).count() > 2) {
      // An operator decommissions the node: the request is retried until answered, so it is
      // handed to the coordinator directly; the node stops only if the leave was accepted.
      coordinator.onRequest(new NodeRef(victim.id), new Message.LeaveRequest(victim.id));
      Effects effects = coordinator.drain();
      boolean accepted =
          effects.replies().stream().noneMatch(r -> r.message() instanceof ErrorReply);
      performCoordinator(effects);
      if (accepted) {
        count("leave");
        trace("leave " + victim.id);
        victim.left = true;
        persistAndCrash(victim);
      }
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
    boolean mayHurt = victim != null && pendingLeave == null && healthyMembersOtherThan(victim) > 0;
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
    } else if (dice < 45
        && mayHurt
        && leader != null
        && leader.readyLeader()
        && nodes.values().stream().filter(n -> !n.left).count() > 2) {
      // An operator decommissions the node through the leader; the node stops once the
      // configuration without it is stored (see onStoreWrite), or at the answer.
      trace("operator asks " + leader.name + " to let " + victim.id + " leave");
      pendingLeave = victim;
      pendingLeaveUntil = now + 120; // beyond a write retried on a new session
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

  /** The leading coordinator answered an operator's request. */
  void onOperatorReply(OperatorRef ref, Message reply) {
    if (pendingLeave == null || !pendingLeave.id.equals(ref.nodeId())) {
      return;
    }
    SimNode victim = pendingLeave;
    pendingLeave = null;
    if (reply instanceof ErrorReply error) {
      trace("leave of " + victim.id + " refused: " + error.message());
    } else if (!victim.left
        && reply instanceof ChainReply chain
        && !chain.config().contains(victim.id)) {
      leave(victim);
    }
  }

  private void leave(SimNode victim) {
    count("leave");
    trace("leave " + victim.id);
    victim.left = true;
    if (victim.up) {
      persistAndCrash(victim);
    }
  }

  private long healthyMembersOtherThan(SimNode victim) {
    ChainConfig chain = chainConfig();
    return nodes.values().stream()
        .filter(n ->
            n != victim
                && n.up
                && !n.paused
                && !n.left
                && chain.contains(n.id)
                && n.machine.isMember()
                && !n.machine.isCatchingUp()
                && n.machine.config().epoch() == chain.epoch()
                && network.cutCountOf(n.id) == 0)
        .count();
  }

  /**
   * Crashes a node: everything up to its last log force survives, then any prefix of what was
   * written after it or was being written (queued groups); the rest and all memory are lost.
   */
  private void persistAndCrash(SimNode node) {
    if (random.nextBoolean()) {
      // crashed after sending versions on (the driver does that before queueing its store write)
      Effects effects = node.machine.drain();
      PersistSchedule.Plan plan = node.schedule.plan(effects, node.machine.drainSequence());
      for (Effects.Send send : plan.propagates()) {
        network.send(now, node.id, send.to().id(), send.message());
      }
      if (plan.group() != null) {
        node.queued.addLast(plan.group());
      }
    }
    List<Effects.StoreOp> notForced = new ArrayList<>(node.unforced);
    node.queued.forEach(group -> notForced.addAll(group.ops()));
    int reachedDisk = random.nextInt(notForced.size() + 1);
    node.durable.applyAll(notForced.subList(0, reachedDisk));
    trace("crash keeps " + reachedDisk + " of " + notForced.size() + " unforced store changes");
    node.unforced.clear();
    node.queued.clear();
    node.up = false;
    node.machine = null;
    network.dropAllOf(node.id);
  }

  private void restartCoordinator() {
    coordinator = new CoordinatorMachine(coordinatorSettings, coordinatorDisk);
    coordinatorUp = true;
    coordinatorRestartTick = 0;
  }

  private void count(String fault) {
    faults.merge(fault, 1, Integer::sum);
    trace("fault " + fault);
  }

  /** Recent events, printed when a run fails (-Dcraq.sim.trace=true prints them as they come). */
  final java.util.ArrayDeque<String> trace = new java.util.ArrayDeque<>();

  private static final String TRACE_KEY = System.getProperty("craq.sim.traceKey");
  private static final boolean TRACE_LIVE = Boolean.getBoolean("craq.sim.trace");

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

  /** The chain as the coordinators have it: the store's in ZooKeeper mode. */
  ChainConfig chainConfig() {
    return options.zookeeper() ? store.config : coordinator.config();
  }

  private boolean settled() {
    ChainConfig chain = chainConfig();
    if (options.zookeeper()
        && coordinators.values().stream()
            .noneMatch(
                c -> c.readyLeader() && !c.replica.frozen() && c.replica.config().equals(chain))) {
      return false;
    }
    for (SimNode node : nodes.values()) {
      if (node.left) {
        continue;
      }
      NodeMachine m = node.machine;
      if (!m.isMember()
          || m.isCatchingUp()
          || !m.hasLease()
          || m.dirtyCount() > 0
          || m.config().epoch() != chain.epoch()) {
        return false;
      }
    }
    return chain.size() > 0;
  }

  /** One line per process, for failure messages. */
  String describe() {
    StringBuilder out = new StringBuilder();
    if (options.zookeeper()) {
      out.append(store.describe()).append('\n');
      coordinators.values().forEach(c -> out.append(c.describe()).append('\n'));
    } else {
      out.append("coordinator " + (coordinatorUp ? "up " : "down ") + coordinator.config() + "\n");
    }
    for (SimNode node : nodes.values()) {
      out.append(node.id)
          .append(node.left ? " left" : node.up ? "" : " down")
          .append(node.paused ? " paused" : "");
      if (node.machine != null) {
        NodeMachine m = node.machine;
        out.append(" member=")
            .append(m.isMember())
            .append(" catchingUp=")
            .append(m.isCatchingUp())
            .append(" lease=")
            .append(m.hasLease())
            .append(" dirty=")
            .append(m.dirtyCount())
            .append(" epoch=")
            .append(m.config().epoch());
      }
      out.append('\n');
    }
    return out.toString();
  }

  private boolean clientsBusy() {
    return clients.stream().anyMatch(c -> c.op != null);
  }

  // ------------------------------------------------------------- coordinator invariants

  /**
   * The store accepted {@code written}: the stored epoch grows; one configuration per epoch; a
   * member removed holds no read lease any more (unless it is leaving: its operator stops it now).
   */
  private void onStoreWrite(ChainConfig previous, ChainConfig written, int version, String by) {
    if (written.epoch() <= previous.epoch()) {
      fail(
          "the stored epoch went from "
              + previous.epoch()
              + " to "
              + written.epoch()
              + " (version "
              + version
              + ", written by "
              + by
              + ")");
    }
    registerConfig(written, "stored by " + by);
    if (pendingLeave != null
        && previous.contains(pendingLeave.id)
        && !written.contains(pendingLeave.id)) {
      SimNode victim = pendingLeave;
      pendingLeave = null;
      leave(victim);
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
            .computeIfAbsent(m.id(), id -> new TreeMap<>())
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
          || node.machine == null) {
        continue;
      }
      node.catchUpClock();
      NodeMachine machine = node.machine;
      if (machine.isMember() && machine.hasLease() && machine.config().epoch() < written.epoch()) {
        fail(
            by
                + " stored epoch "
                + written.epoch()
                + " without "
                + m.id()
                + ", which still holds a read lease in epoch "
                + machine.config().epoch());
      }
    }
  }

  /** A coordinator's write succeeded: every configuration of its drain is persisted. */
  void persistedByCoordinator(String by, List<ChainConfig> configs) {
    for (ChainConfig config : configs) {
      registerConfig(config, "persisted by " + by);
    }
  }

  private void registerConfig(ChainConfig config, String how) {
    ChainConfig known = configsByEpoch.putIfAbsent(config.epoch(), config);
    if (known != null && !known.equals(config)) {
      fail(
          "two configurations for epoch "
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
   * A coordinator sends {@code message}: a configuration in it was stored, and is that epoch's; a
   * lease it grants is for a node that no newer stored configuration has left out.
   */
  void checkSentConfig(String by, Message message) {
    ChainConfig config =
        switch (message) {
          case Message.ConfigPush push -> push.config();
          case Message.HeartbeatReply reply -> reply.config();
          case ChainReply reply -> reply.config();
          default -> null;
        };
    if (config == null) {
      return;
    }
    if (message instanceof Message.HeartbeatReply reply && reply.member() && reply.seq() > 0) {
      checkLeaseGrant(by, reply);
    }
    ChainConfig known = configsByEpoch.get(config.epoch());
    if (known == null) {
      fail(by + " sent epoch " + config.epoch() + " before it was stored: " + config);
    } else if (!known.equals(config)) {
      fail(by + " sent " + config + " but epoch " + config.epoch() + " is " + known + " elsewhere");
    }
  }

  /**
   * A lease granted in an epoch must end before any newer stored configuration left the node out:
   * once a leader moves the chain on from that configuration, a node that still holds a lease of an
   * older epoch serves stale reads. The node counts its lease from when it sent the heartbeat the
   * answer is for (a join's answer, sequence number 0, grants none), so a late answer to an old
   * heartbeat grants nothing new.
   */
  private void checkLeaseGrant(String by, Message.HeartbeatReply reply) {
    Member member = reply.config().member(reply.nodeId());
    Long sent =
        member == null
            ? null
            : heartbeatSentTick.get(
                reply.nodeId() + "#" + member.incarnation() + "#" + reply.seq());
    TreeMap<Long, Long> leftOut = leftOutTick.get(reply.nodeId());
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
              + " a lease in epoch "
              + reply.config().epoch()
              + " until t="
              + leaseEnd
              + ", but the store left it out of epoch "
              + newer.getKey()
              + " at t="
              + newer.getValue());
    }
  }

  /** No node goes back to an older epoch; in ZooKeeper mode, each one it holds was stored. */
  private void checkNodeEpochs() {
    for (SimNode node : nodes.values()) {
      if (node.machine == null) {
        continue;
      }
      ChainConfig config = node.machine.config();
      if (config.epoch() < node.epochSeen) {
        fail(node.id + " went back from epoch " + node.epochSeen + " to " + config.epoch());
      }
      node.epochSeen = config.epoch();
      if (options.zookeeper() && !config.equals(configsByEpoch.get(config.epoch()))) {
        fail(
            node.id
                + " holds "
                + config
                + ", but epoch "
                + config.epoch()
                + " is "
                + configsByEpoch.get(config.epoch()));
      }
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
            + ": "
            + what
            + " at t="
            + now
            + " (replay: -Dcraq.seed="
            + seed
            + ")\n"
            + describe()
            + traceText());
  }

  /** Invariant 3: a committed (key, version) has one value, wherever it is held. */
  private void checkCommittedAgreement() {
    for (SimNode node : nodes.values()) {
      if (node.machine == null) {
        continue;
      }
      for (VersionRecord r : node.machine.committedSnapshot()) {
        String id = r.key() + "@" + r.version();
        long[] fingerprint = {java.util.Arrays.hashCode(r.value()), r.tombstone() ? 1 : 0};
        long[] seen = committedValueCheck.putIfAbsent(id, fingerprint);
        if (seen != null && (seen[0] != fingerprint[0] || seen[1] != fingerprint[1])) {
          throw new AssertionError(
              "seed "
                  + seed
                  + ": "
                  + id
                  + " committed with two values at "
                  + node.id
                  + "\n"
                  + traceText());
        }
      }
    }
  }

  /** Invariant 5: every member holds the same committed state. */
  private boolean converged() {
    List<VersionRecord> reference = null;
    for (SimNode node : nodes.values()) {
      if (node.left || !node.machine.isMember()) {
        continue;
      }
      List<VersionRecord> mine = node.machine.committedSnapshot();
      if (reference == null) {
        reference = mine;
      } else if (!reference.equals(mine)) {
        return false;
      }
    }
    return true;
  }

  /** Strong reads of every key at every member, through the network, into the history. */
  private void finalReads() {
    List<String> allKeys = new ArrayList<>();
    for (int g = 1; g <= keyGeneration; g++) {
      for (int i = 0; i < options.keysPerGeneration(); i++) {
        allKeys.add("k" + g + "-" + i);
      }
    }
    SimClient reader = new SimClient(nextProcess++);
    reader.known = chainConfig();
    reader.nextRefreshTick = Long.MAX_VALUE;
    clients.clear();
    clients.add(reader);
    for (String key : allKeys) {
      for (Member m : chainConfig().members()) {
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

package io.craq.node;

import io.craq.transport.process.TickClock;
import io.craq.transport.process.ResponderRef;
import io.craq.transport.process.RateLimitedWarning;
import io.craq.core.Effects;
import io.craq.core.Effects.CommitVersion;
import io.craq.core.Effects.StoreOp;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.VersionQuery;
import io.craq.core.message.Message.VersionReply;
import io.craq.core.message.VersionRecord;
import io.craq.core.node.NodeMachine;
import io.craq.store.Batch;
import io.craq.store.BatchResult;
import io.craq.store.Outcome;
import io.craq.store.Storer;
import io.craq.transport.Addresses;
import io.craq.transport.Connection;
import io.craq.transport.Responder;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node driver: a thin shell that runs the pure {@link NodeMachine} and performs its effects.
 * Every input (client request, peer or coordinator message, the passing of time) goes through one
 * of two bounded queues; a <em>round</em> feeds a batch of inputs, drains the effects once, sends
 * the versions to pass down the chain at once, queues the store changes for the store thread and
 * performs the other sends and replies (see {@link #perform} and {@link Effects} for what must
 * wait for the store).
 *
 * <p>Parallel persistence: the <em>store thread</em> makes queued store changes durable, all that
 * are queued in one {@link Storer#apply} (group commit, one fsync), without holding the machine,
 * then tells the machine ({@link NodeMachine#onPersisted(long)}), which passes the versions on as
 * durable or, at the tail, commits them. So the members of a chain sync a write at the same time,
 * and a node keeps forwarding versions, passing commits up and answering reads while its disk
 * syncs; nothing is committed before every member holds it durably. A store that is not durable
 * (memory) has nothing to wait for: its changes are applied on the spot, without a store thread.
 *
 * <p>Rounds run one at a time, under {@link #machineLock}. Inputs that only read (client reads,
 * chain and stats requests, version queries and their replies) wait in {@link #readInbox}, and
 * the transport thread that queued one runs the round itself if no round is running (flat
 * combining): a read is answered without waking another thread. Every other input (writes,
 * propagations, commits, the coordinator's answers) waits in {@link #inbox} for the loop thread,
 * which drains both queues in one round. The loop thread also runs a round at every tick
 * (timers). After {@link #COMBINE_ROUNDS_MAX} rounds in a row a transport thread leaves the rest
 * to the loop thread. The machine is thus only ever used by one thread at a time.
 *
 * <p>A failing store or a broken invariant of the machine stops the node: it must not serve data
 * it could not persist. {@link #terminated()} then completes with the cause.
 *
 * <p>Thread-safety: {@link #start}, {@link #close} and the accessors may be called from any thread.
 */
public final class NodeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeServer.class);

  /**
   * After a long pause (SIGSTOP, GC) time is caught up in steps of this many ticks, performing the
   * effects of each step, so the effects of a long pause never pile up in memory.
   */

  private static final long LOOP_JOIN_MILLIS = 5_000;
  /** Rounds a transport thread runs in a row before it leaves the rest to the loop thread. */
  static final int COMBINE_ROUNDS_MAX = 4;
  /** Delayed commit markers held at most; one more writes them all at once. */
  static final int DELAYED_COMMITS_MAX = 4096;
  private static final long WARN_INTERVAL_NANOS = 1_000_000_000L;

  /**
   * Counters of this driver, appended to the state machine's in every {@link StatsReply}: storage
   * transactions made durable (each one synced commit, the group commit of what was queued) and
   * the time spent in them, in microseconds. Together they show how busy the disk keeps a node.
   */
  public static final String STORE_TRANSACTIONS = "store_transactions";
  public static final String STORE_APPLY_MICROS = "store_apply_micros";
  public static final List<String> DRIVER_COUNTERS =
      List.of(STORE_TRANSACTIONS, STORE_APPLY_MICROS);

  private sealed interface Input {}

  private record Request(ResponderRef ref, Message message) implements Input {}

  private record OneWay(Message message) implements Input {}

  private final NodeServerSettings settings;
  private final Storer storer;
  private final Transport transport;
  private final TickClock clock;
  private final Consumer<String> logContext;
  /** Inputs that may need the store; rounds of the loop thread take them. */
  private final BlockingQueue<Input> inbox;
  /** Inputs that only read; any thread's round takes them (see the class comment). */
  private final BlockingQueue<Input> readInbox;
  private final Map<String, Connection> peers = new HashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CompletableFuture<Throwable> terminated = new CompletableFuture<>();
  private final RateLimitedWarning droppedWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);
  private final RateLimitedWarning coordinatorWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);

  private volatile boolean running = true;
  /** Held while a round runs; guards the machine, {@link #peers} and the log context. */
  private final ReentrantLock machineLock = new ReentrantLock();
  /** Why the rounds stopped, if they stopped on their own (store failure, broken invariant). */
  private volatile Throwable failure;
  private final List<Input> batch = new ArrayList<>();
  /** Commit markers applied and passed on but not yet on disk, oldest first; see perform. */
  private final List<StoreOp> delayedCommits = new ArrayList<>();
  private long delayedSinceNanos;

  /** Store changes of one or more drains, made durable together by the store thread. */
  private record StoreGroup(long id, List<StoreOp> ops, long drainSequence) {}

  /** Sends and replies that wait until store group {@code groupId} is durable. */
  private record Held(long groupId, List<Effects.Send> sends, List<Effects.Reply> replies) {}

  /** Store groups for the store thread, oldest first; guarded by {@link #machineLock}. */
  private final ArrayDeque<StoreGroup> storeQueue = new ArrayDeque<>();
  /** Signalled when a group is queued or the store thread should stop. */
  private final Condition storeWork = machineLock.newCondition();
  /** Held sends and replies, oldest first; guarded by {@link #machineLock}. */
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private long nextGroupId = 1;
  /** Every group up to this one is durable; guarded by {@link #machineLock}. */
  private long durableGroupId;
  /** Sends and replies wait until this group is durable (see {@link Effects#holdsSends}). */
  private long holdUntilGroupId;
  private boolean storeStopping;
  /** Null for a store that is not durable: its changes are applied inline (see perform). */
  private Thread storeThread;
  /** See {@link #STORE_TRANSACTIONS}; guarded by {@link #machineLock}. */
  private long storeTransactions;
  private long storeApplyNanos;
  private final LongSupplier nanoClock;
  private Server server;
  private Connection coordinator;
  private NodeMachine machine;
  /** Set once the machine exists; until then inputs only queue. */
  private volatile Thread loop;
  private volatile String publicAddress;
  private volatile String nodeId;
  private String logPrefix = "";
  private long knownEpoch = -1;
  /** What the log context was last computed from (see updateLogContext). */
  private ChainConfig contextConfig;
  private boolean contextMember;
  private boolean contextSyncing;

  private NodeServer(NodeServerSettings settings, Storer storer, Transport transport,
      LongSupplier nanoClock, Consumer<String> logContext) {
    this.settings = settings;
    this.storer = storer;
    this.transport = transport;
    this.clock = new TickClock(nanoClock, settings.tickMillis());
    this.nanoClock = nanoClock;
    this.logContext = logContext;
    this.inbox = new ArrayBlockingQueue<>(settings.inboxMax());
    this.readInbox = new ArrayBlockingQueue<>(settings.inboxMax());
  }

  /**
   * Recovers from {@code storer}, starts listening and runs the event loop. The server owns the
   * store and the transport from now on and closes them in {@link #close}.
   *
   * @param logContext told "id role epoch" whenever one of them changes (for log prefixes)
   * @throws io.craq.store.StoreException if recovery from the store fails
   * @throws io.craq.transport.TransportException if the listen address cannot be bound
   */
  public static NodeServer start(NodeServerSettings settings, Storer storer, Transport transport,
      LongSupplier nanoClock, Consumer<String> logContext) {
    NodeServer node = new NodeServer(settings, storer, transport, nanoClock, logContext);
    try {
      node.startInternal();
    } catch (RuntimeException e) {
      node.closeResources();
      throw e;
    }
    return node;
  }

  /** {@link #start} with the system's monotonic clock and no log context. */
  public static NodeServer start(NodeServerSettings settings, Storer storer, Transport transport) {
    return start(settings, storer, transport, System::nanoTime, who -> { });
  }

  private void startInternal() {
    server = transport.listen(settings.listenAddress(), this::onInbound);
    publicAddress = settings.publicAddress() != null
        ? settings.publicAddress() : dialableAddress(server.address());
    nodeId = settings.nodeId() != null ? settings.nodeId() : publicAddress;
    long incarnation = System.currentTimeMillis() * 1000 + ThreadLocalRandom.current().nextInt(1000);
    // Dirty versions are recovered too: the machine keeps them only if it re-joins as head (it
    // then held the only complete copy); anywhere else it drops them when it joins (CRAQ §2.5).
    int recoveredDirty;
    try (Stream<VersionRecord> committed = storer.allCommitted();
        Stream<VersionRecord> dirtyStream = storer.allDirty()) {
      List<VersionRecord> dirty = dirtyStream.toList();
      recoveredDirty = dirty.size();
      machine = new NodeMachine(nodeId, publicAddress, settings.machine(),
          settings.joinPosition(), incarnation, committed::iterator, dirty);
    }
    coordinator = transport.connect(settings.coordinatorAddress());
    updateLogContext();
    log.info("{} recovered {} committed keys and {} dirty versions, listening on {}, "
        + "public address {}, coordinator {}", nodeId, machine.committedSnapshot().size(),
        recoveredDirty, server.address(), publicAddress,
        settings.coordinatorAddress());
    if (storer.durable()) {
      storeThread = Thread.ofPlatform().name("craq-node-store " + nodeId)
          .unstarted(this::runStore);
      storeThread.start();
    }
    Thread thread = Thread.ofPlatform().name("craq-node-loop " + nodeId).unstarted(this::runLoop);
    loop = thread;
    thread.start();
  }

  /** {@code :PORT} binds all interfaces, but nobody can dial an empty host from elsewhere. */
  private static String dialableAddress(String bound) {
    Addresses.HostPort hostPort = Addresses.parse(bound);
    if (!hostPort.host().isEmpty() && !hostPort.host().equals("0.0.0.0")) {
      return bound;
    }
    String address = "127.0.0.1:" + hostPort.port();
    log.warn("no public address given: other processes will dial {}; set -p/--public to this "
        + "host's reachable address on multi-host setups", address);
    return address;
  }

  // ------------------------------------------------------------------------------- inbound

  /** Runs on transport threads: queues, then runs a round or wakes the loop (see class doc). */
  private void onInbound(Message message, Responder responder) {
    if (responder.expectsReply()) {
      if (!running) {
        responder.reply(new ErrorReply(ErrorCode.UNAVAILABLE, "the node is stopping", ""));
      } else if (!queueFor(message).offer(new Request(new ResponderRef(responder), message))) {
        responder.reply(new ErrorReply(ErrorCode.BUSY, "the node's input queue is full ("
            + settings.inboxMax() + " entries); retry later", ""));
      } else {
        wake(message);
      }
    } else if (running) {
      offerOneWay(message);
    }
  }

  private void offerOneWay(Message message) {
    if (queueFor(message).offer(new OneWay(message))) {
      wake(message);
    } else {
      droppedWarning.warn(log, "input queue full: dropped a one-way {} (the sender retransmits)",
          message.getClass().getSimpleName());
    }
  }

  /** True for inputs whose handling never changes stored data (see the class comment). */
  static boolean onlyReads(Message message) {
    return message instanceof ReadRequest || message instanceof ChainRequest
        || message instanceof StatsRequest || message instanceof VersionQuery
        || message instanceof VersionReply;
  }

  private BlockingQueue<Input> queueFor(Message message) {
    return onlyReads(message) ? readInbox : inbox;
  }

  private void wake(Message message) {
    if (onlyReads(message)) {
      combine();
    } else {
      LockSupport.unpark(loop);
    }
  }

  /**
   * Runs read-only rounds on this thread while reads are queued and no other thread runs a round.
   * No input is left behind: a thread that fails to get the lock queued its input before trying,
   * and the holder looks at the queues again after it lets go. A thread already inside a round (an
   * in-process transport delivering synchronously) only queues.
   */
  private void combine() {
    if (loop == null || machineLock.isHeldByCurrentThread()) {
      return; // not started yet (the loop's first round takes the input), or re-entered
    }
    for (int round = 0; running && !readInbox.isEmpty(); round++) {
      if (round == COMBINE_ROUNDS_MAX) {
        LockSupport.unpark(loop); // busy: the loop thread takes over, this thread goes back to I/O
        return;
      }
      // The loop thread waiting for the lock goes first (it also takes the queued reads): a busy
      // transport thread must not starve the writes.
      if (machineLock.hasQueuedThreads() || !machineLock.tryLock()) {
        return;
      }
      try {
        if (running) {
          round(true);
        }
      } catch (Throwable t) {
        stopRounds(t);
      } finally {
        machineLock.unlock();
      }
    }
  }

  // ---------------------------------------------------------------------------- event loop

  /**
   * The loop thread: runs a round at every tick (timers) and whenever a transport thread hands
   * over; waits for the running round to end before it completes {@link #terminated()}.
   */
  private void runLoop() {
    try {
      while (running) {
        long waitNanos = clock.nanosUntilNextTick();
        if (inbox.isEmpty() && readInbox.isEmpty() && waitNanos > 0) {
          LockSupport.parkNanos(this, waitNanos);
        }
        machineLock.lock();
        try {
          if (running) {
            round(false);
          }
        } finally {
          machineLock.unlock();
        }
      }
    } catch (Throwable t) {
      stopRounds(t);
    } finally {
      running = false;
      machineLock.lock(); // a transport thread may still be in a round: let it finish
      try {
        refuseQueuedRequests();
        storeStopping = true; // the store thread writes what is queued, then ends
        storeWork.signal();
      } finally {
        machineLock.unlock();
      }
      joinStoreThread();
      machineLock.lock();
      try {
        if (failure == null) {
          writeDelayed(); // a clean stop leaves no commit marker behind
        }
      } catch (RuntimeException e) {
        log.warn("could not write {} delayed commit marker(s) at stop (they are re-learnt when "
            + "the node re-joins): {}", delayedCommits.size(), e.toString());
      } finally {
        machineLock.unlock();
      }
      terminated.complete(failure);
    }
  }

  private void joinStoreThread() {
    if (storeThread == null) {
      return;
    }
    try {
      storeThread.join(LOOP_JOIN_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (storeThread.isAlive()) {
      log.warn("store thread still busy after {} ms; closing anyway", LOOP_JOIN_MILLIS);
    }
  }

  /**
   * The store thread: makes the queued store groups durable, all that are queued in one storage
   * transaction (group commit), without the machine lock, so the loop keeps handling inputs and
   * sending versions on meanwhile; then, under the lock, releases what waited for them and tells
   * the machine (which may now pass versions on as durable, or commit them at the tail).
   */
  private void runStore() {
    List<StoreGroup> groups = new ArrayList<>();
    try {
      while (true) {
        machineLock.lock();
        try {
          while (storeQueue.isEmpty() && !storeStopping && failure == null) {
            storeWork.await();
          }
          if (storeQueue.isEmpty() || failure != null) {
            return;
          }
          groups.addAll(storeQueue);
          storeQueue.clear();
        } finally {
          machineLock.unlock();
        }
        applyGroups(groups);
        groups.clear();
      }
    } catch (Throwable t) {
      stopRounds(t);
    }
  }

  /**
   * Makes {@code groups} durable in one storage transaction (without the machine lock, unless the
   * caller holds it), then, under the lock, releases what waited for them and tells the machine.
   */
  private void applyGroups(List<StoreGroup> groups) {
    List<StoreOp> ops = new ArrayList<>();
    for (StoreGroup group : groups) {
      ops.addAll(group.ops());
    }
    Batch batch = StoreOps.toBatch(ops);
    long start = System.nanoTime();
    BatchResult result = storer.apply(batch);
    long took = System.nanoTime() - start;
    machineLock.lock();
    try {
      storeApplyNanos += took;
      storeTransactions++;
      checkOutcomes(batch, result);
      StoreGroup last = groups.get(groups.size() - 1);
      durableGroupId = last.id();
      releaseHeld();
      if (failure == null) {
        machine.onPersisted(last.drainSequence());
        Effects effects = machine.drain();
        if (!effects.isEmpty()) {
          perform(effects);
        }
      }
    } finally {
      machineLock.unlock();
    }
  }

  /** Performs the held sends and replies whose group is durable. Caller holds the lock. */
  private void releaseHeld() {
    while (!held.isEmpty() && held.peekFirst().groupId() <= durableGroupId) {
      Held h = held.pollFirst();
      h.sends().forEach(send -> send(send.to(), send.message()));
      h.replies().forEach(this::reply);
    }
  }

  /**
   * One round: the queued inputs (at most batchInputsMax), each after catching the clock up, then
   * the effects of all of them at once. Caller holds {@link #machineLock}.
   *
   * @param readsOnly take only {@link #readInbox}, and leave delayed commit markers to the loop
   */
  private void round(boolean readsOnly) {
    if (!readsOnly) {
      inbox.drainTo(batch, settings.batchInputsMax());
    }
    readInbox.drainTo(batch, settings.batchInputsMax() - batch.size());
    try {
      for (Input input : batch) {
        catchUpClock(); // before every input: a message buffered during a pause must not be
        feed(input);    // handled on a lease that ran out meanwhile
      }
    } finally {
      batch.clear();
    }
    catchUpClock();
    perform(machine.drain());
    if (!readsOnly) {
      writeOldDelayedCommits();
    }
    updateLogContext();
  }

  /** A round failed (store failure, broken invariant): the node stops serving, loudly. */
  private void stopRounds(Throwable t) {
    if (failure == null) {
      failure = t;
      log.error("stopping: {}", t.toString(), t);
    }
    running = false;
    LockSupport.unpark(loop);
    if (machineLock.tryLock()) { // else its holder looks at failure before it waits again
      try {
        storeWork.signal();
      } finally {
        machineLock.unlock();
      }
    }
  }

  /** The machine's clock follows the monotonic clock, even after a long pause (one jump). */
  private void catchUpClock() {
    machine.advanceTo(clock.ticks());
  }

  private void feed(Input input) {
    switch (input) {
      case Request request -> machine.onClientRequest(request.ref(), request.message());
      case OneWay oneWay -> machine.onMessage(oneWay.message());
    }
  }

  // ------------------------------------------------------------------------------- effects

  /**
   * Versions sent down the chain first (the successor writes them while this node does); then the
   * store changes are queued for the store thread (see {@link #runStore}); then the other sends and
   * replies, at once unless they must wait for a store change ({@link Effects#holdsSends}), in
   * which case they, and all later ones, wait until it is durable. Caller holds the lock.
   *
   * <p>Commit markers alone are not worth a storage transaction (see {@link Effects}): they wait
   * in {@link #delayedCommits} and go to disk first thing in the next one.
   */
  private void perform(Effects effects) {
    List<Effects.Send> others = new ArrayList<>(effects.sends().size());
    for (Effects.Send send : effects.sends()) {
      if (send.message() instanceof Propagate) {
        send(send.to(), send.message());
      } else {
        others.add(send);
      }
    }
    List<StoreOp> persist = effects.persist();
    if (!persist.isEmpty()) {
      if (delayedCommits.isEmpty()) {
        delayedSinceNanos = nanoClock.getAsLong();
      }
      delayedCommits.addAll(persist);
      if (!onlyCommits(persist) || delayedCommits.size() > DELAYED_COMMITS_MAX) {
        long group = queueDelayed();
        if (persist.stream().anyMatch(Effects::holdsSends)) {
          holdUntilGroupId = group;
        }
      }
    }
    if (holdUntilGroupId > durableGroupId) {
      held.addLast(new Held(holdUntilGroupId, others, effects.replies()));
      return;
    }
    for (Effects.Send send : others) {
      send(send.to(), send.message());
    }
    for (Effects.Reply reply : effects.replies()) {
      reply(reply);
    }
  }

  /**
   * Queues {@link #delayedCommits} (and whatever was appended to them) for the store thread as one
   * group, covering every drain so far; returns its id. Caller holds the lock.
   */
  private long queueDelayed() {
    StoreGroup group = new StoreGroup(nextGroupId++, new ArrayList<>(delayedCommits),
        machine.drainSequence());
    delayedCommits.clear();
    if (storeThread == null) {
      // Not durable (memory): nothing to wait for, so no hand-off to another thread.
      applyGroups(List.of(group));
      return group.id();
    }
    storeQueue.addLast(group);
    storeWork.signal();
    return group.id();
  }

  private static boolean onlyCommits(List<StoreOp> ops) {
    for (StoreOp op : ops) {
      if (!(op instanceof CommitVersion)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Writes {@link #delayedCommits} in one transaction on this thread (at stop, once the store
   * thread has ended).
   */
  private void writeDelayed() {
    if (delayedCommits.isEmpty()) {
      return;
    }
    Batch batch = StoreOps.toBatch(delayedCommits);
    delayedCommits.clear();
    long start = System.nanoTime();
    BatchResult result = storer.apply(batch);
    storeApplyNanos += System.nanoTime() - start;
    storeTransactions++;
    checkOutcomes(batch, result);
  }

  /** Delayed commit markers go to disk once they are a tick old, with nothing else to carry them. */
  private void writeOldDelayedCommits() {
    if (!delayedCommits.isEmpty()
        && nanoClock.getAsLong() - delayedSinceNanos >= TimeUnit.MILLISECONDS.toNanos(
            settings.tickMillis())) {
      queueDelayed();
    }
  }

  /**
   * The machine's memory and the store describe the same versions, so a conflicting or unknown
   * version means they diverged: worth a loud warning. The machine's memory stays authoritative
   * for reads; the store only matters at the next restart, which re-joins and catches up.
   */
  private void checkOutcomes(Batch batch, BatchResult result) {
    for (int i = 0; i < batch.size(); i++) {
      Outcome outcome = result.outcome(i);
      if (outcome == Outcome.CONFLICT || outcome == Outcome.UNKNOWN_VERSION) {
        log.warn("store refused {} with {}: store and state machine disagree",
            batch.ops().get(i), outcome);
      }
    }
  }

  private void send(Member to, Message message) {
    if (to.equals(Effects.COORDINATOR)) {
      requestCoordinator(message);
      return;
    }
    try {
      peers.computeIfAbsent(to.address(), transport::connect).send(message);
    } catch (RuntimeException e) {
      // Expected network trouble (queue full, closed link, bad pushed address): the machine
      // retransmits what matters on its own timers.
      droppedWarning.warn(log, "could not send {} to {} ({}): {}",
          message.getClass().getSimpleName(), to.id(), to.address(), e.toString());
    }
  }

  /** Joins and heartbeats are requests; their answers come back through the inbox. */
  private void requestCoordinator(Message message) {
    Duration timeout = settings.coordinatorTimeout();
    coordinator.request(message, timeout).whenComplete((reply, error) -> {
      if (error != null) {
        coordinatorWarning.warn(log, "coordinator {} did not answer a {}: {}",
            settings.coordinatorAddress(), message.getClass().getSimpleName(), error.toString());
      } else if (reply instanceof ErrorReply refusal) {
        coordinatorWarning.warn(log, "coordinator refused a {}: {} {}",
            message.getClass().getSimpleName(), refusal.code(), refusal.message());
      } else if (running) {
        offerOneWay(reply);
      }
    });
  }

  private void reply(Effects.Reply reply) {
    ResponderRef ref = (ResponderRef) reply.ref();
    Message message = reply.message() instanceof StatsReply stats ? withDriverCounters(stats)
        : reply.message();
    try {
      ref.responder().reply(message);
    } catch (RuntimeException e) {
      droppedWarning.warn(log, "could not reply to {}: {}", ref.responder().peer(),
          e.toString());
    }
  }

  /** The machine's counters and then {@link #DRIVER_COUNTERS}. Caller holds the machine lock. */
  private StatsReply withDriverCounters(StatsReply stats) {
    Map<String, Long> counters = new LinkedHashMap<>(stats.counters());
    counters.put(STORE_TRANSACTIONS, storeTransactions);
    counters.put(STORE_APPLY_MICROS, TimeUnit.NANOSECONDS.toMicros(storeApplyNanos));
    return new StatsReply(stats.nodeId(), stats.epoch(), stats.role(), counters);
  }

  /** Log prefix and connection cache follow the configuration. */
  private void updateLogContext() {
    ChainConfig config = machine.config();
    boolean member = machine.isMember();
    boolean syncing = machine.isSyncing();
    if (config == contextConfig && member == contextMember && syncing == contextSyncing) {
      return; // nothing changed since the last round: the common case, kept free of allocation
    }
    contextConfig = config;
    contextMember = member;
    contextSyncing = syncing;
    String prefix = nodeId + " " + machine.role() + " e" + config.epoch();
    if (!prefix.equals(logPrefix)) {
      logPrefix = prefix;
      logContext.accept(prefix);
      log.info("{}: configuration {}", nodeId, describe(config));
    }
    if (config.epoch() != knownEpoch) {
      knownEpoch = config.epoch();
      closeConnectionsToNonMembers(config);
    }
  }

  private static String describe(ChainConfig config) {
    List<String> members = new ArrayList<>();
    for (Member m : config.members()) {
      members.add(m.id() + "@" + m.address());
    }
    return "epoch " + config.epoch() + " " + members;
  }

  private void closeConnectionsToNonMembers(ChainConfig config) {
    Set<String> addresses = new HashSet<>();
    config.members().forEach(m -> addresses.add(m.address()));
    peers.entrySet().removeIf(e -> {
      if (addresses.contains(e.getKey())) {
        return false;
      }
      e.getValue().close();
      return true;
    });
  }

  private void refuseQueuedRequests() {
    for (BlockingQueue<Input> queue : List.of(inbox, readInbox)) {
      for (Input input; (input = queue.poll()) != null; ) {
        if (input instanceof Request request) {
          request.ref().responder().reply(
              new ErrorReply(ErrorCode.UNAVAILABLE, "the node is stopping", ""));
        }
      }
    }
  }

  // ------------------------------------------------------------------------------ lifecycle

  /** Completes when the event loop has stopped: with null after {@link #close}, else the cause. */
  public CompletableFuture<Throwable> terminated() {
    return terminated;
  }

  /** The address other processes dial. */
  public String publicAddress() {
    return publicAddress;
  }

  /** The address actually bound (with the real port after binding port 0). */
  public String listenAddress() {
    return server.address();
  }

  public String nodeId() {
    return nodeId;
  }

  /**
   * Stops: no new input is accepted, the loop finishes its current batch, then the server, the
   * transport and the store are closed in that order. A clean stop does not leave the chain: the
   * coordinator drops the node after its failure timeout, and a restart re-joins and catches up.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    running = false;
    if (server != null) {
      server.close();
    }
    if (loop != null) {
      LockSupport.unpark(loop);
    }
    if (loop != null && loop != Thread.currentThread()) {
      try {
        loop.join(LOOP_JOIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (loop.isAlive()) {
        log.warn("event loop still busy after {} ms; closing anyway",
            LOOP_JOIN_MILLIS);
      }
    }
    closeResources();
    log.info("{} stopped", nodeId);
  }

  private void closeResources() {
    if (server != null) {
      server.close();
    }
    transport.close();
    storer.close();
    terminated.complete(null);
  }
}

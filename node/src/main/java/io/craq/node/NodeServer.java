package io.craq.node;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.CatchUpBatch;
import io.craq.core.message.Message.CatchUpRequest;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.Durable;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.VersionQuery;
import io.craq.core.message.Message.VersionReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.VersionRecord;
import io.craq.core.node.NodeHost;
import io.craq.core.node.NodeMachine;
import io.craq.core.node.PersistSchedule;
import io.craq.node.metrics.NodeInstruments;
import io.craq.store.Batch;
import io.craq.store.BatchResult;
import io.craq.store.LoggedStorer;
import io.craq.store.Outcome;
import io.craq.store.StoreException;
import io.craq.store.StoreFullException;
import io.craq.store.Storer;
import io.craq.store.wal.WriteAheadLog;
import io.craq.transport.Addresses;
import io.craq.transport.ConnectFailedException;
import io.craq.transport.Connection;
import io.craq.transport.ConnectionClosedException;
import io.craq.transport.RateLimitedWarning;
import io.craq.transport.RequestTimeoutException;
import io.craq.transport.Responder;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import io.craq.transport.process.TickClock;
import io.craq.transport.security.Authorization;
import io.craq.transport.security.LinkSession;
import io.netty.util.concurrent.FastThreadLocal;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * The node driver: a thin shell that runs the pure {@link NodeHost} (a {@link NodeMachine} for each
 * chain this node serves, over one store) and performs its effects. Every input (client request,
 * peer or coordinator message, the passing of time) goes through one of two bounded queues; a
 * <em>round</em> feeds a batch of inputs, drains the effects once, sends the versions to pass down
 * the chains at once, queues the store changes for the store thread and performs the other sends
 * and replies (see {@link #perform} and {@link Effects} for what must wait for the store).
 *
 * <p>Parallel persistence: when to send what relative to the store is decided by {@link
 * PersistSchedule}, the class the simulation drives too; one schedule covers every chain, because
 * the host has one drain sequence. The <em>store thread</em> writes queued store groups, all that
 * are queued in one {@link Storer#apply} (group commit: one log force), without holding the host,
 * and hands them back to the loop thread, whose next round tells the schedule and the host ({@link
 * NodeHost#onPersisted(long)}), which passes the versions on as durable or, at a tail, commits
 * them. So the members of a chain sync a write at the same time, and a node keeps forwarding
 * versions, passing commits up and answering reads while its disk syncs; nothing is committed
 * before every member holds it durably. Groups of commit markers only are written without a force
 * ({@link Storer#applyWithoutSync}), with the next forced group or after a tick, so they do not
 * wake the store thread on their own. A store that is not durable (memory) has nothing to wait for:
 * its changes are applied on the spot, without a store thread.
 *
 * <p>A store that is full ({@link StoreFullException}) does not stop the node: the store thread
 * keeps the groups and tries again every {@link #STORE_FULL_RETRY_MILLIS} ms, writes are refused
 * with a clear error meanwhile, and reads go on. Nothing is acknowledged that is not durable.
 *
 * <p>Rounds run one at a time, under {@link #machineLock}. Inputs that only read (client reads,
 * chain, map and stats requests, version queries and their replies) wait in {@link #readInbox}, and
 * the transport thread that queued one runs the round itself if no round is running (flat
 * combining): a read is answered without waking another thread. Every other input (writes,
 * propagations, commits, the coordinator's answers) waits in {@link #inbox} for the loop thread,
 * which drains both queues in one round. The loop thread also runs a round at every tick (timers).
 * After {@link #COMBINE_ROUNDS_MAX} rounds in a row a transport thread leaves the rest to the loop
 * thread. The host is thus only ever used by one thread at a time.
 *
 * <p>What arrives: client writes and reads (unwrapped: the host finds the key's chain), a {@link
 * MapRequest}, and {@link Chained} envelopes, which are requests when the sender expects an answer
 * (a client's read-all or chain request for one chain) and one-way messages otherwise (peer traffic
 * and the coordinator's pushes of one chain).
 *
 * <p>The host sends its pool hello ({@link Message.NodeHello}) and each chain's joins, heartbeats
 * and leaves ({@code Chained(chain, request)}) to {@link Effects#COORDINATOR}; the driver sends
 * them as requests and hands the answer back: a {@link MapReply} as it is, a heartbeat reply
 * wrapped in the chain it answers (replies are never wrapped on the wire; the driver knows which
 * chain it asked for). The driver decides which coordinator that is. Given several ({@link
 * NodeServerSettings#coordinatorAddresses()}), one leads and the others stand by and refuse with
 * NOT_LEADER, naming the leader when they know it: the driver keeps a current coordinator ({@link
 * CoordinatorRoute}), follows such a redirect at once (sending the refused request there), and
 * moves to the next listed coordinator when none leads, or when the current one cannot be reached
 * or does not answer.
 *
 * <p>A failing store or a broken invariant of the host stops the node: it must not serve data it
 * could not persist. {@link #terminated()} then completes with the cause.
 *
 * <p>Thread-safety: {@link #start}, {@link #close} and the accessors may be called from any thread.
 */
public final class NodeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeServer.class);

  private static final long LOOP_JOIN_MILLIS = 5_000;

  /** Rounds a transport thread runs in a row before it leaves the rest to the loop thread. */
  static final int COMBINE_ROUNDS_MAX = 4;

  /** How often a full store is tried again. */
  static final long STORE_FULL_RETRY_MILLIS = 1_000;

  private static final long WARN_INTERVAL_NANOS = 1_000_000_000L;

  /**
   * Counters of this driver, appended to the state machine's in every {@link StatsReply}: store
   * writes (each the group commit of what was queued) and the time spent in them, in microseconds;
   * log forces ({@code fdatasync}) and their time; checkpoints and their time. Together they show
   * how busy the disk keeps a node. Like the machine's, they only grow.
   */
  public static final String STORE_TRANSACTIONS = "store_transactions";

  public static final String STORE_APPLY_MICROS = "store_apply_micros";
  public static final String LOG_FORCES = "log_forces";
  public static final String LOG_FORCE_MICROS = "log_force_micros";
  public static final String CHECKPOINTS = "checkpoints";
  public static final String CHECKPOINT_MICROS = "checkpoint_micros";
  public static final List<String> DRIVER_COUNTERS =
      List.of(
          STORE_TRANSACTIONS,
          STORE_APPLY_MICROS,
          LOG_FORCES,
          LOG_FORCE_MICROS,
          CHECKPOINTS,
          CHECKPOINT_MICROS);

  private sealed interface Input {}

  /** A request the host answers: a node request, a map request, or a chain's envelope of one. */
  private record Request(TimedRef ref, Message message) implements Input {}

  /**
   * A request's way back, handed to the host as its opaque reference: with when it arrived and the
   * latency series it is counted in (see {@link NodeInstruments}).
   */
  private record TimedRef(Responder responder, long arrivalNanos, DistributionDataPoint timer)
      implements ClientRef {}

  /** A one-way message for the host: a chain's envelope of a node message, or a map reply. */
  private record OneWay(Message message) implements Input {}

  private final NodeServerSettings settings;
  private final Storer storer;
  private final Transport transport;
  private final LongSupplier nanoClock;
  private final TickClock clock;
  private final Consumer<String> logContext;
  private final NodeInstruments instruments = new NodeInstruments();

  /** What the loop last published about this node's place in the cluster (see placement()). */
  private volatile Placement placement = new Placement(0, false, List.of());

  /** Inputs that may need the store; rounds of the loop thread take them. */
  private final BlockingQueue<Input> inbox;

  /** Inputs that only read; any thread's round takes them (see the class comment). */
  private final BlockingQueue<Input> readInbox;

  private final Map<String, Connection> peers = new HashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CompletableFuture<Throwable> terminated = new CompletableFuture<>();
  private final RateLimitedWarning droppedWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);
  private final RateLimitedWarning refusedWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);
  private final Authorization authorization;
  private final RateLimitedWarning coordinatorWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);

  private volatile boolean running = true;

  /** Held while a round runs; guards the host, {@link #peers} and the log context. */
  private final ReentrantLock machineLock = new ReentrantLock();

  /** Why the rounds stopped, if they stopped on their own (store failure, broken invariant). */
  private volatile Throwable failure;

  private final List<Input> batch = new ArrayList<>();

  /** When to send what relative to the store; guarded by {@link #machineLock}. */
  private final PersistSchedule schedule = new PersistSchedule();

  /** Store groups for the store thread, oldest first; guarded by {@link #machineLock}. */
  private final ArrayDeque<PersistSchedule.Group> storeQueue = new ArrayDeque<>();

  /**
   * The tick at which the store thread is woken for queued groups that need no force (commit
   * markers); they usually go with the next forced group before that. Guarded by the lock.
   */
  private long lazyGroupsDueTick = Long.MAX_VALUE;

  /** A store group the store thread has written, for the loop to complete. */
  private record Written(
      PersistSchedule.Group group, Batch batch, BatchResult result, long nanos) {}

  /** Written groups, oldest first, from the store thread to the loop. */
  private final ConcurrentLinkedQueue<Written> written = new ConcurrentLinkedQueue<>();

  /** Signalled when a group is queued or the store thread should stop. */
  private final Condition storeWork = machineLock.newCondition();

  private boolean storeStopping;

  /** Why the store refuses writes (it is full), or null; see the class comment. */
  private volatile StoreFullException storeFull;

  /** Null for a store that is not durable: its changes are applied inline (see perform). */
  private Thread storeThread;

  /** See {@link #STORE_TRANSACTIONS}; guarded by {@link #machineLock}. */
  private long storeTransactions;

  private long storeApplyNanos;
  private Server server;

  /** Which coordinator joins and heartbeats go to; set before the loop starts. */
  private CoordinatorRoute route;

  /** Connections to coordinators, by address (listed, or learnt from a redirect). */
  private final Map<String, Connection> coordinators = new ConcurrentHashMap<>();

  private NodeHost host;

  /** Set once the host exists; until then inputs only queue. */
  private volatile Thread loop;

  private volatile String publicAddress;
  private volatile String nodeId;
  private String logPrefix = "";

  /**
   * What the log context was last computed from, by chain (see updateLogContext); guarded by the
   * lock.
   */
  private ChainMap contextMap;

  private int contextMachines;
  private ChainConfig[] contextConfigs = new ChainConfig[0];
  private int[] contextFlags = new int[0];
  private long[] loggedEpochs = new long[0];

  private NodeServer(
      NodeServerSettings settings,
      Storer storer,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext,
      Authorization authorization) {
    this.settings = settings;
    this.authorization = authorization;
    this.storer = storer;
    this.transport = transport;
    this.nanoClock = nanoClock;
    this.clock = new TickClock(nanoClock, settings.tickMillis());
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
  public static NodeServer start(
      NodeServerSettings settings,
      Storer storer,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext) {
    return start(settings, storer, transport, nanoClock, logContext, Authorization.OPEN);
  }

  /**
   * {@link #start}, with {@code authorization} deciding what each connection may send: the role
   * {@link io.craq.transport.security.Permissions} names for each message, checked before anything
   * is queued ({@link Authorization#OPEN} where authentication is off).
   */
  public static NodeServer start(
      NodeServerSettings settings,
      Storer storer,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext,
      Authorization authorization) {
    NodeServer node =
        new NodeServer(settings, storer, transport, nanoClock, logContext, authorization);
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
    return start(settings, storer, transport, System::nanoTime, who -> {});
  }

  private void startInternal() {
    server = transport.listen(settings.listenAddress(), this::onInbound);
    publicAddress =
        settings.publicAddress() != null
            ? settings.publicAddress()
            : dialableAddress(server.address());
    nodeId = settings.nodeId() != null ? settings.nodeId() : publicAddress;
    long incarnation =
        System.currentTimeMillis() * 1000 + ThreadLocalRandom.current().nextInt(1000);
    // The store holds the data; the machines read it as they need it. Dirty versions are
    // recovered into memory: each chain's machine keeps those of its keys only if it re-joins as
    // head (it then held the only complete copy); anywhere else it drops them when it joins
    // (CRAQ §2.5).
    List<VersionRecord> dirty;
    try (Stream<VersionRecord> dirtyStream = storer.allDirty()) {
      dirty = dirtyStream.toList();
    }
    host =
        new NodeHost(
            nodeId,
            publicAddress,
            settings.machine(),
            settings.joinPosition(),
            incarnation,
            storer,
            dirty);
    route =
        new CoordinatorRoute(
            settings.coordinatorAddresses(), settings.coordinatorTimeout().toNanos(), nanoClock);
    updateLogContext();
    log.info(
        "{} recovered {} dirty versions, listening on {}, public address {}, coordinator{} {}",
        nodeId,
        dirty.size(),
        server.address(),
        publicAddress,
        settings.coordinatorAddresses().size() == 1 ? "" : "s",
        String.join(", ", settings.coordinatorAddresses()));
    if (storer.durable()) {
      storeThread = Thread.ofPlatform().name("craq-node-store " + nodeId).unstarted(this::runStore);
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
    log.warn(
        "no public address given: other processes will dial {}; set -p/--public to this "
            + "host's reachable address on multi-host setups",
        address);
    return address;
  }

  // ------------------------------------------------------------------------------- inbound

  /** Runs on transport threads: queues, then runs a round or wakes the loop (see class doc). */
  private void onInbound(Message message, Responder responder) {
    ErrorReply refusal = authorization.refusal(responder.session(), message);
    if (refusal != null) {
      refuseUnauthorized(message, responder, refusal);
      return;
    }
    switch (message) {
      case Message.NodeRequest request -> onRequest(request, responder);
      case MapRequest request -> onRequest(request, responder);
      case Chained chained when responder.expectsReply() -> onRequest(chained, responder);
      case Chained chained when chained.message() instanceof Message.NodeMessage -> {
        if (running) {
          offerOneWay(chained);
        }
      }
      case Chained chained -> refuse(chained.message(), responder);
      // Every message of a chain travels in its envelope: a bare one names no chain.
      case Message.NodeMessage other -> refuse(other, responder);
      case Message.NodeHello other -> refuse(other, responder);
      // The transport answers authentication itself; one reaching here is out of place.
      case Message.AuthRequest other -> refuse(other, responder);
      case Message.CoordinatorRequest other -> refuse(other, responder);
      case Message.Reply other -> refuse(other, responder);
    }
  }

  /**
   * A message the connection's role does not allow: a request is answered with the refusal, a
   * one-way message dropped with a warning (rate-limited: a flood cannot fill the log).
   */
  private void refuseUnauthorized(Message message, Responder responder, ErrorReply refusal) {
    if (responder.expectsReply()) {
      responder.reply(refusal);
    } else {
      refusedWarning.warn(
          log,
          "dropped a one-way {} from {}: {}",
          describeType(message),
          responder.peer(),
          refusal.message());
    }
  }

  /** Bad input: what a node does not handle is refused, or dropped if it expects no answer. */
  private void refuse(Message message, Responder responder) {
    if (responder.expectsReply()) {
      responder.reply(
          new ErrorReply(
              ErrorCode.UNSUPPORTED,
              "a node does not answer " + message.getClass().getSimpleName(),
              ""));
    } else {
      droppedWarning.warn(
          log,
          "dropped a one-way {} from {}: nodes take only chain messages in their envelope",
          message.getClass().getSimpleName(),
          responder.peer());
    }
  }

  /**
   * Answers a request made inside this process, as if a client had sent it over a connection: the
   * same queues, the same refusals (stopping, store full, queue full) and the same answers. For
   * front-ends that live in the node process, such as another protocol's port or the metrics
   * endpoint. The future completes with exactly one reply ({@link ErrorReply} for refusals) on
   * whichever thread answers, often the node's loop thread: callers must not block in its
   * continuations. A request that names another node's chain is refused here exactly as over the
   * wire ({@code WRONG_CHAIN}, or the head's address for a write sent elsewhere).
   */
  public CompletableFuture<Message> request(Message request) {
    InProcessResponder responder = new InProcessResponder();
    onRequest(request, responder);
    return responder.answer;
  }

  /**
   * {@link #request(Message)} on behalf of a client of another front-end that authenticated it
   * itself ({@code session}): refused as over the wire if its role does not allow the request
   * (PERMISSION_DENIED, or UNAUTHENTICATED for a session without principal or a user since
   * removed), with nothing done.
   */
  public CompletableFuture<Message> request(Message request, LinkSession session) {
    ErrorReply refusal = authorization.refusal(session, request);
    return refusal != null ? CompletableFuture.completedFuture(refusal) : request(request);
  }

  /** Wake-ups held back while a thread runs {@link #batch}. */
  private static final class HeldWakes {
    boolean holding;
    boolean reads;
    boolean loop;
  }

  /** Netty's thread-local: an array slot on the event-loop threads that call {@link #batch}. */
  private static final FastThreadLocal<HeldWakes> heldWakes =
      new FastThreadLocal<>() {
        @Override
        protected HeldWakes initialValue() {
          return new HeldWakes();
        }
      };

  /**
   * Runs {@code issue}, which makes in-process {@link #request}s, holding their wake-ups until it
   * returns: then one read-only round on this thread (or one wake of the loop thread) takes them
   * all, instead of a round per request. For front-ends that read many requests at once (a
   * pipelined batch). The requests are queued as {@link #request} queues them; only the wake-up
   * waits.
   */
  public void batch(Runnable issue) {
    HeldWakes held = heldWakes.get();
    if (held.holding) {
      issue.run();
      return;
    }
    held.holding = true;
    try {
      issue.run();
    } finally {
      held.holding = false;
      boolean reads = held.reads;
      boolean wakeLoop = held.loop;
      held.reads = false;
      held.loop = false;
      if (wakeLoop) {
        LockSupport.unpark(loop);
      }
      if (reads) {
        combine();
      }
    }
  }

  /** The way back of an in-process request: one reply completes the future. */
  private static final class InProcessResponder implements Responder {
    final CompletableFuture<Message> answer = new CompletableFuture<>();

    @Override
    public boolean expectsReply() {
      return true;
    }

    @Override
    public boolean reply(Message reply) {
      if (!answer.complete(reply)) {
        throw new IllegalStateException("a second reply to an in-process request: " + reply);
      }
      return true;
    }

    @Override
    public boolean send(Message message) {
      return false; // an in-process requester takes no one-way messages
    }

    @Override
    public String peer() {
      return "in-process";
    }
  }

  private void onRequest(Message message, Responder responder) {
    if (responder.expectsReply()) {
      StoreFullException full = storeFull;
      if (!running) {
        responder.reply(new ErrorReply(ErrorCode.UNAVAILABLE, "the node is stopping", ""));
      } else if (full != null && changesData(message)) {
        responder.reply(
            new ErrorReply(
                ErrorCode.UNAVAILABLE, nodeId + " refuses writes: " + full.getMessage(), ""));
      } else if (!queueFor(message).offer(new Request(timedRef(responder, message), message))) {
        responder.reply(
            new ErrorReply(
                ErrorCode.BUSY,
                "the node's input queue is full (" + settings.inboxMax() + " entries); retry later",
                ""));
      } else {
        wake(message);
      }
    } else {
      refuse(message, responder); // a request sent one-way: nobody would see the answer
    }
  }

  /** Queues a one-way input for the host: a chain's envelope, or a map reply. */
  private void offerOneWay(Message message) {
    if (queueFor(message).offer(new OneWay(message))) {
      wake(message);
    } else {
      droppedWarning.warn(
          log,
          "input queue full: dropped a one-way {} (the sender retransmits)",
          describeType(message));
    }
  }

  /** The message's type, and the type inside an envelope: for log lines. */
  private static String describeType(Message message) {
    return message instanceof Chained chained
        ? chained.message().getClass().getSimpleName() + " of chain " + chained.chain()
        : message.getClass().getSimpleName();
  }

  /** True for the client requests that write: refused while the store is full. */
  private static boolean changesData(Message message) {
    return message instanceof WriteRequest
        || message instanceof Message.MultiWriteRequest
        || message instanceof Message.IncrementRequest
        || message instanceof Message.AppendRequest;
  }

  /** True for inputs whose handling never changes stored data (see the class comment). */
  static boolean onlyReads(Message message) {
    return switch (message) {
      case Message.NodeRequest request ->
          switch (request) {
            case ReadRequest read -> true;
            case ChainRequest chain -> true;
            case StatsRequest stats -> true;
            case WriteRequest write -> false;
            case Message.MultiWriteRequest multi -> false;
            case Message.IncrementRequest increment -> false;
            case Message.AppendRequest append -> false;
            case ReadAllRequest readAll -> false; // pages the store: left to the loop thread
          };
      case Message.NodeMessage oneWay ->
          switch (oneWay) {
            case VersionQuery query -> true;
            case VersionReply reply -> true;
            case Propagate propagate -> false;
            case Commit commit -> false;
            case Durable durable -> false;
            case CatchUpRequest request -> false;
            case CatchUpBatch batch -> false;
            case ConfigPush push -> false;
            case HeartbeatReply reply -> false;
          };
      case MapRequest request -> true;
      case Chained chained -> onlyReads(chained.message());
      case MapReply reply -> false; // may give the host machines for new chains
      case Message.NodeHello other -> false;
      case Message.AuthRequest other -> false;
      case Message.CoordinatorRequest other -> false;
      case Message.Reply other -> false;
    };
  }

  private BlockingQueue<Input> queueFor(Message message) {
    return onlyReads(message) ? readInbox : inbox;
  }

  private void wake(Message message) {
    HeldWakes held = heldWakes.get();
    if (held.holding) {
      if (onlyReads(message)) {
        held.reads = true;
      } else {
        held.loop = true;
      }
      return;
    }
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
        if (inbox.isEmpty() && readInbox.isEmpty() && written.isEmpty() && waitNanos > 0) {
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
   * The store thread: writes the queued store groups, all that are queued in one storage write
   * (group commit), without the machine lock, so the loop keeps handling inputs and sending
   * versions on meanwhile; then hands them back to the loop thread, which releases what waited for
   * them and tells the machine (which may now pass versions on as durable, or commit them at the
   * tail).
   */
  private void runStore() {
    List<PersistSchedule.Group> groups = new ArrayList<>();
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
        writeGroups(PersistSchedule.merge(groups));
        groups.clear();
      }
    } catch (Throwable t) {
      stopRounds(t);
    }
  }

  /**
   * Writes {@code group} without the machine lock, retrying while the store is full, then completes
   * it ({@link #completeWritten}): on this thread if the machine is free, which keeps an idle
   * chain's latency down, else in the loop thread's next round, so a busy node does not wait for
   * its lock.
   */
  private void writeGroups(PersistSchedule.Group group) throws InterruptedException {
    Batch batch = StoreOps.toBatch(group.ops());
    WriteAheadLog.Counters logBefore = instruments.enabled() ? logCounters() : null;
    long start = System.nanoTime();
    BatchResult result = applyRetryingWhileFull(batch, group.force());
    long nanos = System.nanoTime() - start;
    written.add(new Written(group, batch, result, nanos));
    instruments.storeApplied(nanos, batch.size(), group.force());
    if (logBefore != null) {
      WriteAheadLog.Counters logAfter = logCounters();
      if (logAfter.forces() > logBefore.forces()) {
        instruments.logForced(logAfter.forceNanos() - logBefore.forceNanos());
      }
    }
    if (!machineLock.tryLock()) {
      LockSupport.unpark(loop);
      return;
    }
    try {
      if (running) {
        transport.batchWrites(() -> {
          completeWritten();
          perform(host.drain());
        });
      }
    } finally {
      machineLock.unlock();
    }
  }

  /**
   * The loop's part of a store write: counts it, checks its outcomes, releases the sends and
   * replies that waited for it and tells the machine, for every group the store thread finished.
   * Caller holds the lock.
   */
  private void completeWritten() {
    for (Written done; (done = written.poll()) != null; ) {
      storeApplyNanos += done.nanos();
      storeTransactions++;
      checkOutcomes(done.batch(), done.result());
      performRelease(schedule.done(done.group().id()));
      host.onPersisted(done.group().drainSequence());
    }
  }

  /**
   * A full store keeps the batch and tries again (the node refuses new writes meanwhile, reads go
   * on); any other store failure stops the node.
   */
  private BatchResult applyRetryingWhileFull(Batch batch, boolean force)
      throws InterruptedException {
    while (true) {
      try {
        BatchResult result = force ? storer.apply(batch) : storer.applyWithoutSync(batch);
        if (storeFull != null) {
          log.warn("{}: the store has room again; writes are accepted", nodeId);
          storeFull = null;
        }
        return result;
      } catch (StoreFullException e) {
        if (storeFull == null) {
          log.warn(
              "{}: the store is full, writes are refused until it has room (tried again "
                  + "every {} ms; reads go on): {}",
              nodeId,
              STORE_FULL_RETRY_MILLIS,
              e.getMessage());
        }
        storeFull = e;
        if (storeThread == null || !running) {
          throw e; // inline (memory) or stopping: nobody would retry
        }
        Thread.sleep(STORE_FULL_RETRY_MILLIS);
      }
    }
  }

  /** Performs sends and replies the schedule releases, in order. Caller holds the lock. */
  private void performRelease(PersistSchedule.Release release) {
    release.sends().forEach(send -> send(send.to(), send.message()));
    release.replies().forEach(this::reply);
  }

  /**
   * One round: the queued inputs (at most batchInputsMax), each after catching the clock up, then
   * the effects of all of them at once, written together (one system call per connection). Caller
   * holds {@link #machineLock}.
   *
   * @param readsOnly take only {@link #readInbox}
   */
  private void round(boolean readsOnly) {
    if (readsOnly) {
      roundInputs(true); // replies to different connections: nothing to write together
    } else {
      transport.batchWrites(() -> roundInputs(false));
    }
  }

  private void roundInputs(boolean readsOnly) {
    if (!readsOnly) {
      completeWritten();
      wakeStoreForLazyGroups();
      inbox.drainTo(batch, settings.batchInputsMax());
    }
    readInbox.drainTo(batch, settings.batchInputsMax() - batch.size());
    instruments.round(batch.size());
    try {
      for (Input input : batch) {
        catchUpClock(); // before every input: a message buffered during a pause must not be
        feed(input); // handled on a lease that ran out meanwhile
      }
    } finally {
      batch.clear();
    }
    catchUpClock();
    perform(host.drain());
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

  /** The host's clock follows the monotonic clock, even after a long pause (one jump). */
  private void catchUpClock() {
    host.advanceTo(clock.ticks());
  }

  private void feed(Input input) {
    switch (input) {
      case Request request -> host.onClientRequest(request.ref(), request.message());
      case OneWay oneWay -> host.onMessage(oneWay.message());
    }
  }

  // ------------------------------------------------------------------------------- effects

  /**
   * Performs the machine's effects by the {@link PersistSchedule}: versions sent down the chain
   * first (the successor writes them while this node does); then the store changes are queued for
   * the store thread (see {@link #runStore}); then the other sends and replies, unless they wait
   * for a store change. With a store that is not durable the changes are applied here at once, and
   * what that completes is performed next, in order (a loop, not a recursion, so sends keep the
   * order they were drained in). Caller holds the lock.
   */
  private void perform(Effects effects) {
    Effects next = effects;
    while (!next.isEmpty()) {
      PersistSchedule.Plan plan = schedule.plan(next, host.drainSequence());
      plan.propagates().forEach(send -> send(send.to(), send.message()));
      PersistSchedule.Group group = plan.group();
      if (group != null && storeThread != null) {
        queueForStore(group);
      } else if (group != null) {
        applyInline(group);
      }
      performRelease(plan.now());
      if (group == null || storeThread != null) {
        return;
      }
      performRelease(schedule.done(group.id()));
      host.onPersisted(group.drainSequence());
      next = host.drain();
    }
  }

  /**
   * Queues a group for the store thread. A group that must be forced wakes it at once; one of
   * commit markers only waits for the next forced group, or the next tick at the latest, so the
   * store thread is not woken twice per write. Caller holds the lock.
   */
  private void queueForStore(PersistSchedule.Group group) {
    storeQueue.addLast(group);
    if (group.force()) {
      storeWork.signal();
      lazyGroupsDueTick = Long.MAX_VALUE;
    } else if (lazyGroupsDueTick == Long.MAX_VALUE) {
      lazyGroupsDueTick = clock.ticks() + 1;
    }
  }

  /** Wakes the store thread for groups of commit markers that waited a tick. */
  private void wakeStoreForLazyGroups() {
    if (clock.ticks() >= lazyGroupsDueTick) {
      lazyGroupsDueTick = Long.MAX_VALUE;
      storeWork.signal();
    }
  }

  /** A store that is not durable: the group is applied on this thread. Caller holds the lock. */
  private void applyInline(PersistSchedule.Group group) {
    Batch batch = StoreOps.toBatch(group.ops());
    long start = System.nanoTime();
    BatchResult result;
    try {
      result = applyRetryingWhileFull(batch, group.force());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while applying to the store", e);
    }
    long nanos = System.nanoTime() - start;
    storeApplyNanos += nanos;
    storeTransactions++;
    instruments.storeApplied(nanos, batch.size(), group.force());
    checkOutcomes(batch, result);
  }

  /**
   * The machine's memory and the store describe the same versions, so a conflicting or unknown
   * version means they diverged: worth a loud warning. The machine's memory stays authoritative for
   * the keys it holds; the store answers for the others.
   */
  private void checkOutcomes(Batch batch, BatchResult result) {
    for (int i = 0; i < batch.size(); i++) {
      Outcome outcome = result.outcome(i);
      if (outcome == Outcome.CONFLICT || outcome == Outcome.UNKNOWN_VERSION) {
        log.warn(
            "store refused {} with {}: store and state machine disagree",
            batch.ops().get(i),
            outcome);
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
      droppedWarning.warn(
          log,
          "could not send {} to {} ({}): {}",
          describeType(message),
          to.id(),
          to.address(),
          e.toString());
    }
  }

  /**
   * The pool hello and each chain's joins, heartbeats and leaves are requests to the current
   * coordinator (see {@link CoordinatorRoute}); their answers come back through the inbox.
   */
  private void requestCoordinator(Message message) {
    String target = route.current();
    requestCoordinator(message, target, new ArrayList<>(List.of(target)));
  }

  /**
   * Sends {@code message} to {@code target}; {@code asked} lists the coordinators this message went
   * to so far, {@code target} last. A standby's redirect and a coordinator that cannot be reached
   * send it on to the next one at once (a join must not wait for the next retry), to each
   * coordinator at most once and over at most {@link #coordinatorHopsMax()} hops; a timeout only
   * moves the route on, since the host sends again on its own timers.
   */
  private void requestCoordinator(Message message, String target, List<String> asked) {
    Connection connection;
    try {
      connection = coordinatorConnection(target);
    } catch (RuntimeException e) {
      coordinatorWarning.warn(
          log, "cannot reach coordinator {}: {}", target, e.toString()); // closed transport
      return;
    }
    connection
        .request(message, settings.coordinatorTimeout())
        .whenComplete((reply, error) -> onCoordinatorAnswer(message, asked, reply, error));
  }

  private void onCoordinatorAnswer(
      Message message, List<String> asked, Message reply, Throwable error) {
    if (!running) {
      return;
    }
    String target = asked.get(asked.size() - 1);
    String what = describeType(message);
    if (error != null) {
      Throwable cause =
          error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
      coordinatorWarning.warn(
          log, "coordinator {} did not answer a {}: {}", target, what, cause.toString());
      boolean unreachable = cause instanceof ConnectFailedException;
      if (unreachable
          || cause instanceof RequestTimeoutException
          || cause instanceof ConnectionClosedException) {
        String next =
            route.failed(
                target,
                unreachable ? "cannot be reached" : "did not answer: " + cause.getMessage());
        if (unreachable) {
          sendOn(message, asked, next); // nothing was sent: try the next one now
        }
      }
      return;
    }
    route.answered(target);
    if (reply instanceof ErrorReply refusal && refusal.code() == ErrorCode.NOT_LEADER) {
      String next = route.redirected(target, refusal.hint());
      if (!sendOn(message, asked, next)) {
        coordinatorWarning.warn(
            log,
            "no coordinator took a {} (asked {}): {}; trying again later",
            what,
            String.join(", ", asked),
            refusal.message());
      }
    } else if (reply instanceof ErrorReply refusal) {
      coordinatorWarning.warn(
          log,
          "coordinator {} refused a {}: {} {}",
          target,
          what,
          refusal.code(),
          refusal.message());
    } else {
      handOver(message, reply);
    }
  }

  /**
   * Gives the coordinator's answer to the host. Replies are never wrapped on the wire: an answer to
   * a chain's request (a heartbeat reply) goes back in that chain's envelope; the map as it is.
   */
  private void handOver(Message request, Message reply) {
    switch (reply) {
      case MapReply map -> offerOneWay(map);
      case Message.NodeMessage answer when request instanceof Chained chained ->
          offerOneWay(new Chained(chained.chain(), answer));
      default ->
          coordinatorWarning.warn(
              log,
              "dropped the coordinator's {} to a {}: not an answer this node expects",
              reply.getClass().getSimpleName(),
              describeType(request));
    }
  }

  /** Sends {@code message} on to {@code next} unless it was asked already or the hops ran out. */
  private boolean sendOn(Message message, List<String> asked, String next) {
    if (asked.contains(next) || asked.size() >= coordinatorHopsMax() || !running) {
      return false;
    }
    List<String> further = new ArrayList<>(asked);
    further.add(next);
    requestCoordinator(message, next, further);
    return true;
  }

  /** Each listed coordinator once, and two more for redirects to addresses not listed. */
  private int coordinatorHopsMax() {
    return route.listedCount() + 2;
  }

  private Connection coordinatorConnection(String address) {
    return coordinators.computeIfAbsent(address, transport::connect);
  }

  private void reply(Effects.Reply reply) {
    TimedRef ref = (TimedRef) reply.ref();
    Message message =
        reply.message() instanceof StatsReply stats ? withDriverCounters(stats) : reply.message();
    try {
      ref.responder().reply(message);
    } catch (RuntimeException e) {
      droppedWarning.warn(log, "could not reply to {}: {}", ref.responder().peer(), e.toString());
    }
    NodeInstruments.replied(ref.timer(), ref.arrivalNanos());
  }

  /** The host's counters and then {@link #DRIVER_COUNTERS}. Caller holds the machine lock. */
  private StatsReply withDriverCounters(StatsReply stats) {
    Map<String, Long> counters = new LinkedHashMap<>(stats.counters());
    counters.put(STORE_TRANSACTIONS, storeTransactions);
    counters.put(STORE_APPLY_MICROS, TimeUnit.NANOSECONDS.toMicros(storeApplyNanos));
    LoggedStorer.Stats logged = storer instanceof LoggedStorer l ? l.stats() : null;
    counters.put(LOG_FORCES, logged == null ? 0 : logged.log().forces());
    counters.put(
        LOG_FORCE_MICROS,
        logged == null ? 0 : TimeUnit.NANOSECONDS.toMicros(logged.log().forceNanos()));
    counters.put(CHECKPOINTS, logged == null ? 0 : logged.checkpoints());
    counters.put(
        CHECKPOINT_MICROS,
        logged == null ? 0 : TimeUnit.NANOSECONDS.toMicros(logged.checkpointNanos()));
    return new StatsReply(stats.nodeId(), stats.epoch(), stats.role(), counters);
  }

  /**
   * Log prefix and connection cache follow the chains: checked after every round, cheaply (the
   * host's map and each machine's configuration by identity, and its flags); the prefix and the
   * INFO lines are computed only when something changed. Caller holds the lock.
   */
  private void updateLogContext() {
    Map<Integer, NodeMachine> machines = host.machines();
    ChainMap map = host.map();
    boolean changed = map != contextMap || machines.size() != contextMachines;
    for (Map.Entry<Integer, NodeMachine> entry : machines.entrySet()) {
      int chain = entry.getKey();
      NodeMachine machine = entry.getValue();
      ensureContextRoom(chain);
      ChainConfig config = machine.config();
      int flags =
          (machine.isMember() ? 1 : 0)
              | (machine.isCatchingUp() ? 2 : 0)
              | (machine.hasLease() ? 4 : 0);
      if (config != contextConfigs[chain] || flags != contextFlags[chain]) {
        contextConfigs[chain] = config;
        contextFlags[chain] = flags;
        changed = true;
      }
    }
    if (!changed) {
      return; // nothing changed since the last round: the common case, kept free of allocation
    }
    contextMachines = machines.size();
    boolean epochsChanged = false;
    for (Map.Entry<Integer, NodeMachine> entry : machines.entrySet()) {
      int chain = entry.getKey();
      ChainConfig config = entry.getValue().config();
      if (config.epoch() != loggedEpochs[chain]) {
        loggedEpochs[chain] = config.epoch();
        epochsChanged = true;
        log.info(
            "{}: {}configuration {}",
            nodeId,
            map.chainCount() == 1 ? "" : "chain " + chain + " ",
            describe(config));
      }
    }
    if (map.version() > 0
        && map != contextMap
        && (contextMap == null || map.version() != contextMap.version())) {
      log.info("{}: chain map {}", nodeId, describe(map));
    }
    contextMap = map;
    placement = placement(map, machines);
    String prefix = nodeId + " " + host.role() + " " + epochLabel(map, machines);
    if (!prefix.equals(logPrefix)) {
      logPrefix = prefix;
      logContext.accept(prefix);
    }
    if (epochsChanged) {
      closeConnectionsToNonMembers(map, machines);
    }
  }

  /** With one chain its epoch ({@code e7}), as before many chains; else the map's version. */
  private static String epochLabel(ChainMap map, Map<Integer, NodeMachine> machines) {
    if (map.chainCount() == 1) {
      NodeMachine only = machines.get(0);
      return "e" + (only == null ? map.chain(0).epoch() : only.config().epoch());
    }
    return "m" + map.version();
  }

  private void ensureContextRoom(int chain) {
    if (chain >= contextConfigs.length) {
      int size = Math.max(chain + 1, contextConfigs.length * 2);
      contextConfigs = Arrays.copyOf(contextConfigs, size);
      contextFlags = Arrays.copyOf(contextFlags, size);
      int old = loggedEpochs.length;
      loggedEpochs = Arrays.copyOf(loggedEpochs, size);
      Arrays.fill(loggedEpochs, old, size, -1);
    }
  }

  private static String describe(ChainConfig config) {
    List<String> members = new ArrayList<>();
    for (Member m : config.members()) {
      members.add(m.id() + "@" + m.address());
    }
    return "epoch " + config.epoch() + " " + members;
  }

  private static String describe(ChainMap map) {
    List<String> pool = new ArrayList<>();
    for (PoolNode node : map.pool()) {
      pool.add(node.id() + "@" + node.address() + (node.leaving() ? " (leaving)" : ""));
    }
    return "version "
        + map.version()
        + ", "
        + map.chainCount()
        + (map.chainCount() == 1 ? " chain" : " chains")
        + ", pool "
        + pool;
  }

  /** Drops connections to nodes that are in none of the chains this node knows. */
  private void closeConnectionsToNonMembers(ChainMap map, Map<Integer, NodeMachine> machines) {
    Set<String> addresses = new HashSet<>();
    for (ChainConfig chain : map.chains()) {
      chain.members().forEach(m -> addresses.add(m.address()));
    }
    for (NodeMachine machine : machines.values()) {
      machine.config().members().forEach(m -> addresses.add(m.address()));
    }
    peers
        .entrySet()
        .removeIf(e -> {
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
          request
              .ref()
              .responder()
              .reply(new ErrorReply(ErrorCode.UNAVAILABLE, "the node is stopping", ""));
        }
      }
    }
  }

  /**
   * The way back of a request, with its arrival time and latency series while metrics are on (the
   * series first: metrics turned on between the two reads must not time a request from 0).
   */
  private TimedRef timedRef(Responder responder, Message message) {
    DistributionDataPoint timer = instruments.requestTimer(message);
    return new TimedRef(responder, timer == null ? 0 : System.nanoTime(), timer);
  }

  /** The write-ahead log's counters, or null for a store without one. Store thread only. */
  private WriteAheadLog.Counters logCounters() {
    return storer instanceof LoggedStorer logged ? logged.stats().log() : null;
  }

  // -------------------------------------------------------------------------------- metrics

  /**
   * This node's place in the cluster as the loop last published it, after a round that changed it:
   * the chain map's version, whether the map's pool lists this node (the coordinator accepted it),
   * and each chain it has a machine for. For the metrics endpoint; any thread.
   */
  public record Placement(long mapVersion, boolean inPool, List<ChainState> chains) {
    public Placement {
      chains = List.copyOf(chains);
    }
  }

  /**
   * One chain as this node's machine sees it: its epoch, this node's role there ({@code head},
   * {@code middle}, {@code tail}, {@code head+tail}, {@code catching-up} or {@code outside}),
   * whether it is a member, whether it still catches up, and whether it holds the read lease (the
   * coordinator answered a heartbeat recently enough: without it, strong reads are refused).
   */
  public record ChainState(
      int chain, long epoch, String role, boolean member, boolean catchingUp, boolean lease) {}

  private Placement placement(ChainMap map, Map<Integer, NodeMachine> machines) {
    List<ChainState> chains = new ArrayList<>(machines.size());
    for (Map.Entry<Integer, NodeMachine> entry : machines.entrySet()) {
      NodeMachine machine = entry.getValue();
      chains.add(
          new ChainState(
              entry.getKey(),
              machine.config().epoch(),
              machine.role(),
              machine.isMember(),
              machine.isCatchingUp(),
              machine.hasLease()));
    }
    return new Placement(map.version(), map.poolNode(nodeId) != null, chains);
  }

  /** See {@link Placement}; any thread. */
  public Placement placement() {
    return placement;
  }

  /** The histograms this node feeds (see {@link NodeInstruments}). */
  public NodeInstruments instruments() {
    return instruments;
  }

  /** Inputs waiting for the loop thread (writes, chain messages): its queue's depth now. */
  public int inboxDepth() {
    return inbox.size();
  }

  /** Read-only inputs waiting for a round (see the class comment): that queue's depth now. */
  public int readInboxDepth() {
    return readInbox.size();
  }

  /** False once the node stops: closed, or stopped by a failure ({@link #failure()}). */
  public boolean running() {
    return running;
  }

  /** Why the node stopped on its own (store failure, broken invariant), or null. */
  public Throwable failure() {
    return failure;
  }

  /** Why the store refuses writes (it is full), or null; reads go on meanwhile. */
  public String storeFullReason() {
    StoreFullException full = storeFull;
    return full == null ? null : full.getMessage();
  }

  // ------------------------------------------------------------------------------ lifecycle

  /** Completes when the event loop has stopped: with null after {@link #close}, else the cause. */
  public CompletableFuture<Throwable> terminated() {
    return terminated;
  }

  /** True while the store is full and the node refuses writes (see the class comment). */
  boolean refusesWrites() {
    return storeFull != null;
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
        log.warn("event loop still busy after {} ms; closing anyway", LOOP_JOIN_MILLIS);
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

package io.craq.coordinator;

import io.craq.core.Effects;
import io.craq.core.Effects.PersistMap;
import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.coordinator.MapMachine;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.transport.ConnectFailedException;
import io.craq.transport.Connection;
import io.craq.transport.MessageTooLargeException;
import io.craq.transport.QueueFullException;
import io.craq.transport.RateLimitedWarning;
import io.craq.transport.Responder;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import io.craq.transport.process.ResponderRef;
import io.craq.transport.process.TickClock;
import io.craq.transport.security.Authorization;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator driver: runs a {@link CoordinatorReplica} (the pure {@link MapMachine} while it
 * leads: a machine per chain, the pool and the placement) on one event-loop thread. Requests go
 * through one bounded inbox; after each batch the loop makes the newest chain map durable in its
 * {@link ConfigStore} before it pushes anything to members or answers anyone (persist-before-send),
 * then forwards client writes to the head of the key's chain and reads to a member of it.
 *
 * <p>Two stores: the membership file of the only coordinator ({@link FileConfigStore}, the
 * default), or ZooKeeper shared by several coordinators that elect one leader ({@link
 * ZooKeeperConfigStore}). A standby answers every request with NOT_LEADER and the leader's address.
 * ZooKeeper's threads only queue what they learn; the loop feeds it to the replica.
 *
 * <p>A failing disk, a map in ZooKeeper that does not parse or has another chain count, or a broken
 * invariant stops the loop; {@link #terminated()} completes with the cause. Thread-safe lifecycle
 * methods.
 */
public final class CoordinatorServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorServer.class);
  private static final long LOOP_JOIN_MILLIS = 5_000;
  private static final long WARN_INTERVAL_NANOS = 1_000_000_000L;

  private record Request(ResponderRef ref, Message message) {}

  /** Queued to wake the loop when the store has news; carries no request. */
  private static final Request WAKE = new Request(null, null);

  private final CoordinatorServerSettings settings;
  private final Transport transport;
  private final TickClock clock;
  private final Consumer<String> logContext;
  private final BlockingQueue<Request> inbox;
  private final List<Request> forwards = new ArrayList<>();
  private final Map<String, Connection> connections = new HashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CompletableFuture<Throwable> terminated = new CompletableFuture<>();
  private final RateLimitedWarning sendWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);
  private final RateLimitedWarning refusedWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);
  private final Authorization authorization;
  private final long pauseTicks;

  private volatile boolean running = true;
  private volatile CountDownLatch pausedForTest;
  private volatile boolean leading;

  /** What the loop last published for the metrics endpoint: see {@link #standing()}. */
  private volatile Standing standing = new Standing(false, false, false, "starting", "");

  private final AtomicLong requestsReceived = new AtomicLong();
  private final AtomicLong heartbeatsReceived = new AtomicLong();
  private ConfigStore store;
  private CoordinatorReplica replica;
  private Server server;
  private Thread loop;
  private long ticksDone;
  private long ticksSkipped;
  private String lastLogContext = "";

  /** The map last logged; only the loop touches it. */
  private ChainMap logged;

  private CoordinatorServer(
      CoordinatorServerSettings settings,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext,
      Authorization authorization) {
    this.settings = settings;
    this.authorization = authorization;
    this.transport = transport;
    this.clock = new TickClock(nanoClock, settings.tickMillis());
    this.logContext = logContext;
    this.inbox = new ArrayBlockingQueue<>(settings.inboxMax());
    this.pauseTicks = Math.max(2, settings.machine().failureTimeoutTicks() / 2);
  }

  /**
   * Reads the stored chain map (the membership file in the data directory, or ZooKeeper), listens
   * and runs the loop: leading at once in the file mode, standing by until elected in the ZooKeeper
   * mode. Without a stored map, a new cluster of {@code settings.chains()} empty chains starts. The
   * server owns {@code transport} from now on.
   *
   * @throws IllegalStateException if the membership file is damaged
   * @throws java.io.UncheckedIOException if it cannot be read
   * @throws ChainCountException if the stored map has another chain count than {@code settings}
   * @throws ConfigStoreException if ZooKeeper cannot be reached, its chroot holds other data, or
   *     the map there does not parse
   * @throws io.craq.transport.TransportException if the address cannot be bound
   */
  public static CoordinatorServer start(
      CoordinatorServerSettings settings,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext) {
    return start(settings, transport, nanoClock, logContext, Authorization.OPEN);
  }

  /**
   * {@link #start}, with {@code authorization} deciding what each connection may send: the role
   * {@link io.craq.transport.security.Permissions} names for each request, checked before it is
   * queued, so a write the coordinator forwards to a head under its own identity was allowed for
   * the client first ({@link Authorization#OPEN} where authentication is off).
   */
  public static CoordinatorServer start(
      CoordinatorServerSettings settings,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext,
      Authorization authorization) {
    CoordinatorServer coordinator = null;
    try {
      coordinator =
          new CoordinatorServer(settings, transport, nanoClock, logContext, authorization);
      coordinator.startInternal();
    } catch (RuntimeException e) {
      if (coordinator != null && coordinator.store != null) {
        coordinator.store.close();
      }
      transport.close();
      throw e;
    }
    return coordinator;
  }

  /** {@link #start} with the system's monotonic clock and no log context. */
  public static CoordinatorServer start(CoordinatorServerSettings settings, Transport transport) {
    return start(settings, transport, System::nanoTime, who -> {});
  }

  private void startInternal() {
    store =
        settings.zooKeeper() == null
            ? new FileConfigStore(settings.dataDirectory(), settings.machine())
            : ZooKeeperConfigStore.open(settings, clock, this::wake);
    replica = store.replica();
    ChainMap recovered = store.stored();
    logged = recovered;
    server = transport.listen(settings.listenAddress(), this::onInbound);
    String advertised =
        settings.zooKeeper() != null && settings.zooKeeper().advertise() != null
            ? settings.zooKeeper().advertise()
            : server.address();
    store.start(advertised);
    leading = replica.leading();
    updateLogContext();
    if (settings.zooKeeper() == null && recovered.version() == 0) {
      log.info(
          "coordinator starts a new cluster of {} ({}), listening on {}",
          recovered.chainCount() == 1
              ? "one chain"
              : recovered.chainCount() + " chains of " + recovered.replicas() + " replicas",
          store.describe(),
          server.address());
    } else if (settings.zooKeeper() == null) {
      log.info(
          "coordinator resumed {} from {}, listening on {}",
          describe(recovered),
          store.describe(),
          server.address());
    } else {
      log.info(
          "coordinator read {} from {}, listening on {} (advertised as {}); standing by until"
              + " elected",
          describe(recovered),
          store.describe(),
          server.address(),
          advertised);
    }
    loop = Thread.ofPlatform().name("craq-coordinator-loop").unstarted(this::runLoop);
    loop.start();
  }

  /** Any thread: the store has news for the loop. A full inbox wakes it anyway. */
  private void wake() {
    boolean queued = inbox.offer(WAKE);
    if (!queued) {
      log.debug("inbox full; the loop is awake anyway");
    }
  }

  /**
   * Runs on transport threads: refuses what the connection's role does not allow, else only queues.
   * Nothing one-way is addressed to the coordinator.
   */
  private void onInbound(Message message, Responder responder) {
    ErrorReply refusal = authorization.refusal(responder.session(), message);
    if (!responder.expectsReply() && refusal != null) {
      refusedWarning.warn(
          log,
          "dropped a one-way {} from {}: {}",
          message.getClass().getSimpleName(),
          responder.peer(),
          refusal.message());
    } else if (!responder.expectsReply()) {
      log.debug(
          "dropped a one-way {} from {}", message.getClass().getSimpleName(), responder.peer());
    } else if (refusal != null) {
      responder.reply(refusal);
    } else if (!running) {
      responder.reply(new ErrorReply(ErrorCode.UNAVAILABLE, "the coordinator is stopping", ""));
    } else if (!inbox.offer(new Request(new ResponderRef(responder), message))) {
      responder.reply(
          new ErrorReply(
              ErrorCode.BUSY,
              "the coordinator's input queue is full ("
                  + settings.inboxMax()
                  + " entries); retry later",
              ""));
    }
  }

  private void runLoop() {
    Throwable failure = null;
    // Start-up (reading the store, connecting to ZooKeeper) is no pause: not counted as ticks.
    ticksSkipped = clock.ticks();
    try {
      List<Request> batch = new ArrayList<>();
      while (running) {
        takeBatch(batch);
        store.poll(clock.ticks());
        holdWhilePausedForTest(batch);
        if (!running) {
          break;
        }
        for (Request request : batch) {
          if (request.message() != null) { // not a WAKE
            catchUpClock();
            feed(request);
          }
        }
        batch.clear();
        catchUpClock();
        perform(replica.drain());
        if (replica.takeReleaseRequest()) {
          store.release();
        }
        forwardClientRequests();
        leading = replica.leading();
        publishStanding();
        updateLogContext();
      }
    } catch (ConfigStoreException e) {
      // An expected condition (a configuration in ZooKeeper that does not parse): one line.
      failure = e;
      log.error("stopping: {}", e.getMessage());
    } catch (Throwable t) {
      failure = t;
      log.error("stopping: {}", t.toString(), t);
    } finally {
      running = false;
      if (failure != null) {
        // A coordinator that cannot go on leaves the election at once, so another can lead.
        try {
          store.close();
        } catch (RuntimeException e) {
          log.warn("could not leave the election: {}", e.toString());
        }
      }
      for (Request request; (request = inbox.poll()) != null; ) {
        if (request.message() != null) { // not a WAKE
          request
              .ref()
              .responder()
              .reply(new ErrorReply(ErrorCode.UNAVAILABLE, "the coordinator is stopping", ""));
        }
      }
      terminated.complete(failure);
    }
  }

  /**
   * Test hook: a loop paused here has taken a batch and heard from the store, then stops as a
   * paused process would; when resumed it handles everything that queued meanwhile before it hears
   * from the store again (as a process woken from SIGSTOP answers its queued requests first).
   */
  private void holdWhilePausedForTest(List<Request> batch) throws InterruptedException {
    CountDownLatch pause = pausedForTest;
    if (pause != null) {
      pause.await();
      inbox.drainTo(batch);
    }
  }

  private void takeBatch(List<Request> batch) throws InterruptedException {
    Request first = inbox.poll(clock.nanosUntilNextTick(), TimeUnit.NANOSECONDS);
    if (first != null) {
      batch.add(first);
      inbox.drainTo(batch, settings.batchInputsMax() - 1);
    }
  }

  /**
   * Ticks until the machine has caught up with the clock. A gap of more than half the failure
   * timeout means this process was paused (SIGSTOP, a long GC): it is not counted, because the
   * heartbeats sent meanwhile are still in the queue and counting the gap would remove every member
   * at once. Counting time slower is always safe: a node's lease runs on its own clock and ends
   * before the coordinator may remove it either way (CRAQ §2.5).
   */
  private void catchUpClock() {
    long behind = clock.ticks() - ticksSkipped - ticksDone;
    if (behind > pauseTicks) {
      log.warn(
          "clock jumped {} ms ahead (was the coordinator paused?); not counting the gap "
              + "towards failure timeouts",
          behind * settings.tickMillis());
      ticksSkipped += behind - 1;
      behind = 1;
    }
    long now = clock.ticks();
    for (; behind > 0; behind--) {
      replica.tick(now);
      ticksDone++;
    }
  }

  /**
   * The coordinator's own requests (a chain's requests in their envelope, hellos, map and chain
   * requests, leaves) go to the replica (the machines while leading, a redirect while standing by);
   * client reads and writes to a chain while leading, else a redirect.
   */
  private void feed(Request request) {
    requestsReceived.incrementAndGet();
    if (request.message() instanceof Chained chained
        && chained.message() instanceof Message.Heartbeat) {
      heartbeatsReceived.incrementAndGet();
    }
    switch (request.message()) {
      case WriteRequest ignored -> forwardOrRedirect(request);
      case Message.MultiWriteRequest ignored -> forwardOrRedirect(request);
      case Message.IncrementRequest ignored -> forwardOrRedirect(request);
      case Message.AppendRequest ignored -> forwardOrRedirect(request);
      case ReadRequest ignored -> forwardOrRedirect(request);
      case ReadAllRequest ignored -> forwardOrRedirect(request);
      case Chained chained when chained.message() instanceof ReadAllRequest ->
          forwardOrRedirect(request);
      case Chained chained when chained.message() instanceof Message.CoordinatorRequest ->
          replica.onRequest(request.ref(), chained, clock.ticks());
      case Chained chained ->
          refuse(
              request,
              "the coordinator does not answer "
                  + chained.message().getClass().getSimpleName()
                  + " of a chain");
      case Message.CoordinatorRequest own -> replica.onRequest(request.ref(), own, clock.ticks());
      case Message.MapRequest own -> replica.onRequest(request.ref(), own, clock.ticks());
      case Message.NodeHello own -> replica.onRequest(request.ref(), own, clock.ticks());
      // The transport answers authentication itself; one reaching here is out of place.
      case Message.AuthRequest auth -> refuse(request, notAnswered(auth));
      case Message.StatsRequest stats ->
          refuse(request, "the coordinator keeps no counters; ask a node");
      case Message.NodeMessage other -> refuse(request, notAnswered(other));
      case Message.Reply other -> refuse(request, notAnswered(other));
    }
  }

  private void forwardOrRedirect(Request request) {
    if (replica.acting(clock.ticks())) {
      forwards.add(request);
    } else {
      reply(request.ref().responder(), replica.notLeader());
    }
  }

  private static String notAnswered(Message message) {
    return "the coordinator does not answer " + message.getClass().getSimpleName();
  }

  private static void refuse(Request request, String why) {
    reply(request.ref().responder(), new ErrorReply(ErrorCode.UNSUPPORTED, why, ""));
  }

  // ------------------------------------------------------------------------------- effects

  /**
   * The newest map is made durable first; then pushes; then replies. If the store cannot say it is
   * durable (fenced by another coordinator, or cut off from ZooKeeper), nothing of the drain is
   * sent: the replica has been told and stands by or freezes.
   */
  private void perform(Effects effects) {
    ChainMap toPersist = null;
    for (Effects.StoreOp op : effects.persist()) {
      if (!(op instanceof PersistMap persist)) {
        throw new IllegalStateException("the coordinator machine asked to persist " + op);
      }
      toPersist = persist.map(); // each replaces the previous: only the newest matters
    }
    if (toPersist != null) {
      if (!store.persist(toPersist)) {
        return;
      }
      logChanges(toPersist);
    }
    closeUnusedConnections(effects.sends());
    for (Effects.Send send : effects.sends()) {
      send(send.to(), send.message());
    }
    for (Effects.Reply reply : effects.replies()) {
      reply(((ResponderRef) reply.ref()).responder(), reply.message());
    }
  }

  /** One INFO line per new map: the chains whose configuration changed, and the pool if it did. */
  private void logChanges(ChainMap map) {
    ChainMap before = logged;
    logged = map;
    List<String> changes = new ArrayList<>();
    for (int chain = 0; chain < map.chainCount(); chain++) {
      ChainConfig config = map.chain(chain);
      boolean same =
          before != null
              && before.chainCount() == map.chainCount()
              && before.chain(chain).equals(config);
      if (!same) {
        changes.add(
            (map.chainCount() == 1 ? "configuration " : "chain " + chain + " ") + describe(config));
      }
    }
    if (before == null || !before.pool().equals(map.pool())) {
      changes.add("pool " + describePool(map));
    }
    if (map.chainCount() == 1
        && changes.size() == 1
        && changes.get(0).startsWith("configuration")) {
      log.info("new {}", changes.get(0)); // a one-chain cluster's usual line
    } else {
      log.info(
          "new map version {}: {}",
          map.version(),
          changes.isEmpty() ? "no change but the version" : String.join("; ", changes));
    }
  }

  private void send(Member to, Message message) {
    try {
      connection(to.address()).send(message);
    } catch (RuntimeException e) {
      // A member that misses a push learns the configuration from its next heartbeat reply.
      sendWarning.warn(
          log,
          "could not push {} to {} ({}): {}",
          message.getClass().getSimpleName(),
          to.id(),
          to.address(),
          e.toString());
    }
  }

  private Connection connection(String address) {
    return connections.computeIfAbsent(address, transport::connect);
  }

  /** Keeps the connections to every chain's members and to whoever this drain sends to. */
  private void closeUnusedConnections(List<Effects.Send> sends) {
    Set<String> keep = new HashSet<>();
    ChainMap map = replica.map();
    if (map != null) {
      for (ChainConfig config : map.chains()) {
        config.members().forEach(m -> keep.add(m.address()));
      }
    }
    sends.forEach(s -> keep.add(s.to().address()));
    connections
        .entrySet()
        .removeIf(e -> {
          if (keep.contains(e.getKey())) {
            return false;
          }
          e.getValue().close();
          return true;
        });
  }

  private static void reply(Responder responder, Message message) {
    try {
      responder.reply(message);
    } catch (RuntimeException e) {
      log.warn("could not reply to {}: {}", responder.peer(), e.toString());
    }
  }

  // ------------------------------------------------------------------------ client requests

  /** Where a client request goes: a chain, the message to send it, whether it is a write. */
  private record Route(int chain, Message message, boolean write) {}

  /**
   * Client writes go to the head of the key's chain and reads to a random caught-up member of it,
   * as go-craq's coordinator does, so a client needs to know only the coordinator; a read of every
   * key goes to a member of the chain it names. The node's answer is relayed as it is.
   */
  private void forwardClientRequests() {
    if (forwards.isEmpty()) {
      return;
    }
    ChainMap map = replica.acting(clock.ticks()) ? replica.map() : null;
    for (Request request : forwards) {
      Responder responder = request.ref().responder();
      if (map == null) {
        reply(responder, replica.notLeader()); // stepped down since the request came in
        continue;
      }
      Route route;
      try {
        route = route(map, request.message());
      } catch (IllegalArgumentException e) {
        reply(responder, new ErrorReply(ErrorCode.INVALID_REQUEST, e.getMessage(), ""));
        continue;
      }
      ChainConfig config = map.chain(route.chain());
      if (config.size() == 0) {
        String which = map.chainCount() == 1 ? "the chain" : "chain " + route.chain();
        reply(responder, new ErrorReply(ErrorCode.UNAVAILABLE, which + " has no nodes", ""));
        continue;
      }
      Member target = route.write() ? config.head() : someReader(config);
      connection(target.address())
          .request(route.message(), settings.forwardTimeout())
          .whenComplete((answer, error) ->
              reply(
                  responder,
                  answer != null ? answer : forwardFailure(error, route.write(), target)));
    }
    forwards.clear();
  }

  /**
   * The chain a client request goes to, and what to send there.
   *
   * @throws IllegalArgumentException if it names no chain where it must, or a chain that does not
   *     exist
   */
  private static Route route(ChainMap map, Message request) {
    return switch (request) {
      case WriteRequest write -> new Route(map.chainOf(write.key()), write, true);
      case ReadRequest read -> new Route(map.chainOf(read.key()), read, false);
      case Message.IncrementRequest increment ->
          new Route(map.chainOf(increment.key()), increment, true);
      case Message.AppendRequest append -> new Route(map.chainOf(append.key()), append, true);
      case Message.MultiWriteRequest multi -> {
        if (multi.writes().isEmpty()) {
          throw new IllegalArgumentException("a multi-key write needs at least one key");
        }
        // The head checks that every key is of this chain.
        yield new Route(map.chainOf(multi.writes().get(0).key()), multi, true);
      }
      case ReadAllRequest readAll -> {
        if (map.chainCount() != 1) {
          throw new IllegalArgumentException(
              "the cluster has "
                  + map.chainCount()
                  + " chains: name a chain (read every key one chain at a time)");
        }
        yield new Route(0, new Chained(0, readAll), false);
      }
      case Chained chained when chained.message() instanceof ReadAllRequest -> {
        if (chained.chain() >= map.chainCount()) {
          throw new IllegalArgumentException(
              "there is no chain "
                  + chained.chain()
                  + ": the cluster has "
                  + map.chainCount()
                  + (map.chainCount() == 1 ? " chain" : " chains"));
        }
        yield new Route(chained.chain(), chained, false);
      }
      default -> throw new IllegalStateException("not a client request to forward: " + request);
    };
  }

  /** A random caught-up member (one that serves reads), else any member. */
  private static Member someReader(ChainConfig config) {
    List<Member> caughtUp = config.members().stream().filter(Member::caughtUp).toList();
    List<Member> from = caughtUp.isEmpty() ? config.members() : caughtUp;
    return from.get(ThreadLocalRandom.current().nextInt(from.size()));
  }

  /**
   * What the client is told when the node could not be asked or did not answer. Only failures that
   * prove the request never left are definite; anything after sending is AMBIGUOUS for a write (an
   * unknown outcome is never reported as a failure: the write may still take effect).
   */
  static ErrorReply forwardFailure(Throwable error, boolean write, Member target) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String where = (write ? "head " : "node ") + target.id() + " at " + target.address();
    return switch (cause) {
      case ConnectFailedException e ->
          new ErrorReply(
              ErrorCode.UNAVAILABLE, "cannot reach " + where + ": " + e.getMessage(), "");
      case QueueFullException e ->
          new ErrorReply(ErrorCode.BUSY, "too many requests queued for " + where, "");
      case MessageTooLargeException e ->
          new ErrorReply(ErrorCode.INVALID_REQUEST, e.getMessage(), "");
      default ->
          write
              ? new ErrorReply(
                  ErrorCode.AMBIGUOUS,
                  "no answer from "
                      + where
                      + " ("
                      + cause
                      + "); the write may or may not have happened",
                  "")
              : new ErrorReply(
                  ErrorCode.UNAVAILABLE, "no answer from " + where + " (" + cause + ")", "");
    };
  }

  // ------------------------------------------------------------------------------ lifecycle

  private void updateLogContext() {
    ChainMap map = replica.map();
    String who;
    if (map == null) {
      who = "coordinator standby";
    } else if (map.chainCount() == 1) {
      who = "coordinator e" + map.chain(0).epoch();
    } else {
      who = "coordinator m" + map.version();
    }
    if (!who.equals(lastLogContext)) {
      lastLogContext = who;
      logContext.accept(who);
    }
  }

  private static String describe(ChainMap map) {
    StringBuilder text = new StringBuilder("map version ").append(map.version()).append(" (");
    if (map.chainCount() == 1) {
      text.append("one chain, ").append(describe(map.chain(0)));
    } else {
      int members = 0;
      for (ChainConfig config : map.chains()) {
        members += config.size();
      }
      text.append(map.chainCount())
          .append(" chains, ")
          .append(members)
          .append(" memberships, ")
          .append(map.replicas())
          .append(" replicas each");
    }
    return text.append(", pool ").append(describePool(map)).append(')').toString();
  }

  private static String describe(ChainConfig config) {
    List<String> members = new ArrayList<>();
    for (Member m : config.members()) {
      members.add(m.id() + "@" + m.address());
    }
    return "epoch " + config.epoch() + " " + members;
  }

  private static String describePool(ChainMap map) {
    List<String> nodes = new ArrayList<>();
    for (PoolNode node : map.pool()) {
      nodes.add(node.id() + "@" + node.address() + (node.leaving() ? " (leaving)" : ""));
    }
    return nodes.toString();
  }

  /**
   * The newest chain map this coordinator made durable or read from its store (readable from any
   * thread).
   */
  public ChainMap map() {
    return store.stored();
  }

  /**
   * The configuration of the first chain of {@link #map()}: the chain of a one-chain cluster
   * (readable from any thread).
   */
  public ChainConfig config() {
    return store.stored().chain(0);
  }

  /**
   * True while this coordinator leads (it may be frozen, its lease may be running out); always in
   * the file mode. Readable from any thread; updated after each batch.
   */
  public boolean leading() {
    return leading;
  }

  /**
   * This coordinator's part in the election as the loop last saw it, for the metrics endpoint.
   *
   * @param leading it holds leadership (always in the file mode)
   * @param acting it leads and its lease runs: it answers members
   * @param frozen it leads but cannot reach its store: heartbeats are answered, nothing changes
   * @param standbyReason while standing by, why (the leader's address when known)
   * @param leaderAddress while standing by, where the leader listens; empty if unknown
   */
  public record Standing(
      boolean leading,
      boolean acting,
      boolean frozen,
      String standbyReason,
      String leaderAddress) {}

  private void publishStanding() {
    boolean acts = replica.acting(clock.ticks());
    Standing now = standing;
    if (leading && now.leading() && now.acting() == acts && now.frozen() == replica.frozen()) {
      return; // the common case of a leader: nothing new, nothing allocated
    }
    ErrorReply refusal = leading ? null : replica.notLeader();
    standing =
        new Standing(
            leading,
            acts,
            replica.frozen(),
            refusal == null ? "" : refusal.message(),
            refusal == null ? "" : refusal.hint());
  }

  /** See {@link Standing}; any thread. */
  public Standing standing() {
    return standing;
  }

  /** Requests the loop has taken since the start (every kind, heartbeats included). */
  public long requestsReceived() {
    return requestsReceived.get();
  }

  /** Heartbeats of chain members the loop has taken since the start. */
  public long heartbeatsReceived() {
    return heartbeatsReceived.get();
  }

  /** Requests waiting for the loop now. */
  public int inboxDepth() {
    return inbox.size();
  }

  /** False once the loop has stopped or is stopping. */
  public boolean running() {
    return running;
  }

  /** The address actually bound (with the real port after binding port 0). */
  public String listenAddress() {
    return server.address();
  }

  /** Completes when the loop has stopped: with null after {@link #close}, else the cause. */
  public CompletableFuture<Throwable> terminated() {
    return terminated;
  }

  /**
   * Stops accepting, lets the loop finish its batch, leaves the election (another coordinator takes
   * over at once), closes the server and transport.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    running = false;
    CountDownLatch pause = pausedForTest;
    if (pause != null) {
      pause.countDown();
    }
    server.close();
    if (loop != Thread.currentThread()) {
      try {
        loop.join(LOOP_JOIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    store.close();
    transport.close();
    terminated.complete(null);
    log.info("coordinator stopped");
  }

  /**
   * Test hook: stops the loop where it is, as SIGSTOP would (ZooKeeper's threads go on). Returns
   * what resumes it.
   */
  Runnable pauseForTest() {
    CountDownLatch pause = new CountDownLatch(1);
    pausedForTest = pause;
    wake();
    return () -> {
      pausedForTest = null;
      pause.countDown();
    };
  }

  /**
   * Test hook: the process dies without a word (kill -9): the loop stops, nodes can no longer reach
   * it, and it leaves nothing behind on purpose; its ZooKeeper session stays until the ensemble
   * expires it (cut its connection to see that happen). {@link #close} cleans up afterwards.
   */
  void haltForTest() {
    running = false;
    CountDownLatch pause = pausedForTest;
    if (pause != null) {
      pause.countDown();
    }
    wake();
    try {
      loop.join(LOOP_JOIN_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
  }

  /** Requests waiting for the loop, for tests that pause it. */
  long queuedForTest() {
    return inbox.stream().filter(r -> r.message() != null).count();
  }

  /** The store, for tests that reach into ZooKeeper. */
  ConfigStore storeForTest() {
    return store;
  }
}

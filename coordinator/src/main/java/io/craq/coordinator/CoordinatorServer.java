package io.craq.coordinator;

import io.craq.core.Effects;
import io.craq.core.Effects.PersistConfig;
import io.craq.core.coordinator.CoordinatorMachine;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator driver: runs the pure {@link CoordinatorMachine} on one event-loop thread.
 * Requests go through one bounded inbox; after each batch the loop writes the newest configuration
 * durably ({@link MembershipFile}) before it pushes it to members or answers anyone
 * (persist-before-send), then forwards client writes to the head and reads to a member.
 *
 * <p>A failing disk or a broken invariant stops the loop; {@link #terminated()} completes with the
 * cause. Thread-safe lifecycle methods.
 */
public final class CoordinatorServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorServer.class);
  private static final long LOOP_JOIN_MILLIS = 5_000;
  private static final long WARN_INTERVAL_NANOS = 1_000_000_000L;

  private record Request(ResponderRef ref, Message message) {}

  private final CoordinatorServerSettings settings;
  private final Transport transport;
  private final MembershipFile membership;
  private final TickClock clock;
  private final Consumer<String> logContext;
  private final BlockingQueue<Request> inbox;
  private final List<Request> forwards = new ArrayList<>();
  private final Map<String, Connection> connections = new HashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CompletableFuture<Throwable> terminated = new CompletableFuture<>();
  private final RateLimitedWarning sendWarning = new RateLimitedWarning(WARN_INTERVAL_NANOS);
  private final long pauseTicks;

  private volatile boolean running = true;
  private CoordinatorMachine machine;
  private Server server;
  private Thread loop;
  private long ticksDone;
  private long ticksSkipped;
  private String lastLogContext = "";
  private volatile ChainConfig published = ChainConfig.EMPTY;

  private CoordinatorServer(
      CoordinatorServerSettings settings,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext) {
    this.settings = settings;
    this.transport = transport;
    this.membership = new MembershipFile(settings.dataDirectory());
    this.clock = new TickClock(nanoClock, settings.tickMillis());
    this.logContext = logContext;
    this.inbox = new ArrayBlockingQueue<>(settings.inboxMax());
    this.pauseTicks = Math.max(2, settings.machine().failureTimeoutTicks() / 2);
  }

  /**
   * Resumes the configuration stored in the data directory, listens and runs the loop. The server
   * owns {@code transport} from now on.
   *
   * @throws IllegalStateException if the membership file is damaged
   * @throws java.io.UncheckedIOException if it cannot be read
   * @throws io.craq.transport.TransportException if the address cannot be bound
   */
  public static CoordinatorServer start(
      CoordinatorServerSettings settings,
      Transport transport,
      LongSupplier nanoClock,
      Consumer<String> logContext) {
    CoordinatorServer coordinator;
    try {
      coordinator = new CoordinatorServer(settings, transport, nanoClock, logContext);
      coordinator.startInternal();
    } catch (RuntimeException e) {
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
    ChainConfig recovered = membership.read();
    machine = new CoordinatorMachine(settings.machine(), recovered);
    published = recovered;
    server = transport.listen(settings.listenAddress(), this::onInbound);
    updateLogContext();
    log.info(
        "coordinator resumed {} from {}, listening on {}",
        describe(recovered),
        membership.path(),
        server.address());
    loop = Thread.ofPlatform().name("craq-coordinator-loop").unstarted(this::runLoop);
    loop.start();
  }

  /** Runs on transport threads: only queues. Nothing one-way is addressed to the coordinator. */
  private void onInbound(Message message, Responder responder) {
    if (!responder.expectsReply()) {
      log.debug(
          "dropped a one-way {} from {}", message.getClass().getSimpleName(), responder.peer());
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
    try {
      List<Request> batch = new ArrayList<>();
      while (running) {
        takeBatch(batch);
        for (Request request : batch) {
          catchUpClock();
          feed(request);
        }
        batch.clear();
        catchUpClock();
        perform(machine.drain());
        forwardClientRequests();
        updateLogContext();
      }
    } catch (Throwable t) {
      failure = t;
      log.error("stopping: {}", t.toString(), t);
    } finally {
      running = false;
      for (Request request; (request = inbox.poll()) != null; ) {
        request
            .ref()
            .responder()
            .reply(new ErrorReply(ErrorCode.UNAVAILABLE, "the coordinator is stopping", ""));
      }
      terminated.complete(failure);
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
    for (; behind > 0; behind--) {
      machine.tick();
      ticksDone++;
    }
  }

  /** The coordinator's own requests go to its machine; client reads and writes to the chain. */
  private void feed(Request request) {
    switch (request.message()) {
      case WriteRequest ignored -> forwards.add(request);
      case ReadRequest ignored -> forwards.add(request);
      case ReadAllRequest ignored -> forwards.add(request);
      case Message.CoordinatorRequest own -> machine.onRequest(request.ref(), own);
      case Message.StatsRequest ignored ->
          refuse(request, "the coordinator keeps no counters; " + "ask a node");
      case Message.NodeMessage ignored -> refuse(request, "the coordinator does not answer");
      case Message.Reply ignored -> refuse(request, "the coordinator does not answer");
    }
  }

  private static void refuse(Request request, String why) {
    request
        .ref()
        .responder()
        .reply(
            new ErrorReply(
                ErrorCode.UNSUPPORTED,
                why + " " + request.message().getClass().getSimpleName(),
                ""));
  }

  // ------------------------------------------------------------------------------- effects

  /** The newest configuration is made durable first; then pushes; then replies. */
  private void perform(Effects effects) {
    ChainConfig toPersist = null;
    for (Effects.StoreOp op : effects.persist()) {
      if (!(op instanceof PersistConfig persist)) {
        throw new IllegalStateException("the coordinator machine asked to persist " + op);
      }
      toPersist = persist.config(); // each replaces the previous: only the newest matters
    }
    if (toPersist != null) {
      membership.write(toPersist);
      published = toPersist;
      log.info("new configuration {}", describe(toPersist));
    }
    closeUnusedConnections(effects.sends());
    for (Effects.Send send : effects.sends()) {
      send(send.to(), send.message());
    }
    for (Effects.Reply reply : effects.replies()) {
      reply(((ResponderRef) reply.ref()).responder(), reply.message());
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

  private void closeUnusedConnections(List<Effects.Send> sends) {
    Set<String> keep = new HashSet<>();
    machine.config().members().forEach(m -> keep.add(m.address()));
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

  /**
   * Client writes go to the head and reads to a random member, as go-craq's coordinator does, so a
   * client needs to know only the coordinator. The node's answer is relayed as it is.
   */
  private void forwardClientRequests() {
    ChainConfig config = machine.config();
    for (Request request : forwards) {
      Responder responder = request.ref().responder();
      if (config.size() == 0) {
        reply(responder, new ErrorReply(ErrorCode.UNAVAILABLE, "the chain has no nodes", ""));
        continue;
      }
      boolean write = request.message() instanceof WriteRequest;
      Member target =
          write
              ? config.head()
              : config.members().get(ThreadLocalRandom.current().nextInt(config.size()));
      connection(target.address())
          .request(request.message(), settings.forwardTimeout())
          .whenComplete((answer, error) ->
              reply(responder, answer != null ? answer : forwardFailure(error, write, target)));
    }
    forwards.clear();
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
    String who = "coordinator e" + machine.config().epoch();
    if (!who.equals(lastLogContext)) {
      lastLogContext = who;
      logContext.accept(who);
    }
  }

  private static String describe(ChainConfig config) {
    List<String> members = new ArrayList<>();
    for (Member m : config.members()) {
      members.add(m.id() + "@" + m.address());
    }
    return "epoch " + config.epoch() + " " + members;
  }

  /** The newest configuration made durable (readable from any thread). */
  public ChainConfig config() {
    return published;
  }

  /** The address actually bound (with the real port after binding port 0). */
  public String listenAddress() {
    return server.address();
  }

  /** Completes when the loop has stopped: with null after {@link #close}, else the cause. */
  public CompletableFuture<Throwable> terminated() {
    return terminated;
  }

  /** Stops accepting, lets the loop finish its batch, closes the server and transport. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    running = false;
    server.close();
    if (loop != Thread.currentThread()) {
      try {
        loop.join(LOOP_JOIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    transport.close();
    terminated.complete(null);
    log.info("coordinator stopped");
  }
}

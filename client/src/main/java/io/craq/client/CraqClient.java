package io.craq.client;

import io.craq.core.Limits;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.transport.Addresses;
import io.craq.transport.ConnectFailedException;
import io.craq.transport.Connection;
import io.craq.transport.MessageTooLargeException;
import io.craq.transport.QueueFullException;
import io.craq.transport.RequestTimeoutException;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import io.craq.transport.TransportConfig;
import io.craq.transport.TransportException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a CRAQ chain. It learns the chain from the coordinator, sends writes to the head
 * (or through the coordinator, see {@link ClientConfig#writeViaCoordinator()}) and reads from any
 * member, which CRAQ makes linearizable for strong reads (CRAQ §2.3).
 *
 * <p>Thread-safe; one instance is meant to be shared. Every call blocks for at most {@link
 * ClientConfig#callTimeoutMillis()} (plus scheduling noise); the {@code *Async} variants run the
 * same call on a virtual thread.
 *
 * <p>Failures (all unchecked {@link CraqException}s):
 *
 * <ul>
 *   <li>Reads are idempotent, so they are retried at other members on transport errors and on
 *       UNAVAILABLE/BUSY/STALE_EPOCH, bounded by {@link ClientConfig#readAttemptsMax()} and the
 *       call's deadline; then {@link UnavailableException}.
 *   <li>A write is repeated only when it certainly did not happen: it was never sent (connection
 *       refused, queue full) or it was refused with a definite error code (NOT_HEAD, STALE_EPOCH,
 *       UNAVAILABLE, BUSY). A write that was sent and whose fate is unknown (timeout, connection
 *       lost while waiting, a non-definite error such as AMBIGUOUS or INTERNAL) raises {@link
 *       AmbiguousWriteException} and is never retried, so it cannot be applied twice.
 *   <li>{@link VersionMismatchException} for a refused conditional write, {@link
 *       InvalidRequestException} for bad input (checked with {@link Limits} before sending).
 * </ul>
 *
 * <p>The chain is refreshed from the coordinator when a member answers NOT_HEAD or STALE_EPOCH
 * and when a member cannot be reached; if the coordinator cannot be reached either, the known
 * members are asked for their view (nodes answer {@link ChainRequest} too).
 */
public final class CraqClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CraqClient.class);

  /** Extra wait beyond a request's own timeout before we stop trusting the transport's timer. */
  private static final long TRANSPORT_GRACE_MILLIS = 1_000;

  private final ClientConfig config;
  private final Transport transport;
  private final boolean ownsTransport;
  private final ConcurrentHashMap<String, Connection> connections = new ConcurrentHashMap<>();
  private final ExecutorService asyncExecutor = Executors.newVirtualThreadPerTaskExecutor();
  private volatile ChainConfig chain = ChainConfig.EMPTY;
  private volatile boolean closed;

  /**
   * A client over {@code transport}, which the caller keeps owning (closing the client closes only
   * the connections it opened).
   */
  public CraqClient(ClientConfig config, Transport transport) {
    this(config, transport, false);
  }

  private CraqClient(ClientConfig config, Transport transport, boolean ownsTransport) {
    this.config = Objects.requireNonNull(config, "config");
    this.transport = Objects.requireNonNull(transport, "transport");
    this.ownsTransport = ownsTransport;
  }

  /** A client with its own TCP transport (closed with the client). Does not contact anyone yet. */
  public static CraqClient connect(ClientConfig config) {
    TransportConfig transportConfig = TransportConfig.DEFAULT;
    if (config.valueBytesMax() > transportConfig.valueBytesMax()) {
      // Leave room in the frame for the key and the headers around a maximal value.
      transportConfig = transportConfig.withFrameBytesMax(
          Math.addExact(config.valueBytesMax(), 64 << 10)).withValueBytesMax(config.valueBytesMax());
    }
    return new CraqClient(config, new TcpTransport(transportConfig), true);
  }

  /** A client with its own TCP transport and default settings. */
  public static CraqClient connect(String coordinatorAddress) {
    return connect(ClientConfig.defaults(coordinatorAddress));
  }

  public ClientConfig config() {
    return config;
  }

  // ------------------------------------------------------------------------------------ writes

  /**
   * Writes {@code value} under {@code key} and returns the version it committed as.
   *
   * @throws InvalidRequestException for an empty or oversized key or an oversized value
   * @throws AmbiguousWriteException if the write was sent and its fate is unknown
   * @throws UnavailableException if the write certainly did not happen (no head reachable, chain
   *     empty, refused with a retryable code until the deadline)
   */
  public long write(String key, byte[] value) {
    checkValue(key, value);
    return submitWrite(new WriteRequest(key, value, false, Message.ANY_VERSION));
  }

  /**
   * Writes only if the key's committed version is {@code expectedVersion} (0 = absent or deleted)
   * and no other write of it is in flight (CRAQ §4.1 test-and-set).
   *
   * @throws VersionMismatchException if the condition did not hold (definite)
   * @throws AmbiguousWriteException, UnavailableException, InvalidRequestException as {@link
   *     #write}
   */
  public long writeIfVersion(String key, byte[] value, long expectedVersion) {
    checkValue(key, value);
    if (expectedVersion < 0) {
      throw new InvalidRequestException("expected version must be >= 0 (0 = key absent): "
          + expectedVersion);
    }
    return submitWrite(new WriteRequest(key, value, false, expectedVersion));
  }

  /**
   * Deletes {@code key}: writes a tombstone version, which replicates and commits like a write, and
   * returns its version. Deleting an absent key also creates a version. Failures as {@link #write}.
   */
  public long delete(String key) {
    checkKey(key);
    return submitWrite(new WriteRequest(key, new byte[0], true, Message.ANY_VERSION));
  }

  public CompletableFuture<Long> writeAsync(String key, byte[] value) {
    return async(() -> write(key, value));
  }

  public CompletableFuture<Long> writeIfVersionAsync(String key, byte[] value,
      long expectedVersion) {
    return async(() -> writeIfVersion(key, value, expectedVersion));
  }

  public CompletableFuture<Long> deleteAsync(String key) {
    return async(() -> delete(key));
  }

  private long submitWrite(WriteRequest request) {
    checkOpen();
    long deadline = deadlineNanos();
    String hintedHead = null;
    Throwable lastCause = null;
    ErrorCode lastCode = null;
    for (int attempt = 1; attempt <= config.writeAttemptsMax(); attempt++) {
      if (attempt > 1) {
        pause(attempt, deadline);
      }
      if (millisLeft(deadline) <= 0) {
        break;
      }
      String target;
      if (config.writeViaCoordinator()) {
        target = config.coordinatorAddress();
      } else if (hintedHead != null) {
        target = hintedHead;
        hintedHead = null;
      } else {
        target = headAddress(deadline);
      }
      // Decide to send only with time left: a write never sent is definite, one sent is not.
      long left = millisLeft(deadline);
      if (left <= 0) {
        break;
      }
      Message reply;
      try {
        reply = call(target, request, left);
      } catch (ConnectFailedException | QueueFullException e) {
        // Nothing was sent: safe to try again, maybe at another head.
        lastCause = e;
        lastCode = null;
        if (e instanceof ConnectFailedException) {
          refreshQuietly(deadline);
        }
        continue;
      } catch (MessageTooLargeException e) {
        throw new InvalidRequestException("write of key '" + request.key() + "' is too large: "
            + e.getMessage(), null, e);
      } catch (TransportException e) {
        throw ambiguous(request, target, e.getMessage(), null, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ambiguous(request, target, "interrupted while waiting for the reply", null, e);
      }
      switch (reply) {
        case WriteReply written -> {
          return written.version();
        }
        case ErrorReply error -> {
          lastCode = error.code();
          lastCause = null;
          hintedHead = onWriteRefused(request, target, error, deadline);
        }
        default -> throw ambiguous(request, target, "unexpected reply " + reply, null, null);
      }
    }
    throw new UnavailableException("write of key '" + request.key() + "' was not applied: "
        + (lastCode != null ? "refused with " + lastCode
            : lastCause != null ? lastCause.getMessage() : "no attempt could be made")
        + " (" + config.writeAttemptsMax() + " attempts, " + config.callTimeoutMillis() + " ms)",
        lastCode, lastCause);
  }

  /**
   * Handles a refused write: throws if the refusal is final, else refreshes what is needed for
   * the next attempt and returns the head address to try next (null = the chain's head).
   */
  private String onWriteRefused(WriteRequest request, String target, ErrorReply error,
      long deadline) {
    ErrorCode code = error.code();
    if (!code.definite()) {
      throw ambiguous(request, target, error.message(), code, null);
    }
    switch (code) {
      case VERSION_MISMATCH -> throw new VersionMismatchException(request.key(),
          request.expectedVersion(), parseVersion(error.hint()),
          "conditional write of key '" + request.key() + "' expected version "
              + request.expectedVersion() + ": " + error.message());
      case INVALID_REQUEST, UNSUPPORTED -> throw new InvalidRequestException(
          "write of key '" + request.key() + "' refused by " + target + ": " + error.message(),
          code, null);
      case NOT_HEAD, STALE_EPOCH, NOT_TAIL -> {
        refreshQuietly(deadline);
        String hint = error.hint();
        // The refusing node may know a newer chain than the coordinator answered with so far.
        boolean useHint = code == ErrorCode.NOT_HEAD && !hint.isEmpty() && !hint.equals(target)
            && isAddress(hint);
        return useHint ? hint : null;
      }
      default -> {
        // UNAVAILABLE, BUSY: the head did not take the write; try again after a pause.
        return null;
      }
    }
  }

  private AmbiguousWriteException ambiguous(WriteRequest request, String target, String reason,
      ErrorCode code, Throwable cause) {
    return new AmbiguousWriteException(request.key(), (request.delete() ? "delete" : "write")
        + " of key '" + request.key() + "' sent to " + target
        + " has an unknown outcome (it may or may not be applied): " + reason, code, cause);
  }

  // ------------------------------------------------------------------------------------- reads

  /** A strong (linearizable) read at a random member; empty if the key is absent or deleted. */
  public Optional<Versioned> read(String key) {
    return read(key, ReadMode.STRONG, 0);
  }

  /**
   * A read at a random member in {@code mode}; {@code bound} is the number of dirty versions a
   * {@link ReadMode#BOUNDED} read accepts (ignored otherwise).
   *
   * @throws UnavailableException if no member answered within the attempts and the deadline
   * @throws InvalidRequestException for a bad key or bound
   */
  public Optional<Versioned> read(String key, ReadMode mode, long bound) {
    return readAt(null, key, mode, bound);
  }

  /** A read at the node {@code nodeAddress} only (retried there); failures as {@link #read}. */
  public Optional<Versioned> readFrom(String nodeAddress, String key, ReadMode mode, long bound) {
    checkAddress(nodeAddress);
    return readAt(nodeAddress, key, mode, bound);
  }

  public CompletableFuture<Optional<Versioned>> readAsync(String key, ReadMode mode, long bound) {
    return async(() -> read(key, mode, bound));
  }

  public CompletableFuture<Optional<Versioned>> readFromAsync(String nodeAddress, String key,
      ReadMode mode, long bound) {
    return async(() -> readFrom(nodeAddress, key, mode, bound));
  }

  private Optional<Versioned> readAt(String nodeAddress, String key, ReadMode mode, long bound) {
    checkKey(key);
    Objects.requireNonNull(mode, "mode");
    if (mode == ReadMode.BOUNDED && bound < 0) {
      throw new InvalidRequestException("bounded read: bound must be >= 0: " + bound);
    }
    ReadReply reply = retryingRead(nodeAddress, new ReadRequest(key, mode, bound),
        "read of key '" + key + "'", ReadReply.class);
    if (!reply.found()) {
      return Optional.empty();
    }
    return Optional.of(new Versioned(key, reply.version(), reply.value(), reply.dirty()));
  }

  /**
   * Every committed, non-deleted key of a random member, in key order, fetched lazily in pages of
   * {@link ClientConfig#readAllPageKeys()} keys. Not a snapshot: keys written while the scan runs
   * may or may not appear. Each page may come from a different member. Iterating can throw
   * {@link UnavailableException}.
   */
  public Stream<Versioned> readAll() {
    return readAllFrom(null);
  }

  /** As {@link #readAll()}, from the node {@code nodeAddress} only (null = a random member). */
  public Stream<Versioned> readAllFrom(String nodeAddress) {
    if (nodeAddress != null) {
      checkAddress(nodeAddress);
    }
    checkOpen();
    Iterator<Versioned> pages = new PageIterator(nodeAddress);
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(pages,
        Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT), false);
  }

  /** Fetches the next page when the current one is used up; stops after a page without more. */
  private final class PageIterator implements Iterator<Versioned> {
    private final String nodeAddress;
    private final ArrayDeque<Versioned> buffered = new ArrayDeque<>();
    private String afterKey = "";
    private boolean more = true;

    PageIterator(String nodeAddress) {
      this.nodeAddress = nodeAddress;
    }

    @Override
    public boolean hasNext() {
      while (buffered.isEmpty() && more) {
        fetch();
      }
      return !buffered.isEmpty();
    }

    @Override
    public Versioned next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return buffered.removeFirst();
    }

    private void fetch() {
      ReadAllReply page = retryingRead(nodeAddress,
          new ReadAllRequest(afterKey, config.readAllPageKeys()), "scan after key '" + afterKey
              + "'", ReadAllReply.class);
      String last = afterKey;
      for (VersionRecord entry : page.entries()) {
        // The node's key order decides paging; a key at or before the cursor would loop forever.
        if (entry.key().compareTo(last) <= 0) {
          throw new UnavailableException("scan: node returned key '" + entry.key()
              + "' out of order after '" + last + "'");
        }
        last = entry.key();
        if (!entry.tombstone()) {
          buffered.addLast(new Versioned(entry.key(), entry.version(), entry.value(), false));
        }
      }
      afterKey = last;
      // A page without entries cannot advance the cursor; stop rather than ask forever.
      more = page.more() && !page.entries().isEmpty();
    }
  }

  /**
   * Sends an idempotent request until one member answers with {@code replyType}. Members are
   * random per attempt unless {@code nodeAddress} is given.
   */
  private <R extends Message> R retryingRead(String nodeAddress, Message request, String what,
      Class<R> replyType) {
    checkOpen();
    long deadline = deadlineNanos();
    Throwable lastCause = null;
    ErrorCode lastCode = null;
    String lastTarget = null;
    int attempts = 0;
    for (int attempt = 1; attempt <= config.readAttemptsMax(); attempt++) {
      if (attempt > 1) {
        pause(attempt, deadline);
      }
      long left = millisLeft(deadline);
      if (left <= 0) {
        break;
      }
      String target = nodeAddress != null ? nodeAddress : randomMember(deadline, lastTarget);
      lastTarget = target;
      left = millisLeft(deadline);
      if (left <= 0) {
        break;
      }
      long attemptMillis = attempt == config.readAttemptsMax() ? left
          : Math.min(left, config.readAttemptTimeoutMillis());
      attempts++;
      Message reply;
      try {
        reply = call(target, request, attemptMillis);
      } catch (MessageTooLargeException e) {
        throw new InvalidRequestException(what + " is too large: " + e.getMessage(), null, e);
      } catch (TransportException e) {
        log.debug("{} at {} failed: {}", what, target, e.toString());
        lastCause = e;
        lastCode = null;
        if (nodeAddress == null && !(e instanceof RequestTimeoutException)) {
          refreshQuietly(deadline);
        }
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UnavailableException(what + " interrupted", null, e);
      }
      if (replyType.isInstance(reply)) {
        return replyType.cast(reply);
      }
      if (!(reply instanceof ErrorReply error)) {
        lastCause = new CraqException(target + " answered with unexpected " + reply);
        lastCode = null;
        continue;
      }
      lastCode = error.code();
      lastCause = new CraqException(target + ": " + error.code() + " " + error.message(),
          error.code(), null);
      switch (error.code()) {
        case INVALID_REQUEST, UNSUPPORTED -> throw new InvalidRequestException(
            what + " refused by " + target + ": " + error.message(), error.code(), null);
        case STALE_EPOCH, NOT_HEAD, NOT_TAIL -> refreshQuietly(deadline);
        default -> {
          // UNAVAILABLE, BUSY, AMBIGUOUS, INTERNAL: reads have no side effect, so try again.
        }
      }
    }
    throw new UnavailableException(what + " failed after " + attempts + " attempt(s) within "
        + config.callTimeoutMillis() + " ms: "
        + (lastCause != null ? lastCause.getMessage() : "deadline passed"), lastCode, lastCause);
  }

  // ------------------------------------------------------------------------------------- chain

  /**
   * The current chain, freshly asked from the coordinator (or, if it cannot be reached, from a
   * known member).
   *
   * @throws UnavailableException if nobody answered in time
   */
  public ChainConfig chain() {
    checkOpen();
    return refreshChain(deadlineNanos());
  }

  /** The chain as last learned, without asking anyone ({@link ChainConfig#EMPTY} at first). */
  public ChainConfig knownChain() {
    return chain;
  }

  /**
   * Asks the process at {@code address} (a node or the coordinator) for its own view of the chain,
   * waiting at most {@code timeout}. Useful for health checks: the answer shows the process is up
   * and which epoch it is in.
   *
   * @throws UnavailableException if it did not answer in time or could not be reached
   */
  public ChainConfig chainOf(String address, Duration timeout) {
    checkOpen();
    checkAddress(address);
    long timeoutMillis = Math.max(1, timeout.toMillis());
    try {
      Message reply = call(address, new ChainRequest(), timeoutMillis);
      if (reply instanceof ChainReply chainReply) {
        return chainReply.config();
      }
      throw new UnavailableException(address + " answered the chain request with " + reply);
    } catch (TransportException e) {
      throw new UnavailableException(address + ": " + e.getMessage(), null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while asking " + address, null, e);
    }
  }

  // ------------------------------------------------------------------------------------- stats

  /**
   * The event counters of the node at {@code nodeAddress} (clean and dirty reads, version queries
   * sent and served, writes, commits; see {@link NodeStats}). Idempotent, so retried at that node
   * like a read (transport errors, UNAVAILABLE, BUSY) within {@link
   * ClientConfig#callTimeoutMillis()}.
   *
   * @throws UnavailableException if the node did not answer in time or could not be reached
   * @throws InvalidRequestException for a malformed address, or if the process there is not a
   *     node (the coordinator refuses with UNSUPPORTED)
   */
  public NodeStats stats(String nodeAddress) {
    checkAddress(nodeAddress);
    StatsReply reply = retryingRead(nodeAddress, new StatsRequest(), "stats of " + nodeAddress,
        StatsReply.class);
    return new NodeStats(reply.nodeId(), reply.epoch(), reply.role(), reply.counters());
  }

  public CompletableFuture<NodeStats> statsAsync(String nodeAddress) {
    return async(() -> stats(nodeAddress));
  }

  private ChainConfig refreshChain(long deadline) {
    String coordinator = config.coordinatorAddress();
    TransportException coordinatorFailure;
    try {
      return adopt(chainOf(coordinator, Duration.ofMillis(Math.max(1, millisLeft(deadline)))));
    } catch (UnavailableException e) {
      coordinatorFailure = e.getCause() instanceof TransportException t ? t : null;
      if (coordinatorFailure == null || millisLeft(deadline) <= 0) {
        throw new UnavailableException("cannot learn the chain from the coordinator at "
            + coordinator + ": " + e.getMessage(), null, e);
      }
    }
    // The coordinator is unreachable; the members know the chain too (possibly a bit late).
    for (Member member : chain.members()) {
      if (millisLeft(deadline) <= 0) {
        break;
      }
      try {
        return adopt(chainOf(member.address(), Duration.ofMillis(millisLeft(deadline))));
      } catch (UnavailableException ignored) {
        // try the next member
      }
    }
    throw new UnavailableException("cannot learn the chain: the coordinator at " + coordinator
        + " is unreachable (" + coordinatorFailure.getMessage() + ")"
        + (chain.members().isEmpty() ? "" : " and no known member answered"),
        null, coordinatorFailure);
  }

  /** Keeps the newest configuration seen: an answer from a lagging process must not undo it. */
  private ChainConfig adopt(ChainConfig candidate) {
    synchronized (this) {
      if (candidate.epoch() >= chain.epoch()) {
        chain = candidate;
      }
      return chain;
    }
  }

  private void refreshQuietly(long deadline) {
    try {
      refreshChain(deadline);
    } catch (UnavailableException e) {
      log.debug("chain refresh failed: {}", e.getMessage());
    }
  }

  private String headAddress(long deadline) {
    ChainConfig known = chain;
    if (known.members().isEmpty()) {
      known = refreshChain(deadline);
    }
    if (known.members().isEmpty()) {
      throw emptyChain(known);
    }
    return known.head().address();
  }

  private String randomMember(long deadline, String avoid) {
    ChainConfig known = chain;
    if (known.members().isEmpty()) {
      known = refreshChain(deadline);
    }
    List<Member> members = known.members();
    if (members.isEmpty()) {
      throw emptyChain(known);
    }
    if (members.size() == 1) {
      return members.get(0).address();
    }
    // Spread reads over the chain (CRAQ §2.3), but not twice in a row at a member that just failed.
    while (true) {
      String address = members.get(ThreadLocalRandom.current().nextInt(members.size())).address();
      if (!address.equals(avoid)) {
        return address;
      }
    }
  }

  private UnavailableException emptyChain(ChainConfig known) {
    return new UnavailableException("the chain has no members (epoch " + known.epoch()
        + "): no node has joined the coordinator at " + config.coordinatorAddress() + " yet");
  }

  // ----------------------------------------------------------------------------------- helpers

  /**
   * One request and its reply (which may be an {@link ErrorReply}).
   *
   * @throws TransportException as {@link Connection#request} reports it
   */
  private Message call(String address, Message request, long timeoutMillis)
      throws InterruptedException {
    if (timeoutMillis <= 0) {
      throw new IllegalArgumentException("timeout must be > 0: " + timeoutMillis);
    }
    CompletableFuture<Message> reply = connection(address)
        .request(request, Duration.ofMillis(timeoutMillis));
    try {
      return reply.get(timeoutMillis + TRANSPORT_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TransportException t) {
        throw t;
      }
      throw new TransportException("request to " + address + " failed: " + e.getCause(),
          e.getCause());
    } catch (TimeoutException e) {
      reply.cancel(false);
      throw new RequestTimeoutException("no reply from " + address + " within "
          + timeoutMillis + " ms");
    }
  }

  private Connection connection(String address) {
    checkOpen();
    return connections.computeIfAbsent(address, transport::connect);
  }

  private void pause(int attempt, long deadline) {
    long backoff = config.retryBackoffMillis() << Math.min(attempt - 2, 20);
    long millis = Math.min(Math.min(backoff, config.retryBackoffMillisMax()),
        Math.max(0, millisLeft(deadline)));
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while waiting to retry", null, e);
    }
  }

  private long deadlineNanos() {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.callTimeoutMillis());
  }

  private static long millisLeft(long deadlineNanos) {
    return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
  }

  private <T> CompletableFuture<T> async(Supplier<T> call) {
    checkOpen();
    return CompletableFuture.supplyAsync(call, asyncExecutor);
  }

  private void checkKey(String key) {
    try {
      Limits.checkKey(key);
    } catch (Limits.InvalidInputException e) {
      throw new InvalidRequestException(e.getMessage(), null, e);
    }
  }

  private void checkValue(String key, byte[] value) {
    checkKey(key);
    try {
      Limits.checkValue(value, config.valueBytesMax());
    } catch (Limits.InvalidInputException e) {
      throw new InvalidRequestException("key '" + key + "': " + e.getMessage(), null, e);
    }
  }

  private static void checkAddress(String address) {
    try {
      Addresses.parse(address);
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(e.getMessage(), null, e);
    }
  }

  private static boolean isAddress(String text) {
    try {
      Addresses.parse(text);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static long parseVersion(String hint) {
    try {
      return Long.parseLong(hint.trim());
    } catch (NumberFormatException e) {
      return VersionMismatchException.VERSION_UNKNOWN;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("client is closed");
    }
  }

  /** Closes the connections (and the transport if the client created it). Idempotent. */
  @Override
  public void close() {
    closed = true;
    asyncExecutor.shutdownNow();
    connections.values().forEach(Connection::close);
    connections.clear();
    if (ownsTransport) {
      transport.close();
    }
  }
}

package io.craq.client;

import io.craq.core.Limits;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.LeaveRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
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
import io.craq.core.store.KeyOrder;
import io.craq.transport.Addresses;
import io.craq.transport.AuthenticationFailedException;
import io.craq.transport.ConnectFailedException;
import io.craq.transport.Connection;
import io.craq.transport.ConnectionClosedException;
import io.craq.transport.MessageTooLargeException;
import io.craq.transport.QueueFullException;
import io.craq.transport.RequestTimeoutException;
import io.craq.transport.Transport;
import io.craq.transport.TransportConfig;
import io.craq.transport.TransportException;
import io.craq.transport.Transports;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
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
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a CRAQ cluster: one chain, or several chains over a pool of nodes (CRAQ §3). It
 * learns the chain map from the coordinator, sends each write to the head of the chain that holds
 * its key (or through the coordinator, see {@link ClientConfig#writeViaCoordinator()}) and each
 * read to any member of that chain, which CRAQ makes linearizable for strong reads (CRAQ §2.3). A
 * key's chain is {@link KeySlots#chainOf}: fixed for the life of the cluster, so only the members
 * of a chain can change under the client, never the chain of a key.
 *
 * <p>Thread-safe; one instance is meant to be shared. Every call blocks for at most {@link
 * ClientConfig#callTimeoutMillis()} (plus scheduling noise); the {@code *Async} variants run the
 * same call on a virtual thread.
 *
 * <p>Failures (all unchecked {@link CraqException}s):
 *
 * <ul>
 *   <li>Reads are idempotent, so they are retried at other members on transport errors and on
 *       UNAVAILABLE/BUSY/STALE_EPOCH/WRONG_CHAIN, bounded by {@link ClientConfig#readAttemptsMax()}
 *       and the call's deadline; then {@link UnavailableException}.
 *   <li>A write is repeated only when it certainly did not happen: it was never sent (connection
 *       refused, queue full) or it was refused with a definite error code (NOT_HEAD, STALE_EPOCH,
 *       WRONG_CHAIN, UNAVAILABLE, BUSY). A write that was sent and whose fate is unknown (timeout,
 *       connection lost while waiting, a non-definite error such as AMBIGUOUS or INTERNAL) raises
 *       {@link AmbiguousWriteException} and is never retried, so it cannot be applied twice.
 *   <li>{@link VersionMismatchException} for a refused conditional write, {@link
 *       InvalidRequestException} for bad input (checked with {@link Limits} before sending).
 *   <li>A multi-key write ({@link #multiWrite(MultiWrite)}) of keys of one chain is routed, retried
 *       and reported by the same rules, as one write: all of it applies or none of it.
 *   <li>An increment or append ({@link #increment}, {@link #append}) is routed, retried and
 *       reported as a write: it is not idempotent, so an unknown outcome raises {@link
 *       AmbiguousWriteException} and is never retried. {@link NotAnIntegerException} for an
 *       increment of a value that is not an integer, or whose result would overflow.
 * </ul>
 *
 * <p>The map is learnt from the coordinator ({@link MapRequest}) at the first call and then kept:
 * reads and writes go straight to the members and do not ask the coordinator again while the
 * members answer. It is refreshed when a member answers NOT_HEAD, STALE_EPOCH or WRONG_CHAIN (the
 * key's chain is not served there; the hint is the map version that node knows, and the client
 * fetches a map at least that new, from the coordinator or else from that node) and when a member
 * cannot be reached; if no coordinator can answer either, the known nodes are asked for their map
 * (nodes answer {@link MapRequest} too). The known map never goes back: an older version is not
 * adopted, and no chain goes back to an older epoch.
 *
 * <p>Several coordinators ({@link ClientConfig#coordinatorAddresses()}): one leads, the others
 * stand by and refuse with NOT_LEADER, naming the leader when they know it. Every request meant for
 * the coordinator (map refreshes, writes sent through it) follows that redirect, or goes on to the
 * next listed coordinator when the hint is empty (no leader now) or a coordinator cannot be
 * reached; each coordinator is asked at most once per request, over at most the number listed plus
 * two. The client remembers the last coordinator that answered and asks it first next time. When
 * none leads, the call fails with an {@link UnavailableException} saying so (code NOT_LEADER).
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

  /** The chain map as last learned; null before the first answer. */
  private volatile ChainMap map;

  private volatile boolean closed;

  /**
   * The coordinator requests meant for the leader go to first: the last one that answered, or the
   * one a failed call moved on to (see {@link #askCoordinator}).
   */
  private volatile String coordinator;

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
    this.coordinator = config.coordinatorAddresses().get(0);
  }

  /** A client with its own TCP transport (closed with the client). Does not contact anyone yet. */
  public static CraqClient connect(ClientConfig config) {
    TransportConfig transportConfig = TransportConfig.DEFAULT;
    if (config.valueBytesMax() > transportConfig.valueBytesMax()) {
      // Leave room in the frame for the key and the headers around a maximal value.
      transportConfig =
          transportConfig
              .withFrameBytesMax(Math.addExact(config.valueBytesMax(), 64 << 10))
              .withValueBytesMax(config.valueBytesMax());
    }
    return new CraqClient(
        config, Transports.open(transportConfig.withSecurity(config.security())), true);
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
    MultiWrite.checkExpected(expectedVersion);
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

  public CompletableFuture<Long> writeIfVersionAsync(
      String key, byte[] value, long expectedVersion) {
    return async(() -> writeIfVersion(key, value, expectedVersion));
  }

  public CompletableFuture<Long> deleteAsync(String key) {
    return async(() -> delete(key));
  }

  /**
   * Adds {@code delta} (negative to decrement) to the integer value of {@code key} and returns the
   * new value (CRAQ §4.1 read-modify-write, applied atomically at the head). An absent or deleted
   * key counts as 0. The value must be a signed 64-bit decimal integer as Redis's {@code INCRBY}
   * reads it (no spaces, no '+', no leading zeros); the new value is written in decimal and commits
   * as a new version like a write.
   *
   * @throws NotAnIntegerException if the value is not such an integer or the sum would overflow
   *     (definite: nothing was written)
   * @throws AmbiguousWriteException if the increment was sent and its fate is unknown; it is never
   *     retried, since applying it twice would add twice
   * @throws UnavailableException, InvalidRequestException as {@link #write}
   */
  public long increment(String key, long delta) {
    checkKey(key);
    return submitWrite(WriteCall.of(new Message.IncrementRequest(key, delta)), deadlineNanos())
        .get(0);
  }

  /**
   * Appends {@code suffix} to the value of {@code key} (an absent or deleted key counts as empty)
   * and returns the new value's length in bytes (CRAQ §4.1 read-modify-write, applied atomically at
   * the head).
   *
   * @throws InvalidRequestException if the suffix, or the value it would make, is over {@link
   *     ClientConfig#valueBytesMax()} (the latter from the node: nothing was written)
   * @throws AmbiguousWriteException if the append was sent and its fate is unknown; never retried
   * @throws UnavailableException as {@link #write}
   */
  public long append(String key, byte[] suffix) {
    checkValue(key, suffix);
    return submitWrite(WriteCall.of(new Message.AppendRequest(key, suffix)), deadlineNanos())
        .get(0);
  }

  public CompletableFuture<Long> incrementAsync(String key, long delta) {
    return async(() -> increment(key, delta));
  }

  public CompletableFuture<Long> appendAsync(String key, byte[] suffix) {
    return async(() -> append(key, suffix));
  }

  /**
   * Writes every entry of {@code values} in one multi-key write ({@link #multiWrite(MultiWrite)}),
   * in the map's iteration order; returns each key's committed version in that order.
   */
  public Map<String, Long> multiWrite(Map<String, byte[]> values) {
    MultiWrite write = new MultiWrite();
    values.forEach(write::put);
    return multiWrite(write);
  }

  /**
   * Applies the writes of {@code write} all or none (CRAQ §4.2 single-chain mini-transaction) and
   * returns each key's committed version, in the order the writes were added. A reader never sees
   * some of them and not the others. The keys must be distinct, at most {@link
   * Limits#MULTI_WRITE_KEYS_MAX}, and of one chain, which keys sharing a hash tag are ({@code
   * user:{42}:name}, {@code user:{42}:mail}); their values together at most {@link
   * ClientConfig#valueBytesMax()}. The write goes to the chain's head and is retried, reported as
   * ambiguous or as unavailable exactly as {@link #write} is.
   *
   * @throws InvalidRequestException before sending for keys of different chains (naming two of them
   *     and their chains), a repeated key, too many keys, or a bad key or value; from the node if
   *     it refuses the write as a whole
   * @throws VersionMismatchException if a conditional write's key was not at its expected version
   *     (definite: none of the writes applied); {@link VersionMismatchException#key()} names it
   * @throws AmbiguousWriteException if the write was sent and its fate is unknown: all of it may
   *     have applied, or none of it (never a part)
   * @throws UnavailableException if the write certainly did not happen
   */
  public Map<String, Long> multiWrite(MultiWrite write) {
    List<WriteRequest> writes = write.writes();
    checkMultiWrite(writes);
    checkOpen();
    long deadline = deadlineNanos();
    checkOneChain(writes, deadline);
    List<Long> versions = submitWrite(new WriteCall(writes, true), deadline);
    Map<String, Long> byKey = new LinkedHashMap<>();
    for (int i = 0; i < writes.size(); i++) {
      byKey.put(writes.get(i).key(), versions.get(i));
    }
    return Collections.unmodifiableMap(byKey);
  }

  public CompletableFuture<Map<String, Long>> multiWriteAsync(MultiWrite write) {
    return async(() -> multiWrite(write));
  }

  /** The checks of {@link #multiWrite(MultiWrite)} that need no map. */
  private void checkMultiWrite(List<WriteRequest> writes) {
    if (writes.isEmpty()) {
      throw new InvalidRequestException("a multi-key write needs at least one key");
    }
    if (writes.size() > Limits.MULTI_WRITE_KEYS_MAX) {
      throw new InvalidRequestException(
          "a multi-key write has at most "
              + Limits.MULTI_WRITE_KEYS_MAX
              + " keys, not "
              + writes.size());
    }
    Set<String> seen = new HashSet<>();
    long valueBytes = 0;
    for (WriteRequest w : writes) {
      checkValue(w.key(), w.value());
      if (!seen.add(w.key())) {
        throw new InvalidRequestException(
            "key '" + w.key() + "' is twice in the multi-key write: its keys must be distinct");
      }
      valueBytes += w.value().length;
    }
    if (valueBytes > config.valueBytesMax()) {
      throw new InvalidRequestException(
          "the values of the multi-key write are "
              + valueBytes
              + " bytes together, more than the limit of "
              + config.valueBytesMax()
              + " bytes");
    }
  }

  /**
   * Refuses keys of different chains before sending: a node would refuse them too, and the caller
   * needs to know which keys to put under one hash tag.
   */
  private void checkOneChain(List<WriteRequest> writes, long deadline) {
    ChainMap known = map;
    if (known == null) {
      known = refreshMap(deadline, null);
    }
    String first = writes.get(0).key();
    int chain = known.chainOf(first);
    for (WriteRequest w : writes) {
      int other = known.chainOf(w.key());
      if (other != chain) {
        throw new InvalidRequestException(
            "keys '"
                + first
                + "' (chain "
                + chain
                + ") and '"
                + w.key()
                + "' (chain "
                + other
                + ") are on different chains: a multi-key write takes the keys of one chain;"
                + " give them a shared {hash tag},"
                + " as in user:{42}:name and user:{42}:mail");
      }
    }
  }

  /**
   * A write as the write loop sends it: one key ({@link WriteRequest}), several ({@link
   * MultiWriteRequest}, sent even for one key so the node answers with a {@link MultiWriteReply}),
   * or an increment or append ({@code update}; then {@code writes} is empty).
   */
  private record WriteCall(List<WriteRequest> writes, boolean multi, Message.NodeRequest update) {
    WriteCall(List<WriteRequest> writes, boolean multi) {
      this(writes, multi, null);
    }

    static WriteCall of(WriteRequest write) {
      return new WriteCall(List.of(write), false);
    }

    static WriteCall of(Message.IncrementRequest increment) {
      return new WriteCall(List.of(), false, increment);
    }

    static WriteCall of(Message.AppendRequest append) {
      return new WriteCall(List.of(), false, append);
    }

    Message request() {
      if (update != null) {
        return update;
      }
      return multi ? new MultiWriteRequest(writes) : writes.get(0);
    }

    /** The key the write is routed by: every key of a multi-key write is of its chain. */
    String routeKey() {
      return keys().get(0);
    }

    List<String> keys() {
      return switch (update) {
        case Message.IncrementRequest increment -> List.of(increment.key());
        case Message.AppendRequest append -> List.of(append.key());
        case null, default -> writes.stream().map(WriteRequest::key).toList();
      };
    }

    /** "write of key 'k'", "multi-key write of keys 'a', 'b'", for messages. */
    String describe() {
      if (update != null) {
        return (update instanceof Message.IncrementRequest
                ? "increment of key '"
                : "append to key '")
            + routeKey()
            + "'";
      }
      return multi
          ? "multi-key write of keys " + quoted(keys())
          : "write of key '" + routeKey() + "'";
    }

    /** As {@link #describe}, saying "delete" for a delete of one key. */
    String describeKind() {
      return update == null && !multi && writes.get(0).delete()
          ? "delete of key '" + routeKey() + "'"
          : describe();
    }

    /**
     * The committed versions in request order (for an increment or append, its result), or null if
     * {@code reply} does not answer this.
     */
    List<Long> versions(Message reply) {
      if (update != null) {
        return reply instanceof UpdateReply updated && updated.key().equals(routeKey())
            ? List.of(updated.result())
            : null;
      }
      if (!multi) {
        return reply instanceof WriteReply written ? List.of(written.version()) : null;
      }
      if (!(reply instanceof MultiWriteReply written)
          || !written.versions().stream().map(KeyVersion::key).toList().equals(keys())) {
        return null;
      }
      return written.versions().stream().map(KeyVersion::version).toList();
    }

    /**
     * The refused condition: the key the node names among the conditional writes (its message says
     * "key K ..."), else the only conditional one.
     */
    VersionMismatchException mismatch(ErrorReply error) {
      List<WriteRequest> conditional =
          writes.stream().filter(w -> w.expectedVersion() != Message.ANY_VERSION).toList();
      WriteRequest named =
          conditional.stream()
              .filter(w -> error.message().contains("key " + w.key() + " "))
              .max(Comparator.comparingInt(w -> w.key().length()))
              .orElse(conditional.size() == 1 ? conditional.get(0) : null);
      String key = named != null ? named.key() : null;
      long expected = named != null ? named.expectedVersion() : Message.ANY_VERSION;
      return new VersionMismatchException(
          key,
          expected,
          parseVersion(error.hint()),
          (multi
                  ? "multi-key write of keys " + quoted(keys()) + ": conditional write"
                  : "conditional write")
              + (named != null ? " of key '" + key + "' expected version " + expected : " refused")
              + ": "
              + error.message());
    }

    private static String quoted(List<String> keys) {
      return keys.stream().map(k -> "'" + k + "'").collect(Collectors.joining(", "));
    }
  }

  private long submitWrite(WriteRequest request) {
    return submitWrite(WriteCall.of(request), deadlineNanos()).get(0);
  }

  /**
   * Sends a write to the head of its key's chain (or through the coordinator) and returns the
   * committed versions, retrying only while it certainly did not happen (see the class comment).
   */
  private List<Long> submitWrite(WriteCall call, long deadline) {
    checkOpen();
    Message request = call.request();
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
        target = coordinator;
      } else if (hintedHead != null) {
        target = hintedHead;
        hintedHead = null;
      } else {
        target = headAddress(call.routeKey(), deadline);
      }
      // Decide to send only with time left: a write never sent is definite, one sent is not.
      long left = millisLeft(deadline);
      if (left <= 0) {
        break;
      }
      Message reply;
      try {
        if (config.writeViaCoordinator()) {
          CoordinatorAnswer answer = askCoordinator(request, deadline, false);
          target = answer.address();
          if (answer.failure() != null) {
            throw answer.failure();
          }
          reply = answer.reply();
        } else {
          reply = call(target, request, left);
        }
      } catch (CoordinatorUnavailableException e) {
        // No coordinator took the write (none leads, none reachable): it certainly did not happen.
        lastCause = e;
        lastCode = e.code();
        continue;
      } catch (ConnectFailedException | QueueFullException e) {
        // Nothing was sent: safe to try again, maybe at another head.
        lastCause = e;
        lastCode = null;
        if (e instanceof ConnectFailedException) {
          refreshQuietly(deadline);
        }
        continue;
      } catch (MessageTooLargeException e) {
        throw new InvalidRequestException(
            call.describe() + " is too large: " + e.getMessage(), null, e);
      } catch (TransportException e) {
        throw ambiguous(call, target, e.getMessage(), null, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ambiguous(call, target, "interrupted while waiting for the reply", null, e);
      }
      List<Long> versions = call.versions(reply);
      if (versions != null) {
        return versions;
      }
      if (!(reply instanceof ErrorReply error)) {
        throw ambiguous(call, target, "unexpected reply " + reply, null, null);
      }
      lastCode = error.code();
      lastCause = null;
      hintedHead = onWriteRefused(call, target, error, deadline);
    }
    throw new UnavailableException(
        call.describe()
            + " was not applied: "
            + (lastCause instanceof CoordinatorUnavailableException
                ? lastCause.getMessage()
                : lastCode != null
                    ? "refused with " + lastCode
                    : lastCause != null ? lastCause.getMessage() : "no attempt could be made")
            + " ("
            + config.writeAttemptsMax()
            + " attempts, "
            + config.callTimeoutMillis()
            + " ms)",
        lastCode,
        lastCause);
  }

  /**
   * Handles a refused write: throws if the refusal is final, else refreshes what is needed for the
   * next attempt and returns the head address to try next (null = the chain's head).
   */
  private String onWriteRefused(WriteCall call, String target, ErrorReply error, long deadline) {
    ErrorCode code = error.code();
    if (!code.definite()) {
      throw ambiguous(call, target, error.message(), code, null);
    }
    switch (code) {
      case VERSION_MISMATCH -> throw call.mismatch(error);
      case NOT_AN_INTEGER ->
          throw new NotAnIntegerException(
              call.describe() + " refused by " + target + ": " + error.message(), error.message());
      case INVALID_REQUEST, UNSUPPORTED ->
          throw new InvalidRequestException(
              call.describe() + " refused by " + target + ": " + error.message(), code, null);
      case WRONG_CHAIN -> {
        // The node is not (or no longer, or not yet) in the key's chain: route again.
        refreshAtLeast(parseVersion(error.hint()), target, deadline);
        return null;
      }
      case NOT_HEAD, STALE_EPOCH, NOT_TAIL -> {
        refreshQuietly(deadline);
        String hint = error.hint();
        // The refusing node may know a newer chain than the coordinator answered with so far.
        boolean useHint =
            code == ErrorCode.NOT_HEAD
                && !hint.isEmpty()
                && !hint.equals(target)
                && isAddress(hint);
        return useHint ? hint : null;
      }
      default -> {
        // UNAVAILABLE, BUSY: the head did not take the write; try again after a pause.
        return null;
      }
    }
  }

  private static AmbiguousWriteException ambiguous(
      WriteCall call, String target, String reason, ErrorCode code, Throwable cause) {
    return new AmbiguousWriteException(
        call.keys(),
        call.describeKind()
            + " sent to "
            + target
            + " has an unknown outcome (it may or may not be applied"
            + (call.multi() ? ", all of it or none" : "")
            + "): "
            + reason,
        code,
        cause);
  }

  // ------------------------------------------------------------------------------------- reads

  /** A strong (linearizable) read at a random member; empty if the key is absent or deleted. */
  public Optional<Versioned> read(String key) {
    return read(key, ReadMode.STRONG, 0);
  }

  /**
   * A read in {@code mode} at a random member, going on at the other members if it cannot answer;
   * {@code bound} is the number of dirty versions a {@link ReadMode#BOUNDED} read accepts (ignored
   * otherwise).
   *
   * @throws UnavailableException if no member answered within the attempts and the deadline
   * @throws InvalidRequestException for a bad key or bound
   */
  public Optional<Versioned> read(String key, ReadMode mode, long bound) {
    return readAt(Route.ANY, key, mode, bound);
  }

  /** A read at the node {@code nodeAddress} only (retried there); failures as {@link #read}. */
  public Optional<Versioned> readFrom(String nodeAddress, String key, ReadMode mode, long bound) {
    checkAddress(nodeAddress);
    return readAt(new Route(nodeAddress, true, ReadFallback.IGNORE), key, mode, bound);
  }

  /**
   * A read that goes first to {@code nodeAddress} (null = a random member) and, if that node cannot
   * answer, on to the other members, telling {@code fallback} which one answered instead. Failures
   * as {@link #read}.
   */
  public Optional<Versioned> readPreferring(
      String nodeAddress, String key, ReadMode mode, long bound, ReadFallback fallback) {
    return readAt(preferring(nodeAddress, fallback), key, mode, bound);
  }

  public CompletableFuture<Optional<Versioned>> readAsync(String key, ReadMode mode, long bound) {
    return async(() -> read(key, mode, bound));
  }

  public CompletableFuture<Optional<Versioned>> readFromAsync(
      String nodeAddress, String key, ReadMode mode, long bound) {
    return async(() -> readFrom(nodeAddress, key, mode, bound));
  }

  private Optional<Versioned> readAt(Route route, String key, ReadMode mode, long bound) {
    checkKey(key);
    checkMode(mode, bound);
    ReadReply reply =
        retryingRead(
                route,
                new ReadRequest(key, mode, bound),
                "read of key '" + key + "'",
                ReadReply.class,
                known -> known.chainOf(key))
            .reply();
    return found(reply);
  }

  private static Optional<Versioned> found(ReadReply reply) {
    if (!reply.found()) {
      return Optional.empty();
    }
    return Optional.of(new Versioned(reply.key(), reply.version(), reply.value(), reply.dirty()));
  }

  /**
   * Every key with a committed version, in key order, each read in {@code mode} as {@link #read}
   * reads it. Each chain is scanned on its own: a page of {@link ClientConfig#readAllPageKeys()}
   * keys is listed at a member of the chain, then each of them is read there (pipelined on one
   * connection); the chains' keys are merged into one stream in key order. So a strong scan answers
   * only while strong reads do (a member without its lease refuses both), and each value is one a
   * strong read could have returned during the scan. Not a snapshot: keys written while the scan
   * runs may or may not appear. Keys deleted or never committed are left out. Fetched lazily (the
   * first page of every chain when the stream is first asked for an element); iterating can throw
   * {@link UnavailableException}.
   */
  public Stream<Versioned> readAll(ReadMode mode, long bound) {
    return readAllPreferring(null, mode, bound, ReadFallback.IGNORE);
  }

  /** {@link #readAll(ReadMode, long)} with strong reads. */
  public Stream<Versioned> readAll() {
    return readAll(ReadMode.STRONG, 0);
  }

  /**
   * As {@link #readAll(ReadMode, long)}, at the node {@code nodeAddress} only. With several chains,
   * the keys of the chains the map lists that node in (a node holds no others); {@link
   * UnavailableException} when it is in none.
   */
  public Stream<Versioned> readAllFrom(String nodeAddress, ReadMode mode, long bound) {
    checkAddress(nodeAddress);
    return scan(new Route(nodeAddress, true, ReadFallback.IGNORE), mode, bound);
  }

  /**
   * As {@link #readAll(ReadMode, long)}, starting at {@code nodeAddress} (null = a random member)
   * and going on at other members when it cannot answer, as {@link #readPreferring} does; once
   * another member answered, the rest of the chain's scan stays there. With several chains, {@code
   * nodeAddress} is asked first for the chains it is a member of; the other chains are scanned at
   * random members of theirs. {@code fallback} hears of the first fallback of the whole scan only.
   */
  public Stream<Versioned> readAllPreferring(
      String nodeAddress, ReadMode mode, long bound, ReadFallback fallback) {
    return scan(preferring(nodeAddress, fallback), mode, bound);
  }

  private Stream<Versioned> scan(Route route, ReadMode mode, long bound) {
    checkMode(mode, bound);
    checkOpen();
    Iterator<Versioned> entries = new ScanIterator(route, mode, bound);
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(
            entries, Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT),
        false);
  }

  /**
   * The member of {@code chain} at {@code address}: the same port and host, with {@code :PORT}
   * meaning 127.0.0.1 and host names resolved, so {@code :1235}, {@code localhost:1235} and {@code
   * 127.0.0.1:1235} are one member.
   *
   * @throws InvalidRequestException for a malformed address
   */
  public static Optional<Member> memberAt(ChainConfig chain, String address) {
    checkAddress(address);
    for (Member member : chain.members()) {
      if (sameEndpoint(member.address(), address)) {
        return Optional.of(member);
      }
    }
    return Optional.empty();
  }

  /**
   * The node of {@code map} at {@code address} (compared as {@link #memberAt(ChainConfig, String)}
   * does): a member of any chain (the first found, in chain order), else a node of the pool that is
   * in no chain (as a {@link Member} with only its id and address).
   *
   * @throws InvalidRequestException for a malformed address
   */
  public static Optional<Member> nodeAt(ChainMap map, String address) {
    checkAddress(address);
    for (ChainConfig chain : map.chains()) {
      Optional<Member> member = memberAt(chain, address);
      if (member.isPresent()) {
        return member;
      }
    }
    for (PoolNode node : map.pool()) {
      if (sameEndpoint(node.address(), address)) {
        return Optional.of(new Member(node.id(), node.address()));
      }
    }
    return Optional.empty();
  }

  /** Tells {@code fallback} of the first fallback only, not of every page or chain after it. */
  private static ReadFallback once(ReadFallback fallback) {
    return new ReadFallback() {
      private boolean told;

      @Override
      public synchronized void answeredElsewhere(
          String firstTried, String reason, String answeredBy) {
        if (!told) {
          told = true;
          fallback.answeredElsewhere(firstTried, reason, answeredBy);
        }
      }
    };
  }

  /**
   * The scan of every chain, merged in key order. Each chain's keys are disjoint from the others'
   * (a key lives in one chain), so the merge is a K-way merge of K ordered streams.
   */
  private final class ScanIterator implements Iterator<Versioned> {
    private final Route route;
    private final ReadMode mode;
    private final long bound;

    /** One scan per chain, null until the first element is asked for. */
    private List<PageIterator> chains;

    /** The next element of every chain that has one, smallest key first. */
    private final PriorityQueue<Head> heads =
        new PriorityQueue<>(
            Comparator.comparing((Head head) -> head.entry().key(), KeyOrder.INSTANCE));

    private record Head(Versioned entry, PageIterator from) {}

    ScanIterator(Route route, ReadMode mode, long bound) {
      this.route = new Route(route.first(), route.firstOnly(), once(route.fallback()));
      this.mode = mode;
      this.bound = bound;
    }

    @Override
    public boolean hasNext() {
      if (chains == null) {
        start();
      }
      if (chains.size() == 1) {
        return chains.get(0).hasNext();
      }
      return !heads.isEmpty();
    }

    @Override
    public Versioned next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      if (chains.size() == 1) {
        return chains.get(0).next();
      }
      Head head = heads.remove();
      if (head.from().hasNext()) {
        heads.add(new Head(head.from().next(), head.from()));
      }
      return head.entry();
    }

    private void start() {
      ChainMap known = map;
      if (known == null) {
        known = refreshMap(deadlineNanos(), route.first());
      }
      List<PageIterator> scans = new ArrayList<>();
      if (known.chainCount() == 1) {
        // One chain: the unwrapped request every node has always answered, at the first node
        // whether or not the client has heard of it as a member.
        scans.add(new PageIterator(route, -1, mode, bound));
      } else {
        for (int c = 0; c < known.chainCount(); c++) {
          boolean atFirst =
              route.first() != null && memberAt(known.chain(c), route.first()).isPresent();
          if (atFirst) {
            scans.add(new PageIterator(route, c, mode, bound));
          } else if (!route.firstOnly()) {
            scans.add(new PageIterator(new Route(null, false, route.fallback()), c, mode, bound));
          }
        }
        if (scans.isEmpty()) {
          throw new UnavailableException(
              "scan at "
                  + route.first()
                  + ": that node is a member of none of the "
                  + known.chainCount()
                  + " chains (map version "
                  + known.version()
                  + ")",
              ErrorCode.WRONG_CHAIN,
              null);
        }
        for (PageIterator scan : scans) {
          if (scan.hasNext()) {
            heads.add(new Head(scan.next(), scan));
          }
        }
      }
      chains = scans;
    }
  }

  /**
   * One chain's scan: fetches the next page when the current one is used up; stops after a page
   * without more.
   */
  private final class PageIterator implements Iterator<Versioned> {
    /** The chain scanned, or -1 for the unwrapped request of a cluster of one chain. */
    private final int chain;

    private final ReadMode mode;
    private final long bound;
    private final ArrayDeque<Versioned> buffered = new ArrayDeque<>();

    /** Where the next page goes first: the member that answered the last one. */
    private Route route;

    private String afterKey = "";
    private boolean more = true;

    PageIterator(Route route, int chain, ReadMode mode, long bound) {
      this.route = route;
      this.chain = chain;
      this.mode = mode;
      this.bound = bound;
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
      ReadAllRequest page = new ReadAllRequest(afterKey, config.readAllPageKeys());
      Answered<ReadAllReply> answer =
          retryingRead(
              route,
              chain < 0 ? page : new Chained(chain, page),
              (chain < 0 ? "scan" : "scan of chain " + chain) + " after key '" + afterKey + "'",
              ReadAllReply.class,
              known -> Math.max(chain, 0));
      route = new Route(answer.address(), route.firstOnly(), route.fallback());
      List<String> keys = new ArrayList<>();
      String last = afterKey;
      for (VersionRecord entry : answer.reply().entries()) {
        // The node's key order decides paging; a key at or before the cursor would loop forever.
        if (KeyOrder.INSTANCE.compare(entry.key(), last) <= 0) {
          throw new UnavailableException(
              "scan: node returned key '" + entry.key() + "' out of order after '" + last + "'");
        }
        last = entry.key();
        if (!entry.tombstone()) {
          keys.add(entry.key());
        }
      }
      readEach(keys).forEach(v -> v.ifPresent(buffered::addLast));
      afterKey = last;
      // A page without entries cannot advance the cursor; stop rather than ask forever.
      more = answer.reply().more() && !answer.reply().entries().isEmpty();
    }

    /**
     * Reads {@code keys} in this scan's mode at the member that listed them, all requests in flight
     * at once; a key that member does not answer is read again as {@link #readAt} does.
     */
    private List<Optional<Versioned>> readEach(List<String> keys) {
      long attemptMillis = Math.min(config.callTimeoutMillis(), config.readAttemptTimeoutMillis());
      List<CompletableFuture<Message>> replies = new ArrayList<>(keys.size());
      for (String key : keys) {
        replies.add(
            connection(route.first())
                .request(new ReadRequest(key, mode, bound), Duration.ofMillis(attemptMillis)));
      }
      List<Optional<Versioned>> values = new ArrayList<>(keys.size());
      for (int i = 0; i < keys.size(); i++) {
        Message reply;
        try {
          reply = replies.get(i).get(attemptMillis + TRANSPORT_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
          reply = null;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new UnavailableException("scan interrupted", null, e);
        }
        values.add(
            reply instanceof ReadReply read
                ? found(read)
                : readAt(route, keys.get(i), mode, bound));
      }
      return values;
    }
  }

  /** A reply and the address of the member that sent it. */
  private record Answered<R extends Message>(R reply, String address) {}

  /**
   * Where a read goes: {@code first} (null = a random member), then, unless {@code firstOnly},
   * random members it has not tried yet; {@code fallback} hears when another member answered.
   */
  private record Route(String first, boolean firstOnly, ReadFallback fallback) {
    static final Route ANY = new Route(null, false, ReadFallback.IGNORE);
  }

  private static Route preferring(String nodeAddress, ReadFallback fallback) {
    if (nodeAddress != null) {
      checkAddress(nodeAddress);
    }
    return new Route(nodeAddress, false, Objects.requireNonNull(fallback, "fallback"));
  }

  /**
   * Sends an idempotent request until one member answers with {@code replyType}, at the members
   * {@code route} names: random ones are members of the chain {@code chainOf} picks in the map. A
   * first node the known map shows outside that chain is passed over (it would refuse), and the
   * fallback hears why.
   */
  private <R extends Message> Answered<R> retryingRead(
      Route route,
      Message request,
      String what,
      Class<R> replyType,
      ToIntFunction<ChainMap> chainOf) {
    checkOpen();
    long deadline = deadlineNanos();
    Throwable lastCause = null;
    ErrorCode lastCode = null;
    Set<String> tried = new HashSet<>();
    String firstTarget = null;
    String firstFailure = null;
    int attempts = 0;
    for (int attempt = 1; attempt <= config.readAttemptsMax(); attempt++) {
      if (attempt > 1) {
        pause(attempt, deadline);
      }
      long left = millisLeft(deadline);
      if (left <= 0) {
        break;
      }
      String target;
      if (route.firstOnly()) {
        target = route.first();
      } else if (attempt == 1 && route.first() != null) {
        target = route.first();
        String outside = outsideItsChain(target, chainOf);
        if (outside != null) {
          firstTarget = target;
          firstFailure = outside;
          tried.add(target);
          target = randomMember(deadline, tried, chainOf);
        }
      } else {
        target = randomMember(deadline, tried, chainOf);
      }
      firstTarget = firstTarget == null ? target : firstTarget;
      left = millisLeft(deadline);
      if (left <= 0) {
        break;
      }
      long attemptMillis =
          attempt == config.readAttemptsMax()
              ? left
              : Math.min(left, config.readAttemptTimeoutMillis());
      attempts++;
      Message reply = null;
      try {
        reply = call(target, request, attemptMillis);
      } catch (MessageTooLargeException e) {
        throw new InvalidRequestException(what + " is too large: " + e.getMessage(), null, e);
      } catch (TransportException e) {
        log.debug("{} at {} failed: {}", what, target, e.toString());
        lastCause = e;
        lastCode = null;
        if (!route.firstOnly() && !(e instanceof RequestTimeoutException)) {
          refreshQuietly(deadline);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UnavailableException(what + " interrupted", null, e);
      }
      if (replyType.isInstance(reply)) {
        if (!target.equals(firstTarget)) {
          route.fallback().answeredElsewhere(firstTarget, firstFailure, target);
        }
        return new Answered<>(replyType.cast(reply), target);
      }
      if (reply instanceof ErrorReply error) {
        lastCode = error.code();
        lastCause =
            new CraqException(
                target + ": " + error.code() + " " + error.message(), error.code(), null);
        switch (error.code()) {
          case INVALID_REQUEST, UNSUPPORTED ->
              throw new InvalidRequestException(
                  what + " refused by " + target + ": " + error.message(), error.code(), null);
          case STALE_EPOCH, NOT_HEAD, NOT_TAIL -> refreshQuietly(deadline);
          case WRONG_CHAIN -> refreshAtLeast(parseVersion(error.hint()), target, deadline);
          default -> {
            // UNAVAILABLE, BUSY, AMBIGUOUS, INTERNAL: reads have no side effect, so try again.
          }
        }
      } else if (reply != null) {
        lastCause = new CraqException(target + " answered with unexpected " + reply);
        lastCode = null;
      }
      tried.add(target);
      firstFailure = firstFailure == null ? lastCause.getMessage() : firstFailure;
    }
    throw new UnavailableException(
        what
            + " failed after "
            + attempts
            + " attempt(s) within "
            + config.callTimeoutMillis()
            + " ms: "
            + (lastCause != null ? lastCause.getMessage() : "deadline passed"),
        lastCode,
        lastCause);
  }

  /**
   * Why {@code address} would refuse a request of the chain {@code chainOf} picks (it is not among
   * that chain's members in the known map), or null if it may answer: it is a member, the map or
   * the chain's members are not known yet, or the cluster has one chain (a node outside it is asked
   * anyway, as a single-chain client always did).
   */
  private String outsideItsChain(String address, ToIntFunction<ChainMap> chainOf) {
    ChainMap known = map;
    if (known == null || known.chainCount() == 1) {
      return null;
    }
    int c = chainOf.applyAsInt(known);
    ChainConfig chain = known.chain(c);
    if (chain.members().isEmpty() || memberAt(chain, address).isPresent()) {
      return null;
    }
    return "not a member of chain " + c + ", which holds the key";
  }

  // ------------------------------------------------------------------------------------- chain

  /**
   * The chain map, freshly asked from the coordinator (or, if it cannot be reached, from a known
   * node).
   *
   * @throws UnavailableException if nobody answered in time
   */
  public ChainMap map() {
    checkOpen();
    return refreshMap(deadlineNanos(), null);
  }

  /**
   * The chain map as last learned, without asking anyone: before the first answer, a map of one
   * empty chain at version 0.
   */
  public ChainMap knownMap() {
    ChainMap known = map;
    return known != null ? known : ChainMap.empty(1, 1);
  }

  /**
   * Asks the coordinator to let node {@code nodeId} leave the cluster: it is marked leaving, its
   * chains get members on other nodes, and it leaves each chain once the replacement has caught up
   * and its own read lease has ended. Returns at once with the map as the coordinator has it then;
   * poll {@link #map()} until no chain lists the node before stopping it. Asking again is harmless.
   * A node the coordinator does not know is ignored (the map comes back unchanged).
   *
   * @throws UnavailableException if no coordinator took the request in time
   */
  public ChainMap leave(String nodeId) {
    checkOpen();
    long deadline = deadlineNanos();
    try {
      CoordinatorAnswer answer = askCoordinator(new LeaveRequest(nodeId), deadline, true);
      if (answer.failure() != null) {
        throw answer.failure();
      }
      if (answer.reply() instanceof MapReply mapReply) {
        return adopt(mapReply.map());
      }
      throw new UnavailableException(
          "the coordinator at "
              + answer.address()
              + " answered the leave of "
              + nodeId
              + " with "
              + describeReply(answer.reply()),
          answer.reply() instanceof ErrorReply error ? error.code() : null,
          null);
    } catch (CoordinatorUnavailableException e) {
      throw e;
    } catch (TransportException e) {
      throw new UnavailableException(
          "cannot ask the coordinator to let " + nodeId + " leave: " + e.getMessage(), null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while asking the coordinator", null, e);
    }
  }

  /**
   * The chain of a cluster of one chain, freshly asked from the coordinator (or, if it cannot be
   * reached, from a known node): chain 0 of {@link #map()}.
   *
   * @throws UnavailableException if nobody answered in time
   * @throws IllegalStateException if the cluster has several chains (use {@link #map()})
   */
  public ChainConfig chain() {
    return onlyChain(map());
  }

  /**
   * The chain of a cluster of one chain as last learned, no network ({@link ChainConfig#EMPTY} at
   * first): chain 0 of {@link #knownMap()}.
   *
   * @throws IllegalStateException if the cluster has several chains (use {@link #knownMap()})
   */
  public ChainConfig knownChain() {
    return onlyChain(knownMap());
  }

  private static ChainConfig onlyChain(ChainMap known) {
    if (known.chainCount() != 1) {
      throw new IllegalStateException(
          "the cluster has "
              + known.chainCount()
              + " chains: ask for the chain map (map()) instead of the chain");
    }
    return known.chain(0);
  }

  /**
   * Asks the process at {@code address} (a node or the coordinator) for its own view of the chain,
   * waiting at most {@code timeout}. Useful for health checks: the answer shows the process is up
   * and which epoch it is in. A coordinator of several chains refuses (use {@link #mapOf}).
   *
   * @throws UnavailableException if it did not answer in time or could not be reached
   */
  public ChainConfig chainOf(String address, Duration timeout) {
    return ask(address, new ChainRequest(), ChainReply.class, timeout).config();
  }

  /**
   * Asks the node at {@code address} for its own view of chain {@code chain}, waiting at most
   * {@code timeout}.
   *
   * @throws UnavailableException if it did not answer in time or could not be reached
   */
  public ChainConfig chainOf(String address, int chain, Duration timeout) {
    return ask(address, new Chained(chain, new ChainRequest()), ChainReply.class, timeout).config();
  }

  /**
   * Asks the process at {@code address} (a node or the coordinator) for the chain map it knows,
   * waiting at most {@code timeout}: a health check, as {@link #chainOf} is. The answer is not
   * adopted as the client's map.
   *
   * @throws UnavailableException if it did not answer in time or could not be reached
   */
  public ChainMap mapOf(String address, Duration timeout) {
    return ask(address, new MapRequest(), MapReply.class, timeout).map();
  }

  private <R extends Message> R ask(
      String address, Message request, Class<R> replyType, Duration timeout) {
    checkOpen();
    checkAddress(address);
    long timeoutMillis = Math.max(1, timeout.toMillis());
    try {
      Message reply = call(address, request, timeoutMillis);
      if (replyType.isInstance(reply)) {
        return replyType.cast(reply);
      }
      throw new UnavailableException(
          address
              + " answered the "
              + (request instanceof MapRequest ? "map" : "chain")
              + " request with "
              + describeReply(reply),
          reply instanceof ErrorReply error ? error.code() : null,
          null);
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
   * @throws InvalidRequestException for a malformed address, or if the process there is not a node
   *     (the coordinator refuses with UNSUPPORTED)
   */
  public NodeStats stats(String nodeAddress) {
    checkAddress(nodeAddress);
    StatsReply reply =
        retryingRead(
                new Route(nodeAddress, true, ReadFallback.IGNORE),
                new StatsRequest(),
                "stats of " + nodeAddress,
                StatsReply.class,
                known -> 0)
            .reply();
    return new NodeStats(reply.nodeId(), reply.epoch(), reply.role(), reply.counters());
  }

  public CompletableFuture<NodeStats> statsAsync(String nodeAddress) {
    return async(() -> stats(nodeAddress));
  }

  /**
   * Asks the coordinator for the map and adopts it; if no coordinator can answer, asks {@code
   * alsoAsk} (if not null), then the known nodes.
   */
  private ChainMap refreshMap(long deadline, String alsoAsk) {
    CoordinatorUnavailableException coordinatorFailure;
    try {
      CoordinatorAnswer answer = askCoordinator(new MapRequest(), deadline, true);
      if (answer.failure() != null) {
        throw answer.failure();
      }
      if (answer.reply() instanceof MapReply mapReply) {
        return adopt(mapReply.map());
      }
      throw new UnavailableException(
          "cannot learn the chain map: the coordinator at "
              + answer.address()
              + " answered with "
              + describeReply(answer.reply()));
    } catch (CoordinatorUnavailableException e) {
      coordinatorFailure = e;
    } catch (TransportException e) {
      throw new UnavailableException("cannot learn the chain map: " + e.getMessage(), null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while asking the coordinator", null, e);
    }
    // No coordinator could answer (unreachable, or none leads now); the nodes know the map too
    // (possibly a bit late).
    Set<String> nodes = knownNodes();
    if (alsoAsk != null) {
      Set<String> first = new LinkedHashSet<>();
      first.add(alsoAsk);
      first.addAll(nodes);
      nodes = first;
    }
    for (String node : nodes) {
      if (millisLeft(deadline) <= 0) {
        break;
      }
      try {
        return adopt(mapOf(node, Duration.ofMillis(millisLeft(deadline))));
      } catch (UnavailableException ignored) {
        // try the next node
      }
    }
    throw new UnavailableException(
        "cannot learn the chain map: "
            + coordinatorFailure.getMessage()
            + (nodes.isEmpty() ? "" : ", and no known node answered"),
        coordinatorFailure.code(),
        coordinatorFailure);
  }

  /** The addresses of every node of the known map: chain members first, then the pool. */
  private Set<String> knownNodes() {
    Set<String> nodes = new LinkedHashSet<>();
    ChainMap known = map;
    if (known != null) {
      for (ChainConfig chain : known.chains()) {
        chain.members().forEach(member -> nodes.add(member.address()));
      }
      known.pool().forEach(node -> nodes.add(node.address()));
    }
    return nodes;
  }

  /** What the coordinator answered, as a request meant for it gets it. */
  private record CoordinatorAnswer(Message reply, String address, TransportException failure) {}

  /**
   * No coordinator took a request meant for the leader: none could be reached, none leads now
   * ({@link #code()} NOT_LEADER), or their redirects went round without reaching a leader. The
   * request was not handled by any coordinator.
   */
  private static final class CoordinatorUnavailableException extends UnavailableException {
    CoordinatorUnavailableException(String message, ErrorCode code, Throwable cause) {
      super(message, code, cause);
    }
  }

  /**
   * Sends {@code request} to the leading coordinator: first to the one that answered last, then
   * where a standby's NOT_LEADER hint points (the leader's address, listed or not), or, after an
   * empty hint (no leader now) or a connection that could not be opened, to the next listed
   * coordinator not asked yet. At most {@code listed + 2} coordinators are asked, each once. An
   * {@code idempotent} request also moves on after a timeout or a lost connection, waiting at most
   * {@link ClientConfig#readAttemptTimeoutMillis()} for each coordinator but the last listed one;
   * for any other request such a failure is the caller's to judge, and is returned as the answer's
   * {@code failure}, with the address it was sent to.
   *
   * @throws CoordinatorUnavailableException if no coordinator took the request within the deadline
   *     and the hops (the request was handled by none of them)
   */
  private CoordinatorAnswer askCoordinator(Message request, long deadline, boolean idempotent)
      throws InterruptedException {
    List<String> listed = config.coordinatorAddresses();
    int hopsMax = listed.size() + 2;
    List<String> asked = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    TransportException lastFailure = null;
    ErrorReply lastRefusal = null;
    String target = coordinator;
    String next = null;
    while (millisLeft(deadline) > 0) {
      asked.add(target);
      long left = millisLeft(deadline);
      boolean lastListed = asked.containsAll(listed);
      long attemptMillis =
          idempotent && !lastListed ? Math.min(left, config.readAttemptTimeoutMillis()) : left;
      try {
        Message reply = call(target, request, Math.max(1, attemptMillis));
        if (!(reply instanceof ErrorReply refusal && refusal.code() == ErrorCode.NOT_LEADER)) {
          coordinator = target;
          return new CoordinatorAnswer(reply, target, null);
        }
        lastRefusal = refusal;
        String hint = refusal.hint();
        next = isAddress(hint) && !asked.contains(hint) ? hint : nextListed(listed, asked, target);
      } catch (ConnectFailedException e) {
        lastFailure = e;
        failures.add(target + ": " + e.getMessage());
        next = nextListed(listed, asked, target);
      } catch (TransportException e) {
        boolean moveOn =
            idempotent
                && (e instanceof RequestTimeoutException
                    || e instanceof ConnectionClosedException
                    || e instanceof QueueFullException);
        if (!moveOn) {
          return new CoordinatorAnswer(null, target, e);
        }
        lastFailure = e;
        failures.add(target + ": " + e.getMessage());
        next = nextListed(listed, asked, target);
      }
      if (next == null || asked.size() >= hopsMax) {
        break;
      }
      log.debug(
          "{} goes on from coordinator {} to {}", request.getClass().getSimpleName(), target, next);
      coordinator = next; // later calls start where this one went on
      target = next;
      next = null;
    }
    throw coordinatorUnavailable(listed, asked, failures, lastRefusal, lastFailure, next != null);
  }

  private CoordinatorUnavailableException coordinatorUnavailable(
      List<String> listed,
      List<String> asked,
      List<String> failures,
      ErrorReply lastRefusal,
      TransportException lastFailure,
      boolean hopsRanOut) {
    if (hopsRanOut) {
      return new CoordinatorUnavailableException(
          "the coordinators' redirects reached no leader within "
              + asked.size()
              + " hops ("
              + String.join(" -> ", asked)
              + ")",
          ErrorCode.NOT_LEADER,
          lastFailure);
    }
    if (lastRefusal != null) {
      return new CoordinatorUnavailableException(
          "no coordinator leads now (asked "
              + String.join(", ", asked)
              + (failures.isEmpty() ? "" : "; " + String.join("; ", failures))
              + "); retry later",
          ErrorCode.NOT_LEADER,
          lastFailure);
    }
    if (lastFailure == null) {
      return new CoordinatorUnavailableException(
          "no answer from the coordinator at " + coordinator + " before the deadline", null, null);
    }
    if (listed.size() == 1 && asked.size() == 1) {
      return new CoordinatorUnavailableException(
          "the coordinator at "
              + asked.get(0)
              + " is unreachable ("
              + lastFailure.getMessage()
              + ")",
          null,
          lastFailure);
    }
    return new CoordinatorUnavailableException(
        "no coordinator is reachable (" + String.join("; ", failures) + ")", null, lastFailure);
  }

  /**
   * The listed coordinator after the last listed one in {@code asked} (after {@code target}), not
   * asked yet; null if every listed one was.
   */
  private static String nextListed(List<String> listed, List<String> asked, String target) {
    int from = listed.indexOf(target);
    for (int i = asked.size() - 1; from < 0 && i >= 0; i--) {
      from = listed.indexOf(asked.get(i));
    }
    for (int step = 1; step <= listed.size(); step++) {
      String candidate = listed.get(Math.floorMod(from + step, listed.size()));
      if (!asked.contains(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static String describeReply(Message reply) {
    return reply instanceof ErrorReply error
        ? error.code() + " " + error.message()
        : reply.getClass().getSimpleName();
  }

  /**
   * Keeps the newest map seen: an answer from a lagging process must not undo it. The newer version
   * wins; a chain that the other map knows at a later epoch keeps that configuration (a node may
   * have heard of a chain's new configuration before its map caught up).
   */
  private ChainMap adopt(ChainMap candidate) {
    synchronized (this) {
      map = newer(map, candidate);
      return map;
    }
  }

  static ChainMap newer(ChainMap known, ChainMap candidate) {
    if (known == null) {
      return candidate;
    }
    ChainMap base = candidate.version() >= known.version() ? candidate : known;
    if (known.chainCount() != candidate.chainCount()) {
      return base;
    }
    ChainMap other = base == candidate ? known : candidate;
    for (int c = 0; c < base.chainCount(); c++) {
      if (other.chain(c).epoch() > base.chain(c).epoch()) {
        base = base.withChain(c, other.chain(c));
      }
    }
    return base;
  }

  private void refreshQuietly(long deadline) {
    try {
      refreshMap(deadline, null);
    } catch (UnavailableException e) {
      log.debug("chain map refresh failed: {}", e.getMessage());
    }
  }

  /**
   * After a WRONG_CHAIN refusal from {@code node}, which knows map version {@code version}: fetches
   * the map from the coordinator and, if that is older, from {@code node} itself. A node that knows
   * an older map than the client (it has not heard yet that it joined the chain) needs no refresh:
   * the next attempt goes on.
   */
  private void refreshAtLeast(long version, String node, long deadline) {
    refreshQuietly(deadline);
    ChainMap known = map;
    if ((known == null || known.version() < version) && millisLeft(deadline) > 0) {
      try {
        adopt(
            mapOf(
                node,
                Duration.ofMillis(
                    Math.min(millisLeft(deadline), config.readAttemptTimeoutMillis()))));
      } catch (UnavailableException e) {
        log.debug("chain map of {} not learnt: {}", node, e.getMessage());
      }
    }
  }

  /** The head of the chain that holds {@code key}. */
  private String headAddress(String key, long deadline) {
    ChainMap known = map;
    if (known == null || known.chainFor(key).members().isEmpty()) {
      known = refreshMap(deadline, null);
    }
    ChainConfig chain = known.chainFor(key);
    if (chain.members().isEmpty()) {
      throw emptyChain(known, known.chainOf(key));
    }
    return chain.head().address();
  }

  /**
   * A random member of the chain {@code chainOf} picks, one not in {@code tried} while there is one
   * (CRAQ §2.3: any will do).
   */
  private String randomMember(long deadline, Set<String> tried, ToIntFunction<ChainMap> chainOf) {
    ChainMap known = map;
    if (known == null || known.chain(chainOf.applyAsInt(known)).members().isEmpty()) {
      known = refreshMap(deadline, null);
    }
    int c = chainOf.applyAsInt(known);
    ChainConfig chain = known.chain(c);
    if (chain.members().isEmpty()) {
      throw emptyChain(known, c);
    }
    List<Member> untried =
        chain.members().stream()
            .filter(m -> tried.stream().noneMatch(t -> sameEndpoint(t, m.address())))
            .toList();
    List<Member> pool = untried.isEmpty() ? chain.members() : untried;
    return pool.get(ThreadLocalRandom.current().nextInt(pool.size())).address();
  }

  private UnavailableException emptyChain(ChainMap known, int c) {
    ChainConfig chain = known.chain(c);
    if (known.chainCount() == 1) {
      return new UnavailableException(
          "the chain has no members (epoch "
              + chain.epoch()
              + "): no node has joined the coordinator at "
              + coordinator
              + " yet");
    }
    return new UnavailableException(
        "chain "
            + c
            + " of "
            + known.chainCount()
            + " has no members (epoch "
            + chain.epoch()
            + ", map version "
            + known.version()
            + " from the coordinator at "
            + coordinator
            + "): no node serves its keys yet");
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
    CompletableFuture<Message> reply =
        connection(address).request(request, Duration.ofMillis(timeoutMillis));
    Message answer;
    try {
      answer = reply.get(timeoutMillis + TRANSPORT_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (isAuthenticationFailure(e.getCause())) {
        throw new NotAuthenticatedException(
            address + " refused this client's credentials: " + e.getCause().getMessage(),
            e.getCause());
      }
      if (e.getCause() instanceof TransportException t) {
        throw t;
      }
      throw new TransportException(
          "request to " + address + " failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      reply.cancel(false);
      throw new RequestTimeoutException(
          "no reply from " + address + " within " + timeoutMillis + " ms");
    }
    refuseIfDenied(address, answer);
    return answer;
  }

  /**
   * Throws if {@code reply} refuses the request for who this client is: retrying cannot help, so no
   * retry loop may swallow it. Nothing was done in either case.
   *
   * @throws NotAuthenticatedException for UNAUTHENTICATED
   * @throws PermissionDeniedException for PERMISSION_DENIED
   */
  static void refuseIfDenied(String address, Message reply) {
    if (reply instanceof ErrorReply error) {
      if (error.code() == ErrorCode.UNAUTHENTICATED) {
        throw new NotAuthenticatedException(
            address
                + " requires authentication: "
                + error.message()
                + " (give --user and --password-file, or a client certificate)",
            null);
      }
      if (error.code() == ErrorCode.PERMISSION_DENIED) {
        throw new PermissionDeniedException(address + " refused: " + error.message());
      }
    }
  }

  /** True if {@code failure} is the transport's report that a server refused our credentials. */
  static boolean isAuthenticationFailure(Throwable failure) {
    return failure instanceof AuthenticationFailedException;
  }

  private Connection connection(String address) {
    checkOpen();
    return connections.computeIfAbsent(address, transport::connect);
  }

  private void pause(int attempt, long deadline) {
    long backoff = config.retryBackoffMillis() << Math.min(attempt - 2, 20);
    long millis =
        Math.min(
            Math.min(backoff, config.retryBackoffMillisMax()), Math.max(0, millisLeft(deadline)));
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

  private static void checkMode(ReadMode mode, long bound) {
    Objects.requireNonNull(mode, "mode");
    if (mode == ReadMode.BOUNDED && bound < 0) {
      throw new InvalidRequestException("bounded read: bound must be >= 0: " + bound);
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

  /** True if two addresses dial the same port on the same host (host names resolved). */
  private static boolean sameEndpoint(String a, String b) {
    if (a.equals(b)) {
      return true;
    }
    try {
      InetSocketAddress x = Addresses.parse(a).dialAddress();
      InetSocketAddress y = Addresses.parse(b).dialAddress();
      return x.getPort() == y.getPort()
          && (x.getHostString().equals(y.getHostString())
              || (x.getAddress() != null && x.getAddress().equals(y.getAddress())));
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

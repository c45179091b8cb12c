package io.craq.node.redis;

import io.craq.client.AmbiguousWriteException;
import io.craq.client.CraqClient;
import io.craq.client.InvalidRequestException;
import io.craq.client.MultiWrite;
import io.craq.client.NotAnIntegerException;
import io.craq.client.UnavailableException;
import io.craq.client.VersionMismatchException;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.AppendRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.IncrementRequest;
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
import io.craq.core.message.ReadMode;
import io.craq.node.NodeServer;
import io.craq.transport.security.LinkSession;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Strong reads and writes for the Redis port: asked of this node first ({@link
 * NodeServer#request}), which answers the keys of its chains (reads at any member, writes at the
 * head) without a network hop; what it refuses as not its own (another chain, not the head) or
 * cannot answer now (no lease, catching up, busy) goes through a {@link CraqClient}, which routes
 * and retries as any client does. So every node's port serves every key of the cluster, and every
 * read is strong (linearizable) whichever way it goes.
 *
 * <p>Futures complete on the node's threads or the client's: continuations never block. Failures
 * are {@link RedisException}s carrying the error line for the Redis client.
 */
final class ChainAccess {
  /** A strong read's answer: {@code version} is 0 for an absent key. */
  record Value(boolean found, long version, byte[] value) {
    static final Value ABSENT = new Value(false, 0, new byte[0]);
  }

  private final NodeServer node;
  private final CraqClient client;
  final AtomicLong forwarded;

  /** The Redis client's session, or null for the port's own requests (counts, descriptions). */
  private final LinkSession session;

  ChainAccess(NodeServer node, CraqClient client) {
    this(node, client, new AtomicLong(), null);
  }

  private ChainAccess(
      NodeServer node, CraqClient client, AtomicLong forwarded, LinkSession session) {
    this.node = node;
    this.client = client;
    this.forwarded = forwarded;
    this.session = session;
  }

  /**
   * This access on behalf of a Redis client that authenticated as {@code session}: the node refuses
   * what its role does not allow (PERMISSION_DENIED, UNAUTHENTICATED), nothing done, and such a
   * refusal is never forwarded.
   */
  ChainAccess as(LinkSession session) {
    return new ChainAccess(node, client, forwarded, session);
  }

  private CompletableFuture<Message> ask(Message request) {
    return session == null ? node.request(request) : node.request(request, session);
  }

  CompletableFuture<Value> read(String key) {
    return ask(new ReadRequest(key, ReadMode.STRONG, 0))
        .thenCompose(reply -> {
          if (reply instanceof ReadReply r) {
            return CompletableFuture.completedFuture(
                r.found() ? new Value(true, r.version(), r.value()) : Value.ABSENT);
          }
          ErrorReply error = refusal(reply);
          forwarded.incrementAndGet();
          return client
              .readAsync(key, ReadMode.STRONG, 0)
              .handle((v, failure) -> {
                if (failure != null) {
                  throw translate(failure);
                }
                return v.map(x -> new Value(true, x.version(), x.value())).orElse(Value.ABSENT);
              });
        });
  }

  private static final CompletableFuture<Object> DONE = CompletableFuture.completedFuture(null);

  /** A write ({@code delete} for a tombstone), conditional unless {@link Message#ANY_VERSION}. */
  CompletableFuture<Long> write(String key, byte[] value, boolean delete, long expectedVersion) {
    return write(key, value, delete, expectedVersion, DONE);
  }

  /**
   * As {@link #write(String, byte[], boolean, long)}; if this node refuses it, it is forwarded only
   * once {@code forwardAfter} completed (the connection's previous write), so a connection's
   * pipelined writes apply in order: at this node by its queue, through the client one by one.
   */
  CompletableFuture<Long> write(
      String key,
      byte[] value,
      boolean delete,
      long expectedVersion,
      CompletableFuture<?> forwardAfter) {
    return ask(new WriteRequest(key, value, delete, expectedVersion))
        .thenCompose(reply -> {
          if (reply instanceof WriteReply w) {
            return CompletableFuture.completedFuture(w.version());
          }
          writeRefusal(reply);
          return after(forwardAfter)
              .thenCompose(x -> forwardWrite(key, value, delete, expectedVersion));
        });
  }

  private static CompletableFuture<Object> after(CompletableFuture<?> previous) {
    return previous.handle((result, failure) -> null);
  }

  private CompletableFuture<Long> forwardWrite(
      String key, byte[] value, boolean delete, long expectedVersion) {
    forwarded.incrementAndGet();
    CompletableFuture<Long> sent;
    if (delete) {
      MultiWrite one =
          expectedVersion == Message.ANY_VERSION
              ? new MultiWrite().delete(key)
              : new MultiWrite().deleteIfVersion(key, expectedVersion);
      sent = client.multiWriteAsync(one).thenApply(versions -> versions.get(key));
    } else if (expectedVersion == Message.ANY_VERSION) {
      sent = client.writeAsync(key, value);
    } else {
      sent = client.writeIfVersionAsync(key, value, expectedVersion);
    }
    return sent.handle((version, failure) -> {
      if (failure != null) {
        throw translate(failure);
      }
      return version;
    });
  }

  /**
   * An increment ({@code suffix} null) or an append, applied at the head of the key's chain: the
   * new integer, or the new length. Forwarded as {@link #write} is.
   */
  CompletableFuture<Long> update(
      String key, long delta, byte[] suffix, CompletableFuture<?> forwardAfter) {
    Message request =
        suffix == null ? new IncrementRequest(key, delta) : new AppendRequest(key, suffix);
    return ask(request)
        .thenCompose(reply -> {
          if (reply instanceof UpdateReply u) {
            return CompletableFuture.completedFuture(u.result());
          }
          writeRefusal(reply);
          return after(forwardAfter).thenCompose(x -> forwardUpdate(key, delta, suffix));
        });
  }

  private CompletableFuture<Long> forwardUpdate(String key, long delta, byte[] suffix) {
    forwarded.incrementAndGet();
    CompletableFuture<Long> sent =
        suffix == null ? client.incrementAsync(key, delta) : client.appendAsync(key, suffix);
    return sent.handle((result, failure) -> {
      if (failure != null) {
        throw translate(failure);
      }
      return result;
    });
  }

  /** The writes all or none (keys of one chain); forwarded as {@link #write} is. */
  CompletableFuture<Void> multiWrite(List<WriteRequest> writes, CompletableFuture<?> forwardAfter) {
    return ask(new MultiWriteRequest(writes))
        .thenCompose(reply -> {
          if (reply instanceof MultiWriteReply) {
            return CompletableFuture.completedFuture(null);
          }
          writeRefusal(reply);
          return after(forwardAfter).thenCompose(x -> forwardMultiWrite(writes));
        });
  }

  private CompletableFuture<Void> forwardMultiWrite(List<WriteRequest> writes) {
    forwarded.incrementAndGet();
    MultiWrite write = new MultiWrite();
    for (WriteRequest w : writes) {
      if (w.delete()) {
        write.delete(w.key());
      } else {
        write.put(w.key(), w.value());
      }
    }
    return client
        .multiWriteAsync(write)
        .handle((versions, failure) -> {
          if (failure != null) {
            throw translate(failure);
          }
          return null;
        });
  }

  /** The map this node knows. */
  CompletableFuture<ChainMap> map() {
    return ask(new MapRequest())
        .thenApply(reply -> {
          if (reply instanceof MapReply m) {
            return m.map();
          }
          throw failure(reply);
        });
  }

  CompletableFuture<StatsReply> stats() {
    return ask(new StatsRequest())
        .thenApply(reply -> {
          if (reply instanceof StatsReply s) {
            return s;
          }
          throw failure(reply);
        });
  }

  /** One page of chain {@code chain}'s committed keys after {@code afterKey}, at this node. */
  CompletableFuture<ReadAllReply> page(int chain, String afterKey, int limit) {
    return ask(new Chained(chain, new ReadAllRequest(afterKey, limit)))
        .thenApply(reply -> {
          if (reply instanceof ReadAllReply page) {
            return page;
          }
          throw failure(reply);
        });
  }

  String nodeId() {
    return node.nodeId();
  }

  String publicAddress() {
    return node.publicAddress();
  }

  /**
   * The refusal of a write in {@code reply} if it goes elsewhere (another chain's node, the head);
   * otherwise throws the error the Redis client gets. A passing refusal (BUSY, UNAVAILABLE) is not
   * forwarded but answered ({@code TRYAGAIN}, nothing written): forwarded, the write would apply
   * after the connection's next write, which this node may accept meanwhile.
   */
  private static ErrorReply writeRefusal(Message reply) {
    if (reply instanceof ErrorReply e
        && (e.code() == ErrorCode.NOT_HEAD || e.code() == ErrorCode.WRONG_CHAIN)) {
      return e;
    }
    throw failure(reply);
  }

  /**
   * The refusal in {@code reply} if another route may succeed (the client's); otherwise throws the
   * error the Redis client gets.
   */
  private static ErrorReply refusal(Message reply) {
    if (reply instanceof ErrorReply e) {
      switch (e.code()) {
        case NOT_HEAD, WRONG_CHAIN, UNAVAILABLE, BUSY, STALE_EPOCH, NOT_TAIL, NOT_LEADER -> {
          return e;
        }
        default -> throw failure(reply);
      }
    }
    throw failure(reply);
  }

  /** The error line for a node's answer that is not the expected one. */
  static RedisException failure(Message reply) {
    if (!(reply instanceof ErrorReply e)) {
      return RedisException.err("unexpected answer from the node: " + reply);
    }
    return switch (e.code()) {
      case INVALID_REQUEST, UNSUPPORTED -> RedisException.err(e.message());
      case PERMISSION_DENIED -> new RedisException("NOPERM " + e.message());
      case UNAUTHENTICATED -> new RedisException("NOAUTH " + e.message());
      case VERSION_MISMATCH -> new RedisException.VersionMismatch(e.message());
      case AMBIGUOUS, INTERNAL ->
          RedisException.err(
              "the outcome is unknown (it may or may not be applied): " + e.message());
      default -> errorForCode(e);
    };
  }

  /** Codes this file does not know by name (newer ones) keep their message. */
  private static RedisException errorForCode(ErrorReply e) {
    if (e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.BUSY) {
      return new RedisException("TRYAGAIN " + e.message());
    }
    return RedisException.err(e.message());
  }

  /** The error line for a client failure (unwrapped from the future's wrapper). */
  static RedisException translate(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return switch (t) {
      case RedisException r -> r;
      case VersionMismatchException v -> new RedisException.VersionMismatch(v.getMessage());
      case AmbiguousWriteException a ->
          RedisException.err(
              "the outcome is unknown (it may or may not be applied): " + a.getMessage());
      case NotAnIntegerException n -> RedisException.err(n.reason());
      case InvalidRequestException i -> RedisException.err(i.getMessage());
      case UnavailableException u -> new RedisException("TRYAGAIN " + u.getMessage());
      default -> RedisException.err("internal error: " + t);
    };
  }
}

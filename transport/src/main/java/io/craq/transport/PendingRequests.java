package io.craq.transport;

import io.craq.core.message.Message;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests awaiting a reply on one link, by request id, each with a deadline enforced by a {@link
 * TimeoutSweeper}. Thread-safe.
 */
final class PendingRequests {
  private static final Logger log = LoggerFactory.getLogger(PendingRequests.class);

  private record Entry(CompletableFuture<Message> future, long deadlineNanos, long timeoutNanos) {}

  private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final int inFlightMax;
  private final TimeoutSweeper sweeper;
  private final String peer;

  PendingRequests(int inFlightMax, TimeoutSweeper sweeper, String peer) {
    this.inFlightMax = inFlightMax;
    this.sweeper = sweeper;
    this.peer = peer;
    sweeper.track(this);
  }

  /**
   * Registers {@code future} under a new request id with a deadline.
   *
   * @throws QueueFullException if {@code inFlightMax} requests are already waiting
   */
  long register(CompletableFuture<Message> future, long timeoutNanos) {
    if (entries.size() >= inFlightMax) {
      throw new QueueFullException(
          "too many requests in flight to " + peer + " (inFlightRequestsMax " + inFlightMax + ")");
    }
    long id = nextId.getAndIncrement();
    entries.put(id, new Entry(future, System.nanoTime() + timeoutNanos, timeoutNanos));
    return id;
  }

  /** Fails every request whose deadline is at or before {@code nowNanos}. */
  void expireDue(long nowNanos) {
    for (Map.Entry<Long, Entry> e : entries.entrySet()) {
      Entry entry = e.getValue();
      if (nowNanos - entry.deadlineNanos() >= 0 && entries.remove(e.getKey(), entry)) {
        entry.future().completeExceptionally(new RequestTimeoutException("no reply from " + peer
            + " within " + TimeUnit.NANOSECONDS.toMillis(entry.timeoutNanos()) + " ms"));
      }
    }
  }

  void complete(long id, Message reply) {
    Entry entry = entries.remove(id);
    if (entry == null) {
      log.debug("{}: reply for request {} that is no longer pending (timed out?)", peer, id);
      return;
    }
    entry.future().complete(reply);
  }

  void fail(long id, TransportException cause) {
    Entry entry = entries.remove(id);
    if (entry != null) {
      entry.future().completeExceptionally(cause);
    }
  }

  /** Fails every pending request and stops tracking deadlines: the link is gone. */
  void failAll(Supplier<TransportException> cause) {
    sweeper.untrack(this);
    for (Long id : entries.keySet()) {
      fail(id, cause.get());
    }
  }

  int size() {
    return entries.size();
  }
}

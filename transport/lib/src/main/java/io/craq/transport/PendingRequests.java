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

  /**
   * No entry's deadline is before this (a lower bound, not exact): the sweeper skips the table
   * until then, instead of walking it every tick. Lowered by {@link #register}, recomputed by a
   * walk.
   */
  private final AtomicLong earliestDeadlineNanos = new AtomicLong(Long.MAX_VALUE);

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
    long deadline = System.nanoTime() + timeoutNanos;
    entries.put(id, new Entry(future, deadline, timeoutNanos));
    earliestDeadlineNanos.accumulateAndGet(deadline, PendingRequests::earlier);
    return id;
  }

  /**
   * Fails every request whose deadline is at or before {@code nowNanos}. Walks the table only when
   * the earliest deadline has come: a busy connection's table is walked about once per request
   * timeout, not at every tick.
   */
  void expireDue(long nowNanos) {
    long earliest = earliestDeadlineNanos.get();
    if (earliest == Long.MAX_VALUE || nowNanos - earliest < 0) {
      return;
    }
    // Reset before the walk: a request registered meanwhile lowers it again, whether or not the
    // walk sees it, so the bound stays a lower bound.
    earliestDeadlineNanos.set(Long.MAX_VALUE);
    long remaining = Long.MAX_VALUE;
    for (Map.Entry<Long, Entry> e : entries.entrySet()) {
      Entry entry = e.getValue();
      if (nowNanos - entry.deadlineNanos() >= 0) {
        if (entries.remove(e.getKey(), entry)) {
          entry
              .future()
              .completeExceptionally(
                  new RequestTimeoutException(
                      "no reply from "
                          + peer
                          + " within "
                          + TimeUnit.NANOSECONDS.toMillis(entry.timeoutNanos())
                          + " ms"));
        }
      } else {
        remaining = earlier(remaining, entry.deadlineNanos());
      }
    }
    earliestDeadlineNanos.accumulateAndGet(remaining, PendingRequests::earlier);
  }

  /** The earlier of two {@link System#nanoTime} instants; MAX_VALUE means none. */
  private static long earlier(long a, long b) {
    if (a == Long.MAX_VALUE) {
      return b;
    }
    if (b == Long.MAX_VALUE) {
      return a;
    }
    return a - b <= 0 ? a : b;
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

package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.Effects.ClientRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Strong reads of dirty keys waiting for the tail to say which version is committed (CRAQ §2.3):
 * those queued for the next query, and the queries in flight. Reads queued during one batch of
 * inputs go to the tail as one query ({@link #takeQueued}), so a busy node sends few.
 *
 * <p>Invariant (checked as it changes): the waiting count is the number of reads queued plus those
 * of the queries in flight, and never more than the bound.
 */
final class VersionQueries {
  /** A strong read of {@code key} waiting for the tail. */
  record PendingRead(ClientRef ref, String key, long tick) {}

  /** A query sent in {@code epoch} at {@code tick} for {@code reads}, in their order. */
  record Query(long epoch, long tick, List<PendingRead> reads) {}

  private final int waitingMax;
  private final List<PendingRead> queued = new ArrayList<>();
  private final Map<Long, Query> inFlight = new HashMap<>();
  private int waiting;
  private long nextQueryId = 1;

  VersionQueries(int waitingMax) {
    this.waitingMax = waitingMax;
  }

  /** Queues a read for the next query; false if {@code waitingMax} reads wait already. */
  boolean enqueue(ClientRef ref, String key, long now) {
    if (waiting >= waitingMax) {
      return false;
    }
    queued.add(new PendingRead(ref, key, now));
    waiting++;
    return true;
  }

  boolean hasQueued() {
    return !queued.isEmpty();
  }

  /**
   * The queued reads become one query, sent now in {@code epoch}: returns its id; its keys are
   * those of {@link #query}'s reads, in order.
   */
  long takeQueued(long epoch, long now) {
    check(!queued.isEmpty(), "no read queued");
    long id = nextQueryId++;
    inFlight.put(id, new Query(epoch, now, new ArrayList<>(queued)));
    queued.clear();
    return id;
  }

  /** The query in flight with {@code id}, or null. */
  Query query(long id) {
    return inFlight.get(id);
  }

  /** The tail answered (or refused) query {@code id}: it is done; null if it was not waiting. */
  Query answered(long id) {
    Query query = inFlight.remove(id);
    if (query != null) {
      release(query.reads().size());
    }
    return query;
  }

  /** Queries in flight for {@code timeoutTicks} or longer: done now; their reads, to fail. */
  List<PendingRead> expired(long now, long timeoutTicks) {
    List<PendingRead> reads = new ArrayList<>();
    Iterator<Query> it = inFlight.values().iterator();
    while (it.hasNext()) {
      Query query = it.next();
      if (now - query.tick() >= timeoutTicks) {
        reads.addAll(query.reads());
        release(query.reads().size());
        it.remove();
      }
    }
    return reads;
  }

  /** Every read waiting, queued or in flight, to fail (the chain changed): none waits after. */
  List<PendingRead> takeAll() {
    List<PendingRead> reads = new ArrayList<>();
    inFlight.values().forEach(query -> reads.addAll(query.reads()));
    reads.addAll(queued);
    inFlight.clear();
    queued.clear();
    release(reads.size());
    check(waiting == 0, "%d reads still counted as waiting", waiting);
    return reads;
  }

  private void release(int reads) {
    waiting -= reads;
    check(
        waiting >= queued.size() && waiting <= waitingMax,
        "waiting reads %d, queued %d",
        waiting,
        queued.size());
  }
}

package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.message.KeyVersion;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which of a node's dirty versions are durable here and at every node above it (parallel
 * persistence). A node passes a version on before its own store write is durable; it learns that
 * its write is durable from its driver ({@link #persisted}) and that the nodes above hold the
 * version durably from its predecessor's {@code Durable} messages ({@link #durableAbove}). A
 * version durable here and above is passed on as durable or, at the tail, committed: so nothing is
 * committed before every member holds it durably.
 *
 * <p>Invariants: the sequence numbers of local writes waiting increase in the order accepted
 * (checked when accepted); the head waits for nothing above it (checked by the machine); every
 * version waited for is held dirty by the machine (checked by the machine).
 */
final class DurabilityTracker {
  /** Versions whose store write here may not be durable yet, with its sequence number. */
  private final LinkedHashMap<KeyVersion, Long> awaitingLocal = new LinkedHashMap<>();

  /** Versions not yet known to be durable at every node above this one. */
  private final Set<KeyVersion> awaitingUpstream = new HashSet<>();

  private long lastSeq;

  /**
   * A version accepted here whose store write has sequence number {@code seq}; {@code
   * hasPredecessor}: it must also become durable above (this node is not the head).
   */
  void accepted(KeyVersion id, long seq, boolean hasPredecessor) {
    check(seq > lastSeq, "store write %d accepted after %d", seq, lastSeq);
    lastSeq = seq;
    awaitingLocal.put(id, seq);
    if (hasPredecessor) {
      awaitingUpstream.add(id);
    }
  }

  /** A version recovered from the store: durable here; above is unknown until the node joins. */
  void recovered(KeyVersion id) {
    awaitingUpstream.add(id);
  }

  /**
   * Every store write up to {@code seq} is durable; returns the versions that thereby became
   * durable here and above, in the order accepted.
   */
  List<KeyVersion> persisted(long seq) {
    List<KeyVersion> durable = new ArrayList<>();
    Iterator<Map.Entry<KeyVersion, Long>> it = awaitingLocal.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<KeyVersion, Long> e = it.next();
      if (e.getValue() > seq) {
        break; // accepted later: its write was not among those reported
      }
      it.remove();
      if (!awaitingUpstream.contains(e.getKey())) {
        durable.add(e.getKey());
      }
    }
    return durable;
  }

  /**
   * The predecessor holds {@code id} durably, and so do all above it: true if now durable here too.
   */
  boolean durableAbove(KeyVersion id) {
    return awaitingUpstream.remove(id) && !awaitingLocal.containsKey(id);
  }

  /**
   * Nothing is above this node any more (it became head): returns what was waiting only for the
   * nodes above, which is now durable everywhere that matters.
   */
  List<KeyVersion> noneAbove() {
    List<KeyVersion> durable = new ArrayList<>();
    for (KeyVersion id : awaitingUpstream) {
      if (!awaitingLocal.containsKey(id)) {
        durable.add(id);
      }
    }
    awaitingUpstream.clear();
    return durable;
  }

  boolean isDurableHereAndAbove(KeyVersion id) {
    return !awaitingLocal.containsKey(id) && !awaitingUpstream.contains(id);
  }

  /** Stops tracking a version (committed here, or superseded by a commit). */
  void forget(KeyVersion id) {
    awaitingLocal.remove(id);
    awaitingUpstream.remove(id);
  }

  /** Stops tracking everything (the node dropped its dirty versions). */
  void clear() {
    awaitingLocal.clear();
    awaitingUpstream.clear();
  }

  /** Stops waiting for the nodes above: the head has none ({@link #noneAbove} at once). */
  void clearAbove() {
    awaitingUpstream.clear();
  }

  boolean waitsAbove() {
    return !awaitingUpstream.isEmpty();
  }

  /** Every version tracked, for the machine's check that each is held dirty. */
  Iterable<KeyVersion> tracked() {
    List<KeyVersion> all = new ArrayList<>(awaitingLocal.keySet());
    all.addAll(awaitingUpstream);
    return all;
  }
}

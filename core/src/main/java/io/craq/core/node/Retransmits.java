package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.message.KeyVersion;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dirty versions a node has sent to its successor and not yet seen committed, and when to send
 * them again (Chain Replication §3: a successor may lose what was in flight). The timeout follows a
 * smoothed round trip from send to commit, measured on versions sent once (Karn), so a chain that
 * is merely slow is not flooded with copies of what is already on its way; each tick that resends
 * something doubles it (TCP's backoff), up to {@link #TIMEOUT_FACTOR_MAX} times the base.
 *
 * <p>Invariants (checked as they change): entries are kept in the order last sent; the backoff
 * never takes the timeout past its maximum.
 */
final class Retransmits {
  /** The retransmit timeout is at most this many times the base {@code retransmitTicks}. */
  static final int TIMEOUT_FACTOR_MAX = 16;

  /** When a version was last sent, and whether it had been sent before. */
  private record Sent(long tick, boolean resent) {}

  private final int baseTicks;
  private final LinkedHashMap<KeyVersion, Sent> unacked = new LinkedHashMap<>();

  /** Smoothed ticks from sending a version until its commit came back; negative before any. */
  private double roundTripTicks = -1;

  /** Doublings of the timeout since the last round-trip sample. */
  private int backoff;

  Retransmits(int baseTicks) {
    this.baseTicks = baseTicks;
  }

  /** {@code id} was sent (again) to the successor at {@code now}. */
  void sent(KeyVersion id, long now) {
    Sent before = unacked.remove(id);
    unacked.put(id, new Sent(now, before != null));
  }

  /**
   * {@code id} needs no more sending (committed, or superseded). {@code sample}: it is the version
   * the commit named, so its round trip may be measured (if it was sent only once).
   */
  void done(KeyVersion id, long now, boolean sample) {
    Sent sent = unacked.remove(id);
    if (sample && sent != null && !sent.resent()) {
      long ticks = now - sent.tick();
      // TCP's smoothing (RFC 6298): the new sample weighs 1/8.
      roundTripTicks = roundTripTicks < 0 ? ticks : roundTripTicks + (ticks - roundTripTicks) / 8;
      backoff = 0;
    }
  }

  /**
   * The versions due for resending at {@code now}, oldest first, at most {@code max}; the caller
   * resends each ({@link #sent}) or drops it ({@link #done}), then calls {@link #backOff} if it
   * resent any.
   */
  List<KeyVersion> due(long now, int max) {
    long timeout = timeoutTicks();
    List<KeyVersion> due = new ArrayList<>();
    for (Map.Entry<KeyVersion, Sent> e : unacked.entrySet()) {
      if (now - e.getValue().tick() < timeout || due.size() >= max) {
        break; // in the order last sent: the first one not due ends the scan
      }
      due.add(e.getKey());
    }
    return due;
  }

  /** Something was resent: the next timeout is twice as long, up to the maximum. */
  void backOff() {
    if (timeoutTicks() < maxTicks()) {
      backoff++;
    }
    check(backoff <= 64, "retransmit backoff %d without bound", backoff);
  }

  /**
   * Ticks without a commit after which a version is sent again: the base, or four smoothed round
   * trips if that is longer, doubled per backoff step, at most {@link #TIMEOUT_FACTOR_MAX} times
   * the base.
   */
  long timeoutTicks() {
    long max = maxTicks();
    long adaptive = roundTripTicks < 0 ? baseTicks : (long) Math.ceil(4 * roundTripTicks);
    // The base bounds the start from below before doubling: round trips shorter than a tick
    // measure 0, and 0 doubled stays 0 (the backoff would never lengthen the timeout).
    long start = Math.max(baseTicks, Math.min(max, adaptive));
    return Math.min(max, start << Math.min(backoff, 32));
  }

  private long maxTicks() {
    return (long) baseTicks * TIMEOUT_FACTOR_MAX;
  }

  /** Forgets everything in flight and the round trip (a new successor, a new path). */
  void clear() {
    unacked.clear();
    roundTripTicks = -1;
    backoff = 0;
  }

  boolean isEmpty() {
    return unacked.isEmpty();
  }
}

package io.craq.cli.bench;

/**
 * Paces an open-loop stream of operations at a fixed rate (the write rate of the mixed workload,
 * CRAQ Fig. 6): the n-th operation is due {@code n / rate} seconds after the start. Callers take
 * what is due; when they fall behind by more than {@link #catchUpSecondsMax} seconds of sends, the
 * oldest are dropped (counted in {@link #dropped()}) rather than sent in one burst.
 *
 * <p>Pure arithmetic on the times it is given, so tests drive it without a clock. Not thread-safe:
 * one pacing thread owns it.
 */
final class Pacer {
  private final double perSecond;
  private final long startNanos;
  private final double catchUpSecondsMax;
  private long taken;
  private long dropped;

  Pacer(double perSecond, long startNanos, double catchUpSecondsMax) {
    if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
      throw new IllegalArgumentException("rate must be > 0 and finite: " + perSecond);
    }
    if (!(catchUpSecondsMax > 0)) {
      throw new IllegalArgumentException("catch-up window must be > 0: " + catchUpSecondsMax);
    }
    this.perSecond = perSecond;
    this.startNanos = startNanos;
    this.catchUpSecondsMax = catchUpSecondsMax;
  }

  /** Operations due by {@code nowNanos} since the start, sent or not. */
  long dueBy(long nowNanos) {
    long elapsed = nowNanos - startNanos;
    if (elapsed < 0) {
      return 0;
    }
    return (long) Math.floor(elapsed / 1e9 * perSecond);
  }

  /** Takes and returns the number of operations due now and not yet taken (0 if none). */
  long take(long nowNanos) {
    long due = dueBy(nowNanos);
    long backlog = due - taken;
    long backlogMax = Math.max(1, (long) Math.ceil(catchUpSecondsMax * perSecond));
    if (backlog > backlogMax) {
      dropped += backlog - backlogMax;
      backlog = backlogMax;
    }
    taken = Math.max(taken, due);
    return Math.max(0, backlog);
  }

  /** Nanoseconds from {@code nowNanos} until the next operation is due (0 if one is due now). */
  long nanosUntilNext(long nowNanos) {
    long nextIndex = taken + 1;
    long dueAt = startNanos + (long) Math.ceil(nextIndex * 1e9 / perSecond);
    return Math.max(0, dueAt - nowNanos);
  }

  /** Operations taken so far (each is either sent or refused by the caller). */
  long taken() {
    return taken;
  }

  /** Operations skipped because the caller fell too far behind. */
  long dropped() {
    return dropped;
  }
}

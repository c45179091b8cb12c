package io.craq.transport.process;

import java.util.function.LongSupplier;

/**
 * Counts ticks since creation from a monotonic nanosecond clock ({@link System#nanoTime} in
 * production, a hand-moved clock in tests). Wall-clock time is never used: it can jump backwards.
 */
public final class TickClock {
  private final LongSupplier nanos;
  private final long tickNanos;
  private final long startNanos;

  public TickClock(LongSupplier nanos, long tickMillis) {
    if (tickMillis <= 0) {
      throw new IllegalArgumentException("tick must be positive: " + tickMillis + " ms");
    }
    this.nanos = nanos;
    this.tickNanos = tickMillis * 1_000_000L;
    this.startNanos = nanos.getAsLong();
  }

  /** Whole ticks elapsed since creation. */
  public long ticks() {
    return (nanos.getAsLong() - startNanos) / tickNanos;
  }

  /** Nanoseconds until the next tick starts (at least 1). */
  public long nanosUntilNextTick() {
    long elapsed = nanos.getAsLong() - startNanos;
    return Math.max(1, tickNanos - Math.floorMod(elapsed, tickNanos));
  }
}

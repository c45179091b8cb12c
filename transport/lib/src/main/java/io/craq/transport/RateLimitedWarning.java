package io.craq.transport;

import org.slf4j.Logger;

/**
 * Logs a warning at most once per interval and counts what it held back, so that a flood of
 * expected network trouble (an unreachable peer, a full queue) cannot flood the log. Thread-safe.
 */
public final class RateLimitedWarning {
  private final long intervalNanos;
  private long lastNanos = Long.MIN_VALUE;
  private long suppressed;

  public RateLimitedWarning(long intervalNanos) {
    this.intervalNanos = intervalNanos;
  }

  public void warn(Logger log, String format, Object... args) {
    long held;
    synchronized (this) {
      long now = System.nanoTime();
      if (lastNanos != Long.MIN_VALUE && now - lastNanos < intervalNanos) {
        suppressed++;
        return;
      }
      lastNanos = now;
      held = suppressed;
      suppressed = 0;
    }
    log.warn(format, args);
    if (held > 0) {
      log.warn("({} similar warnings suppressed in the last second)", held);
    }
  }
}

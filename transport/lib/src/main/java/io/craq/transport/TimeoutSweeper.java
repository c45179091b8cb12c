package io.craq.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Expires pending requests: one daemon thread per transport checks every {@link #TICK_MILLIS}
 * milliseconds. Cheaper than a timer task per request (arming one costs a thread wake-up when it
 * becomes the earliest); a request times out at most one tick late. The same thread runs the
 * transport's few other delayed tasks. Thread-safe.
 */
final class TimeoutSweeper implements AutoCloseable {
  static final long TICK_MILLIS = 20;

  private final Set<PendingRequests> tracked = ConcurrentHashMap.newKeySet();
  private final ScheduledThreadPoolExecutor executor;

  TimeoutSweeper(String threadName) {
    executor =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, threadName);
              thread.setDaemon(true);
              return thread;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.scheduleWithFixedDelay(this::sweep, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
  }

  void track(PendingRequests pending) {
    tracked.add(pending);
  }

  void untrack(PendingRequests pending) {
    tracked.remove(pending);
  }

  private void sweep() {
    long now = System.nanoTime();
    for (PendingRequests pending : tracked) {
      pending.expireDue(now);
    }
  }

  ScheduledExecutorService executor() {
    return executor;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}

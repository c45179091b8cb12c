package io.craq.transport;

import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A simulated network shared by the {@link InMemoryTransport}s of one test: a registry of listening
 * addresses and seeded faults. With no faults configured, every message is delivered in order, at
 * once. Faults apply per message: {@link #dropProbability} loses it silently, {@link #delayMillis}
 * holds it back (order per connection is kept unless {@link #reorder} is on, as TCP would), and
 * reordering lets messages of one connection overtake each other. Thread-safe; the random choices
 * are seeded, so a single-threaded test replays exactly.
 */
public final class InMemoryNetwork implements AutoCloseable {
  final ConcurrentHashMap<String, InMemoryTransport.MemServer> servers = new ConcurrentHashMap<>();
  final ScheduledThreadPoolExecutor scheduler;
  final TimeoutSweeper sweeper = new TimeoutSweeper("craq-mem-timeouts");
  private final long seed;
  private final Random random;
  private volatile double dropProbability;
  private volatile long delayMillisMin;
  private volatile long delayMillisMax;
  private volatile boolean reorder;

  public InMemoryNetwork(long seed) {
    this.seed = seed;
    this.random = new Random(seed);
    this.scheduler =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "craq-mem-network");
              thread.setDaemon(true);
              return thread;
            });
    scheduler.setRemoveOnCancelPolicy(true);
  }

  public long seed() {
    return seed;
  }

  /** Each message is lost with probability {@code probability} (0 = never). */
  public void dropProbability(double probability) {
    if (probability < 0 || probability > 1) {
      throw new IllegalArgumentException("probability must be in [0, 1]: " + probability);
    }
    this.dropProbability = probability;
  }

  /** Each message is delayed by a uniformly random time in [min, max] milliseconds. */
  public void delayMillis(long min, long max) {
    if (min < 0 || max < min) {
      throw new IllegalArgumentException("need 0 <= min <= max: " + min + ", " + max);
    }
    this.delayMillisMin = min;
    this.delayMillisMax = max;
  }

  /** When on, delayed messages of one connection may overtake each other. */
  public void reorder(boolean on) {
    this.reorder = on;
  }

  /** Back to a perfect network. */
  public void clearFaults() {
    dropProbability = 0;
    delayMillisMin = 0;
    delayMillisMax = 0;
    reorder = false;
  }

  /** Whether to lose the next message. */
  boolean drop() {
    double p = dropProbability;
    if (p == 0) {
      return false;
    }
    synchronized (random) {
      return random.nextDouble() < p;
    }
  }

  /** The delay for the next message, in nanoseconds. */
  long delayNanos() {
    long min = delayMillisMin;
    long max = delayMillisMax;
    if (max == 0) {
      return 0;
    }
    long millis;
    synchronized (random) {
      millis = min + (max == min ? 0 : (long) (random.nextDouble() * (max - min + 1)));
    }
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }

  boolean reorders() {
    return reorder;
  }

  /** Stops the network's scheduler; close the transports first. */
  @Override
  public void close() {
    scheduler.shutdownNow();
    sweeper.close();
  }
}

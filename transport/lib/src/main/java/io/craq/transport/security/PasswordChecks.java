package io.craq.transport.security;

import io.craq.transport.RateLimitedWarning;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where password checks run, so that a slow hash never runs on a transport's event loop: a small
 * pool of daemon threads of their own, bounded, with failures answered late.
 *
 * <ul>
 *   <li>A secret the authenticator remembers ({@link Authenticator#remembered}: verified before,
 *       the users file unchanged) is answered at once, on the caller's thread, without the pool.
 *   <li>Any other is verified on the pool. At most {@code queuedMax} verifications wait or run at
 *       once; beyond that a check is refused (as a wrong password is) without being verified.
 *   <li>A refusal (wrong password, unknown user, or no room) is answered only after {@code
 *       failureDelay}: a client guessing passwords on a connection gets one guess per delay, and a
 *       flood of wrong passwords costs the server at most {@code threads} cores.
 * </ul>
 *
 * Thread-safe. {@link #shared()} is the process's instance, used by every listening transport and
 * server port.
 */
public final class PasswordChecks implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PasswordChecks.class);

  /** Threads of the shared instance: half the cores, 1 to 4. */
  public static final int THREADS_DEFAULT =
      Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));

  /** Verifications waiting or running at once in the shared instance. */
  public static final int QUEUED_MAX_DEFAULT = 32;

  /** How late the shared instance answers a refusal. */
  public static final Duration FAILURE_DELAY_DEFAULT = Duration.ofSeconds(1);

  /** The message of a check refused because too many wait. */
  public static final String BUSY = "too many authentications in progress; try again later";

  private static final class Shared {
    static final PasswordChecks INSTANCE =
        new PasswordChecks(THREADS_DEFAULT, QUEUED_MAX_DEFAULT, FAILURE_DELAY_DEFAULT);
  }

  private final ScheduledThreadPoolExecutor pool;
  private final int queuedMax;
  private final long failureDelayNanos;
  private final AtomicInteger inProgress = new AtomicInteger();
  private final AtomicLong verified = new AtomicLong();
  private final AtomicLong refusedBusy = new AtomicLong();
  private final RateLimitedWarning busyWarning = new RateLimitedWarning(1_000_000_000L);

  /**
   * @param threads threads verifying at once
   * @param queuedMax verifications waiting or running at once; beyond, checks are refused
   * @param failureDelay how late a refusal is answered
   */
  public PasswordChecks(int threads, int queuedMax, Duration failureDelay) {
    if (threads < 1 || queuedMax < 1 || failureDelay.isNegative()) {
      throw new IllegalArgumentException(
          "threads and queuedMax must be >= 1 and failureDelay >= 0: "
              + threads
              + ", "
              + queuedMax
              + ", "
              + failureDelay);
    }
    AtomicInteger names = new AtomicInteger();
    this.pool =
        new ScheduledThreadPoolExecutor(
            threads,
            task ->
                Thread.ofPlatform()
                    .daemon()
                    .name("craq-password-check-" + names.incrementAndGet())
                    .unstarted(task));
    pool.setRemoveOnCancelPolicy(true);
    this.queuedMax = queuedMax;
    this.failureDelayNanos = failureDelay.toNanos();
  }

  /** The process's instance: {@link #THREADS_DEFAULT}, {@link #QUEUED_MAX_DEFAULT}, 1 s delay. */
  public static PasswordChecks shared() {
    return Shared.INSTANCE;
  }

  /**
   * Checks {@code secret} as {@code user}'s with {@code authenticator}.
   *
   * @return completes with the principal; or exceptionally, after the failure delay, with an {@link
   *     AuthenticationException} (wrong secret, unknown user, too many checks waiting); or at once
   *     with the authenticator's {@link RuntimeException} if it failed
   */
  public CompletableFuture<Principal> authenticate(
      Authenticator authenticator, String user, byte[] secret) {
    Objects.requireNonNull(authenticator, "authenticator");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(secret, "secret");
    CompletableFuture<Principal> result = new CompletableFuture<>();
    Principal remembered;
    try {
      remembered = authenticator.remembered(user, secret);
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
      return result;
    }
    if (remembered != null) {
      result.complete(remembered);
      return result;
    }
    if (inProgress.incrementAndGet() > queuedMax) {
      inProgress.decrementAndGet();
      refusedBusy.incrementAndGet();
      busyWarning.warn(
          log,
          "{} password checks are in progress: refusing more until they finish (a flood of"
              + " authentications?)",
          queuedMax);
      refuseLater(result, new AuthenticationException(BUSY));
      return result;
    }
    try {
      pool.execute(() -> verify(authenticator, user, secret, result));
    } catch (RejectedExecutionException e) {
      inProgress.decrementAndGet();
      result.completeExceptionally(new IllegalStateException("password checks are closed", e));
    }
    return result;
  }

  private void verify(
      Authenticator authenticator,
      String user,
      byte[] secret,
      CompletableFuture<Principal> result) {
    try {
      Principal principal = authenticator.authenticate(user, secret);
      verified.incrementAndGet();
      result.complete(principal);
    } catch (AuthenticationException e) {
      verified.incrementAndGet();
      refuseLater(result, e);
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    } finally {
      inProgress.decrementAndGet();
    }
  }

  private void refuseLater(CompletableFuture<Principal> result, AuthenticationException refusal) {
    if (failureDelayNanos == 0) {
      result.completeExceptionally(refusal);
      return;
    }
    try {
      pool.schedule(
          () -> {
            result.completeExceptionally(refusal);
          },
          failureDelayNanos,
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(refusal);
    }
  }

  /** Verifications waiting or running now. */
  public int inProgress() {
    return inProgress.get();
  }

  /** Secrets verified by the slow hash so far (not those remembered). */
  public long verified() {
    return verified.get();
  }

  /** Checks refused so far because too many were in progress. */
  public long refusedBusy() {
    return refusedBusy.get();
  }

  /** Stops the threads; checks not started fail. Not for {@link #shared()}. */
  @Override
  public void close() {
    if (this == Shared.INSTANCE) {
      throw new IllegalStateException("the shared password checks stay open");
    }
    pool.shutdownNow();
  }
}

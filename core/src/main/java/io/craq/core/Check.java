package io.craq.core;

/**
 * Always-on invariant checks. A failed check means this process's own state is wrong: it throws
 * {@link InvariantViolation}, which drivers treat as fatal (stop loudly rather than serve wrong
 * data). Never use it for bad input from the network; refuse that with an error reply instead.
 */
public final class Check {
  private Check() {}

  /** Throws {@link InvariantViolation} with {@code message} unless {@code condition} holds. */
  public static void check(boolean condition, String message) {
    if (!condition) {
      throw new InvariantViolation(message);
    }
  }

  /** As {@link #check(boolean, String)}, formatting the message only on failure. */
  public static void check(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new InvariantViolation(String.format(format, args));
    }
  }

  /** A broken internal invariant: the process must stop. */
  public static final class InvariantViolation extends IllegalStateException {
    public InvariantViolation(String message) {
      super("invariant violated: " + message);
    }
  }
}

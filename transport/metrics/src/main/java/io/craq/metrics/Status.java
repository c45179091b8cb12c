package io.craq.metrics;

import java.util.Objects;

/**
 * What {@code /health} or {@code /ready} answers: 200 with {@code ok} (and what was checked), or
 * 503 with the reason.
 *
 * @param ok whether the check passed
 * @param detail the reason it failed, or what it found when it passed; one line
 */
public record Status(boolean ok, String detail) {
  public Status {
    Objects.requireNonNull(detail, "detail");
  }

  /** A check that passed; {@code detail} says what it found (may be empty). */
  public static Status ok(String detail) {
    return new Status(true, detail);
  }

  /** A check that failed for {@code reason}. */
  public static Status failing(String reason) {
    return new Status(false, reason);
  }
}

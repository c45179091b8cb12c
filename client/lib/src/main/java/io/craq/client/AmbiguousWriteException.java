package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * A write (or delete) was sent but its fate is unknown: the reply timed out, the connection was
 * lost after sending, or the server answered with a non-definite error such as {@link
 * ErrorCode#AMBIGUOUS}. The write may already be committed, may commit later, or may never happen.
 * The client never retries such a write by itself, because a blind retry could apply it twice (CRAQ
 * invariant: a write of unknown fate is reported as ambiguous, never as failed). Read the key to
 * find out, or make the write idempotent with {@link CraqClient#writeIfVersion}.
 */
public class AmbiguousWriteException extends CraqException {
  private final String key;

  public AmbiguousWriteException(String key, String message, ErrorCode code, Throwable cause) {
    super(message, code, cause);
    this.key = key;
  }

  /** The key of the write whose fate is unknown. */
  public String key() {
    return key;
  }
}

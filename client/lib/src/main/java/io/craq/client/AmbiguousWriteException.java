package io.craq.client;

import io.craq.core.message.ErrorCode;
import java.util.List;

/**
 * A write (or delete) was sent but its fate is unknown: the reply timed out, the connection was
 * lost after sending, or the server answered with a non-definite error such as {@link
 * ErrorCode#AMBIGUOUS}. The write may already be committed, may commit later, or may never happen.
 * The client never retries such a write by itself, because a blind retry could apply it twice (CRAQ
 * invariant: a write of unknown fate is reported as ambiguous, never as failed). Read the key to
 * find out, or make the write idempotent with {@link CraqClient#writeIfVersion}.
 */
public class AmbiguousWriteException extends CraqException {
  private final List<String> keys;

  public AmbiguousWriteException(String key, String message, ErrorCode code, Throwable cause) {
    this(List.of(key), message, code, cause);
  }

  /**
   * A write of several keys ({@link CraqClient#multiWrite(MultiWrite)}) whose fate is unknown: all
   * of its writes may have applied, or none (never some).
   */
  public AmbiguousWriteException(
      List<String> keys, String message, ErrorCode code, Throwable cause) {
    super(message, code, cause);
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("an ambiguous write has a key");
    }
    this.keys = List.copyOf(keys);
  }

  /** The key of the write whose fate is unknown (the first one of a multi-key write). */
  public String key() {
    return keys.get(0);
  }

  /** Every key of the write whose fate is unknown, in the order of the request. */
  public List<String> keys() {
    return keys;
  }
}

package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * An increment was refused because the key's value is not a signed 64-bit decimal integer, or
 * because the result would not fit in one ({@link ErrorCode#NOT_AN_INTEGER}). Definite: nothing was
 * written. {@link #reason()} is the node's wording, the same as Redis's: {@code "value is not an
 * integer or out of range"} or {@code "increment or decrement would overflow"}.
 */
public final class NotAnIntegerException extends InvalidRequestException {
  private final String reason;

  public NotAnIntegerException(String message, String reason) {
    super(message, ErrorCode.NOT_AN_INTEGER, null);
    this.reason = reason;
  }

  /** The node's reason, without the key and address this exception's message adds. */
  public String reason() {
    return reason;
  }
}

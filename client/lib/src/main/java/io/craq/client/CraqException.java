package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * Base of every failure the CRAQ client reports. Unchecked. The subclass says what a caller may
 * conclude: {@link UnavailableException} (the operation did not happen, or a read found no answer),
 * {@link AmbiguousWriteException} (a write may or may not have happened), {@link
 * VersionMismatchException} (a conditional write was refused), {@link InvalidRequestException} (the
 * request itself is wrong; retrying will not help).
 */
public class CraqException extends RuntimeException {
  private final ErrorCode code;

  public CraqException(String message, ErrorCode code, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public CraqException(String message) {
    this(message, null, null);
  }

  /** The server's error code behind this failure, or null if it came from the client side. */
  public ErrorCode code() {
    return code;
  }
}

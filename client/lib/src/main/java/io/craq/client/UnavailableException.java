package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * The operation could not be completed in time: no node or coordinator answered usefully within the
 * call's deadline and attempts. For a write this is definite: the write was never applied (every
 * attempt was refused with a definite code or never sent). Writes whose fate is unknown raise
 * {@link AmbiguousWriteException} instead.
 */
public class UnavailableException extends CraqException {
  public UnavailableException(String message, ErrorCode code, Throwable cause) {
    super(message, code, cause);
  }

  public UnavailableException(String message) {
    super(message);
  }
}

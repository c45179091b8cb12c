package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * The request itself is wrong (empty or oversized key, oversized value, a mode or message the
 * server does not support). Definite: nothing was applied, and retrying the same request will fail
 * again. Raised before sending when the client can tell, else from the server's {@link
 * ErrorCode#INVALID_REQUEST} or {@link ErrorCode#UNSUPPORTED}.
 */
public class InvalidRequestException extends CraqException {
  public InvalidRequestException(String message, ErrorCode code, Throwable cause) {
    super(message, code, cause);
  }

  public InvalidRequestException(String message) {
    super(message);
  }
}

package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * The server requires authentication and this client presented no credentials, or credentials it
 * refused (unknown user, wrong password, a user since removed). Nothing was done; retrying with the
 * same credentials will not help. The message never holds the secret.
 */
public final class NotAuthenticatedException extends CraqException {
  private static final long serialVersionUID = 1L;

  public NotAuthenticatedException(String message, Throwable cause) {
    super(message, ErrorCode.UNAUTHENTICATED, cause);
  }
}

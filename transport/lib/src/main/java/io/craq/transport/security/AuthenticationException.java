package io.craq.transport.security;

/**
 * Credentials or a certificate were refused. The message is safe to send to the peer and to log: it
 * never contains a secret, and does not tell an unknown user from a wrong password.
 */
public final class AuthenticationException extends Exception {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(String message) {
    super(message);
  }
}

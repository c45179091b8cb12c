package io.craq.transport;

/**
 * The peer refused the credentials this transport presented on a link it opened (unknown user,
 * wrong password or token, revoked user), or refused its client certificate. Definite: the same
 * credentials will be refused again, so callers must not retry blindly; the link was closed and
 * every request pending on it failed with this exception.
 */
public final class AuthenticationFailedException extends TransportException {
  public AuthenticationFailedException(String message) {
    super(message);
  }

  public AuthenticationFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.craq.transport.security;

/**
 * Decides who a connection is. A listening transport with an authenticator refuses every request of
 * a connection until it authenticated, by an {@link io.craq.core.message.Message.AuthRequest} or by
 * a client certificate. Thread-safe; called on transport threads, so it must not block for long (a
 * password hash is fine; a network call is not).
 */
public interface Authenticator {

  /**
   * The principal of {@code user} if {@code secret} is its password or token.
   *
   * @throws AuthenticationException if the user is unknown, the secret wrong, or the user revoked
   */
  Principal authenticate(String user, byte[] secret) throws AuthenticationException;

  /**
   * The principal of a client whose certificate was verified against the client CA and names {@code
   * commonName} as its subject's CN.
   *
   * @throws AuthenticationException if no such user may connect by certificate
   */
  Principal forCertificate(String commonName) throws AuthenticationException;
}

package io.craq.transport.security;

/**
 * Decides who a connection is. A listening transport with an authenticator refuses every request of
 * a connection until it authenticated, by an {@link io.craq.core.message.Message.AuthRequest} or by
 * a client certificate. Thread-safe. {@link #authenticate} runs on the threads of {@link
 * PasswordChecks}, never on a transport's event loop, so a slow hash is fine there (a network call
 * is not); {@link #remembered} and {@link #forCertificate} run on the event loops and must be
 * cheap.
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

  /**
   * The principal of {@code user} if {@code secret} is one this authenticator verified before and
   * still takes, found cheaply (no slow hash), else null, when {@link #authenticate} decides. An
   * authenticator that remembers nothing returns null (the default).
   */
  default Principal remembered(String user, byte[] secret) {
    return null;
  }
}

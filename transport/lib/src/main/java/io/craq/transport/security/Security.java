package io.craq.transport.security;

/**
 * How a transport secures its connections.
 *
 * @param tls TLS 1.3 on every connection this transport opens or accepts, or null for plain TCP
 * @param authenticator for listening: who connections are; null means authentication is off and
 *     every connection is {@link Principal#OPEN}
 * @param credentials for dialing: what this transport presents on every connection it opens, or
 *     null to present none (a client certificate from {@code tls} may still identify it)
 */
public record Security(TlsSettings tls, Authenticator authenticator, Credentials credentials) {

  /** Plain TCP, no authentication: the default. */
  public static final Security NONE = new Security(null, null, null);

  public boolean tlsEnabled() {
    return tls != null;
  }

  public boolean authenticationRequired() {
    return authenticator != null;
  }

  public Security withTls(TlsSettings value) {
    return new Security(value, authenticator, credentials);
  }

  public Security withAuthenticator(Authenticator value) {
    return new Security(tls, value, credentials);
  }

  public Security withCredentials(Credentials value) {
    return new Security(tls, authenticator, value);
  }
}

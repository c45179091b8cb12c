package io.craq.transport.security;

/**
 * One connection as the listening side knows it: who the peer proved to be. The same object for
 * every message of a connection; thread-safe.
 */
public final class LinkSession {

  /** The session of every connection to an endpoint where authentication is off. */
  public static final LinkSession OPEN = new LinkSession(null, Principal.OPEN);

  private final String certificateSubject;
  private volatile Principal principal;

  /**
   * @param certificateSubject the verified client certificate's subject, or null if the peer
   *     presented none (or the link is not TLS)
   * @param principal who the peer is so far: {@link Principal#OPEN} when authentication is off, the
   *     certificate's principal, or null until the peer authenticates
   */
  public LinkSession(String certificateSubject, Principal principal) {
    this.certificateSubject = certificateSubject;
    this.principal = principal;
  }

  /** The verified client certificate's subject, or null. */
  public String certificateSubject() {
    return certificateSubject;
  }

  /** Who the peer is, or null if it has not authenticated (yet). */
  public Principal principal() {
    return principal;
  }

  /** True if the peer authenticated and its role allows what {@code needed} allows. */
  public boolean allows(Role needed) {
    Principal p = principal;
    return p != null && p.allows(needed);
  }

  /** Records that the peer authenticated as {@code value}; a later authentication replaces it. */
  public void authenticated(Principal value) {
    principal = value;
  }
}

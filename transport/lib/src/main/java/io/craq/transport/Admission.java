package io.craq.transport;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.transport.security.AuthenticationException;
import io.craq.transport.security.Authenticator;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.PasswordChecks;
import io.craq.transport.security.Principal;
import io.craq.transport.security.Role;
import io.craq.transport.security.Security;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who an accepted connection is, the same way for every transport: the session a link starts with
 * (from its client certificate, if any), the transport's own answer to {@link Message.AuthRequest},
 * and the refusal of requests from a connection that has not authenticated. One per listening
 * transport; thread-safe.
 *
 * <ul>
 *   <li>No TLS, no authenticator: {@link LinkSession#OPEN}.
 *   <li>A client certificate that chains to the cluster CA: the member its CN names ({@link
 *       Role#MEMBER}); to the client CA: {@link Authenticator#forCertificate}, or {@link
 *       Role#ADMIN} when there is no authenticator.
 *   <li>TLS without a client certificate: {@link #ANONYMOUS} (admin, never member) when there is no
 *       authenticator; else nobody until an {@code AuthRequest} succeeds.
 * </ul>
 */
final class Admission {
  private static final Logger log = LoggerFactory.getLogger(Admission.class);

  /** A TLS connection without a certificate where authentication is off: all but membership. */
  static final Principal ANONYMOUS = new Principal("anonymous", Role.ADMIN);

  static final String AUTHENTICATE_FIRST = "authenticate first";

  private final Authenticator authenticator;
  private final PasswordChecks checks;
  private final RateLimitedWarning refusals = new RateLimitedWarning(1_000_000_000L);
  private final RateLimitedWarning drops = new RateLimitedWarning(1_000_000_000L);

  Admission(Security security) {
    this(security, PasswordChecks.shared());
  }

  Admission(Security security, PasswordChecks checks) {
    this.authenticator = security.authenticator();
    this.checks = checks;
  }

  /** The session of a connection accepted without TLS. */
  LinkSession plain() {
    return authenticator == null ? LinkSession.OPEN : new LinkSession(null, null);
  }

  /**
   * The session of a TLS connection.
   *
   * @param certificate the client's verified certificate, or null if it presented none
   * @param member true if it chains to the cluster CA, false if to the client CA
   * @param endpoint told why a certificate user was refused, for the replies to its requests
   */
  LinkSession tls(X509Certificate certificate, boolean member, Endpoint endpoint) {
    if (certificate == null) {
      return authenticator == null ? new LinkSession(null, ANONYMOUS) : new LinkSession(null, null);
    }
    String subject = certificate.getSubjectX500Principal().getName(X500Principal.RFC2253);
    String commonName = commonName(certificate);
    if (member) {
      return new LinkSession(subject, new Principal(commonName, Role.MEMBER));
    }
    if (authenticator == null) {
      return new LinkSession(subject, new Principal(commonName, Role.ADMIN));
    }
    try {
      return new LinkSession(subject, authenticator.forCertificate(commonName));
    } catch (AuthenticationException e) {
      refusals.warn(
          log,
          "client certificate of user '{}' from {} refused: {}",
          commonName,
          endpoint.peer,
          e.getMessage());
      endpoint.refusal = "certificate refused: " + e.getMessage() + "; " + AUTHENTICATE_FIRST;
      return new LinkSession(subject, null);
    } catch (RuntimeException e) {
      log.error("the authenticator failed on the certificate of '{}'", commonName, e);
      return new LinkSession(subject, null);
    }
  }

  /**
   * Answers an {@code AuthRequest}: with an authenticator the session becomes the principal it
   * returns, else the session stays as it is and the reply names its role. The answer is complete
   * at once when no slow hash is needed (no authenticator, or a secret it remembers); else it
   * completes on a thread of {@link PasswordChecks}, a refusal only after its delay. It never
   * completes exceptionally.
   */
  CompletableFuture<Message> authenticate(
      Message.AuthRequest request, LinkSession session, String peer) {
    if (authenticator == null) {
      Principal current = session.principal();
      return CompletableFuture.completedFuture(
          new Message.AuthReply(
              request.user(), current == null ? Role.READ.label() : current.role().label()));
    }
    return checks
        .authenticate(authenticator, request.user(), request.secret())
        .handle((principal, failure) -> answer(request.user(), principal, failure, session, peer));
  }

  private Message answer(
      String user, Principal principal, Throwable failure, LinkSession session, String peer) {
    if (failure == null) {
      session.authenticated(principal);
      return new Message.AuthReply(principal.name(), principal.role().label());
    }
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (cause instanceof AuthenticationException e) {
      refusals.warn(
          log, "authentication of user '{}' from {} refused: {}", user, peer, e.getMessage());
      return new Message.ErrorReply(ErrorCode.UNAUTHENTICATED, e.getMessage(), "");
    }
    log.error("the authenticator failed on user '{}' from {}", user, peer, cause);
    return new Message.ErrorReply(ErrorCode.INTERNAL, "authentication failed", "");
  }

  /** A one-way message from a connection that has not authenticated was dropped. */
  void dropped(Message message, String peer) {
    drops.warn(
        log,
        "dropped a one-way {} from {}: the connection has not authenticated",
        message.getClass().getSimpleName(),
        peer);
  }

  /** The CN of {@code certificate}'s subject, or the whole subject if it has none. */
  static String commonName(X509Certificate certificate) {
    String subject = certificate.getSubjectX500Principal().getName(X500Principal.RFC2253);
    try {
      for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(subject).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (javax.naming.InvalidNameException e) {
      // fall through: the subject as a whole
    }
    return subject;
  }
}

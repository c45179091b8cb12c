package io.craq.transport.security;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;

/**
 * Decides whether a connection may send a message, where requests enter a node or coordinator: the
 * connection's principal must hold the role {@link Permissions#required} names. With a users file,
 * a principal it vouched for is looked up again (at most once a second), so removing a user or
 * lowering their role applies from the next request of connections already open. A member known by
 * its cluster certificate (not in the users file) keeps its role: it is revoked by its certificate.
 * Thread-safe.
 */
public final class Authorization {
  /** Authentication off: every connection is {@link Principal#OPEN} and may do everything. */
  public static final Authorization OPEN = new Authorization(false, null);

  private final boolean required;
  private final UsersFile users;

  private Authorization(boolean required, UsersFile users) {
    this.required = required;
    this.users = users;
  }

  /**
   * Authorization for a server whose transport authenticates with {@code authenticator}; {@link
   * #OPEN} for null (authentication off).
   */
  public static Authorization of(Authenticator authenticator) {
    if (authenticator == null) {
      return OPEN;
    }
    return new Authorization(true, authenticator instanceof UsersFile file ? file : null);
  }

  /**
   * Null if {@code session} may send {@code message}; else the refusal to answer it with:
   * UNAUTHENTICATED (no principal, or a user since removed) or PERMISSION_DENIED ("user X (role
   * read) may not write").
   */
  public ErrorReply refusal(LinkSession session, Message message) {
    Role needed = Permissions.required(message);
    if (needed == null) {
      return null;
    }
    Principal principal = session.principal();
    if (required && session == LinkSession.OPEN) {
      // Fail closed: a transport that authenticates nobody must not open a guarded endpoint.
      return new ErrorReply(
          ErrorCode.UNAUTHENTICATED,
          "this endpoint requires authentication, but the connection was not authenticated",
          "");
    }
    if (principal == null) {
      return new ErrorReply(
          ErrorCode.UNAUTHENTICATED,
          "authenticate first: this endpoint requires a user and password, or a certificate",
          "");
    }
    Role role = currentRole(session, principal);
    if (role == null) {
      return new ErrorReply(
          ErrorCode.UNAUTHENTICATED,
          "user " + principal.name() + " is no longer in the users file",
          "");
    }
    if (role.allows(needed)) {
      return null;
    }
    return new ErrorReply(
        ErrorCode.PERMISSION_DENIED,
        "user "
            + principal.name()
            + " (role "
            + role.label()
            + ") may not "
            + Permissions.verb(message)
            + " (needs "
            + needed.label()
            + ")",
        "");
  }

  private Role currentRole(LinkSession session, Principal principal) {
    if (users == null) {
      return principal.role();
    }
    boolean certifiedMember =
        session.certificateSubject() != null
            && principal.role() == Role.MEMBER
            && !users.contains(principal.name());
    if (certifiedMember) {
      return principal.role();
    }
    return users.currentRole(principal.name());
  }
}

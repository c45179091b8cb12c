package io.craq.transport.security;

import java.util.Objects;

/** Who is on the other end of a connection, once authenticated, and what they may do. */
public record Principal(String name, Role role) {

  /**
   * The principal of every connection to an endpoint where authentication is off: anyone who can
   * reach the port may do everything.
   */
  public static final Principal OPEN = new Principal("anonymous", Role.MEMBER);

  public Principal {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(role, "role");
  }

  /** True if this principal may do what {@code needed} allows. */
  public boolean allows(Role needed) {
    return role.allows(needed);
  }
}

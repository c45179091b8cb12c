package io.craq.transport.security;

import java.util.Locale;

/**
 * What an authenticated connection may do. Roles are ordered: each allows everything the ones
 * before it allow.
 */
public enum Role {
  /** Reads: strong and eventual reads, read-all, chain, map and stats requests. */
  READ("read"),
  /** Reads, and writes, deletes, increments, appends and multi-key writes. */
  READ_WRITE("readwrite"),
  /** Read-write, and membership changes made by hand (adding and removing nodes). */
  ADMIN("admin"),
  /**
   * A node or coordinator of this cluster: everything, the chain protocol included (propagation,
   * configuration pushes, joins and heartbeats).
   */
  MEMBER("member");

  private final String label;

  Role(String label) {
    this.label = label;
  }

  /** True if this role may do what {@code needed} may do. */
  public boolean allows(Role needed) {
    return ordinal() >= needed.ordinal();
  }

  /** The name used in users files, flags and replies: read, readwrite, admin, member. */
  public String label() {
    return label;
  }

  /**
   * The role named {@code text} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the accepted names if there is no such role
   */
  public static Role parse(String text) {
    String wanted = text.trim().toLowerCase(Locale.ROOT);
    for (Role role : values()) {
      if (role.label.equals(wanted)) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '" + text + "': expected read, readwrite, admin or member");
  }

  @Override
  public String toString() {
    return label;
  }
}

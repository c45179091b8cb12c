package io.craq.core.message;

import java.util.Objects;

/**
 * One node of a chain: a stable id, the address others dial ({@code host:port}), the epoch in which
 * this member (re-)joined, the incarnation (process start) it joined with, and whether it has
 * caught up (holds a complete copy). A node that finds its {@code joinedEpoch} changed knows it was
 * removed and added back, so it may have missed writes and must catch up again; the incarnation
 * lets the coordinator tell a duplicated join request from a restart; {@code caughtUp} is part of
 * the configuration so a restarted coordinator still knows which members hold complete copies.
 */
public record Member(
    String id, String address, long joinedEpoch, long incarnation, boolean caughtUp) {
  public Member {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
  }

  /** A destination, not a chain entry: epoch and incarnation 0, not caught up. */
  public Member(String id, String address) {
    this(id, address, 0, 0, false);
  }

  /**
   * This member as re-joined in {@code epoch}: it must catch up again (dropping its dirty
   * versions), so it is not caught up.
   */
  public Member rejoinedAt(long epoch) {
    return new Member(id, address, epoch, incarnation, false);
  }

  /** This member with {@code caughtUp} set as given. */
  public Member withCaughtUp(boolean value) {
    return new Member(id, address, joinedEpoch, incarnation, value);
  }
}

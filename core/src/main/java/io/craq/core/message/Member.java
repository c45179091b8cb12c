package io.craq.core.message;

import java.util.Objects;

/**
 * One node of a chain: a stable id, the address others dial ({@code host:port}), the epoch in
 * which this member (re-)joined, and the incarnation (process start) it joined with. A node that
 * finds its {@code joinedEpoch} changed knows it was removed and added back, so it may have
 * missed writes and must catch up again; the incarnation lets the coordinator tell a duplicated
 * join request from a restart, even after the coordinator itself restarted.
 */
public record Member(String id, String address, long joinedEpoch, long incarnation) {
  public Member {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
  }

  /** A member with {@code joinedEpoch} and {@code incarnation} 0 (a destination, not a chain entry). */
  public Member(String id, String address) {
    this(id, address, 0, 0);
  }
}

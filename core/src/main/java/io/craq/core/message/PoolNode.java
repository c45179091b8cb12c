package io.craq.core.message;

import java.util.Objects;

/**
 * A node of the cluster's pool, whether or not it is a member of any chain: its id, the address
 * others dial, the incarnation (process start) it registered with, and whether it is leaving (its
 * chains are being moved off it before it goes).
 */
public record PoolNode(String id, String address, long incarnation, boolean leaving) {
  public PoolNode {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
  }

  public PoolNode withLeaving(boolean value) {
    return new PoolNode(id, address, incarnation, value);
  }
}

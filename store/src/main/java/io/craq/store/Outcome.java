package io.craq.store;

/**
 * What one operation of a {@link Batch} did. Only {@link #APPLIED} changed the store; every other
 * outcome means the store is exactly as it was before that operation (idempotence, and no data loss
 * on a commit of an unknown version).
 */
public enum Outcome {
  /** The operation changed the store. */
  APPLIED,
  /** The same version with the same content was already stored, or already committed. */
  DUPLICATE,
  /** The version is older than the key's committed version; it was superseded and ignored. */
  STALE,
  /** A commit named a version the store does not hold; nothing was changed or deleted. */
  UNKNOWN_VERSION,
  /**
   * The version is already stored with different content (value or tombstone flag). Nothing was
   * changed. In a correct chain this never happens, so a node should treat it as a broken
   * invariant.
   */
  CONFLICT;

  /** True if this outcome left the store unchanged. */
  public boolean unchanged() {
    return this != APPLIED;
  }
}

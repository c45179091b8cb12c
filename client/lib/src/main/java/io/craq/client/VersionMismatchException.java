package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * A conditional write ({@link CraqClient#writeIfVersion}, or a conditional write of a {@link
 * MultiWrite}) was refused: the key's committed version differs from the expected one, or other
 * writes of the key were still in flight (CRAQ §4.1 test-and-set). Definite: the write did not and
 * will not happen (for a multi-key write: none of its writes).
 */
public class VersionMismatchException extends CraqException {
  /** {@link #currentVersion()} when the server did not say. */
  public static final long VERSION_UNKNOWN = -1;

  private final String key;
  private final long expectedVersion;
  private final long currentVersion;

  public VersionMismatchException(
      String key, long expectedVersion, long currentVersion, String message) {
    super(message, ErrorCode.VERSION_MISMATCH, null);
    this.key = key;
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }

  /**
   * The key whose condition failed; for a multi-key write, the one the head named (null if its
   * answer named none of the conditional keys and there were several).
   */
  public String key() {
    return key;
  }

  /** The version the caller expected. */
  public long expectedVersion() {
    return expectedVersion;
  }

  /**
   * The key's committed version as the head saw it (0 = absent or deleted), or {@link
   * #VERSION_UNKNOWN}. It may be equal to the expected version when writes were in flight.
   */
  public long currentVersion() {
    return currentVersion;
  }
}

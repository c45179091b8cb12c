package io.craq.core.message;

/**
 * Why a request was refused. Wire codes are fixed and never reused. {@link #definite()} tells a
 * client whether a refused write certainly did not happen.
 */
public enum ErrorCode {
  /** The request was malformed or broke a limit (key, value size); retrying will not help. */
  INVALID_REQUEST(1, true),
  /** This node is not the head; the hint names the head's address if known. */
  NOT_HEAD(2, true),
  /** The sender's configuration is older than the receiver's; refresh the chain and retry. */
  STALE_EPOCH(3, true),
  /** Version query sent to a node that is not the tail (in the sender's epoch). */
  NOT_TAIL(4, true),
  /** The node cannot serve this now (no lease, catching up, no chain); retry later. */
  UNAVAILABLE(5, true),
  /** A bounded queue or in-flight table is full; retry later. */
  BUSY(6, true),
  /** Conditional write: the key's committed version differs or dirty versions are pending. */
  VERSION_MISMATCH(7, true),
  /** The operation's outcome is unknown (for example the chain changed under a write). */
  AMBIGUOUS(8, false),
  /** Unknown message type or protocol version. */
  UNSUPPORTED(9, true),
  /** An internal failure on the server; the outcome of a write is unknown. */
  INTERNAL(10, false),
  /**
   * This coordinator is a standby: the hint names the leading coordinator's address, or is empty
   * when no coordinator leads now; ask the leader, or retry later.
   */
  NOT_LEADER(11, true),
  /**
   * The key (or chain) is not served by this node: it belongs to a chain this node is not a member
   * of. The hint is the version of the chain map the node knows; fetch a map at least that new and
   * route again.
   */
  WRONG_CHAIN(12, true),
  /**
   * An increment found a value that is not a signed 64-bit decimal integer, or its result would
   * overflow; nothing was written.
   */
  NOT_AN_INTEGER(13, true),
  /**
   * The connection has not authenticated (this endpoint requires it), or the credentials it
   * presented were refused; nothing was done. Retrying with the same credentials will not help.
   */
  UNAUTHENTICATED(14, true),
  /** The authenticated user's role does not allow this request; nothing was done. */
  PERMISSION_DENIED(15, true);

  public final int code;
  private final boolean definite;

  ErrorCode(int code, boolean definite) {
    this.code = code;
    this.definite = definite;
  }

  /** True if a write refused with this code certainly did not and will not take effect. */
  public boolean definite() {
    return definite;
  }

  /** The code for a wire value, or null if unknown. */
  public static ErrorCode ofCode(int code) {
    for (ErrorCode error : values()) {
      if (error.code == code) {
        return error;
      }
    }
    return null;
  }
}

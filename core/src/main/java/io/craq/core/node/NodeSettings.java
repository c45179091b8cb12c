package io.craq.core.node;

import io.craq.core.Limits;

/**
 * Tunables of a node's state machine. Time is counted in ticks (the driver decides how long a tick
 * is); every queue and table has a bound.
 *
 * @param heartbeatIntervalTicks how often the node tells the coordinator it is alive
 * @param leaseTicks how long after sending a heartbeat that the coordinator answered the node may
 *     serve strong reads, answer version queries and accept writes; must be shorter than the
 *     coordinator's failure timeout
 * @param retransmitTicks after this long without a commit, dirty versions are sent to the successor
 *     again
 * @param writeTimeoutTicks a client write not committed after this long is answered AMBIGUOUS
 * @param versionQueryTimeoutTicks a strong read waiting this long for the tail is answered
 *     UNAVAILABLE
 * @param catchUpKeysMax keys per catch-up page
 * @param catchUpRetryTicks a catch-up page not answered after this long is asked for again
 * @param pendingWritesMax writes in flight at the head before new ones are refused BUSY
 * @param pendingReadsMax strong reads waiting for the tail before new ones are refused BUSY
 * @param resendBatchMax versions resent per tick at most
 * @param valueBytesMax the largest value accepted
 */
public record NodeSettings(
    int heartbeatIntervalTicks,
    int leaseTicks,
    int retransmitTicks,
    int writeTimeoutTicks,
    int versionQueryTimeoutTicks,
    int catchUpKeysMax,
    int catchUpRetryTicks,
    int pendingWritesMax,
    int pendingReadsMax,
    int resendBatchMax,
    int valueBytesMax) {

  public NodeSettings {
    positive(heartbeatIntervalTicks, "heartbeatIntervalTicks");
    positive(leaseTicks, "leaseTicks");
    positive(retransmitTicks, "retransmitTicks");
    positive(writeTimeoutTicks, "writeTimeoutTicks");
    positive(versionQueryTimeoutTicks, "versionQueryTimeoutTicks");
    positive(catchUpKeysMax, "catchUpKeysMax");
    positive(catchUpRetryTicks, "catchUpRetryTicks");
    positive(pendingWritesMax, "pendingWritesMax");
    positive(pendingReadsMax, "pendingReadsMax");
    positive(resendBatchMax, "resendBatchMax");
    positive(valueBytesMax, "valueBytesMax");
    if (leaseTicks <= heartbeatIntervalTicks) {
      throw new IllegalArgumentException(
          "leaseTicks ("
              + leaseTicks
              + ") must exceed heartbeatIntervalTicks ("
              + heartbeatIntervalTicks
              + ")");
    }
  }

  /**
   * Largest values in flight at the head at once, as a byte budget: see {@link #pendingBytesMax}.
   */
  public static final int PENDING_LARGEST_VALUES = 64;

  /**
   * Bytes of values in flight at the head (accepted, not yet committed) before new writes are
   * refused BUSY: {@value #PENDING_LARGEST_VALUES} values of the largest size. Every version in
   * flight is a whole value (an append to a large value makes a new large version), so this bounds
   * the dirty versions' memory down the chain; a single write always fits when nothing is in
   * flight.
   */
  public long pendingBytesMax() {
    return (long) PENDING_LARGEST_VALUES * valueBytesMax;
  }

  /** Defaults for a 50 ms tick: heartbeat 250 ms, lease 1.5 s (coordinator timeout 2 s). */
  public static NodeSettings defaults() {
    return new NodeSettings(
        5, 30, 20, 200, 40, 256, 40, 10_000, 10_000, 4096, Limits.VALUE_BYTES_MAX_DEFAULT);
  }

  private static void positive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive: " + value);
    }
  }
}

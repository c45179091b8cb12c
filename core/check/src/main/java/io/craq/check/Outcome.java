package io.craq.check;

/** How an operation ended, as far as its client knows. */
public enum Outcome {
  /** It happened, with the recorded {@link Output}. */
  OK,
  /** It certainly did not happen (only when the store guarantees it). The checker drops it. */
  FAIL,
  /**
   * Unknown (timeout, connection lost after sending): it may take effect at any time after its
   * invoke, or never. Its completion time is infinite.
   */
  INFO
}

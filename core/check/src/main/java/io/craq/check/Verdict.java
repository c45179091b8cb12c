package io.craq.check;

/** What the checker concluded about one key. A suite may only pass on zero {@link #ILLEGAL}. */
public enum Verdict {
  /** An order consistent with real time and the model exists. */
  LINEARIZABLE,
  /** No such order exists: the store broke linearizability on this key. */
  ILLEGAL,
  /** The time budget ran out before the search ended: nothing is known. */
  UNKNOWN
}

package io.craq.check;

/** What a client asked the store to do with one key. */
public enum OpKind {
  /**
   * Return the key's current value (absent = {@code null}); jepsen {@code :read} / {@code :get}.
   */
  READ,
  /** Set the key to a value; jepsen {@code :write} / {@code :put}. */
  WRITE,
  /** Make the key absent. Like a write, it takes the next version. */
  DELETE,
  /** Value-based compare-and-set, as jepsen's {@code :cas [expected new]}. */
  CAS,
  /** Version-conditioned write: set the value only if the key's current version is N. */
  WRITE_IF_VERSION,
  /** Concatenate to the key's value (the kv reference histories' {@code :append}). */
  APPEND,
  /**
   * Add a delta to the key's integer value (absent = 0) and return the new value (CRAQ §4.1
   * read-modify-write, Redis's {@code INCRBY}); {@code :incr} in the log.
   */
  INCREMENT
}

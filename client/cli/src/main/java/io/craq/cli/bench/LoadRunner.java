package io.craq.cli.bench;

import java.util.List;

/** Something that generates load until stopped and records it in {@link Meter}s. */
interface LoadRunner {
  /** The meters this runner records into, in the order they are reported. */
  List<Meter> meters();

  /** Starts the load threads; returns at once. */
  void start() throws Exception;

  /**
   * Stops issuing operations, waits (bounded) for those in flight, and releases every resource.
   * Idempotent.
   */
  void stop() throws InterruptedException;
}

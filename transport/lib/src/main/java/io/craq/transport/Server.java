package io.craq.transport;

/** A listening endpoint returned by {@link Transport#listen}. Thread-safe. */
public interface Server extends AutoCloseable {

  /** The address peers can dial, with the actual port (useful after binding port 0). */
  String address();

  /**
   * Stops accepting and closes every accepted connection; their pending replies are lost.
   * Idempotent.
   */
  @Override
  void close();
}

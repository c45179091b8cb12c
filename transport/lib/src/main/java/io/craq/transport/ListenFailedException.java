package io.craq.transport;

/**
 * A server could not listen on its address: it is in use by another process, not an address of this
 * host, or not permitted. A fault of the setup, not of the program.
 */
public final class ListenFailedException extends TransportException {
  public ListenFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}

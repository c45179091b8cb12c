package io.craq.transport;

/**
 * The connection a request was sent on was lost (peer closed it, reset, bad data) or was closed
 * locally before the reply arrived. The request may have been processed. For a lost connection the
 * next call on the same {@link Connection} reconnects; for a locally closed one it fails again.
 */
public final class ConnectionClosedException extends TransportException {
  public ConnectionClosedException(String message) {
    super(message);
  }

  public ConnectionClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}

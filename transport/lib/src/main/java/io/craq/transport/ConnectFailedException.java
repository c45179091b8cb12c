package io.craq.transport;

/** The peer could not be reached (refused, unknown host, connect timeout). Nothing was sent. */
public final class ConnectFailedException extends TransportException {
  public ConnectFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}

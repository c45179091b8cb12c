package io.craq.transport;

/**
 * A bounded queue (outbound messages, outbound bytes or requests in flight) is full; the message
 * was not queued. Back off and retry, or shed load.
 */
public final class QueueFullException extends TransportException {
  public QueueFullException(String message) {
    super(message);
  }
}

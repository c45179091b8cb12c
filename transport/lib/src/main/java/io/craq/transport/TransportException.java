package io.craq.transport;

/**
 * Base of every failure the transport reports. Unchecked; the subclass says what happened and
 * whether retrying can help. A request that fails with a {@code TransportException} may or may not
 * have reached the peer (except {@link QueueFullException} and {@link MessageTooLargeException},
 * which are raised before anything was sent).
 */
public class TransportException extends RuntimeException {
  public TransportException(String message) {
    super(message);
  }

  public TransportException(String message, Throwable cause) {
    super(message, cause);
  }
}

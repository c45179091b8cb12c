package io.craq.transport;

/**
 * The encoded message does not fit in {@link TransportConfig#frameBytesMax()}; nothing was sent.
 */
public final class MessageTooLargeException extends TransportException {
  public MessageTooLargeException(String message) {
    super(message);
  }
}

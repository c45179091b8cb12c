package io.craq.transport;

/**
 * No reply arrived within the timeout given to {@link Connection#request}. The request may have
 * been processed.
 */
public final class RequestTimeoutException extends TransportException {
  public RequestTimeoutException(String message) {
    super(message);
  }
}

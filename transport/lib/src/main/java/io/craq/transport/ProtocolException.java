package io.craq.transport;

import io.craq.core.message.ErrorCode;

/**
 * Inbound bytes break the wire protocol (see docs/PROTOCOL.md). {@link #code()} is what the
 * receiver answers a request with; {@link #fatal()} is true when the stream can no longer be
 * trusted (bad magic, bad length, unknown protocol version) and the connection must be closed. When
 * it is false the frame boundary is intact and the connection stays open.
 */
public final class ProtocolException extends TransportException {
  private final ErrorCode code;
  private final boolean fatal;

  public ProtocolException(ErrorCode code, boolean fatal, String message) {
    super(message);
    this.code = code;
    this.fatal = fatal;
  }

  /** A non-fatal malformed body: refused with {@link ErrorCode#INVALID_REQUEST}. */
  public static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_REQUEST, false, message);
  }

  public ErrorCode code() {
    return code;
  }

  public boolean fatal() {
    return fatal;
  }
}

package io.craq.node.redis;

import java.io.IOException;

/** Input that is not RESP, or RESP over a limit: the connection is answered once and closed. */
final class RespProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  RespProtocolException(String message) {
    super(message);
  }
}

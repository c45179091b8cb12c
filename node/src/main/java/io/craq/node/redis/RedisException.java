package io.craq.node.redis;

/** A command's failure as the error line the client gets ({@code ERR ...}, no leading '-'). */
class RedisException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  RedisException(String line) {
    super(line, null, false, false);
  }

  static RedisException err(String message) {
    return new RedisException("ERR " + message);
  }

  Resp.Err reply() {
    return new Resp.Err(getMessage());
  }

  /** A conditional write found another version than it expected; the caller decides. */
  static final class VersionMismatch extends RedisException {
    private static final long serialVersionUID = 1L;

    VersionMismatch(String message) {
      super("ERR " + message);
    }
  }
}

package io.craq.coordinator;

/**
 * The configuration store cannot be used as it is: unreachable at start-up, holding data that is
 * not ours, a map that does not parse, or a map of another chain count than the coordinator was
 * given ({@link ChainCountException}). An expected condition, reported in one line (the message
 * says what was found and what to do); the coordinator stops without writing.
 */
class ConfigStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ConfigStoreException(String message) {
    super(message);
  }

  ConfigStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

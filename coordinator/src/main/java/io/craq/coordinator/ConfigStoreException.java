package io.craq.coordinator;

/**
 * The configuration store cannot be used as it is: unreachable at start-up, holding data that is
 * not ours, or a configuration that does not parse. An expected condition, reported in one line
 * (the message says what was found and what to do); the coordinator stops without writing.
 */
final class ConfigStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ConfigStoreException(String message) {
    super(message);
  }

  ConfigStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

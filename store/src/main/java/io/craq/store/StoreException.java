package io.craq.store;

/**
 * The storage itself failed (I/O error, corrupt or incompatible files, full map). Unchecked on
 * purpose: a node whose storage fails must stop loudly rather than serve wrong data. Bad input is
 * never reported this way; it is refused with {@link io.craq.core.Limits.InvalidInputException}
 * before anything is changed.
 */
public class StoreException extends RuntimeException {
  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

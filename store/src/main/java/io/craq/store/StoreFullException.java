package io.craq.store;

/**
 * The store has no room for a storage transaction (for LMDB: the memory map is full). The
 * transaction was rolled back: nothing of the batch was applied. The message names the setting to
 * raise.
 */
public final class StoreFullException extends StoreException {
  public StoreFullException(String message, Throwable cause) {
    super(message, cause);
  }
}

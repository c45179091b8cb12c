package io.craq.coordinator;

/**
 * The stored map has another number of chains than {@code --chains}: refused, because the chain
 * count decides where every key lives and cannot change once a cluster exists. A usage error (exit
 * code 2 at start-up): the operator gave the wrong flag, or the wrong data directory or chroot.
 */
final class ChainCountException extends ConfigStoreException {
  private static final long serialVersionUID = 1L;

  ChainCountException(String message) {
    super(message);
  }
}

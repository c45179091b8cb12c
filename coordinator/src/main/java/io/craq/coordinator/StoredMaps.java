package io.craq.coordinator;

import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a coordinator makes of the map it reads from its store before it leads with it: the chain
 * count must be the one it was given (it decides where keys live and never changes), and the
 * replica count it was given replaces the stored one (placement then grows or shrinks the chains to
 * it, one move at a time).
 */
final class StoredMaps {
  private static final Logger log = LoggerFactory.getLogger(StoredMaps.class);

  private StoredMaps() {}

  /**
   * {@code stored} with {@code settings}' replica count, after checking its chain count.
   *
   * @param where the store, for the messages: a file name, a ZooKeeper connect string
   * @throws ChainCountException if {@code stored} has another chain count than {@code settings}
   */
  static ChainMap resume(ChainMap stored, CoordinatorSettings settings, String where) {
    if (stored.chainCount() != settings.chains()) {
      throw new ChainCountException(
          "the map in "
              + where
              + " has "
              + stored.chainCount()
              + (stored.chainCount() == 1 ? " chain" : " chains")
              + " but --chains is "
              + settings.chains()
              + ": the chain count decides where keys live and cannot change; start with"
              + " --chains "
              + stored.chainCount());
    }
    if (stored.replicas() == settings.replicas()) {
      return stored;
    }
    if (stored.version() > 0) {
      log.info(
          "the map in {} asks for {} replicas per chain; adopting --replicas {}: placement moves"
              + " the chains to it, at most --moves-max at a time",
          where,
          stored.replicas(),
          settings.replicas());
    }
    return new ChainMap(stored.version(), settings.replicas(), stored.chains(), stored.pool());
  }
}

package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StoredMapsTest {
  private static final ChainMap STORED =
      new ChainMap(
          9,
          3,
          List.of(
              new ChainConfig(4, List.of(new Member("a", "127.0.0.1:1", 1, 1, true))),
              ChainConfig.EMPTY),
          List.of(new PoolNode("a", "127.0.0.1:1", 1, false)));

  private static CoordinatorSettings settings(int chains, int replicas) {
    return new CoordinatorSettings(40, 64, chains, replicas, 2);
  }

  @Test
  @DisplayName("a stored map of another chain count is refused, naming both counts")
  void otherChainCountRefused() {
    ChainCountException e =
        assertThrows(
            ChainCountException.class,
            () -> StoredMaps.resume(STORED, settings(4, 3), "the file x"));
    assertTrue(e.getMessage().contains("has 2 chains but --chains is 4"), e.getMessage());
    assertTrue(e.getMessage().contains("the file x"), e.getMessage());
    assertTrue(e.getMessage().contains("--chains 2"), e.getMessage());
  }

  @Test
  @DisplayName("another replica count is adopted; chains, pool and version are kept")
  void otherReplicaCountAdopted() {
    ChainMap resumed = StoredMaps.resume(STORED, settings(2, 5), "the file x");
    assertEquals(new ChainMap(9, 5, STORED.chains(), STORED.pool()), resumed);
    assertSame(STORED, StoredMaps.resume(STORED, settings(2, 3), "the file x"));
  }
}

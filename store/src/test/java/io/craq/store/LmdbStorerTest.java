package io.craq.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What only the LMDB store promises, beyond the conformance suite. */
class LmdbStorerTest {
  @TempDir Path directory;

  @Test
  @DisplayName("a full map throws StoreFullException, applies nothing, and the store stays usable")
  void fullMap() {
    LmdbStorer.Config config = LmdbStorer.Config.defaults(directory).withMapSizeBytes(1L << 20);
    try (Storer store = LmdbStorer.open(config)) {
      Batch batch = new Batch();
      for (int i = 0; i < 4; i++) {
        batch.putDirty("big-" + i, 1, new byte[400_000]);
      }
      StoreFullException e = assertThrows(StoreFullException.class, () -> store.apply(batch));
      assertTrue(e.getMessage().contains("mapSizeBytes"), e.getMessage());
      assertInstanceOf(Newest.Absent.class, store.readNewest("big-0"));
      assertEquals(Outcome.APPLIED, store.writeDirty("small", 1, new byte[10]));
    }
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  @DisplayName("every durability mode keeps data across a clean close and reopen")
  void durabilityModes(Durability durability) {
    LmdbStorer.Config config = LmdbStorer.Config.defaults(directory).withDurability(durability);
    try (Storer store = LmdbStorer.open(config)) {
      store.apply(new Batch().putDirty("k", 1, new byte[] {1, 2}).commit("k", 1));
      store.sync();
    }
    try (Storer store = LmdbStorer.open(config)) {
      assertEquals(1, store.committedVersion("k"));
    }
  }

  @Test
  @DisplayName("a directory that is not an LMDB store is refused with StoreException")
  void refusesForeignFiles() throws Exception {
    Files.writeString(directory.resolve("data.mdb"), "not an LMDB file, definitely not");
    assertThrows(
        StoreException.class, () -> LmdbStorer.open(LmdbStorer.Config.defaults(directory)));
  }

  @Test
  @DisplayName("bad settings are refused when the config is built")
  void badConfig() {
    LmdbStorer.Config config = LmdbStorer.Config.defaults(directory);
    assertThrows(IllegalArgumentException.class, () -> config.withMapSizeBytes(1000));
    assertThrows(IllegalArgumentException.class, () -> config.withReadersMax(0));
    assertThrows(IllegalArgumentException.class, () -> config.withValueBytesMax(-1));
  }
}

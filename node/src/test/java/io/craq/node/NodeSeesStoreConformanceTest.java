package io.craq.node;

import io.craq.store.LmdbStorer;
import io.craq.store.Storer;
import io.craq.store.StorerConformanceTest;
import java.nio.file.Path;

/**
 * The store conformance suite is usable from outside the store module: the node runs it against
 * the LMDB store it ships with, through the craq-store test-jar.
 */
class NodeSeesStoreConformanceTest extends StorerConformanceTest {
  @Override
  protected Storer newStore(Path directory) {
    return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
  }

  @Override
  protected Storer reopen(Path directory) {
    return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
  }
}

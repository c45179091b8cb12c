package io.craq.store;

import java.nio.file.Path;

/** The LMDB store passes the conformance suite, reopen tests included. */
class LmdbStorerConformanceTest extends StorerConformanceTest {
  @Override
  protected Storer newStore(Path directory) {
    return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
  }

  @Override
  protected Storer reopen(Path directory) {
    return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
  }
}

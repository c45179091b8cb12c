package io.craq.store;

import java.nio.file.Path;

/** LMDB behind the write-ahead log, as a node runs it, passes the conformance suite. */
class LmdbLoggedStorerConformanceTest extends LoggedStorerConformanceTest {
  @Override
  protected Storer newBase(Path directory) {
    return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
  }

  @Override
  protected Storer reopenBase(Path directory) {
    return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
  }
}

package io.craq.store;

import java.nio.file.Path;

/** The in-memory reference store passes the conformance suite. */
class MemoryStorerConformanceTest extends StorerConformanceTest {
  @Override
  protected Storer newStore(Path directory) {
    return new MemoryStorer();
  }
}

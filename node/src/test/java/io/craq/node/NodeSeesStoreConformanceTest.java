package io.craq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import io.craq.store.LmdbStorer;
import io.craq.store.Storer;
import io.craq.store.StorerConformanceTest;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The store conformance suite is usable from outside the store module, through the craq-store
 * test-jar, as a store author uses it: a class of another module extends it with a factory, its
 * cases are found, and they run. The store module runs every case against its stores; here two run,
 * against the LMDB store the node ships with.
 */
class NodeSeesStoreConformanceTest {
  /** What a store author writes (not run on its own: its name does not end in Test). */
  static class LmdbFromAnotherModule extends StorerConformanceTest {
    @Override
    protected Storer newStore(Path directory) {
      return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
    }

    @Override
    protected Storer reopen(Path directory) {
      return LmdbStorer.open(LmdbStorer.Config.defaults(directory));
    }
  }

  @Test
  @DisplayName("the suite's cases are found through the test-jar, and two of them run and pass")
  void suiteFromTheTestJar() {
    Launcher launcher = LauncherFactory.create();
    long cases =
        launcher
            .discover(request().selectors(selectClass(LmdbFromAnotherModule.class)).build())
            .countTestIdentifiers(TestIdentifier::isTest);
    assertTrue(cases >= 20, "only " + cases + " conformance cases found");

    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    launcher.execute(
        request()
            .selectors(
                selectMethod(LmdbFromAnotherModule.class, "basicWriteCommitRead"),
                selectMethod(LmdbFromAnotherModule.class, "reopenKeepsVersions"))
            .build(),
        listener);
    TestExecutionSummary summary = listener.getSummary();
    assertEquals(2, summary.getTestsSucceededCount(), () -> summary.getFailures().toString());
  }
}

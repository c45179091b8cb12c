package io.craq.check;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;

/**
 * Finds {@code ../shared/histories}: the {@code craq.shared.dir} property (set by the surefire
 * configuration), else walking up from the working directory. Never copied into the project.
 */
final class SharedHistories {
  private SharedHistories() {}

  static Optional<Path> find() {
    String property = System.getProperty("craq.shared.dir");
    if (property != null && !property.isBlank()) {
      Path histories = Paths.get(property, "histories");
      if (Files.isDirectory(histories)) {
        return Optional.of(histories);
      }
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path histories = dir.resolve("shared").resolve("histories");
      if (Files.isDirectory(histories)) {
        return Optional.of(histories);
      }
    }
    return Optional.empty();
  }
}

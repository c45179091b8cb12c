package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh clone on a machine without Maven: a copy of the sources, an {@code mvn} on the PATH that
 * fails if anything calls it, an empty Maven user home (so {@code ./mvnw} must fetch its Maven,
 * here from a server on 127.0.0.1 standing in for Maven Central), and a local repository without
 * this project's artifacts. The README's commands are taken from the README text. Offline ({@code
 * MAVEN_ARGS=-o}): every other artifact comes from the repository this build uses.
 */
@Timeout(900)
class FreshCloneIT {
  private static final Duration BUILD = Duration.ofMinutes(5);

  @TempDir Path dir;

  @Test
  @DisplayName(
      "./mvnw fetches its Maven, the README's one-module test command works on a"
          + " never-installed clone, a launcher builds with progress and only for the build's own"
          + " modules, and the README's store-writer steps build and pass the conformance suite")
  void freshClone() throws Exception {
    String readme = Files.readString(Shell.ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    Path clone = copySources(dir.resolve("clone"));
    Path repository = repositoryWithoutThisProject(dir.resolve("repository"));
    Path fakeBin = Files.createDirectories(dir.resolve("bin"));
    Path mvn =
        Files.writeString(
            fakeBin.resolve("mvn"), "#!/bin/sh\necho \"mvn was called: $*\" >&2\nexit 97\n");
    Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));

    AtomicInteger downloads = new AtomicInteger();
    HttpServer central = mavenCentral(downloads);
    try {
      Shell shell =
          new Shell(dir)
              .in(clone)
              .env("CRAQ_SKIP_BUILD", null)
              .env("PATH", fakeBin + ":" + System.getenv("PATH"))
              .env("MAVEN_USER_HOME", dir.resolve("maven-user-home").toString())
              .env("MVNW_REPOURL", "http://127.0.0.1:" + central.getAddress().getPort() + "/maven2")
              .env("no_proxy", "127.0.0.1,localhost")
              .env("NO_PROXY", "127.0.0.1,localhost")
              .env("MAVEN_OPTS", "-Dmaven.repo.local=" + repository)
              .env("MAVEN_ARGS", "-o");

      // The README's one-module test command, on a clone nothing was ever installed from.
      Shell.Result oneModule = shell.run(line(readme, "bin/test -pl store"), BUILD);
      assertEquals(0, oneModule.exitCode(), oneModule.toString());
      assertTrue(oneModule.out().contains("Tests run:"), oneModule.toString());
      assertEquals(1, downloads.get(), "the wrapper fetched Maven once");
      assertTrue(
          shell
              .run("./mvnw -v", BUILD)
              .out()
              .contains(dir.resolve("maven-user-home").resolve("wrapper/dists").toString()));

      // A launcher builds the project itself, module by module, and never with mvn.
      Shell.Result firstRun = shell.run("bin/craq --version", BUILD);
      assertEquals(0, firstRun.exitCode(), firstRun.toString());
      assertTrue(firstRun.out().startsWith("craq 0.1.0-SNAPSHOT\n"), firstRun.toString());
      assertTrue(firstRun.err().contains("craq: building CRAQ client"), firstRun.toString());
      assertFalse(firstRun.err().contains("mvn was called"), firstRun.toString());

      // A source folder outside the build's modules does not make the jars stale; a module's does.
      Path stray = Files.createDirectories(clone.resolve("notes/src"));
      Files.writeString(stray.resolve("todo.txt"), "not part of the build");
      Path jar = clone.resolve("client/cli/target/craq.jar");
      Files.setLastModifiedTime(
          stray.resolve("todo.txt"),
          FileTime.from(Files.getLastModifiedTime(jar).toInstant().plusSeconds(60)));
      Shell.Result again = shell.run("bin/craq --version", BUILD);
      assertEquals(0, again.exitCode(), again.toString());
      assertFalse(again.err().contains("building"), again.toString());
      String stale =
          ". bin/launcher-env && if craq_stale client/cli/target/craq.jar; then"
              + " echo stale; else echo current; fi";
      assertEquals("current\n", shell.run(stale, BUILD).out());
      Path source = clone.resolve("core/src/main/java/io/craq/core/Limits.java");
      Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(60)));
      assertEquals("stale\n", shell.run(stale, BUILD).out());

      writeAStore(shell, readme, clone);
    } finally {
      central.stop(0);
    }
  }

  /** The README's store-writer steps: install, then a project of one's own with its snippets. */
  private void writeAStore(Shell shell, String readme, Path clone) throws IOException {
    String section = readme.substring(readme.indexOf("\n## Writing a new store"));
    Shell.Result install = shell.run(line(section, "./mvnw -pl store"), BUILD);
    assertEquals(0, install.exitCode(), install.toString());

    Path project = dir.resolve("my-store");
    Path test = Files.createDirectories(project.resolve("src/test/java"));
    Files.writeString(
        project.resolve("pom.xml"),
        """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>example</groupId>
          <artifactId>my-store</artifactId>
          <version>1</version>
          <properties>
            <maven.compiler.release>21</maven.compiler.release>
            <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
          </properties>
          <dependencies>
        %s
          </dependencies>
          <build>
            <plugins>
              <plugin>
                <artifactId>maven-resources-plugin</artifactId><version>3.3.1</version>
              </plugin>
              <plugin>
                <artifactId>maven-compiler-plugin</artifactId><version>3.16.0</version>
              </plugin>
              <plugin>
                <artifactId>maven-surefire-plugin</artifactId><version>3.6.1</version>
              </plugin>
            </plugins>
          </build>
        </project>
        """
            .formatted(block(section, "```xml")));
    // A store that keeps nothing across a restart leaves reopen out, as the README says.
    String suite =
        block(section, "```java")
            .lines()
            .filter(l -> !l.contains("reopen"))
            .reduce("", (a, b) -> a + b + "\n");
    Files.writeString(test.resolve("MyStorerConformanceTest.java"), suite);
    Files.writeString(
        test.resolve("MyStorer.java"),
        """
        import io.craq.store.MemoryStorer;
        import io.craq.store.Storer;
        import java.nio.file.Path;

        final class MyStorer {
          static Storer open(Path directory) {
            return new MemoryStorer();
          }
        }
        """);
    Shell.Result suiteRun =
        shell.run(clone.resolve("mvnw") + " -B -f " + project.resolve("pom.xml") + " test", BUILD);
    assertEquals(0, suiteRun.exitCode(), suiteRun.toString());
    assertTrue(
        suiteRun.out().matches("(?s).*Tests run: [1-9]\\d+, Failures: 0, Errors: 0.*"),
        suiteRun.toString());
  }

  /**
   * The first command in {@code text} that starts with {@code start}: to the end of its line, or of
   * its code span when it is written inline.
   */
  private static String line(String text, String start) {
    int from = text.indexOf(start);
    assertTrue(from >= 0, "no command starting with " + start);
    int lineEnd = text.indexOf('\n', from);
    int spanEnd = text.indexOf('`', from);
    int end = spanEnd >= 0 && (lineEnd < 0 || spanEnd < lineEnd) ? spanEnd : lineEnd;
    return text.substring(from, end < 0 ? text.length() : end).strip();
  }

  /** The body of the first fenced block opened by {@code fence}, unindented. */
  private static String block(String text, String fence) {
    int start = text.indexOf(fence);
    int end = text.indexOf("```", start + fence.length());
    assertTrue(start >= 0 && end > start, "no " + fence + " block");
    return text.substring(text.indexOf('\n', start) + 1, end).stripIndent();
  }

  /**
   * The project's files as a clone has them: git's tracked and new files, or without git every file
   * outside build output and hidden folders (but .mvn and .ci).
   */
  private static Path copySources(Path clone) throws IOException, InterruptedException {
    for (String name : sourceFiles()) {
      Path from = Shell.ROOT.resolve(name);
      if (name.isEmpty() || !Files.isRegularFile(from)) {
        continue; // deleted in the working tree, not yet committed
      }
      Path to = clone.resolve(name);
      Files.createDirectories(to.getParent());
      Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
    }
    return clone;
  }

  private static List<String> sourceFiles() throws IOException, InterruptedException {
    if (Files.exists(Shell.ROOT.resolve(".git"))) {
      Process git =
          new ProcessBuilder(
                  "git",
                  "-C",
                  Shell.ROOT.toString(),
                  "ls-files",
                  "--cached",
                  "--others",
                  "--exclude-standard",
                  "-z")
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      byte[] names = git.getInputStream().readAllBytes();
      if (git.waitFor() == 0) {
        return List.of(new String(names, StandardCharsets.UTF_8).split("\0"));
      }
    }
    try (Stream<Path> walk = Files.walk(Shell.ROOT)) {
      return walk.filter(Files::isRegularFile)
          .map(p -> Shell.ROOT.relativize(p).toString())
          .filter(name ->
              Stream.of(name.split("/"))
                  .noneMatch(part ->
                      part.equals("target")
                          || (part.startsWith(".") && !part.equals(".mvn") && !part.equals(".ci"))))
          .toList();
    }
  }

  /** The local repository this build uses, minus io/craq: nothing of this project installed. */
  private static Path repositoryWithoutThisProject(Path farm) throws IOException {
    Path real = Path.of(System.getProperty("craq.maven.repo.local"));
    Files.createDirectories(farm.resolve("io"));
    try (Stream<Path> top = Files.list(real)) {
      for (Path entry : top.toList()) {
        if (!entry.getFileName().toString().equals("io")) {
          Files.createSymbolicLink(farm.resolve(entry.getFileName()), entry);
        }
      }
    }
    if (Files.isDirectory(real.resolve("io"))) {
      try (Stream<Path> io = Files.list(real.resolve("io"))) {
        for (Path entry : io.toList()) {
          if (!entry.getFileName().toString().equals("craq")) {
            Files.createSymbolicLink(farm.resolve("io").resolve(entry.getFileName()), entry);
          }
        }
      }
    }
    return farm;
  }

  /**
   * Serves the Maven distribution the wrapper asks for (this build's own Maven, zipped under the
   * name the wrapper expects) on 127.0.0.1, counting downloads.
   */
  private HttpServer mavenCentral(AtomicInteger downloads) throws IOException {
    String url =
        Files.readAllLines(Shell.ROOT.resolve(".mvn/wrapper/maven-wrapper.properties")).stream()
            .filter(l -> l.startsWith("distributionUrl="))
            .findFirst()
            .orElseThrow();
    String path = "/maven2" + url.substring(url.indexOf("/org/apache/maven/"));
    String zipName = path.substring(path.lastIndexOf('/') + 1);
    Path zip =
        zipDirectory(
            Path.of(System.getProperty("craq.maven.home")),
            zipName.replace("-bin.zip", ""),
            dir.resolve(zipName));
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          boolean found = exchange.getRequestURI().getPath().equals(path);
          if (found) {
            downloads.incrementAndGet();
          }
          byte[] body = found ? Files.readAllBytes(zip) : new byte[0];
          exchange.sendResponseHeaders(found ? 200 : 404, found ? body.length : -1);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return server;
  }

  /** Zips {@code folder} as {@code topName/...}, keeping permissions (bin/mvn is executable). */
  private static Path zipDirectory(Path folder, String topName, Path zip) throws IOException {
    URI uri = URI.create("jar:" + zip.toUri());
    try (FileSystem out =
            FileSystems.newFileSystem(
                uri, Map.of("create", "true", "enablePosixFileAttributes", "true"));
        Stream<Path> walk = Files.walk(folder)) {
      for (Path file : walk.filter(Files::isRegularFile).toList()) {
        Path entry = out.getPath(topName, folder.relativize(file).toString());
        Files.createDirectories(entry.getParent());
        Files.copy(file, entry);
        Files.setPosixFilePermissions(entry, Files.getPosixFilePermissions(file));
      }
    }
    return zip;
  }
}

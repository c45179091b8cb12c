package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** bin/craq, bin/craq-node and bin/craq-coordinator started as a user starts them. */
@Timeout(120)
class LaunchersIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"craq", "craq-node", "craq-coordinator"})
  @DisplayName(
      "--version prints one format in all three commands; a usage error is the reason"
          + " and one hint line, exit 2")
  void versionAndUsageErrors(String command) {
    Shell shell = new Shell(dir);
    Shell.Result version = shell.run("bin/" + command + " --version", WAIT);
    assertEquals(0, version.exitCode(), version.toString());
    assertTrue(
        version
            .out()
            .matches(
                Pattern.quote(command) + " \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\nJava \\S+ \\(.+\\)\\n"),
        version.toString());

    Shell.Result usage = shell.run("bin/" + command + " --no-such-flag", WAIT);
    assertEquals(2, usage.exitCode(), usage.toString());
    List<String> lines = usage.errLines();
    assertEquals(command + ": Unknown option: '--no-such-flag'", lines.get(0), usage.toString());
    assertEquals(
        "Try '" + command + " --help' for more information.",
        lines.get(lines.size() - 1),
        usage.toString());
    assertTrue(lines.size() <= 3, usage.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"craq-node --store memory", "craq-coordinator -d DATA"})
  @DisplayName("a port in use: one line on stderr and exit 1, no stack trace")
  void portInUse(String command) throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Shell.Result result =
          new Shell(dir)
              .run(
                  "bin/"
                      + command.replace("DATA", dir.resolve("coordinator").toString())
                      + " -a 127.0.0.1:"
                      + taken.getLocalPort(),
                  WAIT);
      assertEquals(1, result.exitCode(), result.toString());
      assertEquals(1, result.errLines().size(), result.toString());
      assertTrue(
          result
              .err()
              .contains(
                  "cannot start: cannot listen on 127.0.0.1:"
                      + taken.getLocalPort()
                      + ": Address already in use; choose another address with"
                      + " -a/--listen"),
          result.toString());
    }
  }

  @Test
  @DisplayName("every script builds with the Maven wrapper: none runs mvn itself")
  void noScriptRunsMvn() throws IOException {
    Pattern runsMvn = Pattern.compile("(^|[;&|(`]|\\$\\()\\s*(exec\\s+)?mvn(\\s|$)");
    List<String> offenders = new ArrayList<>();
    List<Path> scripts = new ArrayList<>();
    for (String folder : List.of("bin", "store/bin", ".ci")) {
      try (Stream<Path> files = Files.list(Shell.ROOT.resolve(folder))) {
        files.filter(Files::isRegularFile).forEach(scripts::add);
      }
    }
    assertTrue(scripts.size() >= 8, scripts.toString());
    for (Path script : scripts) {
      List<String> lines = Files.readAllLines(script, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String code = lines.get(i).replaceFirst("^\\s*#.*", "");
        if (runsMvn.matcher(code).find()) {
          offenders.add(script + ":" + (i + 1) + ": " + lines.get(i));
        }
      }
    }
    assertEquals(List.of(), offenders);
  }
}

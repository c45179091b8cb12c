package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's walkthrough, read from the README itself and run line by line against {@code
 * bin/craq-cluster}, so the README stays true. A comment {@code # prints...: TEXT} is the expected
 * stdout ({@code <TAB>} a tab, {@code , then } a line break, a trailing {@code (...)} an aside),
 * {@code # exits N} the expected exit code (and nothing on stdout); any other line must exit 0. The
 * README's default ports (1234 for the coordinator, 1235.. for the nodes) are moved to the free
 * ports the test cluster runs on.
 */
@Timeout(400)
class ReadmeWalkthroughIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Pattern COMMENTED = Pattern.compile("^(.*?\\S)\\s+#\\s+(.*)$");
  private static final Pattern PRINTS = Pattern.compile("^prints[^:]*: (.*?)(\\s{2,}\\(.*\\))?$");
  private static final Pattern EXITS = Pattern.compile("^exits (\\d+)\\b.*");
  private static final Pattern DEFAULT_PORT = Pattern.compile(":(123[4-9])\\b");

  @TempDir Path dir;

  /** One walkthrough line: the command and what its comment promises (out null: unchecked). */
  record Step(String command, String out, int exitCode) {}

  static List<Step> walkthrough(String readme) {
    int section = readme.indexOf("\n## Using it");
    int start = readme.indexOf("```sh\n", section) + "```sh\n".length();
    int end = readme.indexOf("```", start);
    assertTrue(section > 0 && start > section && end > start, "no walkthrough in the README");
    List<Step> steps = new ArrayList<>();
    for (String line : readme.substring(start, end).lines().toList()) {
      if (line.isBlank()) {
        continue;
      }
      Matcher commented = COMMENTED.matcher(line);
      if (!commented.matches()) {
        steps.add(new Step(line.strip(), null, 0));
        continue;
      }
      String comment = commented.group(2);
      Matcher prints = PRINTS.matcher(comment);
      Matcher exits = EXITS.matcher(comment);
      if (prints.matches()) {
        steps.add(
            new Step(
                commented.group(1),
                prints.group(1).replace("<TAB>", "\t").replace(", then ", "\n") + "\n",
                0));
      } else if (exits.matches()) {
        steps.add(new Step(commented.group(1), "", Integer.parseInt(exits.group(1))));
      } else {
        steps.add(new Step(commented.group(1), null, 0));
      }
    }
    return steps;
  }

  /** The README's default ports replaced by the test cluster's. */
  static String onPorts(String command, int basePort) {
    Matcher m = DEFAULT_PORT.matcher(command);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, ":" + (basePort + Integer.parseInt(m.group(1)) - 1234));
    }
    return m.appendTail(out).toString();
  }

  @Test
  @DisplayName("the README's comments are read as intended")
  void parsing() {
    List<Step> steps =
        walkthrough(
            "x\n## Using it\n\n```sh\n"
                + "bin/craq write hello \"world\"   # prints the committed version: 1\n"
                + "bin/craq readall   # prints: a<TAB>b, then c<TAB>d   (an aside)\n"
                + "bin/craq read gone    # exits 1: not found\n"
                + "bin/craq chain     # members\n```\n");
    assertEquals(
        List.of(
            new Step("bin/craq write hello \"world\"", "1\n", 0),
            new Step("bin/craq readall", "a\tb\nc\td\n", 0),
            new Step("bin/craq read gone", "", 1),
            new Step("bin/craq chain", null, 0)),
        steps);
    assertEquals(
        "bin/craq -c :5000 -n :5002 read", onPorts("bin/craq -c :1234 -n :1236 read", 5000));
  }

  @Test
  @DisplayName(
      "the README's walkthrough against bin/craq-cluster: output and exit codes as the"
          + " README says; then, with the coordinator stopped, read, readall and chain all refuse")
  void walkthroughAsWritten() throws IOException {
    String readme = Files.readString(Shell.ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    List<Step> steps = walkthrough(readme);
    assertTrue(steps.size() >= 8, steps.toString());
    Shell shell = new Shell(dir);
    try (ClusterScript cluster = new ClusterScript(shell, dir.resolve("data"))) {
      shell.env("CRAQ_COORDINATOR", cluster.coordinator());
      for (Step step : steps) {
        String command = onPorts(step.command(), cluster.basePort);
        Shell.Result result = shell.run(command, WAIT);
        assertEquals(step.exitCode(), result.exitCode(), command + "\n" + result);
        if (step.out() != null) {
          assertEquals(step.out(), result.out(), command + "\n" + result);
        }
      }

      // -c names the cluster explicitly; nothing at the default ports is asked.
      shell.env("CRAQ_COORDINATOR", null);
      Shell.Result explicit =
          shell.run("bin/craq -c " + cluster.coordinator() + " read notes", WAIT);
      assertEquals("two\nlines\n", explicit.out(), explicit.toString());

      // Without the coordinator the nodes' leases run out: strong reads and scans refuse alike.
      Shell.signal(cluster.started("coordinator").pid(), "KILL");
      String node = "127.0.0.1:" + cluster.nodePort(1);
      Shell.waitFor(
          "strong reads to refuse",
          WAIT,
          () ->
              shell
                      .run("bin/craq --timeout-millis 1000" + " -n " + node + " read notes", WAIT)
                      .exitCode()
                  == 3,
          () -> "");
      Shell.Result scan = shell.run("bin/craq --timeout-millis 1000 -n " + node + " readall", WAIT);
      assertEquals(3, scan.exitCode(), scan.toString());
      assertEquals("", scan.out());
      Shell.Result eventual =
          shell.run(
              "bin/craq --timeout-millis 1000 -n " + node + " readall --consistency eventual",
              WAIT);
      assertEquals(0, eventual.exitCode(), eventual.toString());
      assertEquals("notes\ttwo\\nlines\nvisits\t10\n", eventual.out());
      Shell.Result chain =
          shell.run("bin/craq --timeout-millis 1000 -c " + cluster.coordinator() + " chain", WAIT);
      assertEquals(3, chain.exitCode(), chain.toString());
      assertFalse(chain.err().isEmpty());
    }
  }
}

package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/craq-cluster --zookeeper} as a user operates it: a ZooKeeper ensemble, three
 * coordinators and three nodes, a key written and read with the printed {@code craq} command, the
 * leading coordinator killed, the key read again, and Ctrl-C stopping every process it started.
 */
@Timeout(600)
class CraqClusterZooKeeperScriptIT {
  private static final Duration UP_TIMEOUT = Duration.ofSeconds(240);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Pattern STARTED =
      Pattern.compile("craq-cluster: started (\\S+) \\(pid (\\d+)\\): (.*)");
  private static final Pattern LEADS = Pattern.compile("craq-cluster: (c\\d) leads \\((\\S+)\\).*");
  private static final Pattern NOW_LEADS =
      Pattern.compile("craq-cluster: (c\\d) now leads \\((\\S+)\\)");
  private static final Pattern CRAQ = Pattern.compile(" {2}(bin/craq -c \\S+) write hello world");

  @TempDir Path dir;

  @Test
  @DisplayName(
      "3 ZooKeeper servers, 3 coordinators, 3 nodes: a key written and read, the leading"
          + " coordinator killed, another takes over, the key read again and another written;"
          + " Ctrl-C stops every process it printed")
  void failover() {
    Assumptions.assumeFalse(
        ClusterScript.sigintIgnored(),
        "SIGINT is ignored in this test JVM (the build was started in the background), so"
            + " Ctrl-C cannot stop bin/craq-cluster; run bin/test in the foreground to test it");
    Shell shell = new Shell(dir);
    // The ZooKeeper layout uses BASE+21..BASE+40+N.
    int base = Shell.freePorts(84);
    Shell.Running script =
        shell.start(
            "exec bin/craq-cluster --zookeeper --base-port "
                + base
                + " --data "
                + dir.resolve("data")
                + " --memory");
    try {
      Shell.waitFor(
          "the cluster up, or the script's exit",
          UP_TIMEOUT,
          () -> !script.process.isAlive() || script.out().contains("CRAQ cluster is up on"),
          () -> "--- stdout\n" + script.out() + "--- stderr\n" + script.err());
      assertTrue(
          script.out().contains("CRAQ cluster is up on ZooKeeper"),
          "--- stdout\n" + script.out() + "--- stderr\n" + script.err());
      Map<String, Long> started = started(script);
      assertEquals(
          List.of("zk1", "zk2", "zk3", "c1", "c2", "c3", "n1", "n2", "n3"),
          new ArrayList<>(started.keySet()),
          script.err());
      String out = script.out();
      for (Map.Entry<String, Long> process : started.entrySet()) {
        assertTrue(
            out.lines()
                .anyMatch(line ->
                    line.startsWith("  " + process.getKey() + " ")
                        && line.contains(" pid " + process.getValue() + " ")
                        && line.contains(
                            dir.resolve("data/logs/" + process.getKey() + ".log").toString())),
            "where " + process.getKey() + " is, in\n" + out);
      }
      assertTrue(
          out.contains(
              "ZooKeeper connect string: 127.0.0.1:"
                  + (base + 21)
                  + ",127.0.0.1:"
                  + (base + 22)
                  + ",127.0.0.1:"
                  + (base + 23)
                  + "/craq-local"),
          out);

      Matcher command = CRAQ.matcher("");
      for (String line : out.lines().toList()) {
        command = CRAQ.matcher(line);
        if (command.matches()) {
          break;
        }
      }
      assertTrue(command.matches(), out);
      String craq = command.group(1);
      assertEquals(
          "bin/craq -c 127.0.0.1:"
              + (base + 31)
              + ",127.0.0.1:"
              + (base + 32)
              + ",127.0.0.1:"
              + (base + 33),
          craq);

      Shell.Result written = shell.run(craq + " write k1 v1", WAIT);
      assertEquals(0, written.exitCode(), written.toString());
      Shell.Result read = shell.run(craq + " read k1", WAIT);
      assertEquals(0, read.exitCode(), read.toString());
      assertEquals("v1\n", read.out());

      // Kill the leading coordinator: another one takes over.
      Matcher leads = LEADS.matcher(script.awaitLine(line -> LEADS.matcher(line).matches(), WAIT));
      assertTrue(leads.matches());
      String leader = leads.group(1);
      long killedAt = System.nanoTime();
      Shell.signal(started.get(leader), "KILL");
      Matcher next =
          NOW_LEADS.matcher(
              script.awaitLine(
                  line -> {
                    Matcher m = NOW_LEADS.matcher(line);
                    return m.matches() && !m.group(1).equals(leader);
                  },
                  WAIT));
      assertTrue(next.matches());
      System.out.printf(
          "%s killed, %s leads after %.1f s (as this test sees it)%n",
          leader, next.group(1), (System.nanoTime() - killedAt) / 1e9);
      assertNotEquals(leader, next.group(1));

      String[] again = new String[1];
      Shell.waitFor(
          "k1 read after the failover",
          WAIT,
          () -> {
            Shell.Result result = shell.run(craq + " read k1", WAIT);
            again[0] = result.toString();
            return result.exitCode() == 0;
          },
          () -> again[0] + "\n--- cluster\n" + script.err());
      Shell.Result readAgain = shell.run(craq + " read k1", WAIT);
      assertEquals("v1\n", readAgain.out(), readAgain.toString());
      Shell.Result writtenAfter = shell.run(craq + " write k2 v2", WAIT);
      assertEquals(0, writtenAfter.exitCode(), writtenAfter.toString());
      assertEquals("v2\n", shell.run(craq + " read k2", WAIT).out());

      // Ctrl-C stops everything, ZooKeeper last.
      script.signal("INT");
      Shell.Result stopped = script.await(Duration.ofSeconds(120));
      assertTrue(stopped.err().contains("craq-cluster: stopped"), stopped.toString());
      for (Map.Entry<String, Long> process : started.entrySet()) {
        assertFalse(
            Shell.alive(process.getValue()),
            process.getKey() + " (pid " + process.getValue() + ") stopped");
      }
    } finally {
      if (script.process.isAlive()) {
        script.signal("INT");
        script.await(Duration.ofSeconds(120));
      }
      for (long pid : started(script).values()) {
        if (Shell.alive(pid)) {
          Shell.signal(pid, "KILL");
        }
      }
    }
  }

  /** The processes the script said it started, by name. */
  private static Map<String, Long> started(Shell.Running script) {
    Map<String, Long> started = new LinkedHashMap<>();
    for (String line : script.err().lines().toList()) {
      Matcher m = STARTED.matcher(line);
      if (m.matches()) {
        started.put(m.group(1), Long.parseLong(m.group(2)));
      }
    }
    return started;
  }
}

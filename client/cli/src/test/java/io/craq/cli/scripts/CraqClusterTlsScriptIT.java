package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/craq-cluster --tls}: certificates made in the data folder, every process started with
 * its own, and the printed {@code craq} command (with the client certificate) writes and reads; the
 * same command without TLS is refused.
 */
@Timeout(600)
class CraqClusterTlsScriptIT {
  private static final Duration UP_TIMEOUT = Duration.ofSeconds(240);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Pattern STARTED =
      Pattern.compile("craq-cluster: started (\\S+) \\(pid (\\d+)\\): (.*)");
  private static final Pattern CRAQ = Pattern.compile(" {2}(bin/craq -c .*) write hello world");

  @TempDir Path dir;

  @Test
  @DisplayName("--tls: each process its own certificate; the printed craq command writes and reads")
  void tls() throws Exception {
    Assumptions.assumeFalse(
        ClusterScript.sigintIgnored(),
        "SIGINT is ignored in this test JVM (the build was started in the background), so"
            + " Ctrl-C cannot stop bin/craq-cluster; run bin/test in the foreground to test it");
    Shell shell = new Shell(dir);
    int base = Shell.freePorts(64);
    Path data = dir.resolve("data");
    Shell.Running script =
        shell.start(
            "exec bin/craq-cluster --tls --nodes 2 --memory --base-port "
                + base
                + " --data "
                + data);
    List<Long> pids = new ArrayList<>();
    try {
      Shell.waitFor(
          "the cluster up, or the script's exit",
          UP_TIMEOUT,
          () -> !script.process.isAlive() || script.out().contains("CRAQ cluster is up"),
          () -> "--- stdout\n" + script.out() + "--- stderr\n" + script.err());
      assertTrue(
          script.out().contains("CRAQ cluster is up"),
          "--- stdout\n" + script.out() + "--- stderr\n" + script.err());
      for (String line : script.err().lines().toList()) {
        Matcher m = STARTED.matcher(line);
        if (m.matches()) {
          pids.add(Long.parseLong(m.group(2)));
          String name = m.group(1);
          assertTrue(
              m.group(3).contains("--tls-cert " + data.resolve("tls/" + name + ".pem")), line);
        }
      }
      assertEquals(3, pids.size(), script.err());
      for (String key : List.of("ca-key.pem", "n1-key.pem", "admin-key.pem")) {
        assertTrue(Files.exists(data.resolve("tls").resolve(key)), key);
      }

      String craq = null;
      for (String line : script.out().lines().toList()) {
        Matcher command = CRAQ.matcher(line);
        if (command.matches()) {
          craq = command.group(1);
          break;
        }
      }
      assertTrue(craq != null && craq.contains(" --tls-ca "), script.out());
      Shell.Result written = shell.run(craq + " write hello world", WAIT);
      assertEquals(0, written.exitCode(), written.toString());
      Shell.Result read = shell.run(craq + " read hello", WAIT);
      assertEquals("world\n", read.out(), read.toString());
      Shell.Result plain = shell.run("bin/craq -c 127.0.0.1:" + base + " read hello", WAIT);
      assertNotEquals(0, plain.exitCode(), plain.toString());

      script.signal("INT");
      Shell.Result stopped = script.await(Duration.ofSeconds(120));
      assertTrue(stopped.err().contains("craq-cluster: stopped"), stopped.toString());
      for (long pid : pids) {
        assertFalse(Shell.alive(pid), "pid " + pid + " stopped");
      }
    } finally {
      if (script.process.isAlive()) {
        script.signal("INT");
        script.await(Duration.ofSeconds(120));
      }
      for (long pid : pids) {
        if (Shell.alive(pid)) {
          Shell.signal(pid, "KILL");
        }
      }
    }
  }
}

package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code redis-cli} and {@code redis-benchmark} (Debian's redis-tools) against the Redis ports
 * {@code bin/craq-cluster} gives its nodes; skipped, saying so, where they are not installed.
 */
@Timeout(300)
class RedisToolsScriptIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private static boolean installed(Shell shell, String tool) {
    return shell.run("command -v " + tool, WAIT).exitCode() == 0;
  }

  private static String run(Shell shell, String command) {
    Shell.Result result = shell.run(command, WAIT);
    assertEquals(0, result.exitCode(), command + ": " + result);
    return result.out().strip();
  }

  @Test
  @DisplayName(
      "redis-cli writes at one node and reads at the others, SCAN, INFO, unknown commands, typed"
          + " commands on stdin; craq reads what redis-cli wrote; redis-benchmark runs without"
          + " errors")
  void redisToolsAgainstTheCluster() {
    Shell shell = new Shell(dir);
    for (String tool : List.of("redis-cli", "redis-benchmark")) {
      if (!installed(shell, tool)) {
        System.out.println(
            "RedisToolsScriptIT skipped: " + tool + " is not installed (Debian: redis-tools)");
      }
      Assumptions.assumeTrue(
          installed(shell, tool), tool + " is not installed (Debian package redis-tools)");
    }
    try (ClusterScript cluster = new ClusterScript(shell, dir.resolve("data"), "--memory")) {
      int p1 = cluster.redisPort(1);
      int p2 = cluster.redisPort(2);
      int p3 = cluster.redisPort(3);
      String ports = cluster.script.awaitLine(line -> line.startsWith("Redis protocol"), WAIT);
      assertTrue(ports.contains("n1 127.0.0.1:" + p1 + ", n2 127.0.0.1:" + p2), ports);

      assertEquals("OK", run(shell, "redis-cli -p " + p3 + " set greeting hello"));
      assertEquals("hello", run(shell, "redis-cli -p " + p1 + " get greeting"));
      assertEquals("hello", run(shell, "redis-cli -p " + p2 + " get greeting"));
      assertEquals("hello", run(shell, "bin/craq -c " + cluster.coordinator() + " read greeting"));
      run(shell, "bin/craq -c " + cluster.coordinator() + " write from-craq yes");
      assertEquals("yes", run(shell, "redis-cli -p " + p2 + " get from-craq"));
      assertEquals(
          List.of("OK", "1", "2", "1"),
          run(shell, "printf 'SET n 1\\nGET n\\nEXISTS n greeting\\nDEL n\\n' | redis-cli -p " + p1)
              .lines()
              .toList());
      String keys = run(shell, "redis-cli -p " + p2 + " --scan --pattern 'g*'");
      assertEquals("greeting", keys);
      // One node of the chain says it is the head, one the tail.
      String infos = "";
      for (int port : List.of(p1, p2, p3)) {
        infos += run(shell, "redis-cli -p " + port + " info replication") + "\n";
      }
      assertEquals(1, infos.split("chain0:role=head,", -1).length - 1, infos);
      assertEquals(1, infos.split("chain0:role=tail,", -1).length - 1, infos);
      assertTrue(run(shell, "redis-cli -p " + p1 + " flushall").startsWith("ERR unknown command"));

      String bench = run(shell, "redis-benchmark -p " + p1 + " -t get,set -d 100 -c 8 -n 2000 -q");
      assertTrue(bench.contains("SET: ") && bench.contains("GET: "), bench);
      assertTrue(!bench.contains("ERR"), bench);
    }
  }
}

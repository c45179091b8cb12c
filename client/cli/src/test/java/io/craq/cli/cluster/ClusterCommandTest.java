package io.craq.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of {@code craq cluster} that start no process. */
class ClusterCommandTest {
  @Test
  @DisplayName("options: numbers in range, else the reason bin/craq-cluster has always given")
  void settings() throws Exception {
    assertEquals(
        new ClusterCommand.Settings(1234, 3, 60), ClusterCommand.settings("1234", "3", "60"));
    assertEquals(
        "--nodes must be a number from 1 to 20, got '21'",
        assertThrows(
                ClusterCommand.UsageError.class, () -> ClusterCommand.settings("1234", "21", "60"))
            .getMessage());
    assertThrows(ClusterCommand.UsageError.class, () -> ClusterCommand.settings("1234", "x", "60"));
    assertEquals(
        "--wait-seconds must be a positive number, got '0'",
        assertThrows(
                ClusterCommand.UsageError.class, () -> ClusterCommand.settings("1234", "3", "0"))
            .getMessage());
    assertEquals(
        "--base-port must be a port from 1 to 65472, got '65473'",
        assertThrows(
                ClusterCommand.UsageError.class, () -> ClusterCommand.settings("65473", "3", "60"))
            .getMessage());
  }

  @Test
  @DisplayName(
      "--chains and --replicas: numbers in range, passed to the coordinator when given, and the"
          + " summary names the chains the cluster formed with")
  void chainsAndReplicas() throws Exception {
    assertEquals(
        new ClusterCommand.Settings(1234, 4, 60, 4, 3),
        ClusterCommand.settings("1234", "4", "60", false, "4", "3"));
    assertEquals(
        new ClusterCommand.Settings(1234, 4, 60, 0, 2),
        ClusterCommand.settings("1234", "4", "60", false, null, "2"));
    assertEquals(
        "--chains must be a number from 1 to 1024, got '0'",
        assertThrows(
                ClusterCommand.UsageError.class,
                () -> ClusterCommand.settings("1234", "3", "60", false, "0", null))
            .getMessage());
    assertEquals(
        "--replicas must be a number from 1 to 64, got 'x'",
        assertThrows(
                ClusterCommand.UsageError.class,
                () -> ClusterCommand.settings("1234", "3", "60", false, null, "x"))
            .getMessage());
    assertEquals(List.of(), LocalProcesses.chainArgs(0, 0));
    assertEquals(List.of("--chains", "4", "--replicas", "3"), LocalProcesses.chainArgs(4, 3));
    assertEquals(List.of(), LocalProcesses.expectArgs(1, 3));
    assertEquals(List.of("--expect-nodes", "6"), LocalProcesses.expectArgs(4, 6));

    Member a = new Member("a", "127.0.0.1:1", 1, 1, true);
    Member b = new Member("b", "127.0.0.1:2", 1, 1, true);
    ChainConfig ab = new ChainConfig(1, List.of(a, b));
    assertEquals(
        "1 chain", ClusterCommand.describeChains(new ChainMap(1, 64, List.of(ab), List.of())));
    assertEquals(
        "1 chain of 2 replicas",
        ClusterCommand.describeChains(new ChainMap(1, 2, List.of(ab), List.of())));
    assertEquals(
        "2 chains of 2 replicas",
        ClusterCommand.describeChains(new ChainMap(1, 2, List.of(ab, ab), List.of())));

    CraqRun range = CraqRun.of("cluster", "--chains", "2000");
    assertEquals(2, range.exitCode(), range.err());
    assertEquals(
        "craq-cluster: --chains must be a number from 1 to 1024, got '2000'",
        range.err().lines().findFirst().orElseThrow());
    assertTrue(CraqRun.of("cluster", "--help").out().contains("--replicas"));
  }

  @Test
  @DisplayName(
      "with --zookeeper: every port apart from those of the default mode on the same base, none"
          + " twice, and the base port leaves room for them")
  void zooKeeperLayout() throws Exception {
    ClusterCommand.Layout layout = new ClusterCommand.Layout(1234, 3, true);
    assertEquals(
        List.of("127.0.0.1:1265", "127.0.0.1:1266", "127.0.0.1:1267"), layout.coordinators());
    assertEquals("127.0.0.1:1275", layout.node(1));
    assertEquals(
        List.of(
            new ZooKeeperEnsemble.Ports(1255, 1258, 1261),
            new ZooKeeperEnsemble.Ports(1256, 1259, 1262),
            new ZooKeeperEnsemble.Ports(1257, 1260, 1263)),
        layout.zooKeeper());
    assertEquals(
        "ZooKeeper clients 1255-1257, followers 1258-1260, elections 1261-1263; coordinators"
            + " 1265-1267; nodes 1275-1277 (127.0.0.1)",
        layout.describe());
    List<Integer> ports = layout.ports();
    assertEquals("127.0.0.1:1315", layout.redis(1));
    assertEquals(9 + 3 + 3 + 3, ports.size());
    assertEquals(ports.size(), new HashSet<>(ports).size(), ports.toString());
    // The default mode with the most nodes on the same base: 1234..1254, Redis ports 1295..1314.
    List<Integer> defaults = new ClusterCommand.Layout(1234, 20, false).ports();
    assertEquals(1234, defaults.getFirst());
    assertEquals(1314, defaults.getLast());
    assertEquals("127.0.0.1:1295", new ClusterCommand.Layout(1234, 20, false).redis(1));
    for (int port : new ClusterCommand.Layout(1234, 20, true).ports()) {
      assertFalse(defaults.contains(port), port + " is a port of the default mode");
    }
    assertEquals(
        List.of("127.0.0.1:1234"), new ClusterCommand.Layout(1234, 3, false).coordinators());
    assertEquals(List.of(), new ClusterCommand.Layout(1234, 3, false).zooKeeper());

    assertEquals(
        new ClusterCommand.Settings(65452, 3, 60),
        ClusterCommand.settings("65452", "3", "60", true));
    assertEquals(
        "--base-port must be a port from 1 to 65452 with --zookeeper, got '65453'",
        assertThrows(
                ClusterCommand.UsageError.class,
                () -> ClusterCommand.settings("65453", "3", "60", true))
            .getMessage());
  }

  @Test
  @DisplayName("a usage error is the reason and one hint line naming the command, exit 2")
  void usageErrors() {
    CraqRun missing = CraqRun.of("cluster", "--usage-name", "bin/craq-cluster", "--nodes");
    assertEquals(2, missing.exitCode(), missing.err());
    assertEquals(
        List.of(
            "craq-cluster: --nodes needs a value",
            "Try 'bin/craq-cluster --help' for more information."),
        missing.err().lines().toList());

    CraqRun unknown = CraqRun.of("cluster", "--frobnicate");
    assertEquals(2, unknown.exitCode(), unknown.err());
    assertEquals(
        List.of(
            "craq-cluster: unknown argument '--frobnicate'",
            "Try 'craq cluster --help' for more information."),
        unknown.err().lines().toList());

    CraqRun range = CraqRun.of("cluster", "--nodes", "0");
    assertEquals(2, range.exitCode(), range.err());
    assertEquals(2, range.err().lines().count(), range.err());

    CraqRun help = CraqRun.of("cluster", "--help");
    assertEquals(0, help.exitCode(), help.err());
    assertTrue(help.out().contains("--base-port"), help.out());
    assertTrue(help.out().contains("--zookeeper"), help.out());
    CraqRun version = CraqRun.of("cluster", "--version");
    assertEquals(0, version.exitCode(), version.err());
    assertTrue(version.out().startsWith("craq "), version.out());
  }

  @Test
  @DisplayName("the port check finds the first port something listens on")
  void portInUse() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertEquals(OptionalInt.of(port), ClusterCommand.portInUse("127.0.0.1", port - 2, 3));
      assertFalse(ClusterCommand.portInUse("127.0.0.1", port + 1, 0).isPresent());
    }
  }

  @Test
  @DisplayName("command lines are printed so that a shell runs them as they were started")
  void quoting() {
    assertEquals(
        "/a/bin/craq-node --id n1 -f '/data dir/n1' 'it'\\''s'",
        ClusterCommand.quoted(
            List.of("/a/bin/craq-node", "--id", "n1", "-f", "/data dir/n1", "it's")));
  }

  @Test
  @DisplayName(
      "warnings, errors and stack traces appended to a log reach the terminal with the"
          + " process name; other lines, older lines and a partial line do not")
  void logLines(@TempDir Path dir) throws IOException {
    Path log = dir.resolve("n1.log");
    Files.writeString(log, "WARN before following\n");
    StringWriter terminal = new StringWriter();
    LogLines lines = new LogLines(new PrintWriter(terminal));
    lines.follow("n1", log);
    Files.writeString(
        log,
        "INFO fine\n12:00 WARN slow\njava.io.IOException: boom\n\tat a.B.c(B.java:1)\nERROR half",
        StandardOpenOption.APPEND);
    lines.copyNew();
    assertEquals(
        List.of(
            "[n1] 12:00 WARN slow", "[n1] java.io.IOException: boom", "[n1] \tat a.B.c(B.java:1)"),
        terminal.toString().lines().toList());

    Files.writeString(log, " line\n", StandardOpenOption.APPEND);
    lines.copyNew();
    assertTrue(terminal.toString().endsWith("[n1] ERROR half line\n"), terminal.toString());

    Files.writeString(log, "ERROR after truncation\n");
    lines.copyNew();
    assertTrue(terminal.toString().endsWith("[n1] ERROR after truncation\n"), terminal.toString());
  }
}

package io.craq.cli.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/craq-cluster} as a user operates it: ports, logs, a node restarted by hand. */
@Timeout(300)
class CraqClusterScriptIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  @DisplayName(
      "--base-port, warnings in the terminal, a node stopped and started again by hand"
          + " with its printed command line, and Ctrl-C stopping every process, that one included")
  void operateALocalCluster() throws Exception {
    Shell shell = new Shell(dir);
    try (ClusterScript cluster = new ClusterScript(shell, dir.resolve("data"), "--memory")) {
      assertEquals(
          0, shell.run("bin/craq -c " + cluster.coordinator() + " chain", WAIT).exitCode());

      // A garbage line to a node: its warning reaches the script's terminal.
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), cluster.nodePort(1));
          OutputStream out = socket.getOutputStream()) {
        out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      cluster.script.awaitLine(line -> line.startsWith("[n1] ") && line.contains("WARN"), WAIT);

      // Stop n2, then start it again by hand with the command line the script printed.
      ClusterScript.Started n2 = cluster.started("n2");
      Shell.signal(n2.pid(), "TERM");
      cluster.script.awaitLine(
          line -> line.startsWith("craq-cluster: n2 (pid " + n2.pid() + ") exited"), WAIT);
      Shell.Running again = shell.start(n2.commandLine());
      String back =
          cluster.script.awaitLine(
              line -> line.startsWith("craq-cluster: n2 is running again (pid "), WAIT);
      long againPid = Long.parseLong(back.replaceFirst(".*\\(pid (\\d+)\\)$", "$1"));
      Shell.waitFor(
          "n2 back in the chain",
          WAIT,
          () ->
              shell
                      .run("bin/craq -c " + cluster.coordinator() + " --json chain", WAIT)
                      .out()
                      .split("\"caughtUp\":true", -1)
                      .length
                  == 4,
          () -> cluster.script.err());

      // Ctrl-C stops everything, the node started by hand too.
      Shell.Result stopped = cluster.interrupt();
      assertTrue(stopped.err().contains("craq-cluster: stopped"), stopped.toString());
      assertFalse(Shell.alive(againPid), "the node started by hand is stopped");
      again.await(WAIT);
      for (long pid : cluster.startedPids()) {
        assertFalse(Shell.alive(pid), "pid " + pid + " stopped");
      }
    }
  }

  @Test
  @DisplayName(
      "a usage error is the reason and one hint line (exit 2); a port in use is one"
          + " line (exit 1)")
  void usageErrorAndPortInUse() throws IOException {
    Shell shell = new Shell(dir);
    Shell.Result usage = shell.run("bin/craq-cluster --nodes", WAIT);
    assertEquals(2, usage.exitCode(), usage.toString());
    assertEquals(
        List.of(
            "craq-cluster: --nodes needs a value",
            "Try 'bin/craq-cluster --help' for more information."),
        usage.errLines());

    int base = Shell.freePorts(64);
    try (ServerSocket taken = new ServerSocket(base + 2, 1, InetAddress.getLoopbackAddress())) {
      Shell.Result inUse =
          shell.run(
              "bin/craq-cluster --base-port " + base + " --data " + dir.resolve("data"), WAIT);
      assertEquals(1, inUse.exitCode(), inUse.toString());
      assertEquals(1, inUse.errLines().size(), inUse.toString());
      assertTrue(
          inUse.err().contains("127.0.0.1:" + (base + 2) + " is already in use"), inUse.toString());
    }
  }
}

package io.craq.cli.scripts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * {@code bin/craq-cluster} on free ports, started as a user starts it, stopped with Ctrl-C
 * (SIGINT); every process it reported starting is killed by its PID if still alive at the end.
 */
final class ClusterScript implements AutoCloseable {
  static final Duration UP_TIMEOUT = Duration.ofSeconds(120);
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  private static final Pattern STARTED =
      Pattern.compile("craq-cluster: started (\\S+) \\(pid (\\d+)\\): (.*)");

  /** A process the script started: its PID and the command line it printed for it. */
  record Started(long pid, String commandLine) {}

  final int basePort;
  final Shell.Running script;
  private final Map<String, Started> started = new LinkedHashMap<>();

  /**
   * Starts the cluster with {@code options} and waits until it says it is up. Skips the test when
   * Ctrl-C cannot reach the script: a process started in the background by a non-interactive shell
   * ({@code nohup bin/test &}) ignores SIGINT, and so does everything it starts, the script
   * included.
   */
  ClusterScript(Shell shell, Path data, String... options) {
    Assumptions.assumeFalse(
        sigintIgnored(),
        "SIGINT is ignored in this test JVM (the build was started in the background), so"
            + " Ctrl-C cannot stop bin/craq-cluster; run bin/test in the foreground to test it");
    // Nodes' Redis-protocol ports are base + 61 and up.
    this.basePort = Shell.freePorts(64);
    this.script =
        shell.start(
            "exec bin/craq-cluster --base-port "
                + basePort
                + " --data "
                + data
                + " "
                + String.join(" ", options));
    script.awaitLine(line -> line.startsWith("CRAQ cluster is up"), UP_TIMEOUT);
    for (String line : script.err().lines().toList()) {
      Matcher m = STARTED.matcher(line);
      if (m.matches()) {
        started.put(m.group(1), new Started(Long.parseLong(m.group(2)), m.group(3)));
      }
    }
  }

  /** Whether this process ignores SIGINT (bit 2 of the SigIgn mask in /proc/self/status). */
  static boolean sigintIgnored() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          long mask = Long.parseUnsignedLong(line.substring("SigIgn:".length()).strip(), 16);
          return (mask & (1L << 1)) != 0; // signal n is bit n - 1; SIGINT is 2
        }
      }
    } catch (IOException | NumberFormatException e) {
      return false; // no /proc: assume the default disposition
    }
    return false;
  }

  String coordinator() {
    return "127.0.0.1:" + basePort;
  }

  /** Node nI's port (n1 = base + 1). */
  int nodePort(int i) {
    return basePort + i;
  }

  /** Node nI's Redis-protocol port (n1 = base + 61). */
  int redisPort(int i) {
    return basePort + 60 + i;
  }

  Started started(String name) {
    Started process = started.get(name);
    if (process == null) {
      throw new AssertionError("no process " + name + " in\n" + script.err());
    }
    return process;
  }

  List<Long> startedPids() {
    return started.values().stream().map(Started::pid).toList();
  }

  /** Ctrl-C: SIGINT to the script, then waits for it to exit. */
  Shell.Result interrupt() {
    script.signal("INT");
    return script.await(STOP_TIMEOUT);
  }

  @Override
  public void close() {
    if (script.process.isAlive()) {
      interrupt();
    }
    for (long pid : startedPids()) {
      if (Shell.alive(pid)) {
        Shell.signal(pid, "KILL");
      }
    }
  }
}

package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: help, version, and usage errors with exit code 2. */
class CoordinatorMainTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return CoordinatorMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  @Test
  @DisplayName("--help lists the original one-letter flags and exits 0")
  void help() {
    assertEquals(0, run("--help"));
    for (String flag :
        new String[] {"-a", "-d", "--failure-timeout-millis", "--tick-millis", "--config"}) {
      assertTrue(out.toString().contains(flag), flag + " missing from help:\n" + out);
    }
  }

  @Test
  @DisplayName("--version: the name and version, then the Java running it (as craq prints it)")
  void version() {
    assertEquals(0, run("--version"));
    assertTrue(
        out.toString().matches("craq-coordinator \\S.*\\RJava \\S+ \\(.+\\)\\R"), out.toString());
  }

  @Test
  @DisplayName("a malformed address is a usage error (exit 2): the reason and one hint line")
  void badAddress() {
    assertEquals(2, run("-a", "no-port"));
    assertEquals(
        List.of(
            "craq-coordinator: --listen: address 'no-port' has no port; expected host:port or :port",
            "Try 'craq-coordinator --help' for more information."),
        err.toString().lines().toList());
  }

  @Test
  @DisplayName("a port in use: exit code 1 (one log line, no stack trace; see the launcher tests)")
  void portInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertEquals(
          1,
          run(
              "-d",
              dir.resolve("coordinator").toString(),
              "-a",
              "127.0.0.1:" + taken.getLocalPort()));
    }
  }

  @Test
  void failureTimeoutShorterThanATick() {
    assertEquals(2, run("--failure-timeout-millis", "10", "--tick-millis", "50"));
  }

  @Test
  @DisplayName(
      "a config file with an unknown key is refused, so typos never fall back to " + "defaults")
  void configFileUnknownKey() throws Exception {
    Path file = dir.resolve("coordinator.properties");
    Files.writeString(file, "listne=:9999\n");
    assertEquals(2, run("--config", file.toString()));
    assertTrue(err.toString().contains("listne"), err.toString());
  }

  @Test
  @DisplayName("a config file's values are used, and are validated like flags")
  void configFileValuesApply() throws Exception {
    Path file = dir.resolve("coordinator.properties");
    Files.writeString(file, "listen=bad-address\n");
    assertEquals(2, run("--config=" + file));
    assertTrue(err.toString().contains("--listen"), err.toString());
  }

  @Test
  void missingConfigFile() {
    assertEquals(2, run("--config", dir.resolve("absent.properties").toString()));
  }
}

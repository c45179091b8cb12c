package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.craq.core.message.ChainMap;
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
import org.slf4j.LoggerFactory;

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
        new String[] {
          "-a",
          "-d",
          "--failure-timeout-millis",
          "--tick-millis",
          "--config",
          "--chains",
          "--replicas",
          "--moves-max"
        }) {
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
  @DisplayName("--chains, --replicas and --moves-max out of range are usage errors")
  void chainFlagsOutOfRange() {
    for (String[] args :
        List.of(
            new String[] {"--chains", "0"},
            new String[] {"--chains", "1025"},
            new String[] {"--replicas", "0"},
            new String[] {"--replicas", "65"},
            new String[] {"--moves-max", "0"})) {
      assertEquals(2, run(args), String.join(" ", args));
      assertTrue(err.toString().contains(args[0]), err.toString());
    }
  }

  @Test
  @DisplayName(
      "a stored map with another chain count than --chains: exit 2 before listening, the file"
          + " untouched")
  void otherChainCountRefused() throws Exception {
    Path data = dir.resolve("coordinator");
    new MembershipFile(data).write(ChainMap.empty(4, 3));
    String before = Files.readString(data.resolve(MembershipFile.FILE_NAME));
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root().addAppender(logged);
    try {
      assertEquals(2, run("-d", data.toString(), "-a", "127.0.0.1:0", "--chains", "2"));
      assertEquals(2, run("-d", data.toString(), "-a", "127.0.0.1:0")); // --chains 1
    } finally {
      root().detachAppender(logged);
    }
    List<ILoggingEvent> problems =
        logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
    assertEquals(2, problems.size(), problems.toString());
    for (ILoggingEvent problem : problems) {
      String line = problem.getFormattedMessage();
      assertNull(problem.getThrowableProxy(), "a stack trace for an expected condition");
      assertEquals(1, line.lines().count(), line);
      assertTrue(line.contains("has 4 chains but --chains is"), line);
    }
    assertTrue(problems.get(0).getFormattedMessage().contains("--chains is 2"));
    assertTrue(problems.get(1).getFormattedMessage().contains("--chains is 1"));
    assertEquals(before, Files.readString(data.resolve(MembershipFile.FILE_NAME)));
  }

  private static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Test
  void missingConfigFile() {
    assertEquals(2, run("--config", dir.resolve("absent.properties").toString()));
  }
}

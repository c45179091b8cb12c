package io.craq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
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
class NodeMainTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return NodeMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  @Test
  @DisplayName("--help lists the original one-letter flags and exits 0")
  void help() {
    assertEquals(0, run("--help"));
    for (String flag : new String[] {"-a", "-p", "-c", "-f", "--store", "--id", "--position"}) {
      assertTrue(out.toString().contains(flag), flag + " missing from help:\n" + out);
    }
  }

  @Test
  @DisplayName("--version: the name and version, then the Java running it (as craq prints it)")
  void version() {
    assertEquals(0, run("--version"));
    assertTrue(out.toString().matches("craq-node \\S.*\\RJava \\S+ \\(.+\\)\\R"), out.toString());
  }

  @Test
  @DisplayName("a malformed address is a usage error (exit 2): the reason and one hint line")
  void badAddress() {
    assertEquals(2, run("-a", "no-port"));
    assertEquals(
        List.of(
            "craq-node: --listen: address 'no-port' has no port; expected host:port or :port",
            "Try 'craq-node --help' for more information."),
        err.toString().lines().toList());
  }

  @Test
  @DisplayName("a port in use: exit code 1 (one log line, no stack trace; see the launcher tests)")
  void portInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertEquals(1, run("--store", "memory", "-a", "127.0.0.1:" + taken.getLocalPort()));
    }
  }

  @Test
  @DisplayName(
      "--lease-millis not above the heartbeat interval (5 ticks) is a usage error naming the"
          + " bound")
  void leaseMillis() {
    assertEquals(2, run("--lease-millis", "250"));
    assertTrue(
        err.toString().startsWith("craq-node: --lease-millis must be more than 5 ticks (250 ms"),
        err.toString());
  }

  @Test
  void unknownStoreKind() {
    assertEquals(2, run("--store", "floppy"));
  }

  @Test
  @DisplayName(
      "a config file with an unknown key is refused, so typos never fall back to " + "defaults")
  void configFileUnknownKey() throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "listne=:9999\n");
    assertEquals(2, run("--config", file.toString()));
    assertTrue(err.toString().contains("listne"), err.toString());
  }

  @Test
  @DisplayName("a config file's values are used, and are validated like flags")
  void configFileValuesApply() throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "coordinator=bad-address\n");
    assertEquals(2, run("--config=" + file));
    assertTrue(err.toString().contains("--coordinator"), err.toString());
  }

  @Test
  @DisplayName(
      "a data directory that cannot be created: one clear log line naming it, no stack "
          + "trace, exit 1")
  void unusableDataDirectory() throws Exception {
    Path file = dir.resolve("a-file");
    Files.writeString(file, "not a directory");
    Path db = file.resolve("craq.db");
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    logged.start();
    root.addAppender(logged);
    try {
      assertEquals(NodeMain.EXIT_FATAL, run("-a", "127.0.0.1:0", "-f", db.toString()));
    } finally {
      root.detachAppender(logged);
    }
    List<ILoggingEvent> errors =
        logged.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
    assertEquals(1, errors.size(), errors.toString());
    assertTrue(
        errors.get(0).getFormattedMessage().contains(db.toString()),
        errors.get(0).getFormattedMessage());
    assertEquals(null, errors.get(0).getThrowableProxy(), "no stack trace for a bad directory");
  }

  @Test
  @DisplayName(
      "-c takes a list; a bad entry is a usage error in one line naming it (exit 2), also from "
          + "the config file")
  void badCoordinatorList() throws Exception {
    assertEquals(2, run("-c", "127.0.0.1:1,no-port"));
    assertEquals(
        List.of(
            "craq-node: --coordinator: address 'no-port' has no port; expected host:port or :port",
            "Try 'craq-node --help' for more information."),
        err.toString().lines().toList());

    assertEquals(2, run("--coordinator", ":1,,:2"));
    assertTrue(err.toString().contains("empty coordinator address in ':1,,:2'"), err.toString());
    assertEquals(2, run("-c", ":1,:1"));
    assertTrue(err.toString().contains("':1' is listed twice"), err.toString());

    Path file = dir.resolve("node.properties");
    Files.writeString(file, "coordinator=127.0.0.1:1,127.0.0.1:2,bad\n");
    assertEquals(2, run("--config", file.toString()));
    assertTrue(err.toString().contains("--coordinator: address 'bad"), err.toString());
  }

  @Test
  @DisplayName("--help describes -c as a list of coordinators")
  void helpDescribesCoordinatorList() {
    assertEquals(0, run("--help"));
    assertTrue(out.toString().contains("--coordinator=ADDRESS[,ADDRESS...]"), out.toString());
  }

  @Test
  @DisplayName("the settings parse a list of coordinators; one address stays one")
  void settingsParseList() {
    assertEquals(
        List.of("127.0.0.1:1", ":2"),
        NodeServerSettings.defaults(":0", "127.0.0.1:1, :2").coordinatorAddresses());
    NodeServerSettings one = NodeServerSettings.defaults(":0", ":1234");
    assertEquals(List.of(":1234"), one.coordinatorAddresses());
    assertEquals(":1234", one.coordinatorAddress());
  }

  @Test
  void missingConfigFile() {
    assertEquals(2, run("--config", dir.resolve("absent.properties").toString()));
  }
}

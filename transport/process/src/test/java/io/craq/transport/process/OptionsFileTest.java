package io.craq.transport.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --config FILE}: defaults from a properties file, the command line winning. */
class OptionsFileTest {
  @TempDir Path folder;

  @Command(name = "server")
  static final class Server {
    @Option(
        names = {"-a", "--listen"},
        defaultValue = ":1235")
    String listen;

    @Option(names = "--tick-millis", defaultValue = "50")
    long tickMillis;

    @Option(names = OptionsFile.OPTION)
    Path config;
  }

  private Server parse(String... args) {
    Server server = new Server();
    CommandLine commandLine = new CommandLine(server);
    OptionsFile.install(commandLine, args);
    commandLine.parseArgs(args);
    return server;
  }

  private Path config(String text) throws IOException {
    return Files.writeString(folder.resolve("server.properties"), text);
  }

  @Test
  @DisplayName("the file's values replace the built-in defaults; flags on the command line win")
  void fileThenFlags() throws IOException {
    Path file = config("listen=127.0.0.1:7000\ntick-millis=20\n");
    Server fromFile = parse("--config", file.toString());
    assertEquals("127.0.0.1:7000", fromFile.listen);
    assertEquals(20, fromFile.tickMillis);
    Server flagWins = parse("--config=" + file, "-a", ":9000");
    assertEquals(":9000", flagWins.listen);
    assertEquals(20, flagWins.tickMillis);
    assertEquals(":1235", parse().listen);
  }

  @Test
  @DisplayName("an unknown key, an unreadable file or a missing file name is a usage error")
  void refusals() throws IOException {
    Path typo = config("lisen=:7000\n");
    ParameterException unknown =
        assertThrows(ParameterException.class, () -> parse("--config", typo.toString()));
    assertTrue(unknown.getMessage().contains("unknown key 'lisen'"), unknown.getMessage());
    assertThrows(
        ParameterException.class, () -> parse("--config", folder.resolve("missing").toString()));
    ParameterException noName = assertThrows(ParameterException.class, () -> parse("--config"));
    assertEquals("--config needs a file name", noName.getMessage());
  }

  @Test
  @DisplayName("after --, a --config is an argument, not an option")
  void afterDoubleDash() {
    assertEquals(
        ":1235", new CommandLine(new Server()).getCommandSpec().findOption("-a").defaultValue());
    Server server = new Server();
    CommandLine commandLine = new CommandLine(server);
    OptionsFile.install(commandLine, new String[] {"--", "--config", "x"});
    assertEquals(null, commandLine.getDefaultValueProvider());
  }
}

package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqMain;
import io.craq.cli.CraqRun;
import io.craq.cli.bench.BenchSettings.Mode;
import io.craq.cli.bench.BenchSettings.Workload;
import io.craq.cli.common.ExitCodes;
import io.craq.core.message.ReadMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** The bench command line: defaults, every flag, and the combinations refused as usage errors. */
class BenchArgumentsTest {

  private static BenchSettings parse(String... args) {
    return command(args).settings();
  }

  /** The bench command after parsing {@code craq bench ARGS}. */
  private static BenchCommand command(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "bench";
    System.arraycopy(args, 0, all, 1, args.length);
    return commandOf(all);
  }

  /** The bench command after parsing {@code craq ARGS}, ARGS naming bench somewhere. */
  private static BenchCommand commandOf(String... args) {
    CommandLine.ParseResult result = CraqMain.newCommandLine().parseArgs(args);
    return (BenchCommand) result.subcommand().commandSpec().userObject();
  }

  @Test
  @DisplayName("without flags: read workload, CRAQ mode, strong reads at the cluster on :1234")
  void defaults() {
    BenchSettings s = parse();
    assertEquals(":1234", s.coordinator());
    assertEquals(0, s.spawnNodes());
    assertEquals(Workload.READ, s.workload());
    assertEquals(Mode.CRAQ, s.mode());
    assertEquals(ReadMode.STRONG, s.consistency().mode());
    assertEquals(100, s.valueBytes());
    assertEquals(1000, s.keys());
    assertEquals(8, s.threads());
    assertEquals(1, s.inFlight());
    assertEquals(Duration.ofSeconds(10), s.duration());
    assertEquals(Duration.ofSeconds(2), s.warmup());
    assertEquals(false, s.echoBaseline());
    assertNull(s.jsonFile());
  }

  @Test
  @DisplayName("--spawn-tls needs --spawn: a usage error naming it")
  void spawnTlsNeedsSpawn() {
    ParameterException e = assertThrows(ParameterException.class, () -> parse("--spawn-tls"));
    assertTrue(e.getMessage().contains("--spawn-tls needs --spawn"), e.getMessage());
    assertEquals(3, parse("--spawn", "3", "--spawn-tls").spawnNodes());
  }

  @Test
  @DisplayName("every flag reaches the settings")
  void allFlags() {
    BenchSettings s =
        parse(
            "--spawn",
            "5",
            "--store",
            "memory",
            "--workload",
            "mixed",
            "--write-rate",
            "250",
            "--mode",
            "cr",
            "--consistency",
            "bounded:3",
            "--value-bytes",
            "4096",
            "--keys",
            "77",
            "--threads",
            "32",
            "--in-flight",
            "16",
            "--duration",
            "1500ms",
            "--warmup",
            "0",
            "--baseline",
            "echo",
            "--json-file",
            "out.json",
            "--timeout-millis",
            "900");
    assertNull(s.coordinator());
    assertEquals(5, s.spawnNodes());
    assertEquals("memory", s.store());
    assertEquals(Workload.MIXED, s.workload());
    assertEquals(250.0, s.writesPerSecond());
    assertEquals(Mode.CR, s.mode());
    assertEquals(ReadMode.BOUNDED, s.consistency().mode());
    assertEquals(3, s.consistency().bound());
    assertEquals(4096, s.valueBytes());
    assertEquals(77, s.keys());
    assertEquals(32, s.threads());
    assertEquals(16, s.inFlightEffective());
    assertEquals(Duration.ofMillis(1500), s.duration());
    assertEquals(Duration.ZERO, s.warmup());
    assertTrue(s.echoBaseline());
    assertEquals("out.json", s.jsonFile());
    assertEquals(900, s.timeoutMillis());
  }

  @Test
  @DisplayName(
      "--chains and --replicas shape the spawned cluster and show in the settings; without them"
          + " the coordinator's defaults apply")
  void chainsAndReplicas() {
    BenchSettings s = parse("--spawn", "6", "--chains", "12", "--replicas", "3");
    assertEquals(6, s.spawnNodes());
    assertEquals(12, s.chains());
    assertEquals(3, s.replicas());
    assertEquals(12, BenchCommand.describe(s).get("chains"));
    assertEquals(3, BenchCommand.describe(s).get("replicas"));
    BenchSettings plain = parse("--spawn", "3");
    assertEquals(0, plain.chains());
    assertEquals(0, plain.replicas());
    assertFalse(BenchCommand.describe(plain).containsKey("chains"));
    assertFalse(BenchCommand.describe(plain).containsKey("replicas"));
    assertEquals(1, parse("--spawn", "2", "--chains", "1").chains());
    assertEquals(1024, parse("--spawn", "2", "--chains", "1024").chains());
  }

  @Test
  @DisplayName("cas is one test-and-set at a time per thread whatever --in-flight says")
  void casIsOneAtATime() {
    assertEquals(1, parse("--workload", "cas", "--in-flight", "8").inFlightEffective());
  }

  @Test
  @DisplayName("durations: ms, s, m, or a bare number of seconds")
  void durations() {
    assertEquals(Duration.ofMillis(250), BenchSettings.parseDuration("250ms"));
    assertEquals(Duration.ofMillis(2500), BenchSettings.parseDuration("2.5s"));
    assertEquals(Duration.ofMinutes(2), BenchSettings.parseDuration("2m"));
    assertEquals(Duration.ofSeconds(7), BenchSettings.parseDuration("7"));
    assertThrows(IllegalArgumentException.class, () -> BenchSettings.parseDuration("soon"));
    assertThrows(IllegalArgumentException.class, () -> BenchSettings.parseDuration("-1s"));
  }

  @Test
  @DisplayName("refused combinations are usage errors")
  void refused() {
    String[][] bad = {
      {"--spawn", "3", "-c", "127.0.0.1:1234"},
      {"--workload", "mixed"},
      {"--write-rate", "10"},
      {"--threads", "0"},
      {"--in-flight", "0"},
      {"--keys", "0"},
      {"--duration", "0s"},
      {"--store", "rocksdb", "--spawn", "1"},
      {"--baseline", "nginx"},
      {"--json-file"},
      {"stray.json"},
      {"--json", "out.json"},
      {"--spawn", "21"},
      {"--chains", "4"},
      {"--replicas", "3"},
      {"-c", "127.0.0.1:1234", "--chains", "4"},
      {"--spawn", "3", "--chains", "0"},
      {"--spawn", "3", "--chains", "1025"},
      {"--spawn", "3", "--chains", "many"},
      {"--spawn", "3", "--replicas", "0"},
      {"--spawn", "3", "--replicas", "-1"},
      {"--spawn", "3", "--replicas", "100"},
    };
    for (String[] args : bad) {
      assertThrows(ParameterException.class, () -> parse(args), String.join(" ", args));
    }
  }

  @Test
  @DisplayName(
      "the options craq shares come before or after bench's name alike: -c,"
          + " --timeout-millis and --json (the results on stdout), the nearest one winning")
  void sharedOptionsEitherSide() {
    BenchSettings before =
        commandOf("-c", "127.0.0.1:7000", "--timeout-millis", "700", "bench").settings();
    assertEquals("127.0.0.1:7000", before.coordinator());
    assertEquals(700, before.timeoutMillis());
    BenchSettings after =
        commandOf("-c", "127.0.0.1:7000", "bench", "-c", "127.0.0.1:7001").settings();
    assertEquals("127.0.0.1:7001", after.coordinator());
    assertTrue(commandOf("--json", "bench").json.enabled());
    assertTrue(command("--json").json.enabled());
    assertFalse(command().json.enabled());
    assertThrows(
        ParameterException.class,
        () -> commandOf("-c", "127.0.0.1:7000", "bench", "--spawn", "3").settings(),
        "-c before bench is refused with --spawn as after it is");
  }

  @Test
  @DisplayName("a bad workload, mode or consistency fails to parse")
  void badValues() {
    assertThrows(ParameterException.class, () -> parse("--workload", "scan"));
    assertThrows(ParameterException.class, () -> parse("--mode", "paxos"));
    assertThrows(ParameterException.class, () -> parse("--consistency", "linear"));
  }

  @Test
  @DisplayName("--plot into a folder that does not exist is refused before anything runs (exit 2)")
  void plotFolderMissing(@TempDir Path folder) {
    assertEquals(
        3, parse("--spawn", "3", "--plot", folder.resolve("chart.png").toString()).spawnNodes());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = CraqMain.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    String chart = folder.resolve("missing").resolve("chart.png").toString();
    int code = commandLine.execute("bench", "--spawn", "3", "--plot", chart);
    assertEquals(ExitCodes.USAGE, code);
    assertTrue(
        err.toString()
            .contains(
                "--plot "
                    + chart
                    + ": the folder "
                    + folder.resolve("missing")
                    + " does not exist"),
        err.toString());
    assertEquals("", out.toString());
  }

  @Test
  @DisplayName("--chains against a running cluster is refused in one line: it has its own chains")
  void chainsNeedSpawn() {
    CraqRun.of("bench", "-c", "127.0.0.1:1", "--chains", "4")
        .assertUsageError("--chains and --replicas shape a spawned cluster (--spawn N)");
    CraqRun.of("bench", "--spawn", "3", "--replicas", "0")
        .assertUsageError("--replicas must be 1-");
  }

  @Test
  @DisplayName("a usage error through the craq command exits with code 2")
  void usageExitCode() {
    CommandLine commandLine = CraqMain.newCommandLine();
    commandLine.setOut(new PrintWriter(new StringWriter()));
    commandLine.setErr(new PrintWriter(new StringWriter()));
    assertEquals(ExitCodes.USAGE, commandLine.execute("bench", "--workload", "mixed"));
  }
}

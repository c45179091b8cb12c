package io.craq.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code craq check FILE}: the checker as a command, with its exit codes. */
class CheckCommandTest {
  @TempDir Path dir;

  private static final String LINE = "INFO  jepsen.util - %d\t:%s\t:%s\t%s\t:key\t%s\t:time\t%d%n";

  private Path history(String name, String... lines) throws IOException {
    return Files.writeString(dir.resolve(name), String.join("", lines));
  }

  private static String op(
      int process, String type, String f, String value, String key, long time) {
    return String.format(LINE, process, type, f, value, key, time);
  }

  private Path good() throws IOException {
    return history(
        "good.log",
        op(1, "invoke", "write", "a", "k", 10),
        op(1, "ok", "write", "a", "k", 20),
        op(2, "invoke", "read", "nil", "k", 30),
        op(2, "ok", "read", "a", "k", 40));
  }

  @Test
  @DisplayName("a linearizable history: exit 0 and the verdict on stdout")
  void linearizable() throws IOException {
    CraqRun run = CraqRun.of("check", good().toString());
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("verdict: linearizable"), run.out());
  }

  @Test
  @DisplayName("a stale read: exit 1, the key named")
  void stale() throws IOException {
    Path file =
        history(
            "stale.log",
            op(1, "invoke", "write", "a", "k", 10),
            op(1, "ok", "write", "a", "k", 20),
            op(1, "invoke", "write", "b", "k", 30),
            op(1, "ok", "write", "b", "k", 40),
            op(2, "invoke", "read", "nil", "k", 50),
            op(2, "ok", "read", "a", "k", 60));
    CraqRun run = CraqRun.of("check", file.toString());
    assertEquals(1, run.exitCode(), run.out());
    assertTrue(run.out().contains("key k: NOT LINEARIZABLE"), run.out());
  }

  @Test
  @DisplayName("--json after or before the subcommand: one JSON object")
  void json() throws IOException {
    for (CraqRun run :
        new CraqRun[] {
          CraqRun.of("check", "--json", good().toString()),
          CraqRun.of("--json", "check", good().toString())
        }) {
      assertEquals(0, run.exitCode(), run.err());
      assertTrue(run.out().startsWith("{") && run.out().strip().endsWith("}"), run.out());
    }
  }

  @Test
  @DisplayName("a missing file is bad input (65), one line; an unknown model is a usage error")
  void badInput() {
    CraqRun missing = CraqRun.of("check", dir.resolve("nope.log").toString());
    assertEquals(65, missing.exitCode(), missing.err());
    assertEquals(1, missing.errLines().size(), missing.err());
    assertTrue(missing.err().contains("nope.log"), missing.err());
    CraqRun.of("check", "--model", "graph", "x.log").assertUsageError("graph");
  }
}

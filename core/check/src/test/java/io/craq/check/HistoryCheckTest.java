package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check command's facade: verdicts, exit codes and one-line errors on bad files. */
class HistoryCheckTest {
  @TempDir Path dir;

  /** What one run printed and returned. */
  private record Run(int code, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }
  }

  private static Run run(Path file, CheckOptions options) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        HistoryCheck.run(
            file,
            options,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Run run(Path file) {
    return run(file, CheckOptions.defaults());
  }

  private Path file(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
  }

  /** Two keys, written as the fault suites write them: a linearizable history. */
  private Path linearizable() throws IOException {
    Path file = dir.resolve("good.log");
    HistoryLog.write(
        new History(
            List.of(
                Operation.ok(1, "k1", Input.write("a"), 10, 20, Output.done(1)),
                Operation.ok(2, "k1", Input.read(), 15, 25, Output.read("a", 1)),
                Operation.info(3, "k1", Input.write("b"), 30),
                Operation.ok(4, "k 2", Input.cas(null, "x"), 5, 8, Output.done(1)),
                Operation.fail(5, "k 2", Input.delete(), 9, 12),
                Operation.ok(5, "k 2", Input.read(), 13, 14, Output.read("x", 1)))),
        file);
    return file;
  }

  /** A read returns the value written before it after a later write completed: a stale read. */
  private static final String STALE_READ =
      """
      INFO  jepsen.util - 1\t:invoke\t:write\ta\t:key\tk\t:time\t10
      INFO  jepsen.util - 1\t:ok\t:write\ta\t:key\tk\t:time\t20
      INFO  jepsen.util - 1\t:invoke\t:write\tb\t:key\tk\t:time\t30
      INFO  jepsen.util - 1\t:ok\t:write\tb\t:key\tk\t:time\t40
      INFO  jepsen.util - 2\t:invoke\t:read\tnil\t:key\tk\t:time\t50
      INFO  jepsen.util - 2\t:ok\t:read\ta\t:key\tk\t:time\t60
      INFO  jepsen.util - 3\t:invoke\t:read\tnil\t:key\tother\t:time\t50
      INFO  jepsen.util - 3\t:ok\t:read\tnil\t:key\tother\t:time\t60
      """;

  @Test
  @DisplayName("a linearizable file: exit 0, a line per key, the summary and the verdict")
  void linearizableFile() throws IOException {
    Path file = linearizable();
    Run run = run(file);
    assertEquals(HistoryCheck.LINEARIZABLE, run.code(), run.out() + run.err());
    assertEquals("", run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(4, lines.size(), run.out());
    // Keys in order of first appearance; failed operations are dropped before the search.
    assertTrue(lines.get(0).startsWith("key \"k 2\": linearizable, 2 operations, "), lines.get(0));
    assertTrue(lines.get(1).startsWith("key k1: linearizable, 3 operations, "), lines.get(1));
    assertEquals(
        file
            + ": operations 6 (ok 4 / fail 1 / info 1), keys 2: linearizable 2,"
            + " illegal 0, unknown 0",
        lines.get(2));
    assertEquals("verdict: linearizable", lines.get(3));
  }

  @Test
  @DisplayName("a stale read: exit 1, the key marked and explained")
  void notLinearizable() throws IOException {
    Run run = run(file("stale.log", STALE_READ));
    assertEquals(HistoryCheck.NOT_LINEARIZABLE, run.code(), run.out());
    assertEquals("", run.err());
    assertTrue(run.out().contains("key k: NOT LINEARIZABLE, 3 operations"), run.out());
    assertTrue(run.out().contains("    key k: not linearizable"), run.out());
    assertTrue(run.out().contains("key other: linearizable"), run.out());
    assertTrue(run.out().endsWith("verdict: NOT LINEARIZABLE (1 key)\n"), run.out());
  }

  @Test
  @DisplayName("a search out of budget: exit 3, unknown, never linearizable")
  void unknown() throws IOException {
    Run run = run(linearizable(), CheckOptions.defaults().withBudgetPerKey(Duration.ofNanos(1)));
    assertEquals(HistoryCheck.UNKNOWN, run.code(), run.out());
    assertTrue(run.out().contains("time budget exceeded"), run.out());
    assertTrue(
        run.out().contains("verdict: unknown (the search budget ran out on 2 keys"), run.out());
  }

  @Test
  @DisplayName("a malformed line: exit 65, one line on stderr naming file and line, nothing else")
  void malformedLine() throws IOException {
    Path file =
        file(
            "bad.log",
            """
            INFO  jepsen.util - 1\t:invoke\t:write\ta\t:key\tk\t:time\t10
            INFO  jepsen.util - 1\t:ok\t:write\ta\t:key\tk\t:time\t20
            INFO  jepsen.util - 2\t:invoke\t:read\tnil\t:key\tk\t:time\tsoon
            """);
    Run run = run(file);
    assertEquals(HistoryCheck.BAD_INPUT, run.code());
    assertEquals("", run.out());
    assertEquals(1, run.errLines().size(), run.err());
    assertTrue(run.err().startsWith(file + ":3: time is not a whole number: soon: "), run.err());
    assertFalse(run.err().contains("Exception"), run.err());
  }

  @Test
  @DisplayName("wrong types, an unknown event and a completion without invoke name their line")
  void otherMalformedLines() throws IOException {
    Run type = run(file("type.log", "INFO  jepsen.util - 1\tok\t:write\ta\n"));
    assertTrue(
        type.err().startsWith(dir.resolve("type.log") + ":1: the type is not a :keyword: ok"),
        type.err());
    Run event = run(file("event.log", "{:process 0, :type :done, :f :get, :key \"4\"}\n"));
    assertTrue(event.err().contains("event.log:1: unknown event type :done"), event.err());
    Run orphan = run(file("orphan.log", "\n\nINFO  jepsen.util - 3\t:ok\t:write\t4\n"));
    assertTrue(orphan.err().contains("orphan.log:3: completion without invoke"), orphan.err());
    for (Run run : List.of(type, event, orphan)) {
      assertEquals(HistoryCheck.BAD_INPUT, run.code());
      assertEquals(1, run.errLines().size(), run.err());
    }
  }

  @Test
  @DisplayName("bytes that are not UTF-8: exit 65 with the line")
  void notUtf8() throws IOException {
    Path file =
        Files.write(
            dir.resolve("binary.log"),
            new byte[] {'o', 'k', '\n', 'o', 'k', '\n', (byte) 0xff, '\n', 'o', 'k', '\n'});
    Run run = run(file);
    assertEquals(HistoryCheck.BAD_INPUT, run.code());
    assertEquals(file + ":3: not UTF-8 text", run.err().strip());
  }

  @Test
  @DisplayName("a missing file or a directory: exit 65, one line naming it")
  void missingFile() {
    Path missing = dir.resolve("nowhere.log");
    Run run = run(missing);
    assertEquals(HistoryCheck.BAD_INPUT, run.code());
    assertEquals("", run.out());
    assertEquals(List.of(missing + ": no such file"), run.errLines());
    Run directory = run(dir);
    assertEquals(HistoryCheck.BAD_INPUT, directory.code());
    assertEquals(List.of(dir + ": is a directory, not a history file"), directory.errLines());
  }

  @Test
  @DisplayName("an empty file, or one without event lines: exit 65, no operations")
  void emptyFile() throws IOException {
    for (String text : List.of("", "a text file\nthat is not a history\n")) {
      Path file = file("empty.log", text);
      Run run = run(file);
      assertEquals(HistoryCheck.BAD_INPUT, run.code(), run.out());
      assertEquals("", run.out());
      assertEquals(1, run.errLines().size(), run.err());
      assertTrue(run.err().startsWith(file + ": no operations"), run.err());
    }
  }

  @Test
  @DisplayName("kv histories need the kv model; the register model says so and exits 65")
  void models() throws IOException {
    Path file =
        file(
            "kv.log",
            """
            {:process 0, :type :invoke, :f :append, :key "4", :value "x"}
            {:process 1, :type :invoke, :f :get, :key "4", :value nil}
            {:process 0, :type :ok, :f :append, :key "4", :value "x"}
            {:process 1, :type :ok, :f :get, :key "4", :value "x"}
            """);
    Run register = run(file);
    assertEquals(HistoryCheck.BAD_INPUT, register.code());
    assertEquals(
        List.of(
            file
                + ": key 4: the register model has no APPEND"
                + " (the kv model checks get, put, append, delete and incr)"),
        register.errLines());
    Run kv = run(file, CheckOptions.defaults().withModel(CheckModel.parse("KV")));
    assertEquals(HistoryCheck.LINEARIZABLE, kv.code(), kv.out() + kv.err());
  }

  @Test
  @DisplayName("--json: one object with the verdict, the counts and every key")
  void json() throws IOException {
    Path file = file("stale.log", STALE_READ);
    Run run = run(file, CheckOptions.defaults().withJson(true));
    assertEquals(HistoryCheck.NOT_LINEARIZABLE, run.code());
    List<String> lines = run.out().lines().toList();
    assertEquals(1, lines.size(), run.out());
    String json = lines.get(0);
    assertTrue(
        json.startsWith(
            "{\"file\":\""
                + file
                + "\",\"model\":\"register\","
                + "\"budgetPerKeyMillis\":10000,\"verdict\":\"illegal\",\"exitCode\":1,\"operations\":4,"
                + "\"ok\":4,\"fail\":0,\"info\":0,\"keys\":2,\"linearizable\":1,\"illegal\":1,"
                + "\"unknown\":0,\"results\":[{\"key\":\"k\",\"verdict\":\"illegal\",\"operations\":3,"),
        json);
    assertTrue(json.contains("\"explanation\":\"key k: not linearizable"), json);
    assertTrue(
        json.contains(
            "{\"key\":\"other\",\"verdict\":\"linearizable\",\"operations\":1,\"millis\":"),
        json);
    assertTrue(json.endsWith("}]}"), json);
  }

  @Test
  @DisplayName("options refuse a budget that is not positive and a model that does not exist")
  void options() {
    assertThrows(
        IllegalArgumentException.class,
        () -> CheckOptions.defaults().withBudgetPerKey(Duration.ZERO));
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> CheckModel.parse("queue"));
    assertEquals("unknown model 'queue'; one of: register, kv", error.getMessage());
  }
}

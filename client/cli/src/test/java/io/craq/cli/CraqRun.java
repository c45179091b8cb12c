package io.craq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.StandardStreams;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/**
 * One run of the {@code craq} command in this JVM, with its streams captured ({@code raw}: the
 * bytes of {@code --output -}); shared by the tests of every package of the tool.
 */
public record CraqRun(int exitCode, String out, String err, byte[] raw) {
  /** Runs the craq command with {@code args} and an empty standard input. */
  public static CraqRun of(String... args) {
    return withInput(new byte[0], args);
  }

  /** Runs the craq command with {@code args} and {@code stdin} as standard input. */
  public static CraqRun withInput(byte[] stdin, String... args) {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    CommandLine commandLine =
        CraqMain.newCommandLine(new StandardStreams(new ByteArrayInputStream(stdin), raw));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int code = commandLine.execute(args);
    return new CraqRun(code, out.toString(), err.toString(), raw.toByteArray());
  }

  public List<String> errLines() {
    return err.lines().toList();
  }

  /**
   * A usage error: exit code 2, nothing on stdout; on stderr the reason, picocli's suggestions for
   * a mistyped name if it has any, and one line naming --help.
   */
  public void assertUsageError(String reasonPart) {
    assertEquals(ExitCodes.USAGE, exitCode, err);
    assertEquals("", out);
    List<String> lines = errLines();
    assertTrue(lines.size() >= 2, err);
    assertTrue(lines.get(0).startsWith("craq: ") && lines.get(0).contains(reasonPart), err);
    for (String suggestion : lines.subList(1, lines.size() - 1)) {
      assertTrue(suggestion.matches("(Did you mean|Possible solutions): .*"), err);
    }
    assertTrue(
        lines.get(lines.size() - 1).matches("Try 'craq( \\S+)? --help' for more information\\."),
        err);
  }
}

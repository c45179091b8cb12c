package io.craq.cli.cluster;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Copies the warnings and errors the processes of a local cluster write to their logs to a
 * terminal, each line prefixed with the process name ({@code [n1] ...}), as {@code tail -F} would:
 * it follows each file from where it was when first read, and starts over when the file is
 * truncated or replaced by a shorter one. {@link #copyNew()} copies what was appended since the
 * previous call; a partial last line waits for its end.
 */
final class LogLines {
  /** A line worth showing: a warning, an error, an exception or a line of its stack trace. */
  private static final Pattern NOTEWORTHY =
      Pattern.compile(".*(WARN|ERROR|Exception|Error:).*|\\s+at .*");

  private record Followed(Path file, StringBuilder partial, long[] offset) {}

  private final Map<String, Followed> logs = new LinkedHashMap<>();
  private final PrintWriter terminal;

  /** Copies to {@code terminal}. */
  LogLines(PrintWriter terminal) {
    this.terminal = terminal;
  }

  /** Follows {@code file} as the log of {@code name}, from its current end. */
  synchronized void follow(String name, Path file) {
    long size = file.toFile().length();
    logs.put(name, new Followed(file, new StringBuilder(), new long[] {size}));
  }

  /** Whether {@code line} of a log is copied to the terminal. */
  static boolean noteworthy(String line) {
    return NOTEWORTHY.matcher(line).matches();
  }

  /** Copies the noteworthy complete lines appended to each log since the last call. */
  synchronized void copyNew() {
    for (Map.Entry<String, Followed> entry : logs.entrySet()) {
      Followed log = entry.getValue();
      try (RandomAccessFile file = new RandomAccessFile(log.file().toFile(), "r")) {
        long length = file.length();
        if (length < log.offset()[0]) {
          log.offset()[0] = 0;
          log.partial().setLength(0);
        }
        if (length == log.offset()[0]) {
          continue;
        }
        file.seek(log.offset()[0]);
        byte[] bytes = new byte[(int) Math.min(length - log.offset()[0], 1 << 20)];
        file.readFully(bytes);
        // Up to the last complete line only (a character's bytes stay together), unless one
        // line alone fills the buffer.
        int take = bytes.length;
        while (take > 0 && bytes[take - 1] != '\n') {
          take--;
        }
        if (take == 0) {
          if (bytes.length < 1 << 20) {
            continue;
          }
          take = bytes.length;
        }
        log.offset()[0] += take;
        log.partial().append(new String(bytes, 0, take, StandardCharsets.UTF_8));
        int end;
        while ((end = log.partial().indexOf("\n")) >= 0) {
          String line = log.partial().substring(0, end);
          log.partial().delete(0, end + 1);
          if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
          }
          if (noteworthy(line)) {
            terminal.println("[" + entry.getKey() + "] " + line);
          }
        }
      } catch (IOException e) {
        // not there (yet, or any more): as tail -F, try again next time
      }
    }
    terminal.flush();
  }
}

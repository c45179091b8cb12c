package io.craq.check;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The check command ({@code craq check HISTORY-FILE}): reads a history file, checks every key for
 * linearizability, prints one line per key and an overall verdict, and returns an exit code.
 *
 * <p>The file is read by {@link HistoryLog} (its format is described there): the logs the fault
 * suites write, Jepsen's register logs, or EDN kv logs; any system can write one. Keys are checked
 * one after another against the chosen {@link CheckModel}, each within the search budget, then the
 * multi-key writes for all or nothing ({@link TransactionChecker}).
 *
 * <p>Exit codes: {@link #LINEARIZABLE} 0, {@link #NOT_LINEARIZABLE} 1, {@link #UNKNOWN} 3 (2 is
 * left to the command line's usage errors), {@link #BAD_INPUT} 65. Bad input gets one line on
 * {@code err} naming the file, and the line for a malformed line; never a stack trace.
 */
public final class HistoryCheck {
  /** Every key is linearizable. */
  public static final int LINEARIZABLE = 0;

  /**
   * At least one key is not linearizable (no order of its operations fits real time and model), or
   * a multi-key write was not all or nothing.
   */
  public static final int NOT_LINEARIZABLE = 1;

  /**
   * No key is illegal, but the search ran out of budget on at least one: nothing is known there.
   */
  public static final int UNKNOWN = 3;

  /**
   * The file could not be checked: missing, unreadable, not UTF-8, a malformed event line, no
   * operations at all, or an operation the model does not have ({@code EX_DATAERR} of sysexits).
   */
  public static final int BAD_INPUT = 65;

  private HistoryCheck() {}

  /**
   * Checks {@code historyFile}; the report goes to {@code out}, a bad-input error to {@code err}.
   *
   * @return the exit code
   */
  public static int run(Path historyFile, CheckOptions options, PrintStream out, PrintStream err) {
    try {
      History history = read(historyFile);
      List<KeyResult> results = check(historyFile, history, options);
      CheckReport report = LinearizabilityChecker.report(history, results);
      int code = exitCode(report);
      out.println(
          options.json()
              ? json(historyFile, history, report, options, code)
              : text(historyFile, history, report, code));
      out.flush();
      return code;
    } catch (BadInput e) {
      err.println(e.getMessage());
      err.flush();
      return BAD_INPUT;
    }
  }

  /** One line of an error, ready to print. */
  private static final class BadInput extends Exception {
    private static final long serialVersionUID = 1L;

    BadInput(String message) {
      super(message, null, false, false);
    }
  }

  private static History read(Path file) throws BadInput {
    if (Files.isDirectory(file)) {
      throw new BadInput(file + ": is a directory, not a history file");
    }
    History history;
    try {
      history = HistoryLog.read(file);
    } catch (NoSuchFileException e) {
      throw new BadInput(file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new BadInput(file + ": permission denied");
    } catch (IOException e) {
      throw new BadInput(file + ": cannot read: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      // The reader's message already starts with FILE:LINE.
      throw new BadInput(e.getMessage());
    }
    if (history.size() == 0) {
      throw new BadInput(
          file
              + ": no operations: the file is empty or has no line in a history"
              + " format (our log, Jepsen's register log, EDN kv maps)");
    }
    return history;
  }

  private static List<KeyResult> check(Path file, History history, CheckOptions options)
      throws BadInput {
    List<KeyResult> results = new ArrayList<>();
    for (Map.Entry<String, List<Operation>> key : history.byKey().entrySet()) {
      try {
        results.add(
            LinearizabilityChecker.checkKey(
                key.getKey(), key.getValue(), options.model().model(), options.budgetPerKey()));
      } catch (IllegalArgumentException e) {
        // A model refuses the operation kinds it does not have.
        throw new BadInput(
            file
                + ": key "
                + HistoryLog.token(key.getKey())
                + ": "
                + e.getMessage()
                + hint(options.model()));
      }
    }
    return results;
  }

  private static String hint(CheckModel model) {
    return switch (model) {
      case REGISTER -> " (the kv model checks get, put, append, delete and incr)";
      case KV -> " (the register model checks read, write, delete, cas and cas-version)";
    };
  }

  private static int exitCode(CheckReport report) {
    if (!report.noneIllegal()) {
      return NOT_LINEARIZABLE;
    }
    return report.count(Verdict.UNKNOWN) > 0 ? UNKNOWN : LINEARIZABLE;
  }

  // ---------------------------------------------------------------- text

  private static String text(Path file, History history, CheckReport report, int code) {
    StringBuilder text = new StringBuilder();
    for (KeyResult result : report.results()) {
      text.append("key ")
          .append(HistoryLog.token(result.key()))
          .append(": ")
          .append(
              switch (result.verdict()) {
                case LINEARIZABLE -> "linearizable";
                case ILLEGAL -> "NOT LINEARIZABLE";
                case UNKNOWN -> "unknown";
              })
          .append(", ")
          .append(result.operations())
          .append(" operations, ")
          .append(result.elapsed().toMillis())
          .append(" ms\n");
      if (!result.explanation().isEmpty()) {
        text.append("    ").append(result.explanation()).append('\n');
      }
    }
    for (TransactionViolation violation : report.violations()) {
      text.append("transaction ")
          .append(violation.transaction())
          .append(": NOT ALL OR NOTHING (")
          .append(kind(violation.kind()))
          .append(")\n    ")
          .append(violation.explanation())
          .append('\n');
    }
    text.append(file)
        .append(": ")
        .append(history.summary())
        .append(", ")
        .append(report.summary())
        .append('\n');
    text.append("verdict: ")
        .append(
            switch (code) {
              case NOT_LINEARIZABLE ->
                  "NOT LINEARIZABLE ("
                      + keys(report.count(Verdict.ILLEGAL))
                      + (report.violations().isEmpty()
                          ? ""
                          : ", "
                              + report.violations().size()
                              + (report.violations().size() == 1 ? " transaction" : " transactions")
                              + " not all or nothing")
                      + ")";
              case UNKNOWN ->
                  "unknown (the search budget ran out on "
                      + keys(report.count(Verdict.UNKNOWN))
                      + "; a larger budget may decide)";
              default -> "linearizable";
            });
    return text.toString();
  }

  /** The name of a violation kind in the report: {@code torn-reads}. */
  private static String kind(TransactionViolation.Kind kind) {
    return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static String keys(long count) {
    return count + (count == 1 ? " key" : " keys");
  }

  // ---------------------------------------------------------------- JSON

  private static String json(
      Path file, History history, CheckReport report, CheckOptions options, int code) {
    StringBuilder json = new StringBuilder("{");
    json.append("\"file\":")
        .append(quote(file.toString()))
        .append(",\"model\":")
        .append(quote(options.model().label()))
        .append(",\"budgetPerKeyMillis\":")
        .append(options.budgetPerKey().toMillis())
        .append(",\"verdict\":")
        .append(
            quote(
                switch (code) {
                  case NOT_LINEARIZABLE -> "illegal";
                  case UNKNOWN -> "unknown";
                  default -> "linearizable";
                }))
        .append(",\"exitCode\":")
        .append(code)
        .append(",\"operations\":")
        .append(history.size())
        .append(",\"ok\":")
        .append(history.count(Outcome.OK))
        .append(",\"fail\":")
        .append(history.count(Outcome.FAIL))
        .append(",\"info\":")
        .append(history.count(Outcome.INFO))
        .append(",\"keys\":")
        .append(report.keysChecked())
        .append(",\"linearizable\":")
        .append(report.count(Verdict.LINEARIZABLE))
        .append(",\"illegal\":")
        .append(report.count(Verdict.ILLEGAL))
        .append(",\"unknown\":")
        .append(report.count(Verdict.UNKNOWN))
        .append(",\"results\":[");
    for (int i = 0; i < report.results().size(); i++) {
      KeyResult result = report.results().get(i);
      json.append(i > 0 ? "," : "")
          .append("{\"key\":")
          .append(quote(result.key()))
          .append(",\"verdict\":")
          .append(quote(result.verdict().name().toLowerCase(Locale.ROOT)))
          .append(",\"operations\":")
          .append(result.operations())
          .append(",\"millis\":")
          .append(result.elapsed().toMillis());
      if (!result.explanation().isEmpty()) {
        json.append(",\"explanation\":").append(quote(result.explanation()));
      }
      json.append('}');
    }
    json.append(']');
    if (report.transactions() > 0 || !report.violations().isEmpty()) {
      json.append(",\"transactions\":")
          .append(report.transactions())
          .append(",\"torn\":")
          .append(report.violations().size())
          .append(",\"violations\":[");
      for (int i = 0; i < report.violations().size(); i++) {
        TransactionViolation violation = report.violations().get(i);
        json.append(i > 0 ? "," : "")
            .append("{\"transaction\":")
            .append(violation.transaction())
            .append(",\"kind\":")
            .append(quote(kind(violation.kind())))
            .append(",\"explanation\":")
            .append(quote(violation.explanation()))
            .append('}');
      }
      json.append(']');
    }
    return json.append('}').toString();
  }

  private static String quote(String value) {
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> quoted.append("\\\"");
        case '\\' -> quoted.append("\\\\");
        case '\n' -> quoted.append("\\n");
        case '\r' -> quoted.append("\\r");
        case '\t' -> quoted.append("\\t");
        default -> {
          if (c < 0x20) {
            quoted.append(String.format("\\u%04x", (int) c));
          } else {
            quoted.append(c);
          }
        }
      }
    }
    return quoted.append('"').toString();
  }
}

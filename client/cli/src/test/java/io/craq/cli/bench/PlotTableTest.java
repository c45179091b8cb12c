package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.bench.ResultsTable.Point;
import io.craq.cli.bench.ResultsTable.Series;
import io.craq.cli.bench.ResultsTable.TableException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code craq plot}'s data step: TSV rows to filtered, grouped, sorted series. No drawing. */
class PlotTableTest {

  /** Rows of two figures, both ops, out of x order, with an extra column plot ignores. */
  static final List<String> RESULTS =
      List.of(
          "figure\tmode\tnodes\tvalueBytes\twriteRate\top\topsPerSecond\tp50Millis\tp99Millis"
              + "\tfailures\thost",
          "# a comment, then a blank line",
          "",
          "fig4\tcraq\t7\t500\t0\tread\t7000\t1.0\t2.0\t0\tvm1",
          "fig4\tcraq\t3\t500\t0\tread\t3000\t1.0\t2.0\t0\tvm1",
          "fig4\tcr\t3\t500\t0\tread\t1000\t1.0\t2.0\t0\tvm1",
          "fig4\tcraq\t3\t500\t0\twrite\t500\t9.0\t20\t0\tvm1",
          "fig4\tcr\t7\t500\t0\tread\t1100\t1.0\t2.0\t0\tvm1",
          "fig4\tcraq\t5\t500\t0\tread\t5000\t1.0\t2.0\t0\tvm1",
          "fig5\tcraq\t3\t500\t0\tread\t99\t1.0\t2.0\t0\tvm1");

  private static ResultsTable table() throws TableException {
    return ResultsTable.parse("results.tsv", RESULTS);
  }

  private static Map<String, String> where(String... pairs) {
    Map<String, String> filter = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      filter.put(pairs[i], pairs[i + 1]);
    }
    return filter;
  }

  private static String problem(TableStep step) {
    return assertThrows(TableException.class, step::run).getMessage();
  }

  private interface TableStep {
    void run() throws TableException;
  }

  @Test
  @DisplayName(
      "rows are filtered by every --where condition, grouped by the series column in"
          + " order of appearance, and sorted by numeric x")
  void filterGroupSort() throws TableException {
    List<Series> series =
        table()
            .where(where("figure", "fig4", "op", "read"))
            .series("nodes", "opsPerSecond", "mode");

    assertEquals(
        List.of(
            new Series("craq", List.of(new Point(3, 3000), new Point(5, 5000), new Point(7, 7000))),
            new Series("cr", List.of(new Point(3, 1000), new Point(7, 1100)))),
        series);
  }

  @Test
  @DisplayName("header, comments and blank lines: only data lines become rows, each with its line")
  void parse() throws TableException {
    ResultsTable table = table();
    assertEquals(11, table.columns().size());
    assertEquals(7, table.rows().size());
    assertEquals(4, table.rows().get(0).line());
    assertEquals("vm1", table.rows().get(0).get("host"));
  }

  @Test
  @DisplayName("x sorts as a number, not as text: 10 comes after 9")
  void numericSort() throws TableException {
    List<Series> series =
        ResultsTable.parse("t.tsv", List.of("x\ty\ts", "10\t1\ta", "9\t2\ta", "9.5\t3\ta"))
            .series("x", "y", "s");
    assertEquals(
        List.of(new Point(9, 2), new Point(9.5, 3), new Point(10, 1)), series.get(0).points());
  }

  @Test
  @DisplayName("an unknown column is named with the flag that gave it and the columns there are")
  void unknownColumn() {
    String message = problem(() -> table().series("nodez", "opsPerSecond", "mode"));
    assertTrue(
        message.contains(
            "unknown column 'nodez' (--x) in results.tsv; its columns: figure," + " mode, nodes"),
        message);
    message = problem(() -> table().series("nodes", "opsPerSecond", "kind"));
    assertTrue(message.contains("'kind' (--series)"), message);
    message = problem(() -> table().where(where("fig", "fig4")));
    assertTrue(message.contains("'fig' (--where)"), message);
  }

  @Test
  @DisplayName("no row left after --where: said, with the values of the column that matched none")
  void noRows() {
    String message = problem(() -> table().where(where("figure", "fig4", "op", "scan")));
    assertTrue(
        message.contains(
            "no row of results.tsv matches --where figure=fig4,op=scan;"
                + " column op has: read, write"),
        message);
    message = problem(() -> table().where(where("figure", "fig5", "op", "write")));
    assertTrue(
        message.startsWith("no row of results.tsv matches --where figure=fig5,op=write"), message);
    message = problem(() -> ResultsTable.parse("h.tsv", List.of("x\ty\ts")).series("x", "y", "s"));
    assertEquals("h.tsv has no rows", message);
  }

  @Test
  @DisplayName("a value of x or y that is not a finite number names its line, column and text")
  void notANumber() {
    String message =
        problem(() ->
            ResultsTable.parse("t.tsv", List.of("x\ty\ts", "1\t2\ta", "2\tfast\ta"))
                .series("x", "y", "s"));
    assertEquals("line 3 of t.tsv: y (--y) is 'fast', not a number", message);
    message =
        problem(
            () -> ResultsTable.parse("t.tsv", List.of("x\ty\ts", "\t2\ta")).series("x", "y", "s"));
    assertEquals("line 2 of t.tsv: x (--x) is '', not a number", message);
    message =
        problem(() ->
            ResultsTable.parse("t.tsv", List.of("x\ty\ts", "1\tNaN\ta")).series("x", "y", "s"));
    assertTrue(message.contains("is 'NaN', not a number"), message);
  }

  @Test
  @DisplayName(
      "two rows of one series at one x are refused, naming the columns that tell them apart")
  void ambiguousRows() {
    // Without op=read, the craq line at 3 nodes would be both the read and the write row.
    String message =
        problem(
            () -> table().where(where("figure", "fig4")).series("nodes", "opsPerSecond", "mode"));
    assertTrue(
        message.startsWith(
            "lines 5 and 7 of results.tsv are both mode=craq at nodes=3;"
                + " tell them apart with --where (they differ in: op, p50Millis, p99Millis)"),
        message);
  }

  @Test
  @DisplayName("malformed tables: a short row, a repeated column, no header")
  void malformed() {
    assertEquals(
        "line 3 of t.tsv has 2 tab-separated fields, the header has 3",
        problem(() -> ResultsTable.parse("t.tsv", List.of("x\ty\ts", "1\t2\ta", "1\t2"))));
    assertTrue(
        problem(() -> ResultsTable.parse("t.tsv", List.of("x\ty\tx")))
            .startsWith("t.tsv: the header names a column twice"));
    assertEquals(
        "t.tsv is empty: it needs a header line of column names",
        problem(() -> ResultsTable.parse("t.tsv", List.of("", "# nothing"))));
  }

  @Test
  @DisplayName("a missing file is named with its path")
  void missingFile(@TempDir Path folder) {
    Path file = folder.resolve("nope.tsv");
    assertEquals("no such file: " + file, problem(() -> ResultsTable.read(file)));
  }
}

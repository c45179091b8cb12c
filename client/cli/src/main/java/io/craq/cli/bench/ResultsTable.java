package io.craq.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A tab-separated results table, as {@code craq plot} reads it: a header line of column names, then
 * one row per line with as many fields (blank lines and lines starting with {@code #} are skipped;
 * fields are trimmed). The steps from rows to the series of a chart ({@link #where}, {@link
 * #series}) are pure data, tested apart from the drawing.
 *
 * @param source the file name, for messages
 * @param columns the header, in order
 * @param rows the rows, in file order
 */
record ResultsTable(String source, List<String> columns, List<Row> rows) {

  /** A problem with the input that the user has to fix: a missing file, a column, a value. */
  static final class TableException extends Exception {
    private static final long serialVersionUID = 1L;

    TableException(String message) {
      super(message);
    }
  }

  /**
   * One row.
   *
   * @param line its line number in the file (1 is the header), for messages
   * @param cells column name to the field's text
   */
  record Row(int line, Map<String, String> cells) {
    String get(String column) {
      return cells.get(column);
    }
  }

  /** One point of a series. */
  record Point(double x, double y) {}

  /** The points of one value of the series column, by increasing x. */
  record Series(String name, List<Point> points) {}

  /** Reads {@code file} (UTF-8). */
  static ResultsTable read(Path file) throws TableException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new TableException("no such file: " + file);
    } catch (IOException e) {
      throw new TableException("cannot read " + file + ": " + e.getMessage());
    }
    return parse(file.toString(), lines);
  }

  /** Parses the lines of a table; {@code source} names it in messages. */
  static ResultsTable parse(String source, List<String> lines) throws TableException {
    List<String> columns = null;
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      List<String> fields = Arrays.stream(line.split("\t", -1)).map(String::trim).toList();
      if (columns == null) {
        columns = fields;
        if (new LinkedHashSet<>(columns).size() != columns.size()) {
          throw new TableException(source + ": the header names a column twice: " + line);
        }
        continue;
      }
      if (fields.size() != columns.size()) {
        throw new TableException(
            "line "
                + (i + 1)
                + " of "
                + source
                + " has "
                + fields.size()
                + " tab-separated fields, the header has "
                + columns.size());
      }
      Map<String, String> cells = new LinkedHashMap<>();
      for (int c = 0; c < columns.size(); c++) {
        cells.put(columns.get(c), fields.get(c));
      }
      rows.add(new Row(i + 1, cells));
    }
    if (columns == null) {
      throw new TableException(source + " is empty: it needs a header line of column names");
    }
    return new ResultsTable(source, columns, rows);
  }

  /**
   * The rows whose cell in each column of {@code filter} is exactly the given text.
   *
   * @throws TableException for an unknown column, or if no row is left (the message shows the
   *     values of the first column that matched nothing)
   */
  ResultsTable where(Map<String, String> filter) throws TableException {
    for (String column : filter.keySet()) {
      requireColumn(column, "--where");
    }
    List<Row> kept =
        rows.stream()
            .filter(row ->
                filter.entrySet().stream().allMatch(e -> e.getValue().equals(row.get(e.getKey()))))
            .toList();
    if (kept.isEmpty()) {
      StringBuilder message =
          new StringBuilder(
              "no row of "
                  + source
                  + " matches --where "
                  + filter.entrySet().stream()
                      .map(e -> e.getKey() + "=" + e.getValue())
                      .collect(Collectors.joining(",")));
      filter.entrySet().stream()
          .filter(e -> rows.stream().noneMatch(row -> e.getValue().equals(row.get(e.getKey()))))
          .findFirst()
          .ifPresent(e ->
              message
                  .append("; column ")
                  .append(e.getKey())
                  .append(" has: ")
                  .append(String.join(", ", distinct(e.getKey()))));
      throw new TableException(message.toString());
    }
    return new ResultsTable(source, columns, kept);
  }

  /**
   * One series per distinct value of {@code seriesColumn}, in order of first appearance, each with
   * one point per row: ({@code xColumn}, {@code yColumn}), sorted by x.
   *
   * @throws TableException for an unknown column, no rows, a value of x or y that is not a finite
   *     number, or two rows of one series at the same x (a missing {@code --where}: the message
   *     names the columns they differ in)
   */
  List<Series> series(String xColumn, String yColumn, String seriesColumn) throws TableException {
    requireColumn(xColumn, "--x");
    requireColumn(yColumn, "--y");
    requireColumn(seriesColumn, "--series");
    if (rows.isEmpty()) {
      throw new TableException(source + " has no rows");
    }
    Map<String, Map<Double, Row>> seen = new LinkedHashMap<>();
    Map<String, List<Point>> points = new LinkedHashMap<>();
    for (Row row : rows) {
      String name = row.get(seriesColumn);
      Point point = new Point(number(row, xColumn, "--x"), number(row, yColumn, "--y"));
      Row same = seen.computeIfAbsent(name, k -> new LinkedHashMap<>()).putIfAbsent(point.x(), row);
      if (same != null) {
        throw new TableException(
            "lines "
                + same.line()
                + " and "
                + row.line()
                + " of "
                + source
                + " are both "
                + seriesColumn
                + "="
                + row.get(seriesColumn)
                + " at "
                + xColumn
                + "="
                + row.get(xColumn)
                + "; tell them apart with --where (they differ in: "
                + differences(same, row, yColumn)
                + ")");
      }
      points.computeIfAbsent(name, k -> new ArrayList<>()).add(point);
    }
    List<Series> series = new ArrayList<>();
    points.forEach((name, list) ->
        series.add(
            new Series(name, list.stream().sorted(Comparator.comparingDouble(Point::x)).toList())));
    return series;
  }

  private void requireColumn(String column, String flag) throws TableException {
    if (!columns.contains(column)) {
      throw new TableException(
          "unknown column '"
              + column
              + "' ("
              + flag
              + ") in "
              + source
              + "; its columns: "
              + String.join(", ", columns));
    }
  }

  private double number(Row row, String column, String flag) throws TableException {
    String text = row.get(column);
    try {
      double value = Double.parseDouble(text);
      if (Double.isFinite(value)) {
        return value;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new TableException(
        "line "
            + row.line()
            + " of "
            + source
            + ": "
            + column
            + " ("
            + flag
            + ") is '"
            + text
            + "', not a number");
  }

  private Set<String> distinct(String column) {
    return rows.stream()
        .map(row -> row.get(column))
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** The columns other than {@code ignored} where two rows differ, or "nothing" for twins. */
  private String differences(Row a, Row b, String ignored) {
    String differing =
        columns.stream()
            .filter(c -> !c.equals(ignored) && !a.get(c).equals(b.get(c)))
            .collect(Collectors.joining(", "));
    return differing.isEmpty() ? "nothing" : differing;
  }
}

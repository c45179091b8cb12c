package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqMain;
import io.craq.cli.bench.ResultsTable.Point;
import io.craq.cli.bench.ResultsTable.Series;
import io.craq.cli.common.ExitCodes;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code craq plot} through the craq command line: the chart file, and every usage error. */
class PlotCommandTest {
  @TempDir Path folder;
  private Path results;
  private Path paper;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void tables() throws IOException {
    results = Files.write(folder.resolve("results.tsv"), PlotTableTest.RESULTS);
    // The paper's numbers: another scale, the same shape.
    paper =
        Files.write(
            folder.resolve("paper.tsv"),
            List.of(
                "figure\tmode\tnodes\tvalueBytes\twriteRate\top\topsPerSecond\tp50Millis\tp99Millis"
                    + "\tfailures",
                "fig4\tcraq\t3\t500\t0\tread\t120000\t0\t0\t0",
                "fig4\tcraq\t7\t500\t0\tread\t280000\t0\t0\t0",
                "fig4\tcr\t3\t500\t0\tread\t41000\t0\t0\t0",
                "fig4\tcr\t7\t500\t0\tread\t41000\t0\t0\t0"));
  }

  private int craq(String... args) {
    CommandLine commandLine = CraqMain.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    return commandLine.execute(args);
  }

  /** {@code craq plot --tsv results.tsv --out OUT --x nodes --y opsPerSecond --series mode ...}. */
  private int plot(Path chart, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "plot",
                "--tsv",
                results.toString(),
                "--out",
                chart.toString(),
                "--x",
                "nodes",
                "--y",
                "opsPerSecond",
                "--series",
                "mode"));
    args.addAll(List.of(more));
    return craq(args.toArray(String[]::new));
  }

  private static void assertPng(Path file) throws IOException {
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(Charts.WIDTH, image.getWidth());
    assertEquals(Charts.HEIGHT, image.getHeight());
  }

  private void assertUsageError(int code, String expected) {
    assertEquals(ExitCodes.USAGE, code, err.toString());
    assertTrue(err.toString().contains(expected), "missing '" + expected + "' in:\n" + err);
  }

  @Test
  @DisplayName("lines, with the paper's numbers: a 1000x700 PNG and exit 0")
  void lines() throws IOException {
    Path chart = folder.resolve("fig4.png");
    int code =
        plot(
            chart,
            "--where",
            "figure=fig4,op=read",
            "--paper",
            paper.toString(),
            "--title",
            "Figure 4",
            "--x-label",
            "chain length",
            "--y-label",
            "reads/s");
    assertEquals(ExitCodes.OK, code, err.toString());
    assertPng(chart);
    assertTrue(err.toString().contains("chart written to " + chart), err.toString());
  }

  @Test
  @DisplayName("bars, with the paper's numbers, and --where given twice: a PNG and exit 0")
  void bars() throws IOException {
    Path chart = folder.resolve("fig4-bars.png");
    int code =
        plot(
            chart,
            "--bar",
            "--where",
            "figure=fig4",
            "--where",
            "op=read",
            "--paper",
            paper.toString());
    assertEquals(ExitCodes.OK, code, err.toString());
    assertPng(chart);
  }

  @Test
  @DisplayName("the line chart: our series on the left axis, the paper's on a right axis, dashed")
  void lineChartSeries() {
    List<Series> ours =
        List.of(
            new Series("craq", List.of(new Point(3, 3000))),
            new Series("cr", List.of(new Point(3, 1000))));
    List<Series> theirs = List.of(new Series("cr", List.of(new Point(3, 41000))));
    JFreeChart chart =
        PlotCommand.lineChart(ours, theirs, new PlotCommand.Labels("t", "nodes", "ops/s"));
    XYPlot plot = chart.getXYPlot();
    XYDataset mine = plot.getDataset(0);
    XYDataset published = plot.getDataset(1);
    assertEquals(List.of("craq", "cr"), List.of(mine.getSeriesKey(0), mine.getSeriesKey(1)));
    assertEquals("cr (paper)", published.getSeriesKey(0));
    assertEquals(41000, published.getYValue(0, 0));
    assertEquals("ops/s (paper)", plot.getRangeAxisForDataset(1).getLabel());
    assertEquals(Charts.DASHED, plot.getRenderer(1).getSeriesStroke(0));
    // The paper's cr line has the colour of our cr line.
    assertEquals(plot.getRenderer(0).getSeriesPaint(1), plot.getRenderer(1).getSeriesPaint(0));
  }

  @Test
  @DisplayName("the bar chart: one group per x in numeric order, empty where a series has none")
  void barChartGroups() {
    List<Series> ours =
        List.of(
            new Series("craq", List.of(new Point(3, 3), new Point(10, 10))),
            new Series("cr", List.of(new Point(3, 1))));
    CategoryPlot plot =
        PlotCommand.barChart(ours, List.of(), new PlotCommand.Labels("t", "nodes", "ops/s"))
            .getCategoryPlot();
    CategoryDataset data = plot.getDataset(0);
    assertEquals(List.of("3", "10"), data.getColumnKeys());
    assertEquals(10.0, data.getValue("craq", "10"));
    assertEquals(null, data.getValue("cr", "10"));
    assertEquals("0.5", PlotCommand.category(0.5));
  }

  @Test
  @DisplayName("an unknown column: exit 2, naming it")
  void unknownColumn() {
    assertUsageError(
        plot(folder.resolve("c.png"), "--where", "figur=fig4"),
        "craq plot: unknown column 'figur' (--where) in " + results);
  }

  @Test
  @DisplayName("no rows after filtering: exit 2, saying so")
  void noRows() {
    assertUsageError(
        plot(folder.resolve("c.png"), "--where", "figure=fig9"),
        "no row of " + results + " matches --where figure=fig9; column figure has: fig4, fig5");
  }

  @Test
  @DisplayName("a y that is not a number: exit 2, naming the line and the text")
  void notANumber() throws IOException {
    Files.write(results, List.of("mode\tnodes\topsPerSecond", "craq\t3\tmany"));
    assertUsageError(
        plot(folder.resolve("c.png")),
        "line 2 of " + results + ": opsPerSecond (--y) is 'many', not a number");
  }

  @Test
  @DisplayName("a missing --tsv or --paper file: exit 2 with its path")
  void missingFiles() {
    Path chart = folder.resolve("c.png");
    Path gone = folder.resolve("gone.tsv");
    assertUsageError(
        craq(
            "plot",
            "--tsv",
            gone.toString(),
            "--out",
            chart.toString(),
            "--x",
            "nodes",
            "--y",
            "opsPerSecond",
            "--series",
            "mode"),
        "no such file: " + gone);
    assertUsageError(
        plot(chart, "--where", "op=read,figure=fig4", "--paper", gone.toString()),
        "no such file: " + gone);
    assertTrue(Files.notExists(chart));
  }

  @Test
  @DisplayName("a chart that cannot be written: exit 2 with the path")
  void unwritable() {
    Path chart = folder.resolve("no such folder").resolve("c.png");
    assertUsageError(
        plot(chart, "--where", "figure=fig4,op=read"),
        "craq plot: cannot write the chart (--out): " + chart);
  }

  @Test
  @DisplayName("a malformed --where or a missing required flag: exit 2 with picocli's message")
  void badFlags() {
    assertUsageError(plot(folder.resolve("c.png"), "--where", "figure"), "KEY=VALUE");
    assertUsageError(
        craq(
            "plot",
            "--tsv",
            results.toString(),
            "--x",
            "nodes",
            "--y",
            "p50Millis",
            "--series",
            "mode"),
        "Missing required option: '--out=FILE'");
  }
}

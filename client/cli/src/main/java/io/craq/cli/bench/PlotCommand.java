package io.craq.cli.bench;

import io.craq.cli.bench.ResultsTable.Point;
import io.craq.cli.bench.ResultsTable.Series;
import io.craq.cli.bench.ResultsTable.TableException;
import io.craq.cli.common.ExitCodes;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code craq plot}: draws a PNG chart from a tab-separated results table (such as the paper
 * reproduction's): one line, or one bar per group with {@code --bar}, per value of the {@code
 * --series} column, over the rows that pass {@code --where}. {@code --paper} adds the paper's
 * published numbers from a table of the same shape, dashed, on a second y axis on the right: their
 * scale differs from ours, their ratios are what compare. See docs/BENCH.md.
 */
@Command(
    name = "plot",
    mixinStandardHelpOptions = true,
    description = {
      "Draw a chart (PNG) from a tab-separated results table with a header line.",
      "One line (or bar group with --bar) per value of the --series column. See docs/BENCH.md."
    })
public final class PlotCommand implements Callable<Integer> {
  /** Appended to the names of the {@code --paper} series, and to their axis label. */
  static final String PAPER_SUFFIX = " (paper)";

  @Spec CommandSpec spec;

  @Option(
      names = "--tsv",
      required = true,
      paramLabel = "FILE",
      description = "The results: a header line of column names, then tab-separated rows.")
  Path tsv;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "The chart to write: PNG, " + Charts.WIDTH + "x" + Charts.HEIGHT + ".")
  Path out;

  @Option(
      names = "--x",
      required = true,
      paramLabel = "COLUMN",
      description = "Column of the x values (numbers; the points are sorted by it).")
  String x;

  @Option(
      names = "--y",
      required = true,
      paramLabel = "COLUMN",
      description = "Column of the y values (numbers).")
  String y;

  @Option(
      names = "--series",
      required = true,
      paramLabel = "COLUMN",
      description = "One line (or bar per group) per distinct value of this column.")
  String series;

  @Option(
      names = "--where",
      split = ",",
      paramLabel = "COLUMN=VALUE",
      description =
          "Keep only the rows whose COLUMN is VALUE (all of them must hold;"
              + " e.g. --where figure=fig5,op=read).")
  Map<String, String> where;

  @Option(
      names = "--paper",
      paramLabel = "FILE",
      description =
          "Also draw this table of the same shape (the paper's numbers), dashed, on a"
              + " second y axis on the right.")
  Path paper;

  @Option(
      names = "--title",
      paramLabel = "TEXT",
      description = "Title (default: Y by X, and the --where conditions).")
  String title;

  @Option(names = "--x-label", paramLabel = "TEXT", description = "x axis label (default: --x).")
  String xLabel;

  @Option(names = "--y-label", paramLabel = "TEXT", description = "y axis label (default: --y).")
  String yLabel;

  @Option(names = "--bar", description = "Bars grouped by x instead of lines.")
  boolean bar;

  /** The texts of a chart. */
  record Labels(String title, String x, String y) {}

  @Override
  public Integer call() {
    Charts.headless();
    PrintWriter err = spec.commandLine().getErr();
    Map<String, String> filter = where == null ? Map.of() : where;
    List<Series> ours;
    List<Series> theirs;
    try {
      ours = ResultsTable.read(tsv).where(filter).series(x, y, series);
      theirs =
          paper == null ? List.of() : ResultsTable.read(paper).where(filter).series(x, y, series);
    } catch (TableException e) {
      return fail(err, e.getMessage());
    }
    Labels labels =
        new Labels(
            title != null ? title : defaultTitle(filter),
            xLabel != null ? xLabel : x,
            yLabel != null ? yLabel : y);
    JFreeChart chart = bar ? barChart(ours, theirs, labels) : lineChart(ours, theirs, labels);
    try {
      ChartUtils.saveChartAsPNG(out.toFile(), chart, Charts.WIDTH, Charts.HEIGHT);
    } catch (IOException e) {
      return fail(err, "cannot write the chart (--out): " + e.getMessage());
    }
    err.println("craq plot: chart written to " + out);
    err.flush();
    return ExitCodes.OK;
  }

  private static int fail(PrintWriter err, String message) {
    err.println("craq plot: " + message);
    err.flush();
    return ExitCodes.USAGE;
  }

  private String defaultTitle(Map<String, String> filter) {
    String conditions =
        filter.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(", "));
    return y + " by " + x + (conditions.isEmpty() ? "" : " (" + conditions + ")");
  }

  /** One line per series; the paper's dashed, in the same colour, against a right-hand axis. */
  static JFreeChart lineChart(List<Series> ours, List<Series> theirs, Labels labels) {
    Map<String, Color> colors = Charts.colors(Charts.concat(names(ours), names(theirs)));
    NumberAxis xAxis = new NumberAxis(labels.x());
    xAxis.setAutoRangeIncludesZero(false);
    if (Charts.concat(ours, theirs).stream()
        .flatMap(s -> s.points().stream())
        .allMatch(p -> p.x() == Math.rint(p.x()))) {
      xAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    }
    XYPlot plot =
        new XYPlot(
            xyData(ours, ""), xAxis, new NumberAxis(labels.y()), xyRenderer(ours, colors, false));
    if (!theirs.isEmpty()) {
      plot.setRangeAxis(1, new NumberAxis(labels.y() + PAPER_SUFFIX));
      plot.setRangeAxisLocation(1, AxisLocation.BOTTOM_OR_RIGHT);
      plot.setDataset(1, xyData(theirs, PAPER_SUFFIX));
      plot.mapDatasetToRangeAxis(1, 1);
      plot.setRenderer(1, xyRenderer(theirs, colors, true));
    }
    return Charts.chart(labels.title(), plot);
  }

  /**
   * One bar per series in each x group; the paper's as dashed lines with points over the groups,
   * against a right-hand axis.
   */
  static JFreeChart barChart(List<Series> ours, List<Series> theirs, Labels labels) {
    Map<String, Color> colors = Charts.colors(Charts.concat(names(ours), names(theirs)));
    TreeSet<Double> xs =
        Charts.concat(ours, theirs).stream()
            .flatMap(s -> s.points().stream())
            .map(Point::x)
            .collect(Collectors.toCollection(TreeSet::new));
    BarRenderer bars = new BarRenderer();
    bars.setBarPainter(new StandardBarPainter());
    bars.setShadowVisible(false);
    for (int i = 0; i < ours.size(); i++) {
      bars.setSeriesPaint(i, colors.get(ours.get(i).name()));
    }
    CategoryPlot plot =
        new CategoryPlot(
            categoryData(ours, xs, ""),
            new CategoryAxis(labels.x()),
            new NumberAxis(labels.y()),
            bars);
    if (!theirs.isEmpty()) {
      LineAndShapeRenderer lines = new LineAndShapeRenderer(true, true);
      for (int i = 0; i < theirs.size(); i++) {
        lines.setSeriesPaint(i, colors.get(theirs.get(i).name()));
        lines.setSeriesStroke(i, Charts.DASHED);
      }
      plot.setRangeAxis(1, new NumberAxis(labels.y() + PAPER_SUFFIX));
      plot.setRangeAxisLocation(1, AxisLocation.BOTTOM_OR_RIGHT);
      plot.setDataset(1, categoryData(theirs, xs, PAPER_SUFFIX));
      plot.mapDatasetToRangeAxis(1, 1);
      plot.setRenderer(1, lines);
      plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
    }
    return Charts.chart(labels.title(), plot);
  }

  private static List<String> names(List<Series> series) {
    return series.stream().map(Series::name).toList();
  }

  private static XYSeriesCollection xyData(List<Series> series, String suffix) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Series s : series) {
      XYSeries line = new XYSeries(s.name() + suffix, false, false);
      s.points().forEach(p -> line.add(p.x(), p.y()));
      data.addSeries(line);
    }
    return data;
  }

  private static XYLineAndShapeRenderer xyRenderer(
      List<Series> series, Map<String, Color> colors, boolean dashed) {
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < series.size(); i++) {
      renderer.setSeriesPaint(i, colors.get(series.get(i).name()));
      renderer.setSeriesStroke(i, dashed ? Charts.DASHED : Charts.SOLID);
    }
    return renderer;
  }

  /**
   * Every x of {@code xs} as a category of every series, in numeric order, so both datasets of a
   * chart list the groups alike; an x a series lacks is an empty cell.
   */
  private static DefaultCategoryDataset categoryData(
      List<Series> series, TreeSet<Double> xs, String suffix) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Series s : series) {
      Map<Double, Double> byX = s.points().stream().collect(Collectors.toMap(Point::x, Point::y));
      for (double x : xs) {
        data.addValue(byX.get(x), s.name() + suffix, category(x));
      }
    }
    return data;
  }

  /** The group label of {@code x}: {@code 3}, {@code 0.5}, without a trailing {@code .0}. */
  static String category(double x) {
    return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
  }
}

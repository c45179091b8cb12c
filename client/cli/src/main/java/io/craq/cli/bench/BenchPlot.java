package io.craq.cli.bench;

import io.craq.cli.bench.BenchReport.OpResult;
import io.craq.cli.bench.BenchReport.PercentilePoint;
import io.craq.cli.bench.BenchReport.Phase;
import io.craq.cli.bench.BenchReport.Rate;
import java.awt.Graphics2D;
import java.awt.Paint;
import java.awt.Stroke;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The chart of {@code craq bench --plot FILE}: one PNG with two panels, (a) the throughput of each
 * second of the measured time and (b) the latency distribution by percentile, one line per
 * operation kind; the lines of later phases (the echo baseline) are dashed. The title names the
 * target, the subtitle the settings.
 *
 * <p>The panels have different axes on both sides, which JFreeChart's combined plots cannot hold
 * (they share one axis), so they are two charts drawn one above the other into one image.
 */
final class BenchPlot {
  /** Share of the height given to the upper chart, which also carries the title and subtitle. */
  private static final double UPPER_SHARE = 0.54;

  /** The lowest latency the log axis shows: the histograms' resolution, 1 microsecond. */
  static final double LATENCY_MILLIS_MIN = 0.001;

  /** Room right of the highest percentile, in nines, so its tick label is not cut off. */
  private static final double NINES_MARGIN = 0.15;

  private BenchPlot() {}

  /** One line of both panels: an operation kind of a phase. */
  private record Line(String name, Paint paint, Stroke stroke, OpResult op) {}

  /**
   * Draws the chart of {@code report} and writes it to {@code file} as a PNG of {@code width} x
   * {@code height} pixels.
   *
   * @throws IOException if the file cannot be written; the message names it
   */
  static void write(BenchReport report, Path file, int width, int height) throws IOException {
    Charts.headless();
    BufferedImage image = render(report, width, height);
    try (OutputStream out = new BufferedOutputStream(new FileOutputStream(file.toFile()))) {
      ChartUtils.writeBufferedImageAsPNG(out, image);
    }
  }

  /** Both panels in one image. */
  static BufferedImage render(BenchReport report, int width, int height) {
    List<Line> lines = lines(report);
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      int upper = (int) Math.round(height * UPPER_SHARE);
      throughputChart(report, lines).draw(g, new Rectangle2D.Double(0, 0, width, upper));
      latencyChart(lines).draw(g, new Rectangle2D.Double(0, upper, width, height - upper));
    } finally {
      g.dispose();
    }
    return image;
  }

  /** Every operation of every phase, each with its colour; later phases dashed. */
  private static List<Line> lines(BenchReport report) {
    List<Line> lines = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int p = 0; p < report.phases().size(); p++) {
      Phase phase = report.phases().get(p);
      for (OpResult op : phase.ops()) {
        String name = names.add(op.op()) ? op.op() : phase.name() + ": " + op.op();
        names.add(name);
        lines.add(
            new Line(name, Charts.color(lines.size()), p == 0 ? Charts.SOLID : Charts.DASHED, op));
      }
    }
    return lines;
  }

  /** Panel (a): operations per second against seconds into the measured time. */
  private static JFreeChart throughputChart(BenchReport report, List<Line> lines) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Line line : lines) {
      XYSeries series = new XYSeries(line.name(), false, true);
      for (Rate rate : line.op().perSecond()) {
        series.add(rate.seconds(), rate.opsPerSecond());
      }
      data.addSeries(series);
    }
    NumberAxis seconds = new NumberAxis("seconds into the measured time");
    seconds.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    NumberAxis opsPerSecond = new NumberAxis("operations per second");
    XYPlot plot = new XYPlot(data, seconds, opsPerSecond, renderer(lines, true));
    JFreeChart chart = Charts.chart("craq bench: " + report.target(), plot);
    chart.addSubtitle(new TextTitle(report.date() + "   " + report.describeSettings()));
    return chart;
  }

  /**
   * Panel (b): latency against percentile, on a "nines" axis (0, 90, 99, 99.9 ... percent evenly
   * spaced: x = log10(100 / (100 - percentile))) and a logarithmic latency axis of whole decades,
   * labelled at each power of ten.
   */
  private static JFreeChart latencyChart(List<Line> lines) {
    XYSeriesCollection data = new XYSeriesCollection();
    double maxNines = 1;
    double minMillis = Double.POSITIVE_INFINITY;
    double maxMillis = Double.NEGATIVE_INFINITY;
    for (Line line : lines) {
      XYSeries series = new XYSeries(line.name(), false, true);
      for (PercentilePoint point : line.op().percentiles()) {
        double x = nines(point.percentile());
        double millis = Math.max(LATENCY_MILLIS_MIN, point.millis());
        maxNines = Math.max(maxNines, x);
        minMillis = Math.min(minMillis, millis);
        maxMillis = Math.max(maxMillis, millis);
        series.add(x, millis);
      }
      data.addSeries(series);
    }
    SymbolAxis percentile = new SymbolAxis("percentile", ninesLabels((int) maxNines));
    percentile.setGridBandsVisible(false);
    percentile.setRange(0, maxNines + NINES_MARGIN);
    LogAxis latency = new LogAxis("latency (ms)");
    latency.setSmallestValue(LATENCY_MILLIS_MIN);
    latency.setNumberFormatOverride(new DecimalFormat("0.###"));
    latency.setTickUnit(new NumberTickUnit(1), false, true); // one tick per decade
    if (minMillis <= maxMillis) {
      double lower = Math.floor(Math.log10(minMillis));
      double upper = Math.max(lower + 1, Math.ceil(Math.log10(maxMillis)));
      // A hair wider, so rounding does not drop the tick at either end.
      latency.setRange(Math.pow(10, lower) * (1 - 1e-9), Math.pow(10, upper) * (1 + 1e-9));
    }
    return Charts.chart(null, new XYPlot(data, percentile, latency, renderer(lines, false)));
  }

  /** Position of {@code percentile} on the nines axis: 0 for 0%, 1 for 90%, 2 for 99%, ... */
  static double nines(double percentile) {
    return Math.log10(100 / (100 - percentile));
  }

  /** Labels of the nines axis at 0, 1, ... {@code decades}: 0%, 90%, 99%, 99.9%, ... */
  static String[] ninesLabels(int decades) {
    String[] labels = new String[decades + 1];
    for (int k = 0; k <= decades; k++) {
      labels[k] =
          switch (k) {
            case 0 -> "0%";
            case 1 -> "90%";
            case 2 -> "99%";
            default -> "99." + "9".repeat(k - 2) + "%";
          };
    }
    return labels;
  }

  /** Lines in each line's paint and stroke; {@code shapes} also marks every point. */
  private static XYLineAndShapeRenderer renderer(List<Line> lines, boolean shapes) {
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, shapes);
    for (int i = 0; i < lines.size(); i++) {
      renderer.setSeriesPaint(i, lines.get(i).paint());
      renderer.setSeriesStroke(i, lines.get(i).stroke());
    }
    return renderer;
  }
}

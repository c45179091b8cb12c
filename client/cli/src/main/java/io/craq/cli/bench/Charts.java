package io.craq.cli.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Stroke;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.XYPlot;

/**
 * What the charts of {@code craq bench --plot} ({@link BenchPlot}) and {@code craq plot} ({@link
 * PlotCommand}) share: headless drawing, the size, one palette, solid lines for measured series and
 * dashed ones for references (the echo baseline, the paper's numbers), and a plain white look.
 */
final class Charts {
  /** Size of every chart file, in pixels. */
  static final int WIDTH = 1000;

  static final int HEIGHT = 700;

  static final Stroke SOLID = new BasicStroke(2f);
  static final Stroke DASHED =
      new BasicStroke(
          2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 5f}, 0f);

  /** Distinct colours that survive print and most colour blindness (matplotlib's "tab10"). */
  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
    new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
    new Color(0xbcbd22), new Color(0x17becf),
  };

  private Charts() {}

  /**
   * Makes AWT draw without a display. Must run before the first use of AWT in this JVM (it is read
   * once, when AWT starts); every entry point that draws calls it first.
   */
  static void headless() {
    System.setProperty("java.awt.headless", "true");
  }

  /** The colour of the {@code index}-th series; the palette repeats after ten. */
  static Color color(int index) {
    return PALETTE[index % PALETTE.length];
  }

  /** One colour per distinct name, in order of first appearance, so a name keeps its colour. */
  static Map<String, Color> colors(List<String> names) {
    Map<String, Color> colors = new LinkedHashMap<>();
    for (String name : names) {
      colors.computeIfAbsent(name, n -> color(colors.size()));
    }
    return colors;
  }

  /** Concatenation of lists, for collecting series names. */
  @SafeVarargs
  static <T> List<T> concat(List<? extends T>... lists) {
    List<T> all = new ArrayList<>();
    for (List<? extends T> list : lists) {
      all.addAll(list);
    }
    return all;
  }

  /** A chart around {@code plot} in the common look: white, light grid lines, legend below. */
  static JFreeChart chart(String title, Plot plot) {
    plot.setBackgroundPaint(Color.WHITE);
    plot.setOutlinePaint(Color.GRAY);
    switch (plot) {
      case XYPlot xy -> {
        xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
        xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
      }
      case CategoryPlot category -> category.setRangeGridlinePaint(Color.LIGHT_GRAY);
      default -> {}
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }
}

package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.bench.BenchReport.CpuRow;
import io.craq.cli.bench.BenchReport.Load;
import io.craq.cli.bench.BenchReport.OpResult;
import io.craq.cli.bench.BenchReport.Phase;
import io.craq.cli.bench.BenchReport.Rate;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chart of {@code craq bench --plot}, and the per-second throughput it draws. */
class BenchPlotTest {

  private static OpResult op(String name, long fromMicros, double... perSecond) {
    Histogram h = new Histogram(Meter.LATENCY_MICROS_MAX, 3);
    for (long m = fromMicros; m < fromMicros + 5_000; m++) {
      h.recordValue(m);
    }
    List<Rate> rates = new ArrayList<>();
    for (int i = 0; i < perSecond.length; i++) {
      rates.add(new Rate(i + 1, perSecond[i]));
    }
    return OpResult.of(name, h, perSecond.length, rates, 0, Map.of(), Map.of());
  }

  private static BenchReport report() {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("workload", "mixed");
    settings.put("threads", 8);
    Phase craq =
        new Phase(
            "craq",
            List.of(op("read", 200, 4000, 4200, 3900), op("write", 5_000, 90, 110, 100)),
            List.of(new CpuRow("n1", 42, 0.5, 1.0)));
    Phase echo =
        new Phase(
            "echo baseline",
            List.of(op("echo", 50, 9000, 9100, 9050)),
            List.of(new CpuRow("bench + echo server", 7, 0.1, 0.1)));
    return new BenchReport(
        "2026-11-26T12:00:00Z",
        settings,
        "spawned memory cluster at :1",
        List.of(craq, echo),
        List.of(),
        new Load(2, 1.0, 1.0));
  }

  /** Pixels within a small distance of {@code color} (antialiasing blends the edges of lines). */
  private static long pixelsNear(BufferedImage image, Color color) {
    long n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        Color c = new Color(image.getRGB(x, y));
        if (Math.abs(c.getRed() - color.getRed())
                + Math.abs(c.getGreen() - color.getGreen())
                + Math.abs(c.getBlue() - color.getBlue())
            < 30) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  @DisplayName(
      "--plot writes a valid PNG of the asked size with a line of each operation and of echo")
  void writesPng(@TempDir Path folder) throws IOException {
    Path file = folder.resolve("bench.png");
    BenchPlot.write(report(), file, Charts.WIDTH, Charts.HEIGHT);

    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(1000, image.getWidth());
    assertEquals(700, image.getHeight());
    for (int line = 0; line < 3; line++) { // read, write, echo
      long pixels = pixelsNear(image, Charts.color(line));
      assertTrue(pixels > 200, "line " + line + " has only " + pixels + " pixels");
    }
  }

  @Test
  @DisplayName("a chart file that cannot be written is an IOException naming it")
  void unwritable(@TempDir Path folder) {
    Path file = folder.resolve("no such folder").resolve("bench.png");
    IOException e =
        assertThrows(
            IOException.class, () -> BenchPlot.write(report(), file, Charts.WIDTH, Charts.HEIGHT));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(Files.notExists(file));
  }

  @Test
  @DisplayName("the nines axis spaces 0, 90, 99, 99.9 ... percent evenly")
  void ninesAxis() {
    assertEquals(0, BenchPlot.nines(0), 1e-12);
    assertEquals(1, BenchPlot.nines(90), 1e-12);
    assertEquals(3, BenchPlot.nines(99.9), 1e-9);
    assertEquals(0.30103, BenchPlot.nines(50), 1e-5);
    assertArrayEquals(
        new String[] {"0%", "90%", "99%", "99.9%", "99.99%"}, BenchPlot.ninesLabels(4));
  }

  @Test
  @DisplayName("a meter keeps the throughput of each measured interval, not of the warmup")
  void meterRates() {
    Meter meter = new Meter("read");
    for (int i = 0; i < 7; i++) {
      meter.success(1_000); // warmup
    }
    meter.endInterval();
    meter.startMeasuring();
    for (int i = 0; i < 5; i++) {
      meter.success(1_000);
    }
    meter.endInterval();
    for (int i = 0; i < 3; i++) {
      meter.success(1_000);
    }
    meter.stopMeasuring();
    meter.success(1_000); // after the measurement
    meter.endInterval();

    List<Rate> rates = meter.rates();
    assertEquals(2, rates.size(), rates.toString());
    Rate first = rates.get(0);
    Rate second = rates.get(1);
    assertTrue(first.seconds() > 0 && second.seconds() > first.seconds(), rates.toString());
    // Each rate times its interval's length gives back the operations of that interval.
    assertEquals(5, first.opsPerSecond() * first.seconds(), 1e-6);
    assertEquals(3, second.opsPerSecond() * (second.seconds() - first.seconds()), 1e-6);
    assertEquals(8, meter.total().getTotalCount());
  }

  @Test
  @DisplayName("the per-second throughput of each operation reaches the JSON")
  void perSecondInJson() {
    String json = report().toJson().replaceAll("\\s+", " ");
    assertTrue(
        json.contains("\"op\": \"write\"")
            && json.contains(
                "\"perSecond\": [ {"
                    + " \"seconds\": 1, \"opsPerSecond\": 90 }, { \"seconds\": 2, \"opsPerSecond\": 110 },"
                    + " { \"seconds\": 3, \"opsPerSecond\": 100 } ]"),
        json);
    assertTrue(json.contains("\"opsPerSecond\": 9050 }"), json);
  }
}

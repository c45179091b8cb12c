package io.craq.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One scrape of a metrics endpoint, for tests: the samples by series ({@code name{labels}}), the
 * families declared by {@code # TYPE} lines, and a check by {@code promtool check metrics} (the
 * Prometheus server's own parser and linter) when it is installed.
 */
public final class Scrape {
  /** What a GET answered. */
  public record Response(int statusCode, String contentType, String body) {}

  /** The exposition as served. */
  public final String text;

  /** Every sample: {@code name} or {@code name{labels as served}} to its value. */
  public final Map<String, Double> samples = new LinkedHashMap<>();

  /** Every sample name (histograms: the _bucket, _sum and _count names). */
  public final Set<String> names = new LinkedHashSet<>();

  /** Every family named by a {@code # TYPE} line, with its type. */
  public final Map<String, String> types = new LinkedHashMap<>();

  private Scrape(String text) {
    this.text = text;
    for (String line : text.split("\n", -1)) {
      if (line.startsWith("# TYPE ")) {
        String[] parts = line.split(" ");
        types.put(parts[2], parts[3]);
      } else if (!line.isEmpty() && !line.startsWith("#")) {
        int brace = line.indexOf('{');
        int space = brace < 0 ? line.indexOf(' ') : line.indexOf(' ', line.lastIndexOf('}'));
        String series = line.substring(0, space);
        String value = line.substring(space + 1).split(" ")[0];
        names.add(brace < 0 ? series : series.substring(0, brace));
        samples.put(series, Double.parseDouble(value));
      }
    }
  }

  /** GETs {@code url} + /metrics in the Prometheus text format. */
  public static Scrape of(String url) throws IOException {
    Response response = get(url + "/metrics");
    assertEquals(200, response.statusCode(), response.body());
    String type = response.contentType();
    assertTrue(type.startsWith("text/plain"), "content type " + type);
    return new Scrape(response.body());
  }

  /**
   * A GET of {@code url}: status, content type and body (with {@link HttpURLConnection}, which
   * starts faster than the JDK's HttpClient: no TLS set-up for a plain request).
   */
  public static Response get(String url) throws IOException {
    HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
    connection.setConnectTimeout(5_000);
    connection.setReadTimeout(10_000);
    try {
      int code = connection.getResponseCode();
      InputStream stream = code < 400 ? connection.getInputStream() : connection.getErrorStream();
      String body;
      try (InputStream in = stream) {
        body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      String type = connection.getContentType();
      return new Response(code, type == null ? "" : type, body);
    } finally {
      connection.disconnect();
    }
  }

  /** The value of {@code series} ({@code name} or {@code name{labels}}), or -1 if absent. */
  public double value(String series) {
    Double value = samples.get(series);
    return value == null ? -1 : value;
  }

  /**
   * Runs {@code promtool check metrics} on the text and fails on any problem it reports; returns
   * false (after printing why) if promtool is not installed, so the caller's other checks still
   * run.
   */
  public boolean checkWithPromtool() throws IOException, InterruptedException {
    Path promtool = findPromtool();
    if (promtool == null) {
      System.out.println(
          "SKIPPED: promtool not found on PATH (Debian package prometheus); the exposition was"
              + " not checked by the Prometheus parser");
      return false;
    }
    Process process =
        new ProcessBuilder(promtool.toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = process.getOutputStream()) {
      in.write(text.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
    assertEquals(0, process.exitValue(), "promtool check metrics found problems:\n" + output);
    return true;
  }

  private static Path findPromtool() {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, "promtool");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}

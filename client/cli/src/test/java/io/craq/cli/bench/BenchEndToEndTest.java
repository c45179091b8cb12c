package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqMain;
import io.craq.cli.common.ExitCodes;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * One short real run: {@code craq bench --spawn 3 --store memory} starts child JVMs from the built
 * node and coordinator jars, loads them, and writes the JSON and the chart. Speed is reported,
 * never asserted: the claim is only that operations completed and the cluster was stopped.
 */
class BenchEndToEndTest {

  @Test
  @Timeout(90)
  @DisplayName(
      "bench --spawn 3 --store memory --duration 2s --warmup 0 writes JSON with nonzero"
          + " throughput, a point per second, and the chart")
  void spawnedRun(@TempDir Path folder) throws IOException {
    try {
      LocalCluster.findHome(null);
    } catch (IOException e) {
      Assumptions.abort("node and coordinator jars not built: " + e.getMessage());
    }
    Path json = folder.resolve("bench.json");
    Path chart = folder.resolve("bench.png");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = CraqMain.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    long childrenBefore = ProcessHandle.current().children().count();

    int code =
        commandLine.execute(
            "bench",
            "--spawn",
            "3",
            "--store",
            "memory",
            "--duration",
            "2s",
            "--warmup",
            "0",
            "--threads",
            "4",
            "--keys",
            "100",
            "--json-file",
            json.toString(),
            "--plot",
            chart.toString());

    assertEquals(ExitCodes.OK, code, "stdout:\n" + out + "\nstderr:\n" + err);
    String text = Files.readString(json);
    Matcher throughput = Pattern.compile("\"opsPerSecond\": ([0-9.e+]+)").matcher(text);
    assertTrue(throughput.find(), text);
    assertTrue(Double.parseDouble(throughput.group(1)) > 0, text);
    assertTrue(text.contains("\"process\": \"n3 ("), text);
    // Two seconds measured: one throughput point per second.
    Matcher perSecond =
        Pattern.compile(
                "\"perSecond\": \\[\\s*\\{\\s*\"seconds\": [0-9.e+-]+,"
                    + "\\s*\"opsPerSecond\": [0-9.e+-]+\\s*},\\s*\\{\\s*\"seconds\": [0-9.e+-]+,"
                    + "\\s*\"opsPerSecond\": [0-9.e+-]+\\s*}\\s*]")
            .matcher(text);
    assertTrue(perSecond.find(), text);
    BufferedImage image = ImageIO.read(chart.toFile());
    assertEquals(1000, image.getWidth());
    assertEquals(700, image.getHeight());
    // Every member reports its counters; reads were answered somewhere, and all of them clean
    // (nothing is written during a read-only run, so no read needs a version query).
    assertTrue(
        out.toString().contains("per-node counters during the measured time"), out.toString());
    Matcher clean = Pattern.compile("\"reads_clean\": (\\d+)").matcher(text);
    long cleanReads = 0;
    int nodes = 0;
    while (clean.find()) {
      cleanReads += Long.parseLong(clean.group(1));
      nodes++;
    }
    assertEquals(3, nodes, text);
    assertTrue(cleanReads > 0, text);
    assertFalse(Pattern.compile("\"reads_after_query\": [1-9]").matcher(text).find(), text);
    assertEquals(
        childrenBefore,
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).count(),
        "every spawned process is stopped");
  }

  @Test
  @Timeout(180)
  @DisplayName(
      "bench --spawn 4 --chains 4 --replicas 3: the coordinator gets the flags, the run waits for"
          + " every chain, and reads reach every node (each a member of some chains)")
  void spawnedChains(@TempDir Path folder) throws IOException {
    try {
      LocalCluster.findHome(null);
    } catch (IOException e) {
      Assumptions.abort("node and coordinator jars not built: " + e.getMessage());
    }
    Path json = folder.resolve("bench.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = CraqMain.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    long childrenBefore = ProcessHandle.current().children().count();

    int code =
        commandLine.execute(
            "bench",
            "--spawn",
            "4",
            "--chains",
            "4",
            "--replicas",
            "3",
            "--store",
            "memory",
            "--duration",
            "2s",
            "--warmup",
            "0",
            "--threads",
            "4",
            "--keys",
            "100",
            "--json-file",
            json.toString());

    assertEquals(ExitCodes.OK, code, "stdout:\n" + out + "\nstderr:\n" + err);
    String text = Files.readString(json);
    assertTrue(text.contains("4 node(s), 4 chains of 3 replicas"), text);
    assertTrue(text.contains("\"chains\": 4"), text);
    // Each spawned node is named with its place in the map: heads, middles and tails.
    Matcher named =
        Pattern.compile("\"process\": \"n[1-4] \\(h\\d+ m\\d+ t\\d+\\)\"").matcher(text);
    int namedNodes = 0;
    while (named.find()) {
      namedNodes++;
    }
    assertEquals(4, namedNodes, text);
    // Every node is a member of three chains of four and serves reads of their keys.
    Matcher clean = Pattern.compile("\"reads_clean\": (\\d+)").matcher(text);
    int nodes = 0;
    while (clean.find()) {
      assertTrue(Long.parseLong(clean.group(1)) > 0, text);
      nodes++;
    }
    assertEquals(4, nodes, text);
    assertFalse(Pattern.compile("\"failures\": [1-9]").matcher(text).find(), text);
    assertEquals(
        childrenBefore,
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).count(),
        "every spawned process is stopped");
  }
}

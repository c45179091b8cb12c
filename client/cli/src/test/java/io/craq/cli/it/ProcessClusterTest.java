package io.craq.cli.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.check.CheckReport;
import io.craq.check.HistoryLog;
import io.craq.check.HistoryRecorder;
import io.craq.check.LinearizabilityChecker;
import io.craq.check.Output;
import io.craq.check.RegisterModel;
import io.craq.cli.CraqMain;
import io.craq.cli.common.ExitCodes;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.Versioned;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ReadMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The real processes: a coordinator and three nodes as child JVMs on 127.0.0.1 (LMDB stores),
 * driven through the client library and the {@code craq} command line.
 */
class ProcessClusterTest {
  private static final Duration FORM_TIMEOUT = Duration.ofSeconds(60);
  private static final List<String> IDS = List.of("n1", "n2", "n3");

  @TempDir Path directory;
  private ProcessCluster cluster;

  @BeforeEach
  void start() throws Exception {
    cluster = new ProcessCluster(directory, 2000);
    cluster.startCoordinator();
    for (String id : IDS) {
      cluster.startNode(id);
    }
    cluster.awaitChain(IDS, FORM_TIMEOUT);
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private CraqClient client() {
    return CraqClient.connect(ClientConfig.defaults(cluster.coordinatorAddress()));
  }

  /** Runs the {@code craq} command in this JVM and returns exit code, stdout and stderr. */
  private static String[] craq(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine command = CraqMain.newCommandLine();
    command.setOut(new PrintWriter(out, true));
    command.setErr(new PrintWriter(err, true));
    int code = command.execute(args);
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  @DisplayName(
      "The original README's walkthrough: write hello \"world\", then read hello at "
          + "every node prints world")
  void walkthrough() {
    String[] write = craq("-c", cluster.coordinatorAddress(), "write", "hello", "world");
    assertEquals("0", write[0], write[2]);
    for (ProcessCluster.NodeProcess node : cluster.nodes().values()) {
      String[] read =
          craq("-c", cluster.coordinatorAddress(), "-n", node.address(), "read", "hello");
      assertEquals("0", read[0], read[2]);
      assertEquals("world", read[1].strip());
    }
    String[] missing =
        craq(
            "-c",
            cluster.coordinatorAddress(),
            "-n",
            cluster.nodes().get("n2").address(),
            "read",
            "no-such-key");
    assertEquals(Integer.toString(ExitCodes.NOT_FOUND), missing[0]);
  }

  @Test
  @DisplayName("After writes, strong reads at every node return the same committed versions")
  void readsAgreeAtEveryNode() {
    try (CraqClient client = client()) {
      for (int i = 0; i < 50; i++) {
        client.write("key-" + (i % 10), ("value-" + i).getBytes(StandardCharsets.UTF_8));
      }
      for (int k = 0; k < 10; k++) {
        Versioned first = null;
        for (ProcessCluster.NodeProcess node : cluster.nodes().values()) {
          Versioned read =
              client.readFrom(node.address(), "key-" + k, ReadMode.STRONG, 0).orElseThrow();
          if (first == null) {
            first = read;
          }
          assertEquals(first.version(), read.version(), "key-" + k + " at " + node.id());
          assertEquals(
              new String(first.value(), StandardCharsets.UTF_8),
              new String(read.value(), StandardCharsets.UTF_8));
        }
        assertEquals(5, first.version(), "five writes per key, numbered 1..5");
      }
    }
  }

  @Test
  @DisplayName(
      "A node killed with SIGKILL and restarted keeps its data, rejoins and catches up "
          + "with what was written while it was down")
  void killedNodeRejoins() throws Exception {
    try (CraqClient client = client()) {
      client.write("before", "1".getBytes(StandardCharsets.UTF_8));
      cluster.killNode("n2");
      cluster.awaitCondition(
          "n2 removed",
          FORM_TIMEOUT,
          () -> cluster.chain() != null && !cluster.chain().contains("n2"));
      client.write("during", "2".getBytes(StandardCharsets.UTF_8));
      cluster.startNode("n2");
      cluster.awaitChain(IDS, FORM_TIMEOUT);
      String n2 = cluster.nodes().get("n2").address();
      assertEquals("1", text(client.readFrom(n2, "before", ReadMode.STRONG, 0)));
      assertEquals("2", text(client.readFrom(n2, "during", ReadMode.STRONG, 0)));
    }
  }

  @Test
  @DisplayName(
      "A coordinator killed with SIGKILL and restarted resumes the same chain, and "
          + "writes work again")
  void coordinatorRestartKeepsChain() throws Exception {
    ChainConfig before = cluster.chain();
    cluster.killCoordinator();
    cluster.startCoordinator();
    cluster.awaitCondition("coordinator back", FORM_TIMEOUT, () -> cluster.chain() != null);
    ChainConfig after = cluster.chain();
    assertTrue(after.epoch() >= before.epoch(), before + " then " + after);
    assertEquals(
        before.members().stream().map(m -> m.id()).sorted().toList(),
        after.members().stream().map(m -> m.id()).sorted().toList());
    try (CraqClient client = client()) {
      cluster.awaitCondition(
          "a write after the restart",
          FORM_TIMEOUT,
          () -> {
            try {
              client.write("after-restart", "ok".getBytes(StandardCharsets.UTF_8));
              return true;
            } catch (RuntimeException e) {
              return false;
            }
          });
      assertEquals("ok", text(client.read("after-restart")));
    }
  }

  @Test
  @DisplayName(
      "Four clients writing, deleting and reading at every node produce a "
          + "linearizable history")
  void concurrentClientsAreLinearizable() throws Exception {
    HistoryRecorder recorder = new HistoryRecorder();
    List<String> addresses =
        cluster.nodes().values().stream().map(ProcessCluster.NodeProcess::address).toList();
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println("ProcessClusterTest seed " + seed + " (replay: -Dcraq.seed=" + seed + ")");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
    for (int w = 0; w < 4; w++) {
      Random random = new Random(seed + w);
      long[] process = {w};
      workers.add(
          pool.submit(() -> {
            try (CraqClient client = client()) {
              int op = 0;
              while (System.nanoTime() < deadline) {
                String key = "h" + random.nextInt(3);
                op++;
                if (runOne(client, recorder, random, addresses, process, key, op)) {
                  process[0] += 4; // an unknown outcome retires the process id
                }
              }
            }
            return null;
          }));
    }
    for (Future<?> worker : workers) {
      worker.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    HistoryLog.write(recorder.history(), directory.resolve("history.log"));
    CheckReport report =
        LinearizabilityChecker.check(
            recorder.history(), new RegisterModel(), Duration.ofSeconds(20));
    System.out.println(
        "ProcessClusterTest history: " + recorder.history().summary() + "; " + report.summary());
    assertTrue(report.noneIllegal(), report.failureMessage());
    assertNotEquals(0, recorder.history().size());
  }

  /** One recorded operation; returns true if its outcome is unknown. */
  private static boolean runOne(
      CraqClient client,
      HistoryRecorder recorder,
      Random random,
      List<String> addresses,
      long[] process,
      String key,
      int op) {
    int dice = random.nextInt(10);
    if (dice < 5) {
      HistoryRecorder.Pending pending = recorder.read(process[0], key);
      try {
        Optional<Versioned> read =
            client.readFrom(
                addresses.get(random.nextInt(addresses.size())), key, ReadMode.STRONG, 0);
        pending.ok(
            read.map(v -> Output.read(new String(v.value(), StandardCharsets.UTF_8), v.version()))
                .orElse(Output.read(null)));
      } catch (RuntimeException e) {
        pending.fail(); // a failed read has no effect
      }
      return false;
    }
    String value = "p" + process[0] + "-" + op;
    boolean delete = dice == 9;
    HistoryRecorder.Pending pending =
        delete ? recorder.delete(process[0], key) : recorder.write(process[0], key, value);
    try {
      long version =
          delete ? client.delete(key) : client.write(key, value.getBytes(StandardCharsets.UTF_8));
      pending.ok(Output.done(version));
      return false;
    } catch (io.craq.client.AmbiguousWriteException e) {
      pending.info();
      return true;
    } catch (RuntimeException e) {
      pending.fail();
      return false;
    }
  }

  @Test
  @DisplayName(
      "Writes to a chain with no nodes fail with a clear error and the unavailable "
          + "exit code, directly or through the coordinator")
  void writeWithoutNodes() throws Exception {
    try (ProcessCluster empty = new ProcessCluster(directory.resolve("empty"), 2000)) {
      empty.startCoordinator();
      empty.awaitCondition("coordinator up", FORM_TIMEOUT, () -> empty.chain() != null);
      for (String[] args :
          List.of(
              new String[] {"-c", empty.coordinatorAddress(), "write", "k", "v"},
              new String[] {
                "-c", empty.coordinatorAddress(), "--via-coordinator", "write", "k", "v"
              })) {
        String[] write = craq(args);
        assertEquals(Integer.toString(ExitCodes.UNAVAILABLE), write[0], String.join(" | ", write));
        assertTrue(!write[2].isBlank(), "a diagnostic on stderr");
      }
    }
  }

  private static String text(Optional<Versioned> read) {
    return new String(read.orElseThrow().value(), StandardCharsets.UTF_8);
  }
}

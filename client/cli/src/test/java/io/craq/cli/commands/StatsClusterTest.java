package io.craq.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqMain;
import io.craq.cli.common.ExitCodes;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.client.InvalidRequestException;
import io.craq.client.NodeStats;
import io.craq.coordinator.CoordinatorServer;
import io.craq.coordinator.CoordinatorServerSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import io.craq.core.message.ReadMode;
import io.craq.core.node.NodeCounters;
import io.craq.node.NodeServer;
import io.craq.node.NodeServerSettings;
import io.craq.store.MemoryStorer;
import io.craq.transport.TcpTransport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Counters of real nodes: a coordinator and three {@link NodeServer}s in this JVM over TCP on
 * 127.0.0.1 (memory stores), read with {@link CraqClient#stats} and {@code craq stats}.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class StatsClusterTest {
  private static final long READY_WAIT_MILLIS = 30_000;

  @TempDir Path data;
  private CoordinatorServer coordinator;
  private final List<NodeServer> nodes = new ArrayList<>();
  private CraqClient client;

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    nodes.forEach(NodeServer::close);
    if (coordinator != null) {
      coordinator.close();
    }
  }

  /** Starts n1, n2, n3 one after another (so they join in that order), each until it serves. */
  private ChainConfig startChain() throws InterruptedException {
    coordinator =
        CoordinatorServer.start(
            CoordinatorServerSettings.defaults("127.0.0.1:0", data.resolve("coordinator")),
            new TcpTransport());
    client =
        CraqClient.connect(
            ClientConfig.defaults(coordinator.listenAddress()).withCallTimeoutMillis(5_000));
    for (int i = 1; i <= 3; i++) {
      nodes.add(
          NodeServer.start(
              NodeServerSettings.defaults("127.0.0.1:0", coordinator.listenAddress())
                  .withNodeId("n" + i),
              new MemoryStorer(),
              new TcpTransport()));
      awaitServing(i);
    }
    return coordinator.config();
  }

  private void awaitServing(int size) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_WAIT_MILLIS);
    while (System.nanoTime() < deadline) {
      ChainConfig chain = coordinator.config();
      if (chain.size() == size
          && chain.members().stream().allMatch(Member::caughtUp)
          && chain.members().stream().allMatch(this::serves)) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError(
        "the chain did not reach " + size + " serving members: " + coordinator.config());
  }

  private boolean serves(Member member) {
    try {
      client.readFrom(member.address(), "readiness-probe", ReadMode.STRONG, 0);
      return true;
    } catch (CraqException e) {
      return false;
    }
  }

  private NodeStats stats(Member member) {
    return client.stats(member.address());
  }

  @Test
  @DisplayName(
      "a committed write moves the head's writes_accepted and every node's "
          + "versions_committed by one; a strong read of a clean key at the middle is clean")
  void countersOfRealNodes() throws InterruptedException {
    ChainConfig chain = startChain();
    Member head = chain.members().get(0);
    Member middle = chain.members().get(1);
    Member tail = chain.members().get(2);
    assertEquals(List.of("n1", "n2", "n3"), chain.members().stream().map(Member::id).toList());

    NodeStats headBefore = stats(head);
    NodeStats middleBefore = stats(middle);
    NodeStats tailBefore = stats(tail);
    assertEquals("head", headBefore.role());
    assertEquals("middle", middleBefore.role());
    assertEquals("tail", tailBefore.role());
    assertEquals(chain.epoch(), tailBefore.epoch());
    List<String> names = new java.util.ArrayList<>(NodeCounters.NAMES);
    names.addAll(NodeServer.DRIVER_COUNTERS);
    assertEquals(names, List.copyOf(headBefore.counters().keySet()));
    // The coordinator is not a node: it refuses a StatsRequest (UNSUPPORTED).
    assertThrows(InvalidRequestException.class, () -> client.stats(coordinator.listenAddress()));

    client.write("k", "v".getBytes(StandardCharsets.UTF_8));
    client.readFrom(middle.address(), "k", ReadMode.STRONG, 0);

    Map<String, Long> headDelta = stats(head).since(headBefore);
    Map<String, Long> middleDelta = stats(middle).since(middleBefore);
    Map<String, Long> tailDelta = stats(tail).since(tailBefore);
    assertEquals(1, headDelta.get(NodeCounters.WRITES_ACCEPTED), headDelta.toString());
    assertEquals(0, middleDelta.get(NodeCounters.WRITES_ACCEPTED), middleDelta.toString());
    for (Map<String, Long> delta : List.of(headDelta, middleDelta, tailDelta)) {
      assertEquals(1, delta.get(NodeCounters.VERSIONS_COMMITTED), delta.toString());
      // Every member made the new version durable before passing it on (or committing it).
      assertTrue(delta.get(NodeServer.STORE_TRANSACTIONS) >= 1, delta.toString());
    }
    assertEquals(1, middleDelta.get(NodeCounters.PROPAGATED_VERSIONS_RECEIVED));
    assertEquals(1, tailDelta.get(NodeCounters.PROPAGATED_VERSIONS_RECEIVED));
    assertEquals(0, headDelta.get(NodeCounters.PROPAGATED_VERSIONS_RECEIVED));
    assertEquals(1, middleDelta.get(NodeCounters.READS_CLEAN), middleDelta.toString());
    assertEquals(0, middleDelta.get(NodeCounters.READS_DIRTY));
    assertEquals(0, tailDelta.get(NodeCounters.VERSION_QUERIES_SERVED));

    // The command line: a row per member with its own role, the counters below.
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine command = CraqMain.newCommandLine();
    command.setOut(new PrintWriter(out, true));
    command.setErr(new PrintWriter(err, true));
    assertEquals(
        ExitCodes.OK, command.execute("-c", coordinator.listenAddress(), "stats"), err.toString());
    String[] lines = out.toString().split("\n");
    assertEquals("epoch " + chain.epoch() + ", 3 members", lines[0]);
    assertTrue(lines[2].matches("head\\s+n1\\s+\\S+\\s+\\d+\\s+ok"), out.toString());
    assertTrue(lines[3].matches("middle\\s+n2\\s+\\S+\\s+\\d+\\s+ok"), out.toString());
    assertTrue(lines[4].matches("tail\\s+n3\\s+\\S+\\s+\\d+\\s+ok"), out.toString());
    assertTrue(lines[6].matches("COUNTER\\s+n1\\s+n2\\s+n3"), lines[6]);
    assertTrue(out.toString().contains("\nwrites_accepted "), out.toString());
  }
}

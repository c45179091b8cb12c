package io.craq.cli.commands;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ExitCodes;
import io.craq.client.FakeEndpoint;
import io.craq.client.FakeServersTest;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Message;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code craq stats}, against fake nodes on 127.0.0.1. */
class StatsCommandTest extends FakeServersTest {
  private CraqRun craq(String... args) {
    List<String> all =
        new ArrayList<>(List.of("-c", coordinator.address(), "--timeout-millis", "1500"));
    all.addAll(List.of(args));
    return CraqRun.of(all.toArray(String[]::new));
  }

  private static Map<String, Long> counters(long clean, long afterQuery) {
    Map<String, Long> counters = new LinkedHashMap<>();
    counters.put("reads_clean", clean);
    counters.put("reads_after_query", afterQuery);
    return counters;
  }

  /** A node answering StatsRequest as {@code id} in {@code role} with the given counters. */
  private FakeEndpoint statsNode(String id, String role, Map<String, Long> counters) {
    FakeEndpoint node =
        new FakeEndpoint(
            transport,
            m ->
                m instanceof StatsRequest
                    ? new StatsReply(id, 7, role, counters)
                    : new Message.ErrorReply(
                        io.craq.core.message.ErrorCode.UNSUPPORTED, "fake", ""));
    nodes.add(node);
    return node;
  }

  @Test
  @DisplayName(
      "craq stats asks every member the coordinator lists: a status row each, the "
          + "unreachable one reported in its row, then the counters of those that answered")
  void everyMember() {
    FakeEndpoint head = statsNode("n1", "head", counters(10, 0));
    FakeEndpoint middle = statsNode("n2", "catching-up", counters(1234567, 3));
    FakeEndpoint tail = statsNode("n3", "tail", counters(0, 0));
    chainRef.set(chain(7, head.member("n1"), middle.member("n2"), tail.member("n3")));
    tail.stop();

    CraqRun r = craq("stats");
    assertEquals(ExitCodes.OK, r.exitCode(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals("epoch 7, 3 members", lines[0]);
    assertTrue(lines[1].matches("ROLE\\s+ID\\s+ADDRESS\\s+EPOCH\\s+STATUS"), lines[1]);
    assertTrue(lines[2].matches("head\\s+n1\\s+\\S+\\s+7\\s+ok"), lines[2]);
    assertTrue(lines[3].matches("catching-up\\s+n2\\s+\\S+\\s+7\\s+ok"), lines[3]);
    assertTrue(lines[4].matches("tail\\s+n3\\s+\\S+\\s+-\\s+unreachable: .*"), lines[4]);
    assertEquals("", lines[5]);
    assertEquals("COUNTER            n1       n2", lines[6]);
    assertEquals("reads_clean        10  1234567", lines[7]);
    assertEquals("reads_after_query   0        3", lines[8]);
    assertEquals(9, lines.length, r.out());
    assertEquals(1, head.received(StatsRequest.class).size());
    assertEquals(1, coordinator.received(MapRequest.class).size());

    CraqRun json = craq("stats", "--json");
    assertEquals(ExitCodes.OK, json.exitCode(), json.err());
    assertEquals(1, json.out().split("\n").length, "one line");
    assertTrue(
        json.out()
            .startsWith(
                "{\"epoch\":7,\"nodes\":[{\"id\":\"n1\",\"address\":\""
                    + head.address()
                    + "\",\"role\":\"head\",\"reachable\":true,\"epoch\":7,\"counters\":"
                    + "{\"reads_clean\":10,\"reads_after_query\":0}},"),
        json.out());
    assertTrue(
        json.out()
            .contains(
                "{\"id\":\"n3\",\"address\":\""
                    + tail.address()
                    + "\",\"role\":\"tail\",\"reachable\":false,\"error\":\""),
        json.out());
  }

  @Test
  @DisplayName(
      "with several chains craq stats asks every node of the pool, each giving its own roles,"
          + " a node in no chain too")
  void everyNodeOfSeveralChains() {
    FakeEndpoint a = statsNode("n1", "c0=head,c1=tail", counters(5, 0));
    FakeEndpoint b = statsNode("n2", "c0=tail,c1=head", counters(6, 1));
    FakeEndpoint spare = statsNode("n3", "outside", counters(0, 0));
    List<ChainConfig> chains =
        List.of(chain(4, a.member("n1"), b.member("n2")), chain(2, b.member("n2"), a.member("n1")));
    List<PoolNode> pool = new ArrayList<>(FakeEndpoint.poolOf(chains));
    pool.add(new PoolNode("n3", spare.address(), 1, false));
    mapRef.set(new ChainMap(9, 2, chains, pool));

    CraqRun r = craq("stats");
    assertEquals(ExitCodes.OK, r.exitCode(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals("map version 9, 2 chains, 3 nodes", lines[0]);
    assertTrue(lines[2].matches("c0=head,c1=tail\\s+n1\\s+\\S+\\s+7\\s+ok"), lines[2]);
    assertTrue(lines[3].matches("c0=tail,c1=head\\s+n2\\s+\\S+\\s+7\\s+ok"), lines[3]);
    assertTrue(lines[4].matches("outside\\s+n3\\s+\\S+\\s+7\\s+ok"), lines[4]);
    int id = lines[1].indexOf("ID");
    assertEquals(id, lines[2].indexOf("n1"), "columns wide enough for the roles: " + r.out());
    assertEquals(id, lines[4].indexOf("n3"), r.out());
    assertEquals(1, spare.received(StatsRequest.class).size());
    assertTrue(craq("--json", "stats").out().startsWith("{\"mapVersion\":9,\"nodes\":["));
  }

  @Test
  @DisplayName("craq stats -n ADDRESS asks only that node, not the coordinator")
  void oneNode() {
    FakeEndpoint node = statsNode("n9", "middle", counters(4, 1));
    CraqRun r = craq("stats", "-n", node.address());
    assertEquals(ExitCodes.OK, r.exitCode(), r.err());
    String[] lines = r.out().split("\n");
    assertTrue(lines[0].startsWith("ROLE"), r.out());
    assertTrue(lines[1].matches("middle\\s+n9\\s+\\S+\\s+7\\s+ok"), lines[1]);
    assertEquals("reads_clean         4", lines[4]);
    assertTrue(coordinator.received().isEmpty(), "the chain is not asked with -n");

    CraqRun json = craq("-n", node.address(), "--json", "stats");
    assertEquals(
        "{\"nodes\":[{\"id\":\"n9\",\"address\":\""
            + node.address()
            + "\",\"role\":\"middle\",\"reachable\":true,\"epoch\":7,\"counters\":"
            + "{\"reads_clean\":4,\"reads_after_query\":1}}]}\n",
        json.out());
  }

  @Test
  @DisplayName(
      "if no node answers, craq stats reports each and exits with UNAVAILABLE; the "
          + "coordinator asked as a node is refused")
  void noneAnswered() {
    FakeEndpoint gone = statsNode("n1", "head", counters(0, 0));
    chainRef.set(chain(3, gone.member("n1")));
    gone.stop();
    CraqRun r = craq("stats");
    assertEquals(ExitCodes.UNAVAILABLE, r.exitCode(), r.out());
    assertTrue(r.out().contains("unreachable: "), r.out());
    assertTrue(r.err().contains("craq: no node answered"), r.err());

    CraqRun coordinatorAsNode = craq("stats", "-n", coordinator.address());
    assertEquals(ExitCodes.UNAVAILABLE, coordinatorAsNode.exitCode());
    assertTrue(
        coordinatorAsNode.out().matches("(?s).*\\?\\s+\\?\\s+\\S+\\s+-\\s+error: .*"),
        coordinatorAsNode.out());
  }

  @Test
  @DisplayName(
      "an empty chain prints its epoch and no table, exit 0; a coordinator that cannot "
          + "be reached is UNAVAILABLE")
  void emptyChainAndNoCoordinator() {
    chainRef.set(new ChainConfig(2, List.of()));
    CraqRun r = craq("stats");
    assertEquals(ExitCodes.OK, r.exitCode(), r.err());
    assertEquals("epoch 2, 0 members (no node has joined)\n", r.out());
    coordinator.stop();
    CraqRun down = craq("stats");
    assertEquals(ExitCodes.UNAVAILABLE, down.exitCode());
    assertTrue(down.err().startsWith("craq: "), down.err());
  }
}

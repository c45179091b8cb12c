package io.craq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link CraqClient#stats} and {@link NodeStats}, against a fake node on 127.0.0.1. */
class CraqClientStatsTest extends FakeServersTest {
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
                    : new Message.ErrorReply(ErrorCode.UNSUPPORTED, "fake", ""));
    nodes.add(node);
    return node;
  }

  @Test
  @DisplayName("CraqClient.stats returns the node's id, epoch, role and counters in its order")
  void clientStats() {
    FakeEndpoint node = statsNode("n1", "tail", counters(5, 2));
    try (CraqClient client =
        new CraqClient(
            ClientConfig.defaults(coordinator.address()).withCallTimeoutMillis(1500), transport)) {
      NodeStats stats = client.stats(node.address());
      assertEquals(new NodeStats("n1", 7, "tail", counters(5, 2)), stats);
      assertEquals(
          List.of("reads_clean", "reads_after_query"), List.copyOf(stats.counters().keySet()));
      assertEquals(5, stats.counter("reads_clean"));
      assertEquals(0, stats.counter("no_such_counter"));
      assertEquals(
          Map.of("reads_clean", 3L, "reads_after_query", 2L),
          stats.since(new NodeStats("n1", 7, "tail", Map.of("reads_clean", 2L))));
      // The coordinator is not a node: it refuses, and that is not worth retrying.
      assertThrows(InvalidRequestException.class, () -> client.stats(coordinator.address()));
      assertThrows(InvalidRequestException.class, () -> client.stats("no-port"));
    }
  }
}

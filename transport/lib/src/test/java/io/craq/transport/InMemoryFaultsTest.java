package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.craq.core.message.Message;
import io.craq.core.message.Message.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The in-memory network's seeded faults: drop, delay, reorder. */
class InMemoryFaultsTest {
  private static final long SEED = Long.getLong("craq.seed", System.nanoTime());

  static {
    System.out.println("InMemoryFaultsTest seed=" + SEED + " (replay: -Dcraq.seed=" + SEED + ")");
  }

  /** Sends {@code count} heartbeats, then a request as a barrier; returns the seqs received. */
  private static List<Long> exchange(InMemoryNetwork network, int count, Runnable beforeBarrier)
      throws Exception {
    BlockingQueue<Long> received = new LinkedBlockingQueue<>();
    try (Transport transport = new InMemoryTransport(network)) {
      Server server =
          transport.listen(
              "faulty:1",
              (m, responder) -> {
                if (responder.expectsReply()) {
                  responder.reply(m);
                } else {
                  received.add(((Heartbeat) m).seq());
                }
              });
      Connection connection = transport.connect(server.address());
      for (int i = 0; i < count; i++) {
        connection.send(new Heartbeat("n", 1, i, true));
      }
      beforeBarrier.run();
      // Ordered after every heartbeat once faults are off and delays have drained.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (true) {
        Message ping = new Message.WriteReply("barrier", 0);
        try {
          connection.request(ping, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
          break;
        } catch (ExecutionException e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
        }
      }
      // With reordering on, the barrier may overtake heartbeats: wait for them (bounded).
      // Without it, the barrier's reply proves every heartbeat that was not dropped arrived.
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (network.reorders() && received.size() < count && System.nanoTime() < settle) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
      List<Long> list = new ArrayList<>();
      received.drainTo(list);
      return list;
    }
  }

  @Test
  @DisplayName("delays keep the order of one connection unless reordering is on")
  void delaysKeepOrder() throws Exception {
    try (InMemoryNetwork network = new InMemoryNetwork(SEED)) {
      network.delayMillis(0, 5);
      List<Long> got = exchange(network, 300, () -> {});
      assertEquals(300, got.size());
      for (int i = 0; i < got.size(); i++) {
        assertEquals(i, got.get(i), "seed " + SEED);
      }
    }
  }

  @Test
  @DisplayName("with reordering on, messages of one connection overtake each other")
  void reorders() throws Exception {
    try (InMemoryNetwork network = new InMemoryNetwork(SEED)) {
      network.delayMillis(0, 30);
      network.reorder(true);
      List<Long> got = exchange(network, 300, () -> {});
      assertEquals(300, got.size(), "nothing lost");
      int inversions = 0;
      for (int i = 1; i < got.size(); i++) {
        if (got.get(i) < got.get(i - 1)) {
          inversions++;
        }
      }
      assertTrue(inversions > 0, "seed " + SEED + ": no message overtook another");
    }
  }

  @Test
  @DisplayName("drops are seeded: the same seed loses the same messages")
  void dropsReplay() throws Exception {
    List<List<Long>> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      try (InMemoryNetwork network = new InMemoryNetwork(SEED)) {
        network.dropProbability(0.5);
        runs.add(exchange(network, 400, network::clearFaults));
      }
    }
    int kept = runs.get(0).size();
    assertTrue(kept > 100 && kept < 300, "seed " + SEED + ": kept " + kept + " of 400");
    assertEquals(runs.get(0), runs.get(1), "seed " + SEED + " did not replay");
  }

  @Test
  @DisplayName("a dropped request times out")
  void droppedRequestTimesOut() throws Exception {
    try (InMemoryNetwork network = new InMemoryNetwork(SEED);
        Transport transport = new InMemoryTransport(network)) {
      Server server = transport.listen("drop:1", (m, responder) -> responder.reply(m));
      Connection connection = transport.connect(server.address());
      network.dropProbability(1);
      try {
        connection
            .request(new Message.ChainRequest(), Duration.ofMillis(200))
            .get(10, TimeUnit.SECONDS);
        fail("expected a timeout");
      } catch (ExecutionException e) {
        assertInstanceOf(RequestTimeoutException.class, e.getCause());
      }
    }
  }
}

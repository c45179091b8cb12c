package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.craq.core.message.Message;
import io.craq.core.message.Message.WriteRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Small and large frames interleaved, from several threads at once, over two event loops on each
 * side: every reply is the request's own, byte for byte. Exercises the write buffer (frames that
 * fit, frames that do not, frames larger than the buffer written on their own, partial writes) and
 * the read side (frames split across reads, bodies larger than the read buffer grown as they
 * arrive). Seeded; replay with {@code -Dcraq.seed=N}.
 */
class TcpMixedSizesTest {
  private static final int THREADS = 4;
  private static final int REQUESTS_PER_THREAD = 120;
  private static final int IN_FLIGHT = 16;

  @Test
  @DisplayName("mixed small and large frames from several threads all come back intact")
  void mixedSizes() throws Exception {
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println("TcpMixedSizesTest seed " + seed + " (replay: -Dcraq.seed=" + seed + ")");
    TransportConfig config = TransportConfig.DEFAULT.withIoThreads(2);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try (TcpTransport server = new TcpTransport(config);
        TcpTransport client = new TcpTransport(config)) {
      Server listening = server.listen("127.0.0.1:0", (m, responder) -> responder.reply(m));
      // Two connections, so both client loops and both server loops carry traffic.
      List<Connection> connections =
          List.of(client.connect(listening.address()), client.connect(listening.address()));
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Random random = new Random(seed + t);
        Connection connection = connections.get(t % connections.size());
        int thread = t;
        done.add(pool.submit(() -> run(connection, random, thread)));
      }
      int total = 0;
      for (Future<Integer> f : done) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      assertEquals(THREADS * REQUESTS_PER_THREAD, total);
    } finally {
      pool.shutdownNow();
    }
  }

  private static int run(Connection connection, Random random, int thread) throws Exception {
    List<WriteRequest> sent = new ArrayList<>();
    List<CompletableFuture<Message>> replies = new ArrayList<>();
    int checked = 0;
    for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
      byte[] value = new byte[size(random)];
      random.nextBytes(value);
      WriteRequest request = new WriteRequest("t" + thread + "-" + i, value, false, 0);
      sent.add(request);
      replies.add(connection.request(request, Duration.ofSeconds(60)));
      if (replies.size() - checked >= IN_FLIGHT) {
        checked += check(sent, replies, checked);
      }
    }
    while (checked < replies.size()) {
      checked += check(sent, replies, checked);
    }
    return checked;
  }

  /** Checks the reply at {@code index}; returns 1. */
  private static int check(
      List<WriteRequest> sent, List<CompletableFuture<Message>> replies, int index)
      throws Exception {
    Message reply = replies.get(index).get(60, TimeUnit.SECONDS);
    WriteRequest expected = sent.get(index);
    WriteRequest echoed = assertInstanceOf(WriteRequest.class, reply);
    assertEquals(expected.key(), echoed.key());
    assertArrayEquals(expected.value(), echoed.value(), expected.key());
    return 1;
  }

  /** Mostly small, some around the 64 KiB buffers, a few up to 1 MiB. */
  private static int size(Random random) {
    int kind = random.nextInt(10);
    if (kind < 6) {
      return random.nextInt(200);
    }
    if (kind < 9) {
      return (64 << 10) - 2_000 + random.nextInt(4_000);
    }
    return random.nextInt(1 << 20);
  }
}

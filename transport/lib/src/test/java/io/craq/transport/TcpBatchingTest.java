package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.Message;
import io.craq.core.message.Message.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Several queued messages go out with one flush. */
class TcpBatchingTest {
  @Test
  @DisplayName("a burst of one-way messages is written with far fewer flushes than messages")
  void burstIsBatched() throws Exception {
    int count = 3000; // below outboundQueueMessagesMax: the burst must fit in the queue
    LinkedBlockingQueue<Message> received = new LinkedBlockingQueue<>();
    try (TcpTransport server = new TcpTransport();
        TcpTransport client = new TcpTransport()) {
      Server listening =
          server.listen(
              "127.0.0.1:0",
              (m, responder) -> {
                if (responder.expectsReply()) {
                  responder.reply(m);
                } else {
                  received.add(m);
                }
              });
      Connection connection = client.connect(listening.address());
      connection
          .request(new Message.ChainRequest(), Duration.ofSeconds(10))
          .get(20, TimeUnit.SECONDS); // connected
      long flushesBefore = client.flushCount();
      for (int i = 0; i < count; i++) {
        connection.send(new Heartbeat("n", 1, i, true));
      }
      for (int i = 0; i < count; i++) {
        Heartbeat h = (Heartbeat) received.poll(20, TimeUnit.SECONDS);
        assertEquals(i, h.seq());
      }
      long flushes = client.flushCount() - flushesBefore;
      System.out.println("TcpBatchingTest: " + count + " messages, " + flushes + " flushes");
      assertTrue(flushes <= count / 2, flushes + " flushes for " + count + " messages");
    }
  }

  @Test
  @DisplayName(
      "messages sent inside batchWrites to two connections go out in order, one write "
          + "per connection")
  void batchWritesWritesEachConnectionOnce() throws Exception {
    LinkedBlockingQueue<Message> first = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<Message> second = new LinkedBlockingQueue<>();
    try (TcpTransport server = new TcpTransport();
        TcpTransport client = new TcpTransport()) {
      Server one = server.listen("127.0.0.1:0", (m, responder) -> first.add(m));
      Server two = server.listen("127.0.0.1:0", (m, responder) -> second.add(m));
      Connection toOne = client.connect(one.address());
      Connection toTwo = client.connect(two.address());
      toOne.send(new Heartbeat("n", 1, -1, true));
      toTwo.send(new Heartbeat("n", 1, -1, true));
      first.poll(20, TimeUnit.SECONDS); // both connected
      second.poll(20, TimeUnit.SECONDS);
      long flushesBefore = client.flushCount();
      client.batchWrites(() -> {
        for (int i = 0; i < 10; i++) {
          toOne.send(new Heartbeat("n", 1, i, true));
          toTwo.send(new Heartbeat("n", 1, i, true));
        }
        assertEquals(flushesBefore, client.flushCount(), "nothing is written inside the batch");
      });
      for (int i = 0; i < 10; i++) {
        assertEquals(i, ((Heartbeat) first.poll(20, TimeUnit.SECONDS)).seq());
        assertEquals(i, ((Heartbeat) second.poll(20, TimeUnit.SECONDS)).seq());
      }
      assertEquals(2, client.flushCount() - flushesBefore);
    }
  }

  @Test
  @DisplayName("replies to pipelined requests are batched by the server")
  void repliesAreBatched() throws Exception {
    int count = 3000; // below outboundQueueMessagesMax: all requests may be queued at once
    try (TcpTransport server = new TcpTransport();
        TcpTransport client = new TcpTransport()) {
      Server listening = server.listen("127.0.0.1:0", (m, responder) -> responder.reply(m));
      Connection connection = client.connect(listening.address());
      List<CompletableFuture<Message>> futures = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        futures.add(connection.request(new Message.WriteReply("k", i), Duration.ofSeconds(20)));
      }
      for (int i = 0; i < count; i++) {
        assertEquals(new Message.WriteReply("k", i), futures.get(i).get(30, TimeUnit.SECONDS));
      }
      long flushes = server.flushCount();
      System.out.println("TcpBatchingTest: " + count + " replies, " + flushes + " flushes");
      assertTrue(flushes <= count / 2, flushes + " flushes for " + count + " replies");
    }
  }
}

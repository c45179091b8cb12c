package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.Message;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Request deadlines, driven with explicit instants (hours ahead, so real time never interferes).
 */
class PendingRequestsTest {
  private static final long HOUR = TimeUnit.HOURS.toNanos(1);

  @Test
  @DisplayName(
      "a request fails at its deadline, not before; the skipped walks miss none, also "
          + "for requests registered after a walk")
  void deadlines() throws Exception {
    try (TimeoutSweeper sweeper = new TimeoutSweeper("test-sweeper")) {
      PendingRequests pending = new PendingRequests(100, sweeper, "peer");
      long start = System.nanoTime();
      CompletableFuture<Message> oneHour = new CompletableFuture<>();
      CompletableFuture<Message> tenHours = new CompletableFuture<>();
      pending.register(oneHour, HOUR);
      pending.register(tenHours, 10 * HOUR);

      pending.expireDue(start + HOUR / 2);
      assertFalse(oneHour.isDone());

      pending.expireDue(start + 2 * HOUR);
      assertTimedOut(oneHour);
      assertFalse(tenHours.isDone());
      assertEquals(1, pending.size());

      // The walk left "earliest deadline" at ten hours; a new, earlier request must lower it.
      CompletableFuture<Message> later = new CompletableFuture<>();
      pending.register(later, HOUR);
      pending.expireDue(start + 3 * HOUR);
      assertTimedOut(later);
      assertFalse(tenHours.isDone());

      // A request answered in time is gone; the walk at its old deadline finds nothing to fail.
      CompletableFuture<Message> answered = new CompletableFuture<>();
      long id = pending.register(answered, HOUR);
      pending.complete(id, new Message.ChainRequest());
      pending.expireDue(start + 5 * HOUR);
      assertInstanceOf(Message.ChainRequest.class, answered.get());
      assertFalse(tenHours.isDone());

      pending.expireDue(start + 11 * HOUR);
      assertTimedOut(tenHours);
      assertEquals(0, pending.size());
    }
  }

  private static void assertTimedOut(CompletableFuture<Message> future) {
    assertTrue(future.isDone(), "not failed at its deadline");
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, future::get);
    assertInstanceOf(RequestTimeoutException.class, e.getCause());
  }
}

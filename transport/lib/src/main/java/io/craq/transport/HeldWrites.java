package io.craq.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The links a thread queued frames to while it holds its writes back ({@link
 * Transport#batchWrites}), shared by the TCP and Netty transports.
 */
final class HeldWrites {
  private HeldWrites() {}

  /**
   * Runs {@code action} with {@code held} set to a fresh list, then calls {@code release} for each
   * link added to it, in the order first added. A nested call joins the outer one.
   */
  static <T> void run(ThreadLocal<List<T>> held, Runnable action, Consumer<T> release) {
    if (held.get() != null) {
      action.run();
      return;
    }
    List<T> links = new ArrayList<>();
    held.set(links);
    try {
      action.run();
    } finally {
      held.remove();
      links.forEach(release);
    }
  }
}

package io.craq.transport;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Encoded frames waiting to be written, bounded by a message count and a byte count. A full queue
 * refuses ({@link #offer} returns false); it never grows past its bounds. Thread-safe: many
 * producers, one consumer.
 */
final class OutboundQueue {
  /** Marks "write everything before me, then close"; not counted against the bounds. */
  static final byte[] CLOSE_MARKER = new byte[0];

  private final LinkedBlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
  private final AtomicInteger messages = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final int messagesMax;
  private final long bytesMax;

  OutboundQueue(int messagesMax, long bytesMax) {
    this.messagesMax = messagesMax;
    this.bytesMax = bytesMax;
  }

  /** Queues {@code frame} unless a bound would be exceeded. */
  boolean offer(byte[] frame) {
    if (messages.incrementAndGet() > messagesMax) {
      messages.decrementAndGet();
      return false;
    }
    if (bytes.addAndGet(frame.length) > bytesMax) {
      bytes.addAndGet(-frame.length);
      messages.decrementAndGet();
      return false;
    }
    frames.add(frame);
    return true;
  }

  void offerCloseMarker() {
    frames.add(CLOSE_MARKER);
  }

  /** The next frame, waiting up to {@code timeoutMillis}; null on timeout. */
  byte[] poll(long timeoutMillis) throws InterruptedException {
    return taken(frames.poll(timeoutMillis, TimeUnit.MILLISECONDS));
  }

  /** The next frame if one is queued, else null. */
  byte[] poll() {
    return taken(frames.poll());
  }

  byte[] take() throws InterruptedException {
    return taken(frames.take());
  }

  private byte[] taken(byte[] frame) {
    if (frame != null && frame != CLOSE_MARKER) {
      messages.decrementAndGet();
      bytes.addAndGet(-frame.length);
    }
    return frame;
  }

  boolean isEmpty() {
    return frames.isEmpty();
  }

  void clear() {
    while (poll() != null) {
      // drop
    }
  }
}

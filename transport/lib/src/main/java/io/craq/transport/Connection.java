package io.craq.transport;

import io.craq.core.message.Message;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A logical connection to one address, returned by {@link Transport#connect}. Thread-safe; many
 * requests may be in flight at once (pipelining); messages from one thread are sent in order.
 *
 * <p>The underlying link is opened by the first message and re-opened by the first message after it
 * was lost (no back-off: every call after a failure tries again), so a peer restart costs the
 * requests that were in flight at the time, never the connection object. Nothing here waits for the
 * peer or blocks on a socket.
 */
public interface Connection extends AutoCloseable {

  /**
   * Sends {@code request} and completes with the peer's reply: the reply message itself, which may
   * be a {@link Message.ErrorReply} (a protocol-level refusal is a normal reply, not an exception).
   * Completes exceptionally with a {@link TransportException}:
   *
   * <ul>
   *   <li>{@link RequestTimeoutException} when no reply arrived within {@code timeout};
   *   <li>{@link ConnectionClosedException} when the link was lost or closed first;
   *   <li>{@link ConnectFailedException} when the link could not be opened;
   *   <li>{@link QueueFullException} when the outbound queue or the in-flight table is full;
   *   <li>{@link MessageTooLargeException} when the message does not fit in a frame;
   *   <li>{@link ProtocolException} when the reply could not be decoded.
   * </ul>
   *
   * Never throws for those; throws {@link NullPointerException} for null arguments and {@link
   * IllegalArgumentException} for a non-positive timeout. The future may complete on a transport
   * thread: use the {@code *Async} stages for heavy work.
   */
  CompletableFuture<Message> request(Message request, Duration timeout);

  /**
   * Queues a one-way message and returns without waiting for the peer. There is no delivery
   * guarantee: it is lost if the link is lost before it is written or the peer cannot be reached
   * (logged at debug level). With {@link TransportConfig#inlineWrites()} the frame may be written
   * on the calling thread, without blocking (what the kernel does not take is written later).
   *
   * @throws QueueFullException if the outbound queue is full (nothing queued)
   * @throws MessageTooLargeException if the message does not fit in a frame
   * @throws ConnectionClosedException if this connection was closed
   */
  void send(Message message);

  /** The address this connection dials. */
  String address();

  /** Closes the link; pending requests fail with {@link ConnectionClosedException}. Idempotent. */
  @Override
  void close();
}

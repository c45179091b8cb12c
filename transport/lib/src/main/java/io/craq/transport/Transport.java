package io.craq.transport;

/**
 * Moves {@link io.craq.core.message.Message}s between processes. The node, the coordinator and the
 * client depend only on this interface; {@link TcpTransport} is the shipped implementation and
 * {@link InMemoryTransport} serves tests.
 *
 * <p>Thread-safe. {@link #listen} may block briefly while binding; {@link #connect} never blocks
 * (connections are opened lazily by the first message and re-opened after a loss).
 */
public interface Transport extends AutoCloseable {

  /**
   * Starts accepting connections on {@code address} and hands every inbound message to {@code
   * handler}. Address syntax: {@code host:port}; {@code :port} binds all interfaces; port 0 picks a
   * free port (see {@link Server#address()}).
   *
   * @throws IllegalArgumentException if the address is malformed
   * @throws ListenFailedException if the address cannot be bound (in use, not local)
   * @throws ConnectionClosedException if this transport was closed
   */
  Server listen(String address, Handler handler);

  /**
   * A connection to {@code address} ({@code host:port}). Messages the peer pushes on it without
   * being asked (one-way sends through its {@link Responder#send}) are dropped; use {@link
   * #connect(String, Handler)} to receive them.
   *
   * @throws IllegalArgumentException if the address is malformed
   */
  default Connection connect(String address) {
    return connect(address, Handler.REFUSE);
  }

  /**
   * A connection to {@code address} whose inbound requests and one-way messages from the peer go to
   * {@code handler}. Never blocks; the first message opens the underlying link.
   *
   * @throws IllegalArgumentException if the address is malformed
   * @throws ConnectionClosedException if this transport was closed
   */
  Connection connect(String address, Handler handler);

  /**
   * Runs {@code action} and holds back the messages and replies this thread sends meanwhile, then
   * writes them together when it ends: a connection's frames in one system call. For a caller that
   * sends many messages at once (a node after handling a batch of inputs). Order per connection is
   * kept. The default runs the action as it is.
   */
  default void batchWrites(Runnable action) {
    action.run();
  }

  /**
   * Closes every server and connection this transport opened; pending requests fail. Idempotent.
   */
  @Override
  void close();
}

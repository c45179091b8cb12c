package io.craq.node;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.transport.Connection;
import io.craq.transport.Server;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A coordinator stand-in on 127.0.0.1, on the project's transport: a standby that refuses every
 * request with NOT_LEADER and a hint ({@link #standby}), or a proxy that passes every request on to
 * a real coordinator and its answer back ({@link #forwarding}). Records what it received.
 */
final class FakeCoordinator implements AutoCloseable {
  private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(5);

  private final Transport transport = new TcpTransport();
  private final List<Message> received = new CopyOnWriteArrayList<>();
  private final Server server;
  private final Connection upstream;

  private FakeCoordinator(String hint, String forwardTo) {
    upstream = forwardTo == null ? null : transport.connect(forwardTo);
    server =
        transport.listen(
            "127.0.0.1:0",
            (message, responder) -> {
              received.add(message);
              if (!responder.expectsReply()) {
                return;
              }
              if (upstream == null) {
                responder.reply(
                    new ErrorReply(
                        ErrorCode.NOT_LEADER,
                        hint.isEmpty()
                            ? "no coordinator leads now; retry later"
                            : "this coordinator stands by; the leader is at " + hint,
                        hint));
                return;
              }
              upstream
                  .request(message, FORWARD_TIMEOUT)
                  .whenComplete((reply, error) -> {
                    if (reply != null) {
                      responder.reply(reply);
                    }
                  });
            });
  }

  /** A standby naming {@code leader} as the leader; empty: no leader now. */
  static FakeCoordinator standby(String leader) {
    return new FakeCoordinator(leader, null);
  }

  /** A proxy in front of the coordinator at {@code coordinator}. */
  static FakeCoordinator forwarding(String coordinator) {
    return new FakeCoordinator("", coordinator);
  }

  String address() {
    return server.address();
  }

  /** How many {@code type} messages it received, bare or in a chain's envelope. */
  <T extends Message> long count(Class<T> type) {
    return received.stream()
        .map(m -> m instanceof Message.Chained chained ? chained.message() : m)
        .filter(type::isInstance)
        .count();
  }

  long count() {
    return received.size();
  }

  /** Stops listening and drops the connections it accepted: as if its process died. */
  void stop() {
    server.close();
  }

  @Override
  public void close() {
    server.close();
    transport.close();
  }
}

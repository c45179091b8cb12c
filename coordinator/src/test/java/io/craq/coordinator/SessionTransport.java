package io.craq.coordinator;

import io.craq.core.message.Message;
import io.craq.transport.Connection;
import io.craq.transport.Handler;
import io.craq.transport.Responder;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import io.craq.transport.security.LinkSession;
import java.util.function.Function;

/**
 * Gives every message arriving at its servers the session {@code sessions} picks for it, as an
 * authenticating transport would give the session of the connection it came on: lets tests drive a
 * server's authorization over a plain transport. Shared with the node's tests (test-jar).
 */
public final class SessionTransport implements Transport {
  private final Transport delegate;
  private final Function<Message, LinkSession> sessions;

  public SessionTransport(Transport delegate, Function<Message, LinkSession> sessions) {
    this.delegate = delegate;
    this.sessions = sessions;
  }

  @Override
  public Server listen(String address, Handler handler) {
    return delegate.listen(
        address,
        (message, responder) -> {
          LinkSession session = sessions.apply(message);
          handler.handle(
              message,
              new Responder() {
                @Override
                public boolean expectsReply() {
                  return responder.expectsReply();
                }

                @Override
                public boolean reply(Message reply) {
                  return responder.reply(reply);
                }

                @Override
                public boolean send(Message oneWay) {
                  return responder.send(oneWay);
                }

                @Override
                public String peer() {
                  return responder.peer();
                }

                @Override
                public LinkSession session() {
                  return session;
                }
              });
        });
  }

  @Override
  public Connection connect(String address, Handler handler) {
    return delegate.connect(address, handler);
  }

  @Override
  public void close() {
    delegate.close();
  }
}

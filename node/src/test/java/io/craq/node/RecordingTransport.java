package io.craq.node;

import io.craq.core.message.KeyVersion;
import io.craq.core.message.Message;
import io.craq.core.message.VersionRecord;
import io.craq.transport.Connection;
import io.craq.transport.Handler;
import io.craq.transport.Responder;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records every outbound message (one-way sends and replies) as "send propagate k@1", "send commit
 * k@1" or "reply write k@1" in a shared event list, at the moment the driver hands it to the
 * transport, and every message arriving at its server as "receive durable k@1" etc. before the
 * driver sees it. A chain's envelope is described by what it holds.
 */
final class RecordingTransport implements Transport {
  private final Transport delegate;
  private final List<String> events;

  RecordingTransport(Transport delegate, List<String> events) {
    this.delegate = delegate;
    this.events = events;
  }

  static void describe(String verb, Message message, List<String> events) {
    switch (message) {
      case Message.Chained chained -> describe(verb, chained.message(), events);
      case Message.Propagate p -> {
        for (VersionRecord v : p.versions()) {
          events.add(verb + " propagate " + v.key() + "@" + v.version());
        }
      }
      case Message.Commit c -> {
        for (KeyVersion v : c.versions()) {
          events.add(verb + " commit " + v.key() + "@" + v.version());
        }
      }
      case Message.Durable d -> {
        for (KeyVersion v : d.versions()) {
          events.add(verb + " durable " + v.key() + "@" + v.version());
        }
      }
      case Message.WriteReply w -> events.add(verb + " write " + w.key() + "@" + w.version());
      default -> events.add(verb + " " + message.getClass().getSimpleName());
    }
  }

  @Override
  public Server listen(String address, Handler handler) {
    return delegate.listen(
        address,
        (message, responder) -> {
          describe("receive", message, events);
          handler.handle(
              message,
              new Responder() {
                @Override
                public boolean expectsReply() {
                  return responder.expectsReply();
                }

                @Override
                public boolean reply(Message reply) {
                  describe("reply", reply, events);
                  return responder.reply(reply);
                }

                @Override
                public boolean send(Message oneWay) {
                  describe("send", oneWay, events);
                  return responder.send(oneWay);
                }

                @Override
                public String peer() {
                  return responder.peer();
                }
              });
        });
  }

  @Override
  public Connection connect(String address, Handler handler) {
    Connection connection = delegate.connect(address, handler);
    return new Connection() {
      @Override
      public CompletableFuture<Message> request(Message request, Duration timeout) {
        describe("send", request, events);
        return connection.request(request, timeout);
      }

      @Override
      public void send(Message message) {
        describe("send", message, events);
        connection.send(message);
      }

      @Override
      public String address() {
        return connection.address();
      }

      @Override
      public void close() {
        connection.close();
      }
    };
  }

  @Override
  public void close() {
    delegate.close();
  }
}

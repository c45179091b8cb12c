package io.craq.client;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ErrorReply;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A scripted server on 127.0.0.1 that plays a node or the coordinator: every request is recorded,
 * then answered with what the behaviour returns (null = never answer, to provoke timeouts).
 */
public final class FakeEndpoint implements AutoCloseable {
  private final Server server;
  private final List<Message> received = new CopyOnWriteArrayList<>();
  private final Semaphore arrivals = new Semaphore(0);
  private volatile Function<Message, Message> behaviour;

  public FakeEndpoint(Transport transport, Function<Message, Message> behaviour) {
    this.behaviour = behaviour;
    this.server =
        transport.listen(
            "127.0.0.1:0",
            (message, responder) -> {
              received.add(message);
              arrivals.release();
              Message reply = this.behaviour.apply(message);
              if (reply != null && responder.expectsReply()) {
                responder.reply(reply);
              }
            });
  }

  /** A coordinator (or node) that answers chain requests with whatever {@code chain} says now. */
  public static FakeEndpoint coordinator(Transport transport, Supplier<ChainConfig> chain) {
    return new FakeEndpoint(
        transport,
        m ->
            m instanceof Message.ChainRequest
                ? new ChainReply(chain.get())
                : new ErrorReply(ErrorCode.UNSUPPORTED, "fake coordinator: " + m, ""));
  }

  public void behave(Function<Message, Message> newBehaviour) {
    this.behaviour = newBehaviour;
  }

  public String address() {
    return server.address();
  }

  public Member member(String id) {
    return new Member(id, address(), 1, 1, true);
  }

  public List<Message> received() {
    return List.copyOf(received);
  }

  public <T extends Message> List<T> received(Class<T> type) {
    List<T> result = new ArrayList<>();
    for (Message message : received) {
      if (type.isInstance(message)) {
        result.add(type.cast(message));
      }
    }
    return result;
  }

  /** Waits until {@code count} messages in total have arrived; false on timeout. */
  public boolean awaitReceived(int count, long timeoutMillis) throws InterruptedException {
    if (!arrivals.tryAcquire(count, timeoutMillis, TimeUnit.MILLISECONDS)) {
      return false;
    }
    arrivals.release(count);
    return true;
  }

  public void stop() {
    server.close();
  }

  @Override
  public void close() {
    server.close();
  }

  public static ChainConfig chain(long epoch, Member... members) {
    return new ChainConfig(epoch, List.of(members));
  }
}

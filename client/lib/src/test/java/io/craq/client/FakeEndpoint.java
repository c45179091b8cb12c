package io.craq.client;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.PoolNode;
import io.craq.transport.Server;
import io.craq.transport.Transport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /**
   * A coordinator (or node) of a cluster of one chain that answers map and chain requests with
   * whatever {@code chain} says now ({@link #singleChainMap}).
   */
  public static FakeEndpoint coordinator(Transport transport, Supplier<ChainConfig> chain) {
    return mapCoordinator(transport, () -> singleChainMap(chain.get()));
  }

  /**
   * A coordinator (or node) that answers map requests with whatever {@code map} says now, and chain
   * requests with its chain 0 when it has one chain (UNSUPPORTED otherwise, as a coordinator of
   * several chains does).
   */
  public static FakeEndpoint mapCoordinator(Transport transport, Supplier<ChainMap> map) {
    return new FakeEndpoint(
        transport,
        m ->
            switch (m) {
              case Message.MapRequest request -> new MapReply(map.get());
              case Message.ChainRequest request when map.get().chainCount() == 1 ->
                  new ChainReply(map.get().chain(0));
              default -> new ErrorReply(ErrorCode.UNSUPPORTED, "fake coordinator: " + m, "");
            });
  }

  /**
   * The map of a cluster whose one chain is {@code chain}: its version is the chain's epoch (so it
   * grows when the epoch does), its pool the chain's members.
   */
  public static ChainMap singleChainMap(ChainConfig chain) {
    return new ChainMap(
        chain.epoch(), Math.max(1, chain.size()), List.of(chain), poolOf(List.of(chain)));
  }

  /** A pool of every member of {@code chains}, each once, in order of first appearance. */
  public static List<PoolNode> poolOf(List<ChainConfig> chains) {
    Map<String, PoolNode> pool = new LinkedHashMap<>();
    for (ChainConfig chain : chains) {
      for (Member member : chain.members()) {
        pool.putIfAbsent(
            member.id(), new PoolNode(member.id(), member.address(), member.incarnation(), false));
      }
    }
    return List.copyOf(pool.values());
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

package io.craq.client;

import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A node of a cluster of several chains, enough to drive the client's routing: it serves the chains
 * its map ({@code view}) lists it in, over a store shared by the whole fake cluster (so a write at
 * a head is seen at once by every member: no replication), and refuses the rest as a real node
 * does: a key of a chain it is not in with WRONG_CHAIN and its map version, a write when it is not
 * the head with NOT_HEAD.
 */
public final class FakeChainNode implements Function<Message, Message> {
  private final String id;
  private final Supplier<ChainMap> view;
  private final FakeNode store;

  public FakeChainNode(String id, Supplier<ChainMap> view, FakeNode store) {
    this.id = id;
    this.view = view;
    this.store = store;
  }

  @Override
  public Message apply(Message message) {
    ChainMap map = view.get();
    return switch (message) {
      case MapRequest request -> new MapReply(map);
      case WriteRequest write -> atHead(map, write.key(), write);
      case MultiWriteRequest multi -> {
        int chain = map.chainOf(multi.writes().get(0).key());
        for (WriteRequest write : multi.writes()) {
          if (map.chainOf(write.key()) != chain) {
            yield new ErrorReply(
                ErrorCode.INVALID_REQUEST, "keys of chains " + chain + " and others", "");
          }
        }
        yield atHead(map, multi.writes().get(0).key(), multi);
      }
      case ReadRequest read -> {
        int chain = map.chainOf(read.key());
        yield map.chain(chain).contains(id) ? store.apply(read) : wrongChain(map, chain);
      }
      case Chained(int chain, ReadAllRequest scan) ->
          chain < map.chainCount() && map.chain(chain).contains(id)
              ? store.scan(scan, key -> map.chainOf(key) == chain)
              : wrongChain(map, chain);
      case Chained(int chain, ChainRequest request) when chain < map.chainCount() ->
          new ChainReply(map.chain(chain));
      case ReadAllRequest scan when map.chainCount() == 1 -> store.apply(scan);
      default -> new ErrorReply(ErrorCode.UNSUPPORTED, "fake chain node: " + message, "");
    };
  }

  /** {@code write} applied if this node heads the chain of {@code key}, else refused. */
  private Message atHead(ChainMap map, String key, Message write) {
    int chain = map.chainOf(key);
    if (!map.chain(chain).contains(id)) {
      return wrongChain(map, chain);
    }
    if (!map.chain(chain).head().id().equals(id)) {
      return new ErrorReply(ErrorCode.NOT_HEAD, id + " is not the head of chain " + chain, "");
    }
    return store.apply(write);
  }

  private ErrorReply wrongChain(ChainMap map, int chain) {
    return new ErrorReply(
        ErrorCode.WRONG_CHAIN,
        "chain " + chain + " is not served by " + id,
        Long.toString(map.version()));
  }
}

package io.craq.core.node;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Message;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.StoreView;
import java.util.Map;

/**
 * One node process of a cluster of many chains, as a deterministic state machine: a {@link
 * NodeMachine} for every chain this node is (or was, in this process) a member of, all over one
 * store, and the node's place in the pool. Drivers (and the simulation) use it as they would use
 * one {@code NodeMachine}: the same inputs, one {@link #drain()}, one drain sequence, so one {@link
 * PersistSchedule} covers every chain. Not thread-safe.
 *
 * <p><b>The pool.</b> The host sends {@link Message.NodeHello} to the coordinator every heartbeat
 * interval; the answer ({@link Message.MapReply}) is the chain map. A chain whose configuration
 * lists this node (by a {@link Message.ConfigPush} or the map) gets a machine, created over a
 * {@link io.craq.core.chain.ChainSlice} of the store: it sees, copies and drops only that chain's
 * keys. A machine whose chain lists this node with an earlier incarnation (the process restarted)
 * asks to re-join that chain, as a single-chain node always did; a machine never asks to join on
 * its own otherwise: the coordinator's placement adds and removes members. A machine whose chain no
 * longer lists this node stays (idle) in case the chain is given back to it.
 *
 * <p><b>Routing.</b> A client's write or read goes to the machine of its key's chain; a key of a
 * chain this node is not a member of is refused with {@code WRONG_CHAIN} and the host's map version
 * as the hint. Everything a machine sends travels in a {@link Message.Chained} envelope naming its
 * chain; envelopes that arrive go to that chain's machine. Replies are never wrapped (the requester
 * knows what it asked).
 */
public final class NodeHost {

  /**
   * A node over {@code store}, before it has heard from the coordinator.
   *
   * @param joinPosition where a re-joining machine asks to join (0 = head, -1 = tail)
   * @param incarnation different for every start of the process
   * @param recoveredDirty the dirty versions the store holds, handed to each chain's machine when
   *     it is created (see {@link NodeMachine})
   */
  public NodeHost(
      String selfId,
      String selfAddress,
      NodeSettings settings,
      int joinPosition,
      long incarnation,
      StoreView store,
      Iterable<VersionRecord> recoveredDirty) {
    throw new UnsupportedOperationException("not built yet");
  }

  /** As {@link NodeMachine#advanceTo}, for every machine. */
  public void advanceTo(long tick) {
    throw new UnsupportedOperationException("not built yet");
  }

  /** As {@link NodeMachine#tick}, for every machine, plus the pool hello. */
  public void tick() {
    throw new UnsupportedOperationException("not built yet");
  }

  /**
   * A request that expects an answer: {@link Message.NodeRequest}s, {@link Message.MapRequest}, and
   * {@link Message.Chained} envelopes of a {@code ReadAllRequest} or {@code ChainRequest} for one
   * chain.
   */
  public void onClientRequest(ClientRef ref, Message request) {
    throw new UnsupportedOperationException("not built yet");
  }

  /**
   * A one-way message: a {@link Message.Chained} envelope of a {@link Message.NodeMessage} (from a
   * peer or the coordinator, or a coordinator's reply the driver wrapped in the chain it asked
   * for), or a {@link Message.MapReply}.
   */
  public void onMessage(Message message) {
    throw new UnsupportedOperationException("not built yet");
  }

  /** The effects of every machine and of the host since the last call. */
  public Effects drain() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** As {@link NodeMachine#drainSequence}, covering every machine. */
  public long drainSequence() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** As {@link NodeMachine#onPersisted}, covering every machine. */
  public void onPersisted(long drainSequence) {
    throw new UnsupportedOperationException("not built yet");
  }

  public String id() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** The newest chain map this node has heard of ({@link ChainMap#empty} version 0 before). */
  public ChainMap map() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** The machines by chain, in chain order; read-only. */
  public Map<Integer, NodeMachine> machines() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** The machine of {@code chain}, or null. */
  public NodeMachine machine(int chain) {
    throw new UnsupportedOperationException("not built yet");
  }

  /** The counters of every machine, summed. */
  public NodeCounters counters() {
    throw new UnsupportedOperationException("not built yet");
  }

  /**
   * With one machine, its role ({@link NodeMachine#role}); with several, {@code c<chain>=<role>}
   * for each, comma-separated in chain order; {@code outside} with none.
   */
  public String role() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** Checks every machine's invariants and the host's own. */
  public void checkInvariants() {
    throw new UnsupportedOperationException("not built yet");
  }
}

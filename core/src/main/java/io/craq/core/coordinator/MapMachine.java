package io.craq.core.coordinator;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Message;

/**
 * The coordinator of a cluster of many chains, as a deterministic state machine: a {@link
 * CoordinatorMachine} per chain (each with its own epoch, failure detection and joins), the pool of
 * nodes (registered with {@link Message.NodeHello}, alive while those keep coming) and the
 * placement ({@link io.craq.core.chain.Placement}), which it applies as per-chain membership
 * changes. Every change of any chain or of the pool is one new map version, persisted ({@link
 * Effects.PersistMap}, first in its drain) before anything of the same drain is sent. Not
 * thread-safe.
 *
 * <p>Requests: a {@link Message.Chained} envelope of a {@link Message.CoordinatorRequest} goes to
 * that chain's machine; {@link Message.NodeHello} and {@link Message.MapRequest} are answered with
 * the map; an unwrapped {@link Message.LeaveRequest} asks for a node to leave the pool (its chains
 * are moved off first, then it leaves the pool; the answer is the map, to be polled); an unwrapped
 * {@link Message.ChainRequest} is answered with chain 0 when there is one chain, refused ({@code
 * UNSUPPORTED}) otherwise. Replies are never wrapped; pushes to nodes are ({@code Chained(chain,
 * ConfigPush)}).
 *
 * <p>With {@code settings.chains() == 1} and {@code replicas == membersMax} this is the single
 * chain of old: every node that says hello is placed in the one chain.
 */
public final class MapMachine {

  /**
   * A coordinator resuming {@code recovered} (the stored map; {@link ChainMap#empty} for a new
   * cluster). Every member and pool node counts as just heard from, and placement waits a failure
   * timeout before it moves anything, so a restart neither removes nor moves what it has not yet
   * heard of.
   */
  public MapMachine(CoordinatorSettings settings, ChainMap recovered) {
    throw new UnsupportedOperationException("not built yet");
  }

  public ChainMap map() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** The machine of {@code chain}. */
  public CoordinatorMachine chain(int chain) {
    throw new UnsupportedOperationException("not built yet");
  }

  /** One tick: every chain's failure detection, the pool's liveness, then placement. */
  public void tick() {
    throw new UnsupportedOperationException("not built yet");
  }

  /** {@link CoordinatorMachine#takeOver(long)} for every chain; pool nodes count as heard too. */
  public void takeOver(long quietTicks) {
    throw new UnsupportedOperationException("not built yet");
  }

  public void onRequest(ClientRef ref, Message request) {
    throw new UnsupportedOperationException("not built yet");
  }

  public Effects drain() {
    throw new UnsupportedOperationException("not built yet");
  }
}

package io.craq.core.coordinator;

import static io.craq.core.Check.check;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.chain.Placement;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
 * that chain's machine (a join from a node the pool does not know adds it to the pool: a node that
 * restarted after the map forgot it); {@link Message.NodeHello} and {@link Message.MapRequest} are
 * answered with the map; an unwrapped {@link Message.LeaveRequest} asks for a node to leave the
 * pool (its chains are moved off first, then it leaves the pool once it has stopped saying hello
 * for a failure timeout; the answer is the map, to be polled); an unwrapped {@link
 * Message.ChainRequest} is answered with chain 0 when there is one chain, refused ({@code
 * UNSUPPORTED}) otherwise. With one chain, an unwrapped join or heartbeat is chain 0's. Replies are
 * never wrapped; pushes to nodes are ({@code Chained(chain, ConfigPush)}). A {@link
 * Message.MapReply} carries the map as this drain persists it (every reply of a drain is sent after
 * its {@link Effects.PersistMap}).
 *
 * <p>The pool: a node is <em>live</em> while its hellos keep coming (within the failure timeout). A
 * new incarnation of a node (a restart) clears its leaving mark; an address change is recorded. A
 * node that is not live stays in the pool (it may come back) unless it is leaving and in no chain:
 * then it leaves the pool. Until then a leaving node stays, marked, so its hellos do not register
 * it again.
 *
 * <p>Placement runs every tick, once this machine has heard enough: with one chain at once; with
 * several chains that are all empty (a new cluster) once {@code replicas} nodes have said hello and
 * no node has said hello for the first time in a quiet period ({@link #LAYOUT_QUIET_TICKS}, or a
 * failure timeout if shorter: nodes started together are laid out together, with even roles), or
 * five quiet periods after the first hello; when the settings expect a number of nodes, once that
 * many have said hello (or {@link #EXPECT_WAIT_TICKS} after the first hello); otherwise a failure
 * timeout after construction or {@link #takeOver}, so the pool has said hello. Placement counts a
 * node as live while its hellos come, and places nothing on a node that has not said hello since
 * construction or the takeover (a chain's members count as live until their silence is a failure
 * timeout long).
 *
 * <p>The map's chain count must be the settings' (it fixes where every key lives); its {@code
 * replicas} is the settings' from the first drain on (a coordinator restarted with another
 * replication factor persists the new one, and the placement moves toward it).
 *
 * <p>With {@code settings.chains() == 1} and {@code replicas == membersMax} this is the single
 * chain of old: every node that says hello is placed in the one chain.
 */
public final class MapMachine {
  private final CoordinatorSettings settings;
  private final List<CoordinatorMachine> chains = new ArrayList<>();

  /** The pool by id (the map lists it in id order). */
  private final TreeMap<String, PoolNode> pool = new TreeMap<>();

  private final Map<String, Long> lastHeardTick = new HashMap<>();

  /** Nodes that said hello since construction or the last takeover. */
  private final Set<String> greeted = new HashSet<>();

  private long now;
  private long firstHelloTick = -1;

  /** When a node said hello first since construction or the last takeover. */
  private long lastNewHelloTick = -1;

  /**
   * How long a new cluster waits for one more node to say hello before it is laid out: 40 ticks (2
   * s at the servers' 50 ms tick), or a failure timeout if that is shorter. Nodes say hello every
   * heartbeat interval, and nodes started together say their first within that.
   */
  static final int LAYOUT_QUIET_TICKS = 40;

  /** The longest a new cluster's layout waits for more nodes, in quiet periods. */
  static final int LAYOUT_WAIT_PERIODS = 5;

  /**
   * The longest a new cluster waits for the nodes it expects ({@code
   * CoordinatorSettings.expectNodes}): 600 ticks, 30 s at the servers' 50 ms tick.
   */
  static final int EXPECT_WAIT_TICKS = 600;

  /** Placement waits until this tick unless the rules of the class comment say otherwise. */
  private long placeFromTick;

  /** The newest map persisted (or recovered): {@link #map()} is one version newer if it differs. */
  private ChainMap base;

  private long versionSeen;

  /**
   * The placement's last input and answer: placement is a pure function of the map and the live
   * nodes, and both often stay the same for many ticks (a removal waiting out a lease, a settled
   * cluster), so the answer is computed again only when either changed.
   */
  private ChainMap placedMap;

  private Set<String> placedLive = Set.of();
  private List<Placement.Step> placedSteps = List.of();

  private final List<Effects.Send> sends = new ArrayList<>();

  /** Replies in order; a null message is a {@link MapReply} of the map as the drain persists it. */
  private final List<Effects.Reply> replies = new ArrayList<>();

  /**
   * A coordinator resuming {@code recovered} (the stored map; {@link ChainMap#empty} for a new
   * cluster). Every member and pool node counts as just heard from, and placement waits a failure
   * timeout before it moves anything, so a restart neither removes nor moves what it has not yet
   * heard of. A chain member missing from the pool is added to it.
   *
   * @throws IllegalArgumentException if {@code recovered} has another number of chains than {@code
   *     settings}
   */
  public MapMachine(CoordinatorSettings settings, ChainMap recovered) {
    if (recovered.chainCount() != settings.chains()) {
      throw new IllegalArgumentException(
          "the stored map has "
              + recovered.chainCount()
              + " chains, this coordinator is set for "
              + settings.chains());
    }
    this.settings = settings;
    for (ChainConfig config : recovered.chains()) {
      chains.add(new CoordinatorMachine(settings, config));
    }
    for (PoolNode node : recovered.pool()) {
      pool.put(node.id(), node);
      lastHeardTick.put(node.id(), 0L);
    }
    for (ChainConfig config : recovered.chains()) {
      for (Member m : config.members()) {
        if (!pool.containsKey(m.id())) {
          pool.put(m.id(), new PoolNode(m.id(), m.address(), m.incarnation(), false));
          lastHeardTick.put(m.id(), 0L);
        }
      }
    }
    base = recovered;
    versionSeen = recovered.version();
    placeFromTick = settings.failureTimeoutTicks();
  }

  /** The current map: the persisted one, or one version newer if anything changed since. */
  public ChainMap map() {
    List<ChainConfig> configs = new ArrayList<>(chains.size());
    for (CoordinatorMachine chain : chains) {
      configs.add(chain.config());
    }
    List<PoolNode> nodes = List.copyOf(pool.values());
    if (configs.equals(base.chains())
        && nodes.equals(base.pool())
        && settings.replicas() == base.replicas()) {
      return base;
    }
    return new ChainMap(base.version() + 1, settings.replicas(), configs, nodes);
  }

  /** The machine of {@code chain}. */
  public CoordinatorMachine chain(int chain) {
    return chains.get(chain);
  }

  /** The number of chains (fixed). */
  public int chainCount() {
    return chains.size();
  }

  /** One tick: every chain's failure detection, the pool's liveness, then placement. */
  public void tick() {
    now++;
    for (int c = 0; c < chains.size(); c++) {
      chains.get(c).tick();
      collect(c);
    }
    List<String> gone = new ArrayList<>();
    for (PoolNode node : pool.values()) {
      if (node.leaving() && !isLive(node.id()) && !inAnyChain(node.id())) {
        gone.add(node.id());
      }
    }
    for (String id : gone) {
      pool.remove(id);
      lastHeardTick.remove(id);
      greeted.remove(id);
    }
    if (placementDue()) {
      place();
    }
  }

  /** {@link CoordinatorMachine#takeOver(long)} for every chain; pool nodes count as heard too. */
  public void takeOver(long quietTicks) {
    for (int c = 0; c < chains.size(); c++) {
      chains.get(c).takeOver(quietTicks);
      collect(c);
    }
    for (String id : pool.keySet()) {
      lastHeardTick.put(id, now + quietTicks);
    }
    greeted.clear();
    firstHelloTick = -1;
    lastNewHelloTick = -1;
    placeFromTick = now + settings.failureTimeoutTicks();
  }

  /** A request from a node or client; answered in the next {@link #drain()}. */
  public void onRequest(ClientRef ref, Message request) {
    if (request instanceof Chained chained) {
      onChained(ref, chained.chain(), chained.message());
    } else if (request instanceof NodeHello hello) {
      onHello(ref, hello);
    } else if (request instanceof MapRequest) {
      replyMap(ref);
    } else if (request instanceof LeaveRequest leave) {
      PoolNode node = pool.get(leave.nodeId());
      if (node != null && !node.leaving()) {
        pool.put(node.id(), node.withLeaving(true));
      }
      replyMap(ref);
    } else if (request instanceof ChainRequest) {
      if (chains.size() == 1) {
        reply(ref, new ChainReply(chains.get(0).config()));
      } else {
        reply(ref, manyChains(chains.size()));
      }
    } else if (request instanceof JoinRequest || request instanceof Heartbeat) {
      if (chains.size() == 1) {
        onChained(ref, 0, request);
      } else {
        reply(ref, unnamedChain(chains.size()));
      }
    } else {
      reply(ref, notForTheCoordinator(request));
    }
  }

  /**
   * What the drain holds: one {@link Effects.PersistMap} of the new map version first if any chain
   * or the pool changed, every chain's sends in {@link Chained} envelopes, and the replies.
   */
  public Effects drain() {
    for (int c = 0; c < chains.size(); c++) {
      collect(c);
    }
    ChainMap current = map();
    Effects out = Effects.empty();
    if (current != base) {
      out.persist().add(new Effects.PersistMap(current));
      base = current;
    }
    out.sends().addAll(sends);
    for (Effects.Reply r : replies) {
      out.replies()
          .add(r.message() == null ? new Effects.Reply(r.ref(), new MapReply(current)) : r);
    }
    sends.clear();
    replies.clear();
    checkInvariants(current);
    return out;
  }

  // ------------------------------------------------------------------ requests

  private void onChained(ClientRef ref, int c, Message inner) {
    if (c >= chains.size()) {
      reply(ref, chainOutOfRange(c, chains.size()));
      return;
    }
    if (!(inner instanceof Message.CoordinatorRequest request)) {
      reply(ref, notForTheCoordinator(inner));
      return;
    }
    if (request instanceof JoinRequest join) {
      PoolNode known = pool.get(join.nodeId());
      if (known == null || known.incarnation() != join.incarnation()) {
        // A restart of a node the map knows in this chain (or forgot): it is in the pool again,
        // as a hello would have put it.
        ErrorReply refusal = register(join.nodeId(), join.address(), join.incarnation());
        if (refusal != null) {
          reply(ref, refusal);
          return;
        }
      }
    }
    chains.get(c).onRequest(ref, request);
    collect(c);
  }

  private void onHello(ClientRef ref, NodeHello hello) {
    ErrorReply refusal = register(hello.nodeId(), hello.address(), hello.incarnation());
    if (refusal != null) {
      reply(ref, refusal);
      return;
    }
    if (greeted.add(hello.nodeId())) {
      lastNewHelloTick = now;
    }
    if (firstHelloTick < 0) {
      firstHelloTick = now;
    }
    replyMap(ref);
  }

  /**
   * Puts a node in the pool, or updates its entry (a new incarnation clears {@code leaving}), and
   * counts it as heard. Refused if another node that is live or in a chain uses the address; a
   * silent node in no chain that holds it is dropped from the pool instead (it was replaced).
   */
  private ErrorReply register(String id, String address, long incarnation) {
    PoolNode holder = null;
    for (PoolNode node : pool.values()) {
      if (!node.id().equals(id) && node.address().equals(address)) {
        holder = node;
      }
    }
    if (holder != null) {
      if (isLive(holder.id()) || inAnyChain(holder.id())) {
        return new ErrorReply(
            ErrorCode.INVALID_REQUEST,
            "address " + address + " is already used by node " + holder.id(),
            "");
      }
      pool.remove(holder.id());
      lastHeardTick.remove(holder.id());
      greeted.remove(holder.id());
    }
    PoolNode known = pool.get(id);
    if (known == null || known.incarnation() != incarnation) {
      pool.put(id, new PoolNode(id, address, incarnation, false));
    } else if (!known.address().equals(address)) {
      pool.put(id, new PoolNode(id, address, incarnation, known.leaving()));
    }
    lastHeardTick.merge(id, now, Math::max);
    return null;
  }

  /** The refusal of a chain index this cluster does not have. */
  static ErrorReply chainOutOfRange(int chain, int chains) {
    return new ErrorReply(
        ErrorCode.INVALID_REQUEST,
        "no chain " + chain + ": this cluster has " + chains + " chains",
        "");
  }

  /** The refusal of an unwrapped join or heartbeat when there are several chains. */
  static ErrorReply unnamedChain(int chains) {
    return new ErrorReply(
        ErrorCode.INVALID_REQUEST,
        "this cluster has " + chains + " chains: a join or heartbeat must name its chain",
        "");
  }

  /** The refusal of an unwrapped chain request when there are several chains. */
  static ErrorReply manyChains(int chains) {
    return new ErrorReply(
        ErrorCode.UNSUPPORTED, "this cluster has " + chains + " chains; ask for the chain map", "");
  }

  /** The refusal of a message the coordinator does not answer. */
  static ErrorReply notForTheCoordinator(Message message) {
    return new ErrorReply(
        ErrorCode.INVALID_REQUEST,
        "the coordinator does not answer " + message.getClass().getSimpleName(),
        "");
  }

  // ------------------------------------------------------------------ placement

  private long layoutQuietTicks() {
    return Math.min(settings.failureTimeoutTicks(), LAYOUT_QUIET_TICKS);
  }

  private boolean placementDue() {
    if (chains.size() == 1) {
      return true;
    }
    if (chains.stream().anyMatch(c -> c.config().size() > 0)) {
      return now >= placeFromTick;
    }
    // A new cluster is laid out once the nodes starting together have all said hello: when at
    // least `replicas` have and no new one has for a quiet period, or at the latest
    // LAYOUT_WAIT_PERIODS quiet periods after the first hello. Nodes that come later join by
    // moves, and take tail places first.
    if (firstHelloTick < 0) {
      return false;
    }
    if (settings.expectNodes() > 0) {
      long eligible = greeted.stream().filter(id -> isLive(id) && !pool.get(id).leaving()).count();
      return eligible >= settings.expectNodes() || now - firstHelloTick >= EXPECT_WAIT_TICKS;
    }
    long quiet = layoutQuietTicks();
    long eligible = greeted.stream().filter(id -> isLive(id) && !pool.get(id).leaving()).count();
    return (eligible >= settings.replicas() && now - lastNewHelloTick >= quiet)
        || now - firstHelloTick >= LAYOUT_WAIT_PERIODS * quiet;
  }

  private void place() {
    // A pool node the map recovered counts as heard (so it is not dropped or failed out at once),
    // but nothing is placed on it before it says hello.
    Set<String> live = new HashSet<>();
    for (String id : pool.keySet()) {
      if (isLive(id) && (greeted.contains(id) || inAnyChain(id))) {
        live.add(id);
      }
    }
    ChainMap current = map();
    if (!current.equals(placedMap) || !live.equals(placedLive)) {
      placedSteps = Placement.next(current, live, settings.movesMax());
      placedMap = current;
      placedLive = live;
    }
    List<Placement.Step> steps = placedSteps;
    // A removal under way waits out the member's lease; one the placement no longer asks for (the
    // chain lost another member meanwhile) is called off, or the chain would end up short.
    for (int c = 0; c < chains.size(); c++) {
      for (Member m : chains.get(c).config().members()) {
        if (chains.get(c).releasing(m.id()) && !steps.contains(new Placement.Remove(c, m.id()))) {
          chains.get(c).cancelRemoval(m.id());
        }
      }
    }
    for (Placement.Step step : steps) {
      CoordinatorMachine chain = chains.get(step.chain());
      switch (step) {
        case Placement.Add add -> {
          PoolNode node = pool.get(add.nodeId());
          chain.admit(node.id(), node.address(), node.incarnation());
        }
        case Placement.Remove remove -> chain.remove(remove.nodeId());
      }
      collect(step.chain());
    }
  }

  // ------------------------------------------------------------------ helpers

  private boolean isLive(String id) {
    Long heard = lastHeardTick.get(id);
    return heard != null && now - heard <= settings.failureTimeoutTicks();
  }

  private boolean inAnyChain(String id) {
    for (CoordinatorMachine chain : chains) {
      if (chain.config().contains(id)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Moves chain {@code c}'s effects into this machine's: sends wrapped, the config persist dropped.
   */
  private void collect(int c) {
    Effects effects = chains.get(c).drain();
    for (Effects.Send send : effects.sends()) {
      sends.add(new Effects.Send(send.to(), new Chained(c, send.message())));
    }
    replies.addAll(effects.replies());
  }

  private void replyMap(ClientRef ref) {
    replies.add(new Effects.Reply(ref, null));
  }

  private void reply(ClientRef ref, Message message) {
    replies.add(new Effects.Reply(ref, message));
  }

  /**
   * Checked at every {@link #drain()}, in production too: the map version never goes back, the
   * number of chains never changes, every chain member is in the pool.
   */
  private void checkInvariants(ChainMap current) {
    check(
        current.version() >= versionSeen,
        "map version went back from %d to %d",
        versionSeen,
        current.version());
    versionSeen = current.version();
    check(
        current.chainCount() == settings.chains(),
        "%d chains, the cluster has %d",
        current.chainCount(),
        settings.chains());
    for (int c = 0; c < current.chainCount(); c++) {
      for (Member m : current.chain(c).members()) {
        check(
            current.poolNode(m.id()) != null,
            "member %s of chain %d is not in the pool",
            m.id(),
            c);
      }
    }
  }
}

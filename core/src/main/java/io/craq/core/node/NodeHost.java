package io.craq.core.node;

import static io.craq.core.Check.check;

import io.craq.core.Effects;
import io.craq.core.Effects.ClientRef;
import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.StoreView;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One node process of a cluster of many chains, as a deterministic state machine: a {@link
 * NodeMachine} for every chain this node is (or was, in this process) a member of, all over one
 * store, and the node's place in the pool. Drivers (and the simulation) use it as they would use
 * one {@code NodeMachine}: the same inputs, one {@link #drain()}, one drain sequence, so one {@link
 * PersistSchedule} covers every chain. Not thread-safe.
 *
 * <p><b>The pool.</b> The host sends {@link Message.NodeHello} to the coordinator at its first tick
 * and every heartbeat interval; the answer ({@link Message.MapReply}) is the chain map, which the
 * host keeps when it is newer than the one it has. A chain whose configuration lists this node (by
 * a {@link Message.ConfigPush} or the map) gets a machine, created over a {@link ChainSlice} of the
 * store: it sees, copies and drops only that chain's keys. A machine whose chain lists this node
 * with an earlier incarnation (the process restarted) asks to re-join that chain, as a single-chain
 * node always did, until it is placed ({@link NodeMachine.JoinPolicy#UNTIL_PLACED}); a machine
 * never asks to join on its own otherwise ({@link NodeMachine.JoinPolicy#NEVER}): the coordinator's
 * placement adds and removes members. A machine whose chain no longer lists this node stays (idle,
 * silent) in case the chain is given back to it; then it drops its dirty versions and catches up
 * from its predecessor, as a re-joining node does. Every chain configuration of a newer map is
 * handed to that chain's machine as a push would be.
 *
 * <p><b>Routing.</b> A client's write or read goes to the machine of its key's chain when that
 * machine is a member; otherwise it is refused with {@code WRONG_CHAIN} and the host's map version
 * as the hint, or with {@code UNAVAILABLE} before the node has heard of any map. A {@code
 * ReadAllRequest} or {@code ChainRequest} names its chain in a {@link Message.Chained} envelope;
 * without one it is answered for chain 0 when the cluster has one chain, and refused ({@code
 * INVALID_REQUEST}) otherwise. {@code MapRequest} is answered with the host's map, {@code
 * StatsRequest} with the counters of every machine summed. Everything a machine sends travels in a
 * {@link Message.Chained} envelope naming its chain; envelopes that arrive go to that chain's
 * machine (and are dropped, counted in {@link #messagesDropped()}, when there is none, or before
 * the first map: a machine's slice needs the chain count, and the next hello brings the map). Only
 * {@link Message.NodeMessage}s are acted on in an envelope: a refusal of a machine's join request
 * the driver hands back wrapped is dropped too (the machine asks again). Replies are never wrapped
 * (the requester knows what it asked).
 *
 * <p><b>Recovered dirty versions</b> are split by chain once the first map gives the chain count;
 * each chain's share goes to its machine when that is created. The shares of chains without a
 * machine are kept until one is created, so every machine knows exactly which dirty versions its
 * slice of the store holds: it drops them when it joins behind others, or commits them when it
 * returns as the only complete copy, as a single-chain node does.
 *
 * <p><b>Drain sequences.</b> The host numbers its drains that hold store changes; the store changes
 * of a drain are those of every machine, in chain order. It remembers each machine's own drain
 * sequence per such drain, and reports a completion ({@link #onPersisted}) to each machine with the
 * sequence recorded for that drain.
 */
public final class NodeHost {
  private final String selfId;
  private final String selfAddress;
  private final NodeSettings settings;
  private final int joinPosition;
  private final long incarnation;
  private final StoreView store;

  private long now;
  private long lastHelloTick = Long.MIN_VALUE / 2;

  /** The newest map heard of; version 0 (no map) until the coordinator answers. */
  private ChainMap map = ChainMap.empty(1, 1);

  /** The recovered dirty versions until the first map is known, then null. */
  private List<VersionRecord> recovered;

  /** After the first map: each chain's share of the recovered versions, until it has a machine. */
  private final Map<Integer, List<VersionRecord>> recoveredByChain = new HashMap<>();

  private final TreeMap<Integer, NodeMachine> machines = new TreeMap<>();
  private final SortedMap<Integer, NodeMachine> machinesView =
      Collections.unmodifiableSortedMap(machines);

  /** The host's own effects (hello, its answers) since the last drain. */
  private Effects effects = Effects.empty();

  /** Reads the host refused itself (no machine counts them): see {@link NodeCounters}. */
  private final NodeCounters.Tally counts = new NodeCounters.Tally();

  private long messagesDropped;

  /** Drains that held store changes, and the last one reported done ({@link #onPersisted}). */
  private long drainedSeq;

  private long persistedSeq;

  /** Per drain with store changes not yet reported done: each machine's drain sequence then. */
  private final ArrayDeque<DrainMark> marks = new ArrayDeque<>();

  private record DrainMark(long seq, NodeMachine[] machines, long[] sequences) {}

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
    this.selfId = java.util.Objects.requireNonNull(selfId, "selfId");
    this.selfAddress = java.util.Objects.requireNonNull(selfAddress, "selfAddress");
    this.settings = java.util.Objects.requireNonNull(settings, "settings");
    this.joinPosition = joinPosition;
    this.incarnation = incarnation;
    this.store = java.util.Objects.requireNonNull(store, "store");
    this.recovered = new ArrayList<>();
    recoveredDirty.forEach(recovered::add);
  }

  // ------------------------------------------------------------------------------------ inputs

  /** As {@link NodeMachine#advanceTo}, for every machine. */
  public void advanceTo(long tick) {
    if (tick > now) {
      now = tick - 1;
      tick();
    }
  }

  /** As {@link NodeMachine#tick}, for every machine, plus the pool hello. */
  public void tick() {
    now++;
    if (now - lastHelloTick >= settings.heartbeatIntervalTicks()) {
      lastHelloTick = now;
      effects
          .sends()
          .add(
              new Effects.Send(
                  Effects.COORDINATOR,
                  new NodeHello(selfId, selfAddress, incarnation, map.version())));
    }
    for (NodeMachine machine : machines.values()) {
      machine.advanceTo(now);
    }
  }

  /**
   * A request that expects an answer: {@link Message.NodeRequest}s, {@link Message.MapRequest}, and
   * {@link Message.Chained} envelopes of a {@code ReadAllRequest} or {@code ChainRequest} for one
   * chain.
   */
  public void onClientRequest(ClientRef ref, Message request) {
    switch (request) {
      case WriteRequest write -> toKeyChain(ref, write.key(), write, false);
      case Message.IncrementRequest increment -> toKeyChain(ref, increment.key(), increment, false);
      case Message.AppendRequest append -> toKeyChain(ref, append.key(), append, false);
      case Message.MultiWriteRequest multi -> {
        if (multi.writes().isEmpty()) {
          reply(ref, error(ErrorCode.INVALID_REQUEST, "a multi-key write needs a key", ""));
        } else {
          // The chain's machine checks that every key is of its chain.
          toKeyChain(ref, multi.writes().get(0).key(), multi, false);
        }
      }
      case ReadRequest read -> toKeyChain(ref, read.key(), read, true);
      case ReadAllRequest readAll -> toOnlyChain(ref, readAll);
      case ChainRequest chainRequest -> toOnlyChain(ref, chainRequest);
      case StatsRequest ignored -> reply(ref, stats());
      case MapRequest ignored -> reply(ref, new MapReply(map));
      case Chained chained -> {
        if (chained.message() instanceof ReadAllRequest
            || chained.message() instanceof ChainRequest) {
          toChain(ref, chained.chain(), (Message.NodeRequest) chained.message());
        } else {
          reply(
              ref,
              error(
                  ErrorCode.INVALID_REQUEST,
                  "only read-all and chain requests name a chain; "
                      + name(chained.message())
                      + " does not",
                  ""));
        }
      }
      default ->
          reply(
              ref,
              error(
                  ErrorCode.UNSUPPORTED,
                  "node " + selfId + " does not answer " + name(request),
                  ""));
    }
  }

  /**
   * A one-way message: a {@link Message.Chained} envelope of a {@link Message.NodeMessage} (from a
   * peer or the coordinator, or a coordinator's reply the driver wrapped in the chain it asked
   * for), or a {@link Message.MapReply}.
   */
  public void onMessage(Message message) {
    switch (message) {
      case MapReply reply -> onMap(reply.map());
      case Chained chained -> onChained(chained);
      default -> messagesDropped++;
    }
  }

  /** The effects of every machine and of the host since the last call. */
  public Effects drain() {
    Effects out = effects;
    effects = Effects.empty();
    NodeMachine[] drained = new NodeMachine[machines.size()];
    long[] sequences = new long[machines.size()];
    int i = 0;
    for (Map.Entry<Integer, NodeMachine> e : machines.entrySet()) {
      int chain = e.getKey();
      NodeMachine machine = e.getValue();
      Effects part = machine.drain();
      out.persist().addAll(part.persist());
      for (Effects.Send send : part.sends()) {
        out.sends().add(new Effects.Send(send.to(), new Chained(chain, send.message())));
      }
      out.replies().addAll(part.replies());
      drained[i] = machine;
      sequences[i] = machine.drainSequence();
      i++;
    }
    if (!out.persist().isEmpty()) {
      drainedSeq++;
      marks.addLast(new DrainMark(drainedSeq, drained, sequences));
    }
    return out;
  }

  /** As {@link NodeMachine#drainSequence}, covering every machine. */
  public long drainSequence() {
    return drainedSeq;
  }

  /** As {@link NodeMachine#onPersisted}, covering every machine. */
  public void onPersisted(long drainSequence) {
    check(
        drainSequence <= drainedSeq,
        "%s: persisted %d, but only %d was drained",
        selfId,
        drainSequence,
        drainedSeq);
    if (drainSequence <= persistedSeq) {
      return;
    }
    persistedSeq = drainSequence;
    DrainMark done = null;
    while (!marks.isEmpty() && marks.peekFirst().seq() <= drainSequence) {
      done = marks.pollFirst();
    }
    if (done != null) {
      // Each machine's sequence then covers every earlier drain of it too.
      for (int i = 0; i < done.machines().length; i++) {
        done.machines()[i].onPersisted(done.sequences()[i]);
      }
    }
  }

  // ------------------------------------------------------------------------- queries (read-only)

  public String id() {
    return selfId;
  }

  public long incarnation() {
    return incarnation;
  }

  /** The newest chain map this node has heard of ({@link ChainMap#empty} version 0 before). */
  public ChainMap map() {
    return map;
  }

  /** The machines by chain, in chain order; read-only. */
  public Map<Integer, NodeMachine> machines() {
    return machinesView;
  }

  /** The machine of {@code chain}, or null. */
  public NodeMachine machine(int chain) {
    return machines.get(chain);
  }

  /**
   * One-way messages dropped since creation: envelopes of a chain without a machine here (or before
   * any map), messages a node does not act on, and maps of another chain count.
   */
  public long messagesDropped() {
    return messagesDropped;
  }

  /** The counters of every machine, summed. */
  public NodeCounters counters() {
    NodeCounters sum = counts.snapshot();
    for (NodeMachine machine : machines.values()) {
      sum = sum.plus(machine.counters());
    }
    return sum;
  }

  /**
   * With one machine, its role ({@link NodeMachine#role}); with several, {@code c<chain>=<role>}
   * for each, comma-separated in chain order; {@code outside} with none.
   */
  public String role() {
    if (machines.isEmpty()) {
      return "outside";
    }
    if (machines.size() == 1) {
      return machines.firstEntry().getValue().role();
    }
    StringBuilder out = new StringBuilder();
    for (Map.Entry<Integer, NodeMachine> e : machines.entrySet()) {
      if (out.length() > 0) {
        out.append(',');
      }
      out.append('c').append(e.getKey()).append('=').append(e.getValue().role());
    }
    return out.toString();
  }

  /** Checks every machine's invariants and the host's own. */
  public void checkInvariants() {
    check(
        persistedSeq <= drainedSeq,
        "%s: drains persisted %d, drained %d",
        selfId,
        persistedSeq,
        drainedSeq);
    long previous = persistedSeq;
    for (DrainMark mark : marks) {
      check(mark.seq() > previous, "%s: drain marks out of order at %d", selfId, mark.seq());
      previous = mark.seq();
    }
    check(mapKnown() || machines.isEmpty(), "%s: machines before any map", selfId);
    check(
        (recovered == null) == mapKnown(),
        "%s: recovered versions not split exactly when the first map came",
        selfId);
    for (Map.Entry<Integer, NodeMachine> e : machines.entrySet()) {
      NodeMachine machine = e.getValue();
      check(
          machine.slice().equals(new ChainSlice(e.getKey(), map.chainCount())),
          "%s: the machine of chain %d serves %s",
          selfId,
          e.getKey(),
          machine.slice());
      check(
          machine.now() == now,
          "%s: the machine of chain %d is at tick %d, the host at %d",
          selfId,
          e.getKey(),
          machine.now(),
          now);
      check(
          !recoveredByChain.containsKey(e.getKey()),
          "%s: chain %d has a machine and recovered versions kept for it",
          selfId,
          e.getKey());
      machine.checkInvariants();
    }
  }

  // ------------------------------------------------------------------------------ the pool

  private boolean mapKnown() {
    return map.version() > 0;
  }

  private void onMap(ChainMap next) {
    if (next.version() <= map.version()) {
      return;
    }
    if (mapKnown() && next.chainCount() != map.chainCount()) {
      // A cluster's chain count never changes: this map is of another cluster.
      messagesDropped++;
      return;
    }
    map = next;
    if (recovered != null) {
      for (VersionRecord record : recovered) {
        recoveredByChain
            .computeIfAbsent(map.chainOf(record.key()), c -> new ArrayList<>())
            .add(record);
      }
      recovered = null;
    }
    for (int chain = 0; chain < map.chainCount(); chain++) {
      ChainConfig config = map.chain(chain);
      NodeMachine machine = machines.get(chain);
      if (machine == null && config.contains(selfId)) {
        machine = createMachine(chain, config);
      }
      if (machine != null) {
        machine.onMessage(new ConfigPush(config)); // older than what it has: ignored
      }
    }
  }

  private void onChained(Chained chained) {
    int chain = chained.chain();
    if (!(chained.message() instanceof Message.NodeMessage message)
        || !mapKnown()
        || chain >= map.chainCount()) {
      messagesDropped++;
      return;
    }
    NodeMachine machine = machines.get(chain);
    if (machine == null && message instanceof ConfigPush push && push.config().contains(selfId)) {
      machine = createMachine(chain, push.config());
    }
    if (machine == null) {
      messagesDropped++;
      return;
    }
    machine.onMessage(message);
  }

  /**
   * The machine of {@code chain}, whose configuration {@code listing} lists this node: it asks to
   * re-join when the entry is of an earlier run of the process, and waits to be placed otherwise.
   */
  private NodeMachine createMachine(int chain, ChainConfig listing) {
    Member self = listing.member(selfId);
    NodeMachine.JoinPolicy policy =
        self.incarnation() == incarnation
            ? NodeMachine.JoinPolicy.NEVER
            : NodeMachine.JoinPolicy.UNTIL_PLACED;
    List<VersionRecord> share = recoveredByChain.remove(chain);
    NodeMachine machine =
        new NodeMachine(
            selfId,
            selfAddress,
            settings,
            joinPosition,
            incarnation,
            store,
            share == null ? List.of() : share,
            new ChainSlice(chain, map.chainCount()),
            policy);
    machine.advanceTo(now); // the host's clock: every machine ticks with it from now on
    machines.put(chain, machine);
    return machine;
  }

  // ----------------------------------------------------------------------------- routing

  private void toKeyChain(ClientRef ref, String key, Message.NodeRequest request, boolean read) {
    ErrorReply refusal = null;
    int chain = -1;
    try {
      Limits.checkKey(key);
    } catch (Limits.InvalidInputException e) {
      refusal = error(ErrorCode.INVALID_REQUEST, e.getMessage(), "");
    }
    if (refusal == null && !mapKnown()) {
      refusal = notHeardYet();
    }
    if (refusal == null) {
      chain = map.chainOf(key);
      NodeMachine machine = machines.get(chain);
      if (machine != null && machine.isMember()) {
        machine.onClientRequest(ref, request);
        return;
      }
      refusal =
          error(
              ErrorCode.WRONG_CHAIN,
              "key "
                  + key
                  + " is of chain "
                  + chain
                  + " (of "
                  + map.chainCount()
                  + "), which "
                  + selfId
                  + " is not a member of in chain map version "
                  + map.version(),
              Long.toString(map.version()));
    }
    if (read) {
      counts.readsRefused++;
    }
    reply(ref, refusal);
  }

  /** A read-all or chain request without an envelope: fine for a cluster of one chain. */
  private void toOnlyChain(ClientRef ref, Message.NodeRequest request) {
    if (!mapKnown()) {
      reply(ref, notHeardYet());
    } else if (map.chainCount() == 1) {
      toChain(ref, 0, request);
    } else {
      reply(
          ref,
          error(
              ErrorCode.INVALID_REQUEST,
              "the cluster has "
                  + map.chainCount()
                  + " chains; name a chain (a chained envelope) for "
                  + name(request),
              ""));
    }
  }

  private void toChain(ClientRef ref, int chain, Message.NodeRequest request) {
    if (!mapKnown()) {
      reply(ref, notHeardYet());
      return;
    }
    if (chain >= map.chainCount()) {
      reply(
          ref,
          error(
              ErrorCode.INVALID_REQUEST,
              "chain " + chain + " does not exist: the cluster has " + map.chainCount() + " chains",
              ""));
      return;
    }
    NodeMachine machine = machines.get(chain);
    if (machine == null) {
      reply(
          ref,
          error(
              ErrorCode.WRONG_CHAIN,
              "chain "
                  + chain
                  + " is not served by "
                  + selfId
                  + " in chain map version "
                  + map.version(),
              Long.toString(map.version())));
      return;
    }
    machine.onClientRequest(ref, request);
  }

  private StatsReply stats() {
    long epoch =
        machines.size() == 1 ? machines.firstEntry().getValue().config().epoch() : map.version();
    return new StatsReply(selfId, epoch, role(), counters().toMap());
  }

  private ErrorReply notHeardYet() {
    return error(
        ErrorCode.UNAVAILABLE, selfId + " has not heard from the coordinator yet; retry later", "");
  }

  private void reply(ClientRef ref, Message message) {
    effects.replies().add(new Effects.Reply(ref, message));
  }

  private static ErrorReply error(ErrorCode code, String message, String hint) {
    return new ErrorReply(code, message, hint);
  }

  private static String name(Message message) {
    return message.getClass().getSimpleName();
  }
}

package io.craq.core.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * A seeded network between named processes. Messages on one link (ordered pair of names) are
 * delivered in the order sent, as TCP does; each may be delayed, dropped (as when a connection
 * breaks) or duplicated, and links can be cut in one or both directions.
 */
final class SimNetwork {
  /** A message in flight. */
  record Envelope(long deliverTick, long seq, String from, String to, Object payload) {}

  private final Random random;
  private final PriorityQueue<Envelope> inFlight =
      new PriorityQueue<>((a, b) ->
          a.deliverTick != b.deliverTick
              ? Long.compare(a.deliverTick, b.deliverTick)
              : Long.compare(a.seq, b.seq));
  private final Map<String, Long> lastDeliveryOnLink = new HashMap<>();
  private final Set<String> cutLinks = new HashSet<>();
  private final Set<String> exactlyOnce = new HashSet<>();
  private long seq;

  int delayTicksMax = 3;
  double dropProbability;
  double duplicateProbability;

  long sent;
  long dropped;
  long duplicated;

  SimNetwork(Random random) {
    this.random = random;
  }

  void send(long now, String from, String to, Object payload) {
    sent++;
    if (cutLinks.contains(from + ">" + to) || random.nextDouble() < dropProbability) {
      dropped++;
      return;
    }
    enqueue(now, from, to, payload);
    // Client requests are never duplicated: a duplicate is a retry, and a retried write is a new
    // operation in the history (our clients report ambiguity instead of retrying writes). Nor are
    // messages to or from an exactly-once process (ZooKeeper's sessions number their requests).
    boolean clientLink = from.startsWith("client") || to.startsWith("client");
    boolean once = exactlyOnce.contains(from) || exactlyOnce.contains(to);
    if (!clientLink && !once && random.nextDouble() < duplicateProbability) {
      duplicated++;
      enqueue(now, from, to, payload);
    }
  }

  private void enqueue(long now, String from, String to, Object payload) {
    String link = from + ">" + to;
    long at = now + 1 + random.nextInt(delayTicksMax);
    at = Math.max(at, lastDeliveryOnLink.getOrDefault(link, 0L));
    lastDeliveryOnLink.put(link, at);
    inFlight.add(new Envelope(at, seq++, from, to, payload));
  }

  /** Removes and returns every message due by {@code now}, in delivery order. */
  List<Envelope> due(long now) {
    List<Envelope> out = new ArrayList<>();
    while (!inFlight.isEmpty() && inFlight.peek().deliverTick() <= now) {
      out.add(inFlight.poll());
    }
    return out;
  }

  /** Puts a message back for the next tick (its recipient is paused: the kernel buffers it). */
  void holdOver(long now, Envelope envelope) {
    String link = envelope.from() + ">" + envelope.to();
    long at = Math.max(now + 1, lastDeliveryOnLink.getOrDefault(link, 0L));
    lastDeliveryOnLink.put(link, at);
    inFlight.add(
        new Envelope(at, envelope.seq(), envelope.from(), envelope.to(), envelope.payload()));
  }

  /** Messages to and from {@code name} are never duplicated (they may still be lost). */
  void exactlyOnce(String name) {
    exactlyOnce.add(name);
  }

  void cut(String from, String to) {
    cutLinks.add(from + ">" + to);
  }

  void cutBothWays(String a, String b) {
    cut(a, b);
    cut(b, a);
  }

  /** Cuts every link between {@code name} and {@code others}, both ways. */
  void isolate(String name, Iterable<String> others) {
    for (String other : others) {
      if (!other.equals(name)) {
        cutBothWays(name, other);
      }
    }
  }

  void healAll() {
    cutLinks.clear();
  }

  int cutCount() {
    return cutLinks.size();
  }

  /** Number of cut links from or to {@code name}. */
  long cutCountOf(String name) {
    return cutLinks.stream()
        .filter(l -> l.startsWith(name + ">") || l.endsWith(">" + name))
        .count();
  }

  /** Drops everything in flight to or from {@code name} (its connections broke). */
  void dropAllOf(String name) {
    inFlight.removeIf(e -> e.to().equals(name) || e.from().equals(name));
  }
}

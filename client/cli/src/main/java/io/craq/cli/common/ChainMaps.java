package io.craq.cli.common;

import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the tool shows of a chain map: its nodes, who heads what, which chains are moving. */
public final class ChainMaps {
  private ChainMaps() {}

  /**
   * A node of the cluster: its id and address, and whether it is leaving (moved off its chains
   * before it goes).
   */
  public record Node(String id, String address, boolean leaving) {}

  /**
   * Every node of {@code map}: the pool in its order, then any chain member the pool does not list
   * (in chain order).
   */
  public static List<Node> nodes(ChainMap map) {
    Map<String, Node> nodes = new LinkedHashMap<>();
    for (PoolNode node : map.pool()) {
      nodes.putIfAbsent(node.id(), new Node(node.id(), node.address(), node.leaving()));
    }
    for (ChainConfig chain : map.chains()) {
      for (Member member : chain.members()) {
        nodes.putIfAbsent(member.id(), new Node(member.id(), member.address(), false));
      }
    }
    return List.copyOf(nodes.values());
  }

  /** How many chains {@code nodeId} heads. */
  public static int heads(ChainMap map, String nodeId) {
    int heads = 0;
    for (ChainConfig chain : map.chains()) {
      if (chain.size() > 0 && chain.head().id().equals(nodeId)) {
        heads++;
      }
    }
    return heads;
  }

  /** How many chains {@code nodeId} is a member of. */
  public static int memberOf(ChainMap map, String nodeId) {
    int chains = 0;
    for (ChainConfig chain : map.chains()) {
      if (chain.contains(nodeId)) {
        chains++;
      }
    }
    return chains;
  }

  /**
   * Whether chain {@code c} is moving: a member is still catching up (copying the chain's keys), or
   * the chain has more members than the map's replica count (one waits to be removed).
   */
  public static boolean moving(ChainMap map, int c) {
    ChainConfig chain = map.chain(c);
    return chain.size() > map.replicas() || chain.members().stream().anyMatch(m -> !m.caughtUp());
  }

  /** The chains that are {@link #moving}, in order. */
  public static List<Integer> moving(ChainMap map) {
    List<Integer> moving = new ArrayList<>();
    for (int c = 0; c < map.chainCount(); c++) {
      if (moving(map, c)) {
        moving.add(c);
      }
    }
    return moving;
  }

  /** The slots of chain {@code c}, first and last: {@code 0-4095}. */
  public static String slots(ChainMap map, int c) {
    return KeySlots.firstSlot(c, map.chainCount())
        + "-"
        + (KeySlots.endSlot(c, map.chainCount()) - 1);
  }

  /**
   * Ready when every chain has exactly {@code min(replicas, nodes)} members, all caught up, and the
   * map knows at least {@code nodes} nodes: the cluster of {@code nodes} nodes has formed and no
   * chain is moving.
   */
  public static boolean formed(ChainMap map, int nodes, int replicas) {
    int size = Math.min(replicas, nodes);
    if (nodes(map).size() < nodes) {
      return false;
    }
    for (ChainConfig chain : map.chains()) {
      if (chain.size() != size || !chain.members().stream().allMatch(Member::caughtUp)) {
        return false;
      }
    }
    return true;
  }

  /**
   * How far {@code map} is from {@link #formed}, in a few words: {@code 3 member(s), 2 caught up}
   * with one chain, else {@code 4 node(s); 3 of 4 chains with 3 caught-up member(s)}.
   */
  public static String progress(ChainMap map, int nodes, int replicas) {
    if (map.chainCount() == 1) {
      ChainConfig chain = map.chain(0);
      return chain.size()
          + " member(s), "
          + chain.members().stream().filter(Member::caughtUp).count()
          + " caught up";
    }
    int size = Math.min(replicas, nodes);
    long done =
        map.chains().stream()
            .filter(c -> c.size() == size && c.members().stream().allMatch(Member::caughtUp))
            .count();
    return nodes(map).size()
        + " node(s); "
        + done
        + " of "
        + map.chainCount()
        + " chains with "
        + size
        + " caught-up member(s)";
  }
}

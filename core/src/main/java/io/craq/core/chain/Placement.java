package io.craq.core.chain;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each chain's members go: a pure function from the chain map and the live nodes to the next
 * membership changes, which the coordinator applies one at a time per chain and persists with the
 * map. Because it reads only the map and the live set, a coordinator that restarts (or a new
 * leader) continues the moves in progress from the stored map.
 *
 * <p>Goals, in order: (1) every chain has {@code t = min(replicas, eligible nodes)} members
 * (eligible: live and not leaving); under-replicated chains are repaired first; (2) no chain keeps
 * a member on a leaving node once the chain has that many caught-up others; (3) every eligible node
 * carries about the same number of memberships (the most and the least loaded differ by at most
 * one); (4) the head and middle places (a write crosses those members) spread over the nodes as
 * evenly as moves that keep (3) can make them. A move adds a member first (it catches up on that
 * chain's keys only) and removes the member it replaces only once every member is caught up, so a
 * chain never has fewer complete copies than before. Empty chains (a new cluster) are laid out at
 * once, members in rotated order, so heads and tails spread over the nodes. At most {@code
 * movesMax} chains move at once for balance; repairs do not wait for that limit. Deterministic.
 *
 * <p>The rules, applied in this order with at most one step per chain per call (except the layout
 * of an empty chain):
 *
 * <ol>
 *   <li><b>Layout.</b> An empty chain {@code c} gets {@code t} members at once, head first:
 *       eligible nodes (sorted by id) {@code s + j mod n} for {@code j = 0..t-1}, where {@code s =
 *       c mod n}, except in the last round of chains when the number of chains {@code K} is no
 *       multiple of {@code n}: there the {@code r = K mod n} chains start evenly spread, {@code s =
 *       (c mod n) * n / r}. So no node heads or tails more than {@code ceil(K / n)} chains, and the
 *       loads of a new cluster are within one. It does not count against {@code movesMax}.
 *   <li><b>Repair.</b> A chain with fewer than {@code t} members on eligible nodes gets the least
 *       loaded eligible node not in it (ties by id); the most under-replicated chains first.
 *   <li><b>Removal.</b> A chain with more than {@code t} members, all caught up, loses one: a
 *       member on a node that is not eligible (leaving or silent) if there is one, else the most
 *       loaded (ties: the one that joined the chain first, so that a move's new copy stays, then
 *       the highest id). A member on a node that is not eligible is also removed, caught up or not,
 *       once the chain has {@code t} caught-up members on eligible nodes besides it. No removal
 *       leaves a chain without a caught-up member.
 *   <li><b>Balance.</b> While the most and the least loaded eligible nodes differ by more than one,
 *       the least loaded node is added to a chain (not moving) that holds a most loaded node and
 *       not the least loaded one; the removal rule later takes the most loaded member off it. Of
 *       the chains and least loaded nodes that qualify, the move that spreads the roles best.
 *   <li><b>Roles.</b> Once the loads are within one (and not all equal), a least loaded node is
 *       added to a chain whose most loaded member then leaves, if that hands a head or middle place
 *       from a node with at least two more of them to the chain's old tail. A node joins as a tail
 *       and moves up only when members ahead of it leave, so a node added to a cluster whose loads
 *       end up all equal keeps the tail places it was given.
 * </ol>
 *
 * <p>A node's <em>load</em> is the number of chains it is a member of, not counting the memberships
 * the removal rule will take off chains that have more than {@code t} members (so a move in
 * progress is counted as done, and is not started twice). A chain is <em>moving</em> while it has a
 * member that is not caught up or more than {@code t} members; balance moves may only start a move
 * while fewer than {@code movesMax} chains are moving, while repairs start whenever a chain is
 * short of members (they count as moving for the balance limit).
 */
public final class Placement {

  /** One membership change of one chain. */
  public sealed interface Step {
    int chain();

    String nodeId();
  }

  /** Add {@code nodeId} to {@code chain} as its tail; it catches up from its predecessor. */
  public record Add(int chain, String nodeId) implements Step {}

  /** Remove {@code nodeId} from {@code chain}. */
  public record Remove(int chain, String nodeId) implements Step {}

  private Placement() {}

  /**
   * The next changes toward the goals above, in the order to apply them; empty when the placement
   * is balanced or every allowed move is in progress.
   *
   * @param live the pool nodes heard from lately (leaving ones included; they are not placed on)
   * @param movesMax how many chains may be moving at once, those already moving included
   */
  public static List<Step> next(ChainMap map, Set<String> live, int movesMax) {
    if (movesMax < 1) {
      throw new IllegalArgumentException("movesMax must be positive: " + movesMax);
    }
    return new Planner(map, live, movesMax).plan();
  }

  /** One call's working state: the loads as the steps planned so far will leave them. */
  private static final class Planner {
    private final ChainMap map;
    private final int movesMax;
    private final List<String> eligible;
    private final Set<String> eligibleSet;
    private final int target;
    private final List<List<Member>> chains = new ArrayList<>();
    private final boolean[] stepped;
    private final boolean[] moving;
    private int movingCount;

    /** Per chain: the members the removal rule will take off it, in the order it will. */
    private final List<List<String>> expected = new ArrayList<>();

    /** Memberships per node, less those the removal rule will take (see the class comment). */
    private final Map<String, Integer> load = new HashMap<>();

    private final List<Step> steps = new ArrayList<>();

    Planner(ChainMap map, Set<String> live, int movesMax) {
      this.map = map;
      this.movesMax = movesMax;
      List<String> ids = new ArrayList<>();
      for (PoolNode node : map.pool()) {
        if (live.contains(node.id()) && !node.leaving()) {
          ids.add(node.id());
        }
      }
      ids.sort(Comparator.naturalOrder());
      this.eligible = List.copyOf(ids);
      this.eligibleSet = new HashSet<>(ids);
      this.target = Math.min(map.replicas(), eligible.size());
      int k = map.chainCount();
      stepped = new boolean[k];
      moving = new boolean[k];
      for (ChainConfig config : map.chains()) {
        chains.add(config.members());
        for (Member m : config.members()) {
          load.merge(m.id(), 1, Integer::sum);
        }
      }
      for (int c = 0; c < k; c++) {
        List<Member> members = chains.get(c);
        moving[c] = members.size() > target || members.stream().anyMatch(m -> !m.caughtUp());
        if (moving[c]) {
          movingCount++;
        }
      }
      for (int c = 0; c < k; c++) {
        expected.add(List.of());
        expect(c);
      }
    }

    List<Step> plan() {
      layout();
      repair();
      remove();
      balance();
      balanceRoles();
      return List.copyOf(steps);
    }

    private void layout() {
      if (target == 0) {
        return;
      }
      int n = eligible.size();
      int k = chains.size();
      int partial = k % n; // chains in the last, incomplete round
      for (int c = 0; c < k; c++) {
        if (!chains.get(c).isEmpty()) {
          continue;
        }
        int start = layoutStart(c, k, n, partial);
        for (int j = 0; j < target; j++) {
          add(c, eligible.get((start + j) % n));
        }
      }
    }

    /**
     * Where chain {@code c}'s members start in the rotation: chain {@code c} starts at node {@code
     * c mod n}, so each round of {@code n} chains heads every node once; the chains of the last,
     * incomplete round ({@code partial} of them) start evenly spread ({@code i * n / partial}) so
     * that they too have distinct heads and tails and every node's load is within one of the
     * others.
     */
    private static int layoutStart(int c, int k, int n, int partial) {
      int i = c % n;
      return c < k - partial ? i : i * n / partial;
    }

    private void repair() {
      List<Integer> order = new ArrayList<>();
      for (int c = 0; c < chains.size(); c++) {
        if (!stepped[c] && eligibleMembers(c) < target) {
          order.add(c);
        }
      }
      order.sort(Comparator.comparingInt(this::eligibleMembers).thenComparing(c -> c));
      // Repairs do not wait for the moves limit: a chain short of copies goes first, whatever
      // balance moves are under way (they still count against the limit for new balance moves).
      for (int c : order) {
        String node = leastLoaded(c);
        if (node == null) {
          continue;
        }
        startMove(c);
        add(c, node);
      }
    }

    private void remove() {
      for (int c = 0; c < chains.size(); c++) {
        if (stepped[c]) {
          continue;
        }
        List<Member> members = chains.get(c);
        String victim = null;
        if (members.size() > target && members.stream().allMatch(Member::caughtUp)) {
          victim = expected.get(c).isEmpty() ? null : expected.get(c).get(0);
        } else {
          long caughtUpEligible =
              members.stream().filter(m -> m.caughtUp() && eligibleSet.contains(m.id())).count();
          if (caughtUpEligible >= target) {
            victim =
                members.stream()
                    .map(Member::id)
                    .filter(id -> !eligibleSet.contains(id))
                    .min(Comparator.naturalOrder())
                    .orElse(null);
          }
        }
        if (victim == null || !caughtUpRemainsWithout(members, victim)) {
          continue;
        }
        String removed = victim;
        stepped[c] = true;
        steps.add(new Remove(c, removed));
        List<String> rest = new ArrayList<>(expected.get(c));
        if (!rest.remove(removed)) {
          load.merge(removed, -1, Integer::sum); // not counted as expected yet
        }
        expected.set(c, List.copyOf(rest));
        chains.set(c, members.stream().filter(m -> !m.id().equals(removed)).toList());
      }
    }

    private void balance() {
      while (movingCount < movesMax && !eligible.isEmpty()) {
        int min = eligible.stream().mapToInt(this::load).min().orElseThrow();
        int max = eligible.stream().mapToInt(this::load).max().orElseThrow();
        if (max - min <= 1) {
          return;
        }
        // Any least loaded node and any chain with a most loaded one will do for the loads; among
        // them, the move that spreads the roles best (see roleCost).
        Move move = cheapestMove(min, max, Long.MAX_VALUE, true);
        if (move == null) {
          return;
        }
        startMove(move.chain());
        add(move.chain(), move.node());
      }
    }

    /**
     * Once the loads are within one: moves that spread the roles. A write crosses its chain's head
     * and middle members, so a node that is the head or a middle of more chains than another
     * carries more of the write traffic although both are members of as many chains. A node joins a
     * chain as its tail, and when a member leaves, those behind it move up; so the only way to hand
     * a non-tail role to a node is to replace a member ahead of that node's place in a chain. A
     * role move adds a node {@code x} less loaded than the member the removal rule then takes off,
     * so the loads stay within one, and is made only if that removal hands a non-tail role from a
     * node that has at least two more of them to the chain's tail (see {@link #roleCost}): every
     * role move makes the sum of squares of the nodes' non-tail roles smaller, so they end. With
     * all loads equal no role move is possible (it would unbalance the loads); a new cluster is
     * laid out with even roles, so this matters after nodes joined or left.
     */
    private void balanceRoles() {
      while (movingCount < movesMax && !eligible.isEmpty()) {
        int min = eligible.stream().mapToInt(this::load).min().orElseThrow();
        int max = eligible.stream().mapToInt(this::load).max().orElseThrow();
        if (max - min > 1 || max == min) {
          return;
        }
        Move move = cheapestMove(min, max, 0, false); // only moves that make roles more even
        if (move == null) {
          return;
        }
        startMove(move.chain());
        add(move.chain(), move.node());
      }
    }

    /** Adding {@code node} to {@code chain}. */
    private record Move(int chain, String node) {}

    /**
     * Of the moves that add a node of load {@code min} to a chain (not moving, not stepped) that
     * holds a node of load {@code max} (an eligible one if {@code eligibleMax}), the one of least
     * {@link #roleCost} below {@code costBelow} (the first in node and chain order among equals);
     * null if none.
     */
    private Move cheapestMove(int min, int max, long costBelow, boolean eligibleMax) {
      Move chosen = null;
      long chosenCost = costBelow;
      for (String node : eligible) {
        if (load(node) != min) {
          continue;
        }
        for (int c = 0; c < chains.size(); c++) {
          List<Member> members = chains.get(c);
          if (stepped[c]
              || moving[c]
              || members.stream().anyMatch(m -> m.id().equals(node))
              || members.stream()
                  .noneMatch(
                      m -> (!eligibleMax || eligibleSet.contains(m.id())) && load(m.id()) == max)) {
            continue;
          }
          long cost = roleCost(c, node);
          if (cost < chosenCost) {
            chosen = new Move(c, node);
            chosenCost = cost;
          }
        }
      }
      return chosen;
    }

    /**
     * How a move of chain {@code c} (add {@code node} as its tail, then the removal rule takes a
     * member off) changes how evenly the roles are spread: the change of the sum of squares of the
     * nodes' non-tail roles (head or middle; times a thousand) plus that of their heads. Negative
     * is better. Removing the head hands the head role to the second member and a non-tail role to
     * the old tail; removing a middle hands a non-tail role to the old tail; removing the tail
     * changes no roles. {@link Long#MAX_VALUE} if the removal rule would take {@code node} itself.
     */
    private long roleCost(int c, String node) {
      List<Member> members = chains.get(c);
      List<Member> after = new ArrayList<>(members);
      after.add(new Member(node, node, Long.MAX_VALUE, 0, false));
      load.merge(node, 1, Integer::sum);
      String victim = pickRemoval(after);
      load.merge(node, -1, Integer::sum);
      if (victim == null || victim.equals(node)) {
        return Long.MAX_VALUE;
      }
      int at = 0;
      while (!members.get(at).id().equals(victim)) {
        at++;
      }
      int size = members.size();
      if (size < 2 || at == size - 1) {
        return 0;
      }
      String tail = members.get(size - 1).id();
      long cost = 1000L * squaresChange(nonTailRoles(victim), nonTailRoles(tail));
      if (at == 0) {
        cost += squaresChange(heads(victim), heads(members.get(1).id()));
      }
      return cost;
    }

    /** The change of {@code a^2 + b^2} when one unit goes from {@code a} to {@code b}. */
    private static long squaresChange(int from, int to) {
      return 2L * (to - from) + 2;
    }

    /** How many chains have {@code node} as their head or a middle member (not the tail). */
    private int nonTailRoles(String node) {
      int n = 0;
      for (List<Member> members : chains) {
        for (int j = 0; j < members.size() - 1; j++) {
          if (members.get(j).id().equals(node)) {
            n++;
          }
        }
      }
      return n;
    }

    /** How many chains {@code node} heads. */
    private int heads(String node) {
      int n = 0;
      for (List<Member> members : chains) {
        if (members.size() > 1 && members.get(0).id().equals(node)) {
          n++;
        }
      }
      return n;
    }

    /** Marks a chain as moving from now on, counting it against {@code movesMax} if it was not. */
    private void startMove(int c) {
      if (!moving[c]) {
        moving[c] = true;
        movingCount++;
      }
    }

    /** Plans the addition of {@code node} to the tail of chain {@code c}. */
    private void add(int c, String node) {
      PoolNode pool = map.poolNode(node);
      List<Member> members = new ArrayList<>(chains.get(c));
      // Joined after every member (the removal rule keeps the newest copy among equals).
      members.add(
          new Member(node, pool.address(), Long.MAX_VALUE, pool.incarnation(), members.isEmpty()));
      chains.set(c, members);
      load.merge(node, 1, Integer::sum);
      stepped[c] = true;
      steps.add(new Add(c, node));
      expect(c);
    }

    /**
     * Works out again which members the removal rule will take off chain {@code c} (those beyond
     * {@code t}, never the last one) and counts them out of the loads instead of the earlier guess.
     */
    private void expect(int c) {
      for (String id : expected.get(c)) {
        load.merge(id, 1, Integer::sum);
      }
      List<String> removals = new ArrayList<>();
      List<Member> rest = new ArrayList<>(chains.get(c));
      while (rest.size() > target && rest.size() > 1) {
        String victim = pickRemoval(rest);
        removals.add(victim);
        load.merge(victim, -1, Integer::sum);
        rest.removeIf(m -> m.id().equals(victim));
      }
      expected.set(c, List.copyOf(removals));
    }

    /**
     * The member to remove next: one on a node that is not eligible (the lowest id), else the most
     * loaded; among those the one that joined first (the newest member is the copy a move just
     * made), then the highest id.
     */
    private String pickRemoval(List<Member> members) {
      String notEligible = null;
      Member mostLoaded = null;
      for (Member m : members) {
        String id = m.id();
        if (!eligibleSet.contains(id)) {
          if (notEligible == null || id.compareTo(notEligible) < 0) {
            notEligible = id;
          }
        } else if (mostLoaded == null || removesBefore(m, mostLoaded)) {
          mostLoaded = m;
        }
      }
      return notEligible != null ? notEligible : mostLoaded == null ? null : mostLoaded.id();
    }

    private boolean removesBefore(Member m, Member other) {
      if (load(m.id()) != load(other.id())) {
        return load(m.id()) > load(other.id());
      }
      if (m.joinedEpoch() != other.joinedEpoch()) {
        return m.joinedEpoch() < other.joinedEpoch();
      }
      return m.id().compareTo(other.id()) > 0;
    }

    /** The least loaded eligible node that is not a member of chain {@code c} (ties by id). */
    private String leastLoaded(int c) {
      List<Member> members = chains.get(c);
      String best = null;
      for (String node : eligible) {
        if (members.stream().anyMatch(m -> m.id().equals(node))) {
          continue;
        }
        if (best == null || load(node) < load(best)) {
          best = node;
        }
      }
      return best;
    }

    private int eligibleMembers(int c) {
      return (int) chains.get(c).stream().filter(m -> eligibleSet.contains(m.id())).count();
    }

    private int load(String node) {
      return load.getOrDefault(node, 0);
    }

    private static boolean caughtUpRemainsWithout(List<Member> members, String nodeId) {
      return members.stream().anyMatch(m -> m.caughtUp() && !m.id().equals(nodeId));
    }
  }
}

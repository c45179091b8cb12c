package io.craq.core.chain;

import static io.craq.core.Check.check;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.util.ArrayList;
import java.util.Arrays;
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
 * one); (4) the heads and the other non-tail places (a write crosses those members) spread over the
 * nodes as evenly as moves that keep (3) can make them: whenever the loads end equal and there are
 * at least two nodes more than replicas, every node ends within one of the others in heads and in
 * non-tail places (a property test checks; with fewer nodes, or loads not all equal, as close as
 * the moves reach). A move adds a member first (it catches up on that chain's keys only) and
 * removes the member it replaces only once every member is caught up, so a chain never has fewer
 * complete copies than before. Empty chains (a new cluster) are laid out at once, members in
 * rotated order, so heads and tails spread over the nodes. At most {@code movesMax} chains move at
 * once for balance; repairs do not wait for that limit. Deterministic.
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
 *       the chains and least loaded nodes that qualify, the move that spreads the roles best (heads
 *       first, then non-tail places).
 *   <li><b>Roles.</b> Once the loads are within one (and not all equal), a least loaded node is
 *       added to a chain whose most loaded member then leaves, if that makes the heads, or else the
 *       non-tail places, more even (see {@code Score}): removing a member ahead of the chain's tail
 *       hands the tail a non-tail place, and removing the head hands the second member the head.
 *   <li><b>Swaps.</b> When no chain is moving and no rule above applies, two nodes {@code p} and
 *       {@code w} of equal load trade places: {@code w} is added to a chain {@code Z} of {@code p}
 *       and {@code p} to a chain {@code W} of {@code w}, in the same call, and the removal rule
 *       then takes {@code p} off {@code Z} and {@code w} off {@code W}, so the loads end as they
 *       were and the roles more even. This is what spreads roles when the loads are all equal (say
 *       3 nodes grown to 6 with 6 chains: the newcomers joined as tails, and no single move can
 *       hand them a head without unbalancing the loads). The swap taken is the one that lowers most
 *       a potential compared heads first: the spread of the heads, then how many swaps at least
 *       until a head can pass from a node with too many to one with too few (it passes only to the
 *       member right behind it, so that node may first have to join the chain and move up as the
 *       members ahead of it are swapped out), then the spread of the non-tail places and their own
 *       such distance. A swap that does not lower it is taken only if a swap after it then lowers
 *       it by more. So swaps end, and each costs two chains' copies. Needs {@code movesMax >= 2};
 *       with {@code replicas + 1} nodes or fewer it cannot always even the roles (with as many
 *       nodes as replicas every node is in every chain and no swap exists; with one more, a swap
 *       must use the chains that lack each of its two nodes, and some placements, such as 3 nodes
 *       with 3 chains of 2 where one node heads two chains, reach no even one).
 * </ol>
 *
 * <p>A node's <em>load</em> is the number of chains it is a member of, not counting the memberships
 * the removal rule will take off chains that have more than {@code t} members (so a move in
 * progress is counted as done, and is not started twice). Roles are counted the same way: as the
 * chains will be once those removals are done, not with a moving chain's extra member. A chain is
 * <em>moving</em> while it has a member that is not caught up or more than {@code t} members;
 * balance moves may only start a move while fewer than {@code movesMax} chains are moving, while
 * repairs start whenever a chain is short of members (they count as moving for the balance limit).
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

  /**
   * How many swaps one call may look at to find a swap that opens the way for a better one: bounds
   * the work of a call (the coordinator places every tick) when the roles cannot be made more even.
   */
  private static final long LOOKAHEAD_BUDGET = 5_000;

  /**
   * A change of the potential that role moves and swaps lower, compared in this order: the sum of
   * squares of the nodes' heads (lowest when every node heads within one as many chains as every
   * other), then the heads' {@code reach} (how many swaps at least until one that lowers the first;
   * 0 when the heads are even), then the sum of squares of the nodes' non-tail places (head or
   * middle: a write crosses those members), then their reach. Heads come first because they are the
   * hardest to move (a head passes only to the member right behind it) and take the clients'
   * writes; non-tail places pass to any chain's tail. Negative is better.
   */
  private record Score(long heads, long headsReach, long nonTail, long nonTailReach)
      implements Comparable<Score> {
    static final Score ZERO = new Score(0, 0, 0, 0);

    Score plus(Score o) {
      return new Score(
          heads + o.heads,
          headsReach + o.headsReach,
          nonTail + o.nonTail,
          nonTailReach + o.nonTailReach);
    }

    @Override
    public int compareTo(Score o) {
      if (heads != o.heads) {
        return Long.compare(heads, o.heads);
      }
      if (headsReach != o.headsReach) {
        return Long.compare(headsReach, o.headsReach);
      }
      if (nonTail != o.nonTail) {
        return Long.compare(nonTail, o.nonTail);
      }
      return Long.compare(nonTailReach, o.nonTailReach);
    }
  }

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
      swapRoles();
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
        Move move = cheapestMove(min, max, null, true);
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
     * so the loads stay within one, and is made only if that removal makes the heads more even, or
     * keeps them as even and makes the non-tail places more even (see {@link #roleCost}): every
     * role move lowers the sums of squares of the nodes' heads and non-tail places (compared in
     * that order, see {@link Score}), so they end. With all loads equal no role move is possible
     * (it would unbalance the loads); swaps do that (see {@link #swapRoles}).
     */
    private void balanceRoles() {
      while (movingCount < movesMax && !eligible.isEmpty()) {
        int min = eligible.stream().mapToInt(this::load).min().orElseThrow();
        int max = eligible.stream().mapToInt(this::load).max().orElseThrow();
        if (max - min > 1 || max == min) {
          return;
        }
        // Only moves that make the roles more even.
        Move move = cheapestMove(min, max, Score.ZERO, false);
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
     * {@link #roleCost} below {@code costBelow} (any, if null; the first in node and chain order
     * among equals); null if none.
     */
    private Move cheapestMove(int min, int max, Score costBelow, boolean eligibleMax) {
      Map<String, int[]> roles = roles();
      Move chosen = null;
      Score chosenCost = costBelow;
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
          Score cost = roleCost(roles, c, node);
          if (cost != null && (chosenCost == null || cost.compareTo(chosenCost) < 0)) {
            chosen = new Move(c, node);
            chosenCost = cost;
          }
        }
      }
      return chosen;
    }

    /**
     * How a move of chain {@code c} (add {@code node} as its tail, then the removal rule takes a
     * member off) changes how evenly the roles are spread (see {@link #roleChange}). Negative is
     * better. Null if the removal rule would take {@code node} itself.
     */
    private Score roleCost(Map<String, int[]> roles, int c, String node) {
      List<Member> members = chains.get(c);
      List<Member> after = new ArrayList<>(members);
      after.add(new Member(node, node, Long.MAX_VALUE, 0, false));
      load.merge(node, 1, Integer::sum);
      String victim = pickRemoval(after);
      load.merge(node, -1, Integer::sum);
      if (victim == null || victim.equals(node)) {
        return null;
      }
      Map<String, int[]> change = new HashMap<>();
      removalEffect(members, victim, change);
      return roleChange(roles, change, 0, 0);
    }

    /**
     * Once the loads are all equal and no chain is moving: swaps that spread the roles (any single
     * move would unbalance the loads). A swap of nodes {@code p} and {@code w} over chains {@code
     * Z} (has {@code p}, not {@code w}) and {@code W} (has {@code w}, not {@code p}) is two
     * ordinary moves started together: {@code w} joins {@code Z} and {@code p} joins {@code W},
     * each as the tail, and once each has caught up the removal rule takes {@code p} off {@code Z}
     * and {@code w} off {@code W}. So no load changes in the end, and during the swap only {@code
     * p} and {@code w} carry one more. The removal rule picks exactly those victims because every
     * other member of both chains is less loaded than {@code p} and {@code w} are during the swap,
     * and of the two, the one that joined first goes; this holds whichever chain finishes first. It
     * needs two chains free to move ({@code movesMax >= 2}) and none moving; with the loads all
     * equal, no balance or role move starts meanwhile to shift the loads the removal rule reads.
     *
     * <p>Swaps are scored by what they do to a potential (see {@link Score}): the heads' spread
     * first, then how many swaps away the nearest swap that evens the heads is ({@link #reach}: a
     * head passes only to the member right behind it, so a node short of heads must first move up
     * behind the head of a node with too many), then the non-tail places' spread. The swap that
     * lowers it most goes first. If none does, a swap that raises it is taken if a swap after it
     * then lowers it by more (a non-tail place may have to pass through a node to reach the one
     * short of it). The next call then takes the best swap, which gains at least that much; so
     * every swap, or every two, lower the potential, and swaps end.
     */
    private void swapRoles() {
      if (movingCount != 0
          || movesMax < 2
          || target < 2
          || eligible.size() < 2
          || eligible.stream().mapToInt(this::load).distinct().count() != 1) {
        return;
      }
      Map<String, int[]> roles = roles();
      if (spread(roles, 0) <= 1 && spread(roles, 1) <= 1) {
        return;
      }
      int[] reach = {reach(chains, roles, Map.of(), 0), reach(chains, roles, Map.of(), 1)};
      List<Swap> swaps = swaps(chains, roles, reach);
      Swap best = null;
      for (Swap swap : swaps) {
        if (swap.cost().compareTo(Score.ZERO) < 0
            && (best == null || swap.cost().compareTo(best.cost()) < 0)) {
          best = swap;
        }
      }
      if (best == null) {
        best = opening(swaps, roles, reach);
        if (best == null) {
          return;
        }
      }
      startMove(best.z());
      add(best.z(), best.w());
      startMove(best.y());
      add(best.y(), best.p());
      // Each add worked out its chain's removal before the other add raised the other node's
      // load; work both out again from the loads with both adds, as the next call will.
      for (int c : new int[] {best.z(), best.y()}) {
        for (String id : expected.get(c)) {
          load.merge(id, 1, Integer::sum);
        }
        expected.set(c, List.of());
      }
      expect(Math.min(best.z(), best.y()));
      expect(Math.max(best.z(), best.y()));
      check(
          expected.get(best.z()).equals(List.of(best.p()))
              && expected.get(best.y()).equals(List.of(best.w())),
          "a role swap %s expects other removals: %s",
          best,
          expected);
    }

    /**
     * A swap: {@code w} replaces {@code p} on chain {@code z}, {@code p} replaces {@code w} on
     * chain {@code y}; {@code change} is what it does to the roles, {@code cost} what it does to
     * the potential, {@code reach} the {@link #reach} of each kind of role after it.
     */
    private record Swap(
        String p, String w, int z, int y, Score cost, Map<String, int[]> change, int[] reach) {}

    /** {@code members} without {@code out}, with {@code in} at the tail. */
    private static List<Member> swapped(List<Member> members, String out, String in) {
      List<Member> after = new ArrayList<>();
      for (Member m : members) {
        if (!m.id().equals(out)) {
          after.add(m);
        }
      }
      after.add(new Member(in, in, Long.MAX_VALUE, 0, true));
      return after;
    }

    /** {@code chains} after {@code swap}. */
    private static List<List<Member>> afterSwap(List<List<Member>> chains, Swap swap) {
      List<List<Member>> after = new ArrayList<>(chains);
      after.set(swap.z(), swapped(chains.get(swap.z()), swap.p(), swap.w()));
      after.set(swap.y(), swapped(chains.get(swap.y()), swap.w(), swap.p()));
      return after;
    }

    /** {@code roles} after {@code change}. */
    private static Map<String, int[]> changed(Map<String, int[]> roles, Map<String, int[]> change) {
      Map<String, int[]> after = new HashMap<>();
      roles.forEach((id, r) -> after.put(id, r.clone()));
      change.forEach((id, d) -> {
        int[] r = after.computeIfAbsent(id, x -> new int[2]);
        r[0] += d[0];
        r[1] += d[1];
      });
      return after;
    }

    /**
     * Of {@code swaps} (none lowering the potential), the first of least cost after which a swap
     * exists that lowers it by more than the first raised it; null if none within {@link
     * #LOOKAHEAD_BUDGET} swaps looked at.
     */
    private Swap opening(List<Swap> swaps, Map<String, int[]> roles, int[] reach) {
      List<Swap> order = new ArrayList<>(swaps);
      order.removeIf(swap -> swap.change().isEmpty() && Arrays.equals(swap.reach(), reach));
      order.sort(Comparator.comparing(Swap::cost));
      long budget = LOOKAHEAD_BUDGET;
      for (Swap first : order) {
        List<Swap> next =
            swaps(afterSwap(chains, first), changed(roles, first.change()), first.reach());
        if (next.stream()
            .anyMatch(swap -> swap.cost().plus(first.cost()).compareTo(Score.ZERO) < 0)) {
          return first;
        }
        budget -= next.size() + 1;
        if (budget <= 0) {
          return null;
        }
      }
      return null;
    }

    /**
     * Every swap over {@code chains} (not moving: see {@link #swappable}), in order of {@code p},
     * {@code w}, {@code z}, {@code y}, scored against {@code roles} and {@code reach}, those of
     * {@code chains}; the loads are this call's (a swap changes none).
     */
    private List<Swap> swaps(List<List<Member>> chains, Map<String, int[]> roles, int[] reach) {
      Map<String, List<Integer>> chainsOf = new HashMap<>();
      for (int c = 0; c < chains.size(); c++) {
        for (Member m : chains.get(c)) {
          chainsOf.computeIfAbsent(m.id(), id -> new ArrayList<>()).add(c);
        }
      }
      List<Swap> swaps = new ArrayList<>();
      for (String p : eligible) {
        for (String w : eligible) {
          if (w.equals(p) || load(w) != load(p)) {
            continue;
          }
          int level = load(p);
          for (int z : chainsOf.getOrDefault(p, List.of())) {
            if (!swappable(chains.get(z), level) || contains(chains.get(z), w)) {
              continue;
            }
            for (int y : chainsOf.getOrDefault(w, List.of())) {
              if (!swappable(chains.get(y), level) || contains(chains.get(y), p)) {
                continue;
              }
              Map<String, int[]> change = new HashMap<>();
              removalEffect(chains.get(z), p, change);
              removalEffect(chains.get(y), w, change);
              change.values().removeIf(d -> d[0] == 0 && d[1] == 0);
              Swap swap = new Swap(p, w, z, y, Score.ZERO, change, reach);
              int[] after = new int[2];
              for (int kind = 0; kind < 2; kind++) {
                if (reach[kind] != 0 || spreadAfter(roles, change, kind) > 1) {
                  after[kind] = reach(afterSwap(chains, swap), roles, change, kind);
                }
              }
              swaps.add(
                  new Swap(
                      p,
                      w,
                      z,
                      y,
                      roleChange(roles, change, after[1] - reach[1], after[0] - reach[0]),
                      change,
                      after));
            }
          }
        }
      }
      return swaps;
    }

    /**
     * How many swaps at least until one that evens the roles of {@code kind} (1 heads, 0 non-tail
     * places): 0 if every eligible node has within one as many of them as every other. Else, with
     * {@code M} the most such roles of a node, a swap evens them when it removes a member on a node
     * of {@code M} from a chain where that hands the role to a node of {@code M - 2} or fewer. A
     * head passes only to the member right behind it: a node is {@code i} swaps away if it is at
     * place {@code i} (head 0) of a chain headed by a node of {@code M} (the members between first
     * leave, one swap each), and {@code t} swaps away if it is not in such a chain (one swap to
     * join as the tail). A non-tail place passes from any member but the tail to the tail: the tail
     * of a chain where a node of {@code M} is not the tail is one swap away, another node two (one
     * to join as the tail). A node of {@code M - 1} can take the role on (after which it has {@code
     * M} and hands one on in turn). The least number of swaps over all such ways: a lower bound of
     * the real number, not always reached; what matters is that it is a function of the chains
     * alone, so that lowering it ends.
     */
    private int reach(
        List<List<Member>> chains, Map<String, int[]> roles, Map<String, int[]> change, int kind) {
      Map<String, Integer> level = new HashMap<>();
      int max = Integer.MIN_VALUE;
      int min = Integer.MAX_VALUE;
      for (String node : eligible) {
        int n = roles.getOrDefault(node, NONE)[kind] + change.getOrDefault(node, NONE)[kind];
        level.put(node, n);
        max = Math.max(max, n);
        min = Math.min(min, n);
      }
      if (max - min <= 1) {
        return 0;
      }
      int shortOfIt = 0; // nodes short of the role: to tell at once whether one is outside a chain
      Map<String, Integer> dist = new HashMap<>();
      for (String node : eligible) {
        if (level.get(node) <= max - 2) {
          shortOfIt++;
        } else if (level.get(node) == max) {
          dist.put(node, 0);
        }
      }
      Set<String> settled = new HashSet<>();
      int best = Integer.MAX_VALUE;
      while (true) {
        String x = null;
        for (String node : eligible) {
          if (dist.containsKey(node)
              && !settled.contains(node)
              && (x == null || dist.get(node) < dist.get(x))) {
            x = node;
          }
        }
        if (x == null || dist.get(x) + 1 >= best) {
          break; // every way on from here takes at least one more swap
        }
        settled.add(x);
        int d = dist.get(x);
        for (List<Member> members : chains) {
          int size = members.size();
          int at = 0;
          while (at < size && !members.get(at).id().equals(x)) {
            at++;
          }
          if (at >= size - 1 || (kind == 1 && at != 0)) {
            continue; // x has no role of this kind here to hand on
          }
          int shortHere = 0;
          for (int i = 0; i < size; i++) {
            Integer n = level.get(members.get(i).id()); // null: not eligible
            if (n == null) {
              continue;
            }
            if (n <= max - 2) {
              shortHere++;
            }
            if (i >= (kind == 1 ? 1 : size - 1)) {
              int cost = d + (kind == 1 ? i : 1);
              if (n <= max - 2) {
                best = Math.min(best, cost);
              } else if (n == max - 1 && cost < dist.getOrDefault(members.get(i).id(), cost + 1)) {
                dist.put(members.get(i).id(), cost);
              }
            }
          }
          if (shortHere < shortOfIt) {
            best = Math.min(best, d + (kind == 1 ? size : 2)); // one short of it joins first
          }
        }
      }
      return Math.min(best, chains.size() * (target + 1));
    }

    /**
     * True if a chain of these members may take part in a swap of two nodes of load {@code level}:
     * all its members on eligible nodes and less loaded than {@code level + 1}.
     */
    private boolean swappable(List<Member> members, int level) {
      for (Member m : members) {
        if (!eligibleSet.contains(m.id()) || load(m.id()) > level) {
          return false;
        }
      }
      return true;
    }

    private static boolean contains(List<Member> members, String node) {
      return members.stream().anyMatch(m -> m.id().equals(node));
    }

    private static final int[] NONE = new int[2];

    /** The most minus the fewest roles of kind {@code kind} (0 non-tail, 1 head) over eligible. */
    private int spread(Map<String, int[]> roles, int kind) {
      return spreadAfter(roles, Map.of(), kind);
    }

    /** {@link #spread} after {@code change}. */
    private int spreadAfter(Map<String, int[]> roles, Map<String, int[]> change, int kind) {
      int min = Integer.MAX_VALUE;
      int max = Integer.MIN_VALUE;
      for (String node : eligible) {
        int n = roles.getOrDefault(node, NONE)[kind] + change.getOrDefault(node, NONE)[kind];
        min = Math.min(min, n);
        max = Math.max(max, n);
      }
      return max - min;
    }

    /**
     * The roles per node (non-tail places, heads) on the chains as they will be once the removal
     * rule has taken off the members it expects to (a chain in the middle of a move has one member
     * more for a while; counting that member's role as well would make roles look more uneven than
     * they will be, and start role moves no one needs).
     */
    private Map<String, int[]> roles() {
      Map<String, int[]> roles = new HashMap<>();
      for (int c = 0; c < chains.size(); c++) {
        List<String> gone = expected.get(c);
        List<Member> members =
            gone.isEmpty()
                ? chains.get(c)
                : chains.get(c).stream().filter(m -> !gone.contains(m.id())).toList();
        for (int j = 0; j < members.size() - 1; j++) {
          int[] r = roles.computeIfAbsent(members.get(j).id(), id -> new int[2]);
          r[0]++;
          if (j == 0) {
            r[1]++;
          }
        }
      }
      return roles;
    }

    /**
     * Adds to {@code change} (per node: non-tail places, heads) what removing {@code victim} from
     * {@code members} (after a new member joined at the tail) does to the roles: removing the head
     * hands the head to the second member and a non-tail place to the old tail; removing a middle
     * hands a non-tail place to the old tail; removing the tail changes no roles (the new member
     * takes the tail).
     */
    private static void removalEffect(
        List<Member> members, String victim, Map<String, int[]> change) {
      int size = members.size();
      int at = 0;
      while (!members.get(at).id().equals(victim)) {
        at++;
      }
      if (size < 2 || at == size - 1) {
        return;
      }
      change.computeIfAbsent(victim, id -> new int[2])[0]--;
      change.computeIfAbsent(members.get(size - 1).id(), id -> new int[2])[0]++;
      if (at == 0) {
        change.computeIfAbsent(victim, id -> new int[2])[1]--;
        change.computeIfAbsent(members.get(1).id(), id -> new int[2])[1]++;
      }
    }

    /**
     * What {@code change} (and changes of the {@link #reach} of heads and of non-tail places) does
     * to the potential: see {@link Score}.
     */
    private static Score roleChange(
        Map<String, int[]> roles,
        Map<String, int[]> change,
        int headsReachChange,
        int nonTailReachChange) {
      long heads = 0;
      long nonTail = 0;
      for (Map.Entry<String, int[]> e : change.entrySet()) {
        int[] now = roles.getOrDefault(e.getKey(), NONE);
        int[] d = e.getValue();
        nonTail += squaresChange(now[0], d[0]);
        heads += squaresChange(now[1], d[1]);
      }
      return new Score(heads, headsReachChange, nonTail, nonTailReachChange);
    }

    /** The change of {@code a^2} when {@code a} changes by {@code d}. */
    private static long squaresChange(int a, int d) {
      return (long) (a + d) * (a + d) - (long) a * a;
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

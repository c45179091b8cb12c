package io.craq.core.chain;

import io.craq.core.message.ChainMap;
import java.util.List;
import java.util.Set;

/**
 * Where each chain's members go: a pure function from the chain map and the live nodes to the next
 * membership changes, which the coordinator applies one at a time per chain and persists with the
 * map. Because it reads only the map and the live set, a coordinator that restarts (or a new
 * leader) continues the moves in progress from the stored map.
 *
 * <p>Goals, in order: (1) every chain has {@code min(replicas, eligible nodes)} members (eligible:
 * live and not leaving); under-replicated chains are repaired first; (2) no chain keeps a member on
 * a leaving node once the chain has that many caught-up others; (3) every eligible node carries
 * about the same number of memberships (the most and the least loaded differ by at most one). A
 * move adds a member first (it catches up on that chain's keys only) and removes the member it
 * replaces only once every member is caught up, so a chain never has fewer complete copies than
 * before. Empty chains of a new cluster are laid out at once, members in rotated order, so heads
 * and tails spread over the nodes. At most {@code movesMax} chains move at once. Deterministic.
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
   */
  public static List<Step> next(ChainMap map, Set<String> live, int movesMax) {
    throw new UnsupportedOperationException("not built yet");
  }
}

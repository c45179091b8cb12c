package io.craq.store;

import java.util.List;

/**
 * The result of {@link Storer#apply(Batch)}.
 *
 * @param outcomes one outcome per operation, in the order the operations were added
 * @param dirtyVersionsDiscarded how many dirty versions {@link Batch#discardAllDirty()} removed
 */
public record BatchResult(List<Outcome> outcomes, long dirtyVersionsDiscarded) {
  public BatchResult {
    outcomes = List.copyOf(outcomes);
  }

  /** The outcome of the operation at {@code index} (its position in the batch). */
  public Outcome outcome(int index) {
    return outcomes.get(index);
  }

  /** How many operations returned {@code outcome}. */
  public long count(Outcome outcome) {
    return outcomes.stream().filter(o -> o == outcome).count();
  }
}

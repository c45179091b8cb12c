package io.craq.check;

import java.util.List;

/**
 * A sequential specification of one key: what each operation does when the operations run one at a
 * time. The checker searches for an order of the operations, consistent with real time, in which
 * every step is legal.
 *
 * <p>Implementations are pure and thread-safe. States are immutable values with {@code equals} and
 * {@code hashCode}: the checker caches (set of placed operations, state) pairs by them.
 *
 * @param <S> the state type
 */
public interface Model<S> {
  /** The state of a key nobody has written. */
  S init();

  /**
   * Runs one operation on {@code state}.
   *
   * @param output what the operation returned, or {@code null} when its outcome is unknown ({@link
   *     Outcome#INFO}): then any result is accepted and only the effect is applied
   * @return the state after the operation, or {@code null} when the operation cannot have returned
   *     {@code output} in {@code state}
   * @throws IllegalArgumentException for an operation kind the model does not know
   */
  S step(S state, Input input, Output output);

  /**
   * The model to check one key's operations with: this one, or a cheaper equivalent that gives the
   * same verdict on these operations (for example one that drops a state component none of them
   * observes, so the search's cache merges more states). Called once per key.
   */
  default Model<S> forKey(List<Operation> operations) {
    return this;
  }

  /** The state for a failure message. */
  default String describe(S state) {
    return String.valueOf(state);
  }
}

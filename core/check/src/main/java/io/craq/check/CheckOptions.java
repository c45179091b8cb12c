package io.craq.check;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link HistoryCheck} checks a file.
 *
 * @param model the sequential model every key is checked against
 * @param budgetPerKey how long the search may run on one key before that key's verdict is {@link
 *     Verdict#UNKNOWN}; keys are checked one after another, so a file takes at most this times its
 *     number of keys
 * @param json print the report as one JSON object instead of text
 */
public record CheckOptions(CheckModel model, Duration budgetPerKey, boolean json) {
  /** Enough for every history the fault suites write; they check with the same budget. */
  public static final Duration DEFAULT_BUDGET_PER_KEY = Duration.ofSeconds(10);

  /**
   * @throws IllegalArgumentException if the budget is not positive
   */
  public CheckOptions {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(budgetPerKey, "budgetPerKey");
    if (budgetPerKey.isNegative() || budgetPerKey.isZero()) {
      throw new IllegalArgumentException(
          "the search budget per key must be positive, got " + budgetPerKey.toMillis() + " ms");
    }
  }

  /** The register model, {@link #DEFAULT_BUDGET_PER_KEY}, text output. */
  public static CheckOptions defaults() {
    return new CheckOptions(CheckModel.REGISTER, DEFAULT_BUDGET_PER_KEY, false);
  }

  public CheckOptions withModel(CheckModel model) {
    return new CheckOptions(model, budgetPerKey, json);
  }

  public CheckOptions withBudgetPerKey(Duration budgetPerKey) {
    return new CheckOptions(model, budgetPerKey, json);
  }

  public CheckOptions withJson(boolean json) {
    return new CheckOptions(model, budgetPerKey, json);
  }
}

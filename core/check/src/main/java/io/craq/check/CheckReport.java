package io.craq.check;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The verdicts on every key of a history, and on its multi-key writes.
 *
 * @param results one per key
 * @param transactions how many multi-key writes the history holds (0 for none)
 * @param violations the multi-key writes that were not all or nothing ({@link TransactionChecker})
 */
public record CheckReport(
    List<KeyResult> results, int transactions, List<TransactionViolation> violations) {
  public CheckReport {
    results = List.copyOf(results);
    violations = List.copyOf(violations);
  }

  /** The report of a history without multi-key writes. */
  public CheckReport(List<KeyResult> results) {
    this(results, 0, List.of());
  }

  public int keysChecked() {
    return results.size();
  }

  /** How many keys have {@code verdict}. */
  public long count(Verdict verdict) {
    return results.stream().filter(r -> r.verdict() == verdict).count();
  }

  /** The keys that are not linearizable. */
  public List<KeyResult> illegal() {
    return results.stream().filter(r -> r.verdict() == Verdict.ILLEGAL).toList();
  }

  /** The keys whose search ran out of time. */
  public List<KeyResult> unknown() {
    return results.stream().filter(r -> r.verdict() == Verdict.UNKNOWN).toList();
  }

  /**
   * True when no key is illegal and every multi-key write is all or nothing (unknown keys are
   * allowed; report them separately).
   */
  public boolean noneIllegal() {
    return count(Verdict.ILLEGAL) == 0 && violations.isEmpty();
  }

  /**
   * {@code keys 12: linearizable 11, illegal 1, unknown 0}, then, when the history has multi-key
   * writes, {@code ; transactions 40: torn 0}.
   */
  public String summary() {
    String keys =
        "keys "
            + keysChecked()
            + ": linearizable "
            + count(Verdict.LINEARIZABLE)
            + ", illegal "
            + count(Verdict.ILLEGAL)
            + ", unknown "
            + count(Verdict.UNKNOWN);
    if (transactions == 0 && violations.isEmpty()) {
      return keys;
    }
    return keys + "; transactions " + transactions + ": torn " + violations.size();
  }

  /**
   * The summary then one explanation per illegal key and per torn transaction, for a test failure
   * message.
   */
  public String failureMessage() {
    return Stream.concat(
            illegal().stream().map(KeyResult::explanation),
            violations.stream().map(TransactionViolation::explanation))
        .collect(Collectors.joining("\n", summary() + "\n", ""));
  }
}

package io.craq.check;

import java.util.List;
import java.util.stream.Collectors;

/** The verdicts on every key of a history. */
public record CheckReport(List<KeyResult> results) {
  public CheckReport {
    results = List.copyOf(results);
  }

  public int keysChecked() {
    return results.size();
  }

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

  /** True when no key is illegal (unknown keys are allowed; report them separately). */
  public boolean noneIllegal() {
    return count(Verdict.ILLEGAL) == 0;
  }

  /** {@code keys 12: linearizable 11, illegal 1, unknown 0}. */
  public String summary() {
    return "keys "
        + keysChecked()
        + ": linearizable "
        + count(Verdict.LINEARIZABLE)
        + ", illegal "
        + count(Verdict.ILLEGAL)
        + ", unknown "
        + count(Verdict.UNKNOWN);
  }

  /** The summary then one explanation per illegal key, for a test failure message. */
  public String failureMessage() {
    return illegal().stream()
        .map(KeyResult::explanation)
        .collect(Collectors.joining("\n", summary() + "\n", ""));
  }
}

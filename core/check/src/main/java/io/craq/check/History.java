package io.craq.check;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An immutable list of operations, over any number of keys. */
public record History(List<Operation> operations) {
  public History {
    operations = List.copyOf(operations);
  }

  /** The operations of each key, keys in order of first appearance. */
  public Map<String, List<Operation>> byKey() {
    Map<String, List<Operation>> byKey = new LinkedHashMap<>();
    for (Operation operation : operations) {
      byKey.computeIfAbsent(operation.key(), k -> new ArrayList<>()).add(operation);
    }
    return byKey;
  }

  public long count(Outcome outcome) {
    return operations.stream().filter(o -> o.outcome() == outcome).count();
  }

  public int size() {
    return operations.size();
  }

  /** {@code operations 120 (ok 100 / fail 5 / info 15)}. */
  public String summary() {
    return "operations "
        + size()
        + " (ok "
        + count(Outcome.OK)
        + " / fail "
        + count(Outcome.FAIL)
        + " / info "
        + count(Outcome.INFO)
        + ")";
  }
}

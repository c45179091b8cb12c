package io.craq.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An immutable list of operations, over any number of keys.
 *
 * <p>A multi-key write appears as one operation per key (a {@link OpKind#WRITE} or {@link
 * OpKind#DELETE} of that key), linked by their {@link Operation#transaction()} id: the members of
 * one transaction have distinct keys and share their process, invoke and completion times and
 * outcome, as the client sent them in one request and got one answer.
 */
public record History(List<Operation> operations) {
  /**
   * @throws IllegalArgumentException if the members of a transaction differ in process, times or
   *     outcome, or two of them have the same key
   */
  public History {
    operations = List.copyOf(operations);
    Map<Long, Operation> first = new HashMap<>();
    Map<Long, Set<String>> keys = new HashMap<>();
    for (Operation operation : operations) {
      if (!operation.inTransaction()) {
        continue;
      }
      Operation leader = first.putIfAbsent(operation.transaction(), operation);
      if (leader != null
          && (leader.process() != operation.process()
              || leader.invokeNanos() != operation.invokeNanos()
              || leader.completeNanos() != operation.completeNanos()
              || leader.outcome() != operation.outcome())) {
        throw new IllegalArgumentException(
            "the members of transaction "
                + operation.transaction()
                + " differ in process, times or outcome: "
                + leader.describe()
                + " on "
                + leader.key()
                + ", "
                + operation.describe()
                + " on "
                + operation.key());
      }
      if (!keys.computeIfAbsent(operation.transaction(), t -> new HashSet<>())
          .add(operation.key())) {
        throw new IllegalArgumentException(
            "transaction " + operation.transaction() + " writes key " + operation.key() + " twice");
      }
    }
  }

  /**
   * The multi-key writes: each transaction id with its members in key order, ids in ascending
   * order.
   */
  public Map<Long, List<Operation>> transactions() {
    Map<Long, List<Operation>> transactions = new TreeMap<>();
    for (Operation operation : operations) {
      if (operation.inTransaction()) {
        transactions
            .computeIfAbsent(operation.transaction(), t -> new ArrayList<>())
            .add(operation);
      }
    }
    transactions.values().forEach(members -> members.sort(Comparator.comparing(Operation::key)));
    return transactions;
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

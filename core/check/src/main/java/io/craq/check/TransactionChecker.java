package io.craq.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * All or nothing for multi-key writes, on top of the per-key linearizability check: a multi-key
 * write (a transaction) takes effect on all of its keys at one instant, or on none.
 *
 * <p>Each key's order of writes is only known where every linearization of that key agrees on it
 * (one linearization found by the search is not unique, and judging by it would raise false
 * alarms). This class derives the orders that are certain, per key (docs/CHECK.md has the proofs in
 * words):
 *
 * <ul>
 *   <li>versions: the store numbers each key's writes in order, and the per-key check has verified
 *       the reported versions, so a read of version v sees write v and none later;
 *   <li>read-from: a read that returns a value only one write produced saw that write; the write
 *       and its reads form a cluster, and when some operation of cluster P completes before some
 *       operation of cluster Q is invoked, P comes before Q in every linearization;
 *   <li>the transitive closure of both.
 * </ul>
 *
 * <p>A read then sees a member's write "or a later one" ({@link Seen#AFTER}), "an older one"
 * ({@link Seen#BEFORE}), or nothing certain ({@link Seen#UNKNOWN}, never an alarm). With these, a
 * transaction is a violation when:
 *
 * <ul>
 *   <li>{@link TransactionViolation.Kind#TORN_READS}: a read of key K1 sees it, and a read of
 *       another key K2 invoked after the first completed sees an older value;
 *   <li>{@link TransactionViolation.Kind#TORN_FINAL_READS}: the final read of one of its keys sees
 *       it, and the final read of another an older value. A key's final read is its last read, when
 *       that was invoked after every operation other than a read was invoked and, unless its
 *       outcome is unknown, completed; the store is assumed quiet by then (every request has taken
 *       effect or never will), as the simulation and the fault suites ensure before their final
 *       reads;
 *   <li>{@link TransactionViolation.Kind#ORDER}: another transaction sharing two of its keys comes
 *       after it on one key and before it on the other;
 *   <li>{@link TransactionViolation.Kind#FAILED_VISIBLE}: it failed, yet a read returned a value
 *       that only its write produced.
 * </ul>
 *
 * <p>An unknown-outcome transaction is only judged once it is known to have happened: "sees it"
 * needs its own value read (or its version known), so a transaction that may never have happened
 * raises no alarm. Keys whose per-key verdict is not {@link Verdict#LINEARIZABLE}, and keys with
 * {@link OpKind#APPEND} or {@link OpKind#INCREMENT} operations, are left out (an illegal key
 * already fails the history).
 */
public final class TransactionChecker {
  private TransactionChecker() {}

  /** What a read saw of a write of its key. */
  enum Seen {
    /** That write or a later one. */
    AFTER,
    /** A write older than that one. */
    BEFORE,
    /** Not certain. */
    UNKNOWN
  }

  /**
   * Checks every transaction of {@code history}.
   *
   * @param keyResults the per-key verdicts: only {@link Verdict#LINEARIZABLE} keys are used
   * @return the violations, in transaction order; empty when every transaction is all or nothing as
   *     far as the checks above can tell
   */
  public static List<TransactionViolation> check(History history, List<KeyResult> keyResults) {
    Map<Long, List<Operation>> transactions = history.transactions();
    if (transactions.isEmpty()) {
      return List.of();
    }
    Set<String> linearizable =
        keyResults.stream()
            .filter(r -> r.verdict() == Verdict.LINEARIZABLE)
            .map(KeyResult::key)
            .collect(Collectors.toSet());
    Map<String, List<Operation>> byKey = history.byKey();
    long finalFrom = finalReadsFrom(history);
    Set<String> written = new HashSet<>();
    transactions.values().forEach(members -> members.forEach(m -> written.add(m.key())));
    Map<String, KeyOrder> orders = new HashMap<>();
    for (String key : written) {
      if (linearizable.contains(key)) {
        KeyOrder order = KeyOrder.of(byKey.get(key));
        if (order != null) {
          orders.put(key, order);
        }
      }
    }
    List<TransactionViolation> violations = new ArrayList<>();
    for (Map.Entry<Long, List<Operation>> entry : transactions.entrySet()) {
      long id = entry.getKey();
      List<Operation> members = entry.getValue();
      if (members.get(0).outcome() == Outcome.FAIL) {
        failedVisible(id, members, byKey).ifPresent(violations::add);
        continue;
      }
      Map<String, View> views = new LinkedHashMap<>();
      for (Operation member : members) {
        KeyOrder order = orders.get(member.key());
        if (order != null) {
          views.put(member.key(), order.view(member, finalFrom));
        }
      }
      torn(id, members, views).ifPresent(violations::add);
      tornFinal(id, members, views).ifPresent(violations::add);
      order(id, members, views, transactions, orders).ifPresent(violations::add);
    }
    return violations;
  }

  /**
   * After what time a key's last read is its final read: the last invoke of every operation other
   * than a read, and the last completion of every such operation with a known outcome.
   */
  static long finalReadsFrom(History history) {
    long from = Long.MIN_VALUE;
    for (Operation operation : history.operations()) {
      if (operation.input().kind() != OpKind.READ) {
        from =
            Math.max(
                from,
                operation.outcome() == Outcome.INFO
                    ? operation.invokeNanos()
                    : operation.completeNanos());
      }
    }
    return from;
  }

  // ---------------------------------------------------------------- the checks

  private static Optional<TransactionViolation> torn(
      long id, List<Operation> members, Map<String, View> views) {
    for (View saw : views.values()) {
      if (saw.firstAfter == null) {
        continue;
      }
      for (View missed : views.values()) {
        if (missed != saw
            && missed.lastBefore != null
            && saw.firstAfter.completeNanos() < missed.lastBefore.invokeNanos()) {
          String text =
              describe(id, members)
                  + " is torn: "
                  + describeRead(saw.firstAfter)
                  + " saw its write of "
                  + HistoryLog.token(saw.member.key())
                  + " (or a later one), but "
                  + describeRead(missed.lastBefore)
                  + ", invoked after that read completed, saw a value older than its write of "
                  + HistoryLog.token(missed.member.key());
          return Optional.of(
              new TransactionViolation(
                  id,
                  TransactionViolation.Kind.TORN_READS,
                  saw.firstAfter,
                  missed.lastBefore,
                  text));
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<TransactionViolation> tornFinal(
      long id, List<Operation> members, Map<String, View> views) {
    for (View saw : views.values()) {
      if (saw.finalAfter == null) {
        continue;
      }
      for (View missed : views.values()) {
        if (missed != saw && missed.finalBefore != null) {
          String text =
              describe(id, members)
                  + " is torn in the final reads: "
                  + describeRead(saw.finalAfter)
                  + " saw its write of "
                  + HistoryLog.token(saw.member.key())
                  + " (or a later one), but "
                  + describeRead(missed.finalBefore)
                  + " saw a value older than its write of "
                  + HistoryLog.token(missed.member.key());
          return Optional.of(
              new TransactionViolation(
                  id,
                  TransactionViolation.Kind.TORN_FINAL_READS,
                  saw.finalAfter,
                  missed.finalBefore,
                  text));
        }
      }
    }
    return Optional.empty();
  }

  /** Another transaction after this one on one shared key and before it on another. */
  private static Optional<TransactionViolation> order(
      long id,
      List<Operation> members,
      Map<String, View> views,
      Map<Long, List<Operation>> transactions,
      Map<String, KeyOrder> orders) {
    List<View> list = new ArrayList<>(views.values());
    for (int i = 0; i < list.size(); i++) {
      View first = list.get(i);
      KeyOrder firstOrder = orders.get(first.member.key());
      for (Operation other : firstOrder.members) {
        if (other.transaction() <= id) {
          continue; // each pair once, from its smaller id
        }
        Seen onFirst = firstOrder.relation(other, first.position);
        if (onFirst == Seen.UNKNOWN) {
          continue;
        }
        for (Operation otherMember : transactions.get(other.transaction())) {
          View second = views.get(otherMember.key());
          if (second == null || second == first) {
            continue;
          }
          Seen onSecond = orders.get(second.member.key()).relation(otherMember, second.position);
          if (onSecond != Seen.UNKNOWN && onSecond != onFirst) {
            String text =
                describe(id, members)
                    + " and "
                    + describe(other.transaction(), transactions.get(other.transaction()))
                    + " are ordered differently on two keys: on "
                    + HistoryLog.token(first.member.key())
                    + " the write of "
                    + other.transaction()
                    + " comes "
                    + (onFirst == Seen.AFTER ? "after" : "before")
                    + " that of "
                    + id
                    + ", on "
                    + HistoryLog.token(second.member.key())
                    + " "
                    + (onSecond == Seen.AFTER ? "after" : "before")
                    + " it";
            return Optional.of(
                new TransactionViolation(
                    id, TransactionViolation.Kind.ORDER, other, otherMember, text));
          }
        }
      }
    }
    return Optional.empty();
  }

  /** A read of a value only the failed transaction's write produced. */
  private static Optional<TransactionViolation> failedVisible(
      long id, List<Operation> members, Map<String, List<Operation>> byKey) {
    for (Operation member : members) {
      String value = member.input().value();
      if (value == null) {
        continue;
      }
      List<Operation> operations = byKey.get(member.key());
      boolean producedElsewhere =
          operations.stream()
              .anyMatch(o ->
                  o.outcome() != Outcome.FAIL
                      && o.input().kind() != OpKind.READ
                      && value.equals(o.input().value()));
      if (producedElsewhere) {
        continue;
      }
      for (Operation read : operations) {
        if (read.outcome() == Outcome.OK
            && read.input().kind() == OpKind.READ
            && value.equals(read.output().value())) {
          String text =
              describe(id, members)
                  + " failed, but "
                  + describeRead(read)
                  + " saw its write of "
                  + HistoryLog.token(member.key());
          return Optional.of(
              new TransactionViolation(
                  id, TransactionViolation.Kind.FAILED_VISIBLE, read, member, text));
        }
      }
    }
    return Optional.empty();
  }

  /** {@code transaction 7 (p3: WRITE "x" on a, DELETE on b; ok [100..200])}. */
  static String describe(long id, List<Operation> members) {
    Operation leader = members.get(0);
    String end =
        leader.completeNanos() == Operation.INFINITY
            ? "inf"
            : Long.toString(leader.completeNanos());
    return "transaction "
        + id
        + " (p"
        + leader.process()
        + ": "
        + members.stream()
            .map(m -> m.input().describe() + " on " + HistoryLog.token(m.key()))
            .collect(Collectors.joining(", "))
        + "; "
        + switch (leader.outcome()) {
          case OK -> "ok";
          case FAIL -> "failed";
          case INFO -> "unknown";
        }
        + " ["
        + leader.invokeNanos()
        + ".."
        + end
        + "])";
  }

  private static String describeRead(Operation read) {
    return read.describe() + " on " + HistoryLog.token(read.key());
  }

  // ---------------------------------------------------------------- one key's certain order

  /** What the reads of one key saw of one member's write. */
  private static final class View {
    final Operation member;
    final Position position;
    Operation firstAfter; // the AFTER read that completed first
    Operation lastBefore; // the BEFORE read invoked last
    Operation finalAfter;
    Operation finalBefore;

    View(Operation member, Position position) {
      this.member = member;
      this.position = position;
    }
  }

  /** A write of the key (or its initial state): a value some reads may have seen. */
  private static final class Producer {
    final Operation operation; // null for the initial state
    final String value;
    long version;
    long minComplete; // over the write and the reads that saw it
    long maxInvoke;
    final int index;

    Producer(
        int index,
        Operation operation,
        String value,
        long version,
        long minComplete,
        long maxInvoke) {
      this.index = index;
      this.operation = operation;
      this.value = value;
      this.version = version;
      this.minComplete = minComplete;
      this.maxInvoke = maxInvoke;
    }

    boolean versioned() {
      return version != Output.UNKNOWN_VERSION;
    }
  }

  /** A read with what it saw, when that is certain. */
  private record Read(Operation operation, Producer saw, long version) {}

  /** One write's place in its key's certain order. */
  private static final class Position {
    final Producer target;
    final boolean[] after; // by producer index: certainly after the target
    final boolean[] before; // certainly before it

    Position(Producer target, boolean[] after, boolean[] before) {
      this.target = target;
      this.after = after;
      this.before = before;
    }

    /** Whether {@code producer} is the target or certainly later, or certainly earlier. */
    Seen compare(Producer producer) {
      if (producer == target) {
        return Seen.AFTER;
      }
      if (producer.versioned() && target.versioned()) {
        return producer.version >= target.version ? Seen.AFTER : Seen.BEFORE;
      }
      if (after[producer.index]) {
        return Seen.AFTER;
      }
      return before[producer.index] ? Seen.BEFORE : Seen.UNKNOWN;
    }
  }

  private static final class KeyOrder {
    final List<Producer> producers = new ArrayList<>();
    Operation lastRead;
    private List<Producer> byMaxInvokeDescending;
    private List<Producer> byMinCompleteAscending;
    private List<Producer> versionedAscending;
    final Map<Operation, Producer> byOperation = new IdentityHashMap<>();
    final List<Read> reads = new ArrayList<>();
    final List<Operation> members = new ArrayList<>();

    /** The key's order, or null when its operations are not a register's (appends). */
    static KeyOrder of(List<Operation> operations) {
      KeyOrder order = new KeyOrder();
      Producer initial = new Producer(0, null, null, 0, Long.MIN_VALUE, Long.MIN_VALUE);
      order.producers.add(initial);
      Map<String, List<Producer>> byValue = new HashMap<>(); // a null key: absent
      byValue.computeIfAbsent(null, v -> new ArrayList<>()).add(initial);
      for (Operation operation : operations) {
        if (operation.outcome() == Outcome.FAIL) {
          continue;
        }
        OpKind kind = operation.input().kind();
        if (kind == OpKind.APPEND || kind == OpKind.INCREMENT) {
          return null;
        }
        boolean writes =
            switch (kind) {
              case WRITE, DELETE -> true;
              case CAS, WRITE_IF_VERSION ->
                  operation.outcome() == Outcome.INFO || operation.output().applied();
              case READ, APPEND, INCREMENT -> false;
            };
        if (!writes) {
          continue;
        }
        Output output = operation.output();
        Producer producer =
            new Producer(
                order.producers.size(),
                operation,
                operation.input().value(),
                output == null ? Output.UNKNOWN_VERSION : output.version(),
                operation.completeNanos(),
                operation.invokeNanos());
        order.producers.add(producer);
        order.byOperation.put(operation, producer);
        byValue.computeIfAbsent(producer.value, v -> new ArrayList<>()).add(producer);
        if (operation.inTransaction()) {
          order.members.add(operation);
        }
      }
      // Reads whose value only one write produced saw that write; they tell its version too.
      List<Operation> unmatched = new ArrayList<>();
      for (Operation operation : operations) {
        if (operation.outcome() != Outcome.OK || operation.input().kind() != OpKind.READ) {
          continue;
        }
        List<Producer> candidates = byValue.getOrDefault(operation.output().value(), List.of());
        long version = operation.output().version();
        if (candidates.size() == 1) {
          Producer saw = candidates.get(0);
          if (!saw.versioned()) {
            saw.version = version;
          }
          order.reads.add(new Read(operation, saw, version));
        } else {
          unmatched.add(operation);
        }
      }
      Map<Long, Producer> byVersion = new HashMap<>();
      for (Producer producer : order.producers) {
        if (producer.versioned()) {
          byVersion.putIfAbsent(producer.version, producer);
        }
      }
      for (Operation operation : unmatched) {
        long version = operation.output().version();
        Producer saw = version == Output.UNKNOWN_VERSION ? null : byVersion.get(version);
        if (saw != null && !Objects.equals(saw.value, operation.output().value())) {
          saw = null; // cannot happen on a linearizable key; never guess
        }
        order.reads.add(new Read(operation, saw, version));
      }
      for (Read read : order.reads) {
        if (order.lastRead == null || read.operation.invokeNanos() > order.lastRead.invokeNanos()) {
          order.lastRead = read.operation;
        }
        if (read.saw != null) {
          read.saw.minComplete = Math.min(read.saw.minComplete, read.operation.completeNanos());
          read.saw.maxInvoke = Math.max(read.saw.maxInvoke, read.operation.invokeNanos());
        }
      }
      return order;
    }

    /** What the reads of the key saw of {@code member}'s write. */
    View view(Operation member, long finalFrom) {
      Position position = position(byOperation.get(member));
      View view = new View(member, position);
      for (Read read : reads) {
        Operation operation = read.operation;
        Seen seen = seen(read, position);
        boolean isFinal = operation == lastRead && operation.invokeNanos() > finalFrom;
        if (seen == Seen.AFTER) {
          if (view.firstAfter == null
              || operation.completeNanos() < view.firstAfter.completeNanos()) {
            view.firstAfter = operation;
          }
          if (isFinal) {
            view.finalAfter = operation;
          }
        } else if (seen == Seen.BEFORE) {
          if (view.lastBefore == null || operation.invokeNanos() > view.lastBefore.invokeNanos()) {
            view.lastBefore = operation;
          }
          if (isFinal) {
            view.finalBefore = operation;
          }
        }
      }
      return view;
    }

    /** Whether {@code read} saw the write at {@code position} or a later one, or an older one. */
    private static Seen seen(Read read, Position position) {
      Producer target = position.target;
      if (read.version != Output.UNKNOWN_VERSION && target.versioned()) {
        return read.version >= target.version ? Seen.AFTER : Seen.BEFORE;
      }
      return read.saw == null ? Seen.UNKNOWN : position.compare(read.saw);
    }

    /** Whether {@code other}'s write comes after the write at {@code position}, or before it. */
    Seen relation(Operation other, Position position) {
      return position.compare(byOperation.get(other));
    }

    /** Where the writes certainly before and after {@code target} are. */
    private Position position(Producer target) {
      if (byMaxInvokeDescending == null) {
        byMaxInvokeDescending =
            producers.stream()
                .sorted(Comparator.comparingLong((Producer p) -> p.maxInvoke).reversed())
                .toList();
        byMinCompleteAscending =
            producers.stream().sorted(Comparator.comparingLong(p -> p.minComplete)).toList();
        versionedAscending =
            producers.stream()
                .filter(Producer::versioned)
                .sorted(Comparator.comparingLong(p -> p.version))
                .toList();
      }
      return new Position(target, closure(target, true), closure(target, false));
    }

    /**
     * The writes certainly after {@code start} (forward) or before it: Q follows P when an
     * operation of P's cluster completes before one of Q's is invoked, or P's version is lower;
     * closed transitively. Linear: forward, whatever was reached lowers the earliest completion and
     * lowest version so far, which only lets more writes in, walked in sorted order.
     */
    private boolean[] closure(Producer start, boolean forward) {
      boolean[] reached = new boolean[producers.size()];
      List<Producer> byTime = forward ? byMaxInvokeDescending : byMinCompleteAscending;
      int versions = versionedAscending.size();
      long time = forward ? start.minComplete : start.maxInvoke;
      long version = start.versioned() ? start.version : (forward ? Long.MAX_VALUE : -1);
      int i = 0;
      int j = 0;
      boolean grew = true;
      while (grew) {
        grew = false;
        while (i < byTime.size()
            && (forward ? byTime.get(i).maxInvoke > time : byTime.get(i).minComplete < time)) {
          Producer producer = byTime.get(i++);
          grew = true;
          if (producer != start && !reached[producer.index]) {
            reached[producer.index] = true;
            time =
                forward ? Math.min(time, producer.minComplete) : Math.max(time, producer.maxInvoke);
            if (producer.versioned()) {
              version =
                  forward
                      ? Math.min(version, producer.version)
                      : Math.max(version, producer.version);
            }
          }
        }
        while (j < versions) {
          Producer producer = versionedAscending.get(forward ? versions - 1 - j : j);
          if (forward ? producer.version <= version : producer.version >= version) {
            break;
          }
          j++;
          grew = true;
          if (producer != start && !reached[producer.index]) {
            reached[producer.index] = true;
            time =
                forward ? Math.min(time, producer.minComplete) : Math.max(time, producer.maxInvoke);
            version =
                forward ? Math.min(version, producer.version) : Math.max(version, producer.version);
          }
        }
      }
      return reached;
    }
  }
}

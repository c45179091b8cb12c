package io.craq.check;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether a history is linearizable with respect to a {@link Model}: the Wing &amp; Gong
 * search with Lowe's cache of visited configurations, as Porcupine does it.
 *
 * <p>Linearizability is local, so each key is checked alone, with its own time budget. The member
 * of a multi-key write on a key is checked there as a write of that key; that the write took effect
 * on all its keys at one instant is checked afterwards, by {@link TransactionChecker}.
 *
 * <ul>
 *   <li>{@link Outcome#FAIL} operations certainly did not happen: they are dropped first, so a read
 *       that returns a failed write's value has no write to explain it.
 *   <li>{@link Outcome#INFO} operations return at infinity and are stepped with an unknown output:
 *       they may take effect anywhere after their invoke. They are also optional: once the search
 *       reaches the (infinite) return of an unknown operation, every operation still unplaced has
 *       an unknown outcome, and the history is linearizable with those never having happened.
 * </ul>
 *
 * <p>Stateless and thread-safe; {@link #checkKey} may run for several keys in parallel.
 */
public final class LinearizabilityChecker {
  /** How many search steps run between two looks at the clock. */
  private static final int STEPS_PER_CLOCK_CHECK = 256;

  /** How many operations of the longest prefix an explanation lists. */
  private static final int EXPLAIN_PREFIX_TAIL = 6;

  /** How many unplaceable candidates an explanation lists. */
  private static final int EXPLAIN_CANDIDATES_MAX = 6;

  private LinearizabilityChecker() {}

  /**
   * Checks every key of {@code history}, each within {@code budgetPerKey}, one after another, then
   * its multi-key writes for all or nothing ({@link TransactionChecker}).
   */
  public static <S> CheckReport check(History history, Model<S> model, Duration budgetPerKey) {
    List<KeyResult> results = new ArrayList<>();
    for (Map.Entry<String, List<Operation>> entry : history.byKey().entrySet()) {
      results.add(checkKey(entry.getKey(), entry.getValue(), model, budgetPerKey));
    }
    return report(history, results);
  }

  /** The report on {@code history} given its per-key results: adds the multi-key writes' check. */
  public static CheckReport report(History history, List<KeyResult> results) {
    return new CheckReport(
        results, history.transactions().size(), TransactionChecker.check(history, results));
  }

  /**
   * Checks the operations of one key.
   *
   * @param operations operations of {@code key} only, in any order
   */
  public static <S> KeyResult checkKey(
      String key, List<Operation> operations, Model<S> model, Duration budget) {
    for (Operation operation : operations) {
      if (!operation.key().equals(key)) {
        throw new IllegalArgumentException(
            "operation of key " + operation.key() + " given as " + key);
      }
    }
    List<Operation> live = operations.stream().filter(o -> o.outcome() != Outcome.FAIL).toList();
    return new Search<>(key, live, model.forKey(live), budget).run();
  }

  /** One node of the doubly linked list of call and return entries. */
  private static final class Entry {
    final int operation;
    final boolean call;
    final long timeNanos;
    Entry match;
    Entry previous;
    Entry next;

    Entry(int operation, boolean call, long timeNanos) {
      this.operation = operation;
      this.call = call;
      this.timeNanos = timeNanos;
    }
  }

  /** A visited configuration: which operations are placed, and the state they lead to. */
  private record Configuration(long[] placed, Object state, int hash) {
    static Configuration of(long[] placed, Object state) {
      return new Configuration(
          placed.clone(), state, 31 * Arrays.hashCode(placed) + state.hashCode());
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Configuration that
          && hash == that.hash
          && Arrays.equals(placed, that.placed)
          && state.equals(that.state);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** A placed call and the state before it, to undo it when backtracking. */
  private record Placed<S>(Entry call, S stateBefore) {}

  /** The search over one key's operations. */
  private static final class Search<S> {
    private final String key;
    private final List<Operation> operations;
    private final Model<S> model;
    private final long startNanos;
    private final long deadlineNanos;
    private final Entry head = new Entry(-1, false, Long.MIN_VALUE);
    private final long[] placed;
    private final Set<Configuration> visited = new HashSet<>();
    private final Deque<Placed<S>> stack = new ArrayDeque<>();

    // The deepest point the search reached, for the explanation.
    private int[] longestPrefix = new int[0];
    private S stateAfterLongestPrefix;
    private int blockedOperation = -1;
    private List<Integer> blockedCandidates = List.of();

    Search(String key, List<Operation> operations, Model<S> model, Duration budget) {
      this.key = key;
      this.operations = operations;
      this.model = Objects.requireNonNull(model, "model");
      this.startNanos = System.nanoTime();
      long budgetNanos = budget.toNanos();
      this.deadlineNanos = startNanos + budgetNanos;
      this.placed = new long[(operations.size() + 63) / 64];
      link();
    }

    /** Step 1: call and return entries sorted by time, calls before returns on ties. */
    private void link() {
      List<Entry> entries = new ArrayList<>(2 * operations.size());
      for (int i = 0; i < operations.size(); i++) {
        Operation operation = operations.get(i);
        Entry call = new Entry(i, true, operation.invokeNanos());
        Entry ret = new Entry(i, false, operation.completeNanos());
        call.match = ret;
        entries.add(call);
        entries.add(ret);
      }
      entries.sort(
          Comparator.comparingLong((Entry e) -> e.timeNanos)
              .thenComparing(e -> !e.call)
              .thenComparingInt(e -> e.operation));
      Entry previous = head;
      for (Entry entry : entries) {
        previous.next = entry;
        entry.previous = previous;
        previous = entry;
      }
    }

    KeyResult run() {
      S state = model.init();
      stateAfterLongestPrefix = state;
      Entry entry = head.next;
      long steps = 0;
      while (head.next != null) {
        if (steps++ % STEPS_PER_CLOCK_CHECK == 0 && System.nanoTime() - deadlineNanos > 0) {
          return result(Verdict.UNKNOWN, unknownExplanation());
        }
        if (entry.call) {
          Operation operation = operations.get(entry.operation);
          Output output = operation.outcome() == Outcome.OK ? operation.output() : null;
          S next = model.step(state, operation.input(), output);
          if (next != null && visitFirstTime(entry.operation, next)) {
            stack.push(new Placed<>(entry, state));
            state = next;
            setPlaced(entry.operation, true);
            lift(entry);
            noteDepth(state);
            entry = head.next;
          } else {
            entry = entry.next;
          }
        } else {
          if (operations.get(entry.operation).outcome() == Outcome.INFO) {
            // Every operation left has an unknown outcome: they never happened.
            return result(Verdict.LINEARIZABLE, "");
          }
          noteBlocked(entry);
          if (stack.isEmpty()) {
            return result(Verdict.ILLEGAL, illegalExplanation());
          }
          Placed<S> top = stack.pop();
          state = top.stateBefore();
          setPlaced(top.call().operation, false);
          unlift(top.call());
          entry = top.call().next;
        }
      }
      return result(Verdict.LINEARIZABLE, "");
    }

    /** Step 2's cache: true if (placed + operation, state) was not seen before; remembers it. */
    private boolean visitFirstTime(int operation, S state) {
      setPlaced(operation, true);
      boolean fresh = visited.add(Configuration.of(placed, state));
      setPlaced(operation, false);
      return fresh;
    }

    private void setPlaced(int operation, boolean value) {
      if (value) {
        placed[operation >>> 6] |= 1L << operation;
      } else {
        placed[operation >>> 6] &= ~(1L << operation);
      }
    }

    private static void lift(Entry call) {
      call.previous.next = call.next;
      call.next.previous = call.previous;
      Entry ret = call.match;
      ret.previous.next = ret.next;
      if (ret.next != null) {
        ret.next.previous = ret.previous;
      }
    }

    private static void unlift(Entry call) {
      Entry ret = call.match;
      ret.previous.next = ret;
      if (ret.next != null) {
        ret.next.previous = ret;
      }
      call.previous.next = call;
      call.next.previous = call;
    }

    private void noteDepth(S state) {
      if (stack.size() > longestPrefix.length) {
        int[] prefix = new int[stack.size()];
        int i = prefix.length - 1;
        for (Placed<S> p : stack) { // the stack iterates from the top, the newest placement
          prefix[i--] = p.call().operation;
        }
        longestPrefix = prefix;
        stateAfterLongestPrefix = state;
        blockedOperation = -1;
      }
    }

    /** At the deepest prefix, remembers the first return that could not be passed. */
    private void noteBlocked(Entry ret) {
      if (stack.size() != longestPrefix.length || blockedOperation != -1) {
        return;
      }
      blockedOperation = ret.operation;
      List<Integer> candidates = new ArrayList<>();
      for (Entry e = head.next;
          e != ret && candidates.size() < EXPLAIN_CANDIDATES_MAX;
          e = e.next) {
        if (e.call) {
          candidates.add(e.operation);
        }
      }
      blockedCandidates = candidates;
    }

    private String illegalExplanation() {
      StringBuilder text = new StringBuilder();
      text.append("key ")
          .append(key)
          .append(": not linearizable (")
          .append(operations.size())
          .append(" operations after dropping failed ones). Longest linearizable prefix: ")
          .append(longestPrefix.length)
          .append(" operations");
      int from = Math.max(0, longestPrefix.length - EXPLAIN_PREFIX_TAIL);
      if (longestPrefix.length > 0) {
        text.append(from > 0 ? ", ending ... " : ": ");
        for (int i = from; i < longestPrefix.length; i++) {
          text.append(i > from ? "; " : "").append(operations.get(longestPrefix[i]).describe());
        }
      }
      text.append(". State then: ").append(model.describe(stateAfterLongestPrefix));
      if (blockedOperation >= 0) {
        text.append(". Next, ")
            .append(operations.get(blockedOperation).describe())
            .append(" must take effect before it returns, but no pending operation fits here: ");
        for (int i = 0; i < blockedCandidates.size(); i++) {
          text.append(i > 0 ? "; " : "")
              .append(operations.get(blockedCandidates.get(i)).describe());
        }
      }
      return text.toString();
    }

    private String unknownExplanation() {
      return "key "
          + key
          + ": time budget exceeded after placing at most "
          + longestPrefix.length
          + " of "
          + operations.size()
          + " operations ("
          + visited.size()
          + " configurations visited)";
    }

    private KeyResult result(Verdict verdict, String explanation) {
      Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
      return new KeyResult(key, verdict, operations.size(), elapsed, explanation);
    }
  }
}

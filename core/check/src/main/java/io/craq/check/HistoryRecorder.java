package io.craq.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.function.LongSupplier;

/**
 * Records what clients saw. A client calls {@link #invoke} right before sending a request and
 * completes the returned {@link Pending} right after the reply ({@link Pending#ok}), when the store
 * guarantees the request did not happen ({@link Pending#fail}), or when it cannot know ({@link
 * Pending#info}: timeout, connection lost after sending). After an {@code info} the client should
 * retire its process id and continue under a fresh one, as Jepsen does.
 *
 * <p>A multi-key write ({@link #multiWrite}) is recorded as one operation per key, linked by a
 * transaction id the recorder assigns; its one {@link Pending} ends them all at once.
 *
 * <p>Thread-safe; never blocks for long (one short lock). Timestamps come from the injected clock,
 * {@link System#nanoTime()} by default; a deterministic simulation passes its tick clock.
 */
public final class HistoryRecorder {
  private final LongSupplier clockNanos;
  private final Object lock = new Object();
  private final List<Operation> completed = new ArrayList<>();
  private final Map<Long, Pending> inFlight = new HashMap<>();
  private long lastTransaction = Operation.NO_TRANSACTION;

  public HistoryRecorder() {
    this(System::nanoTime);
  }

  /**
   * @param clockNanos the clock stamped on invokes and completions; must not go backwards
   */
  public HistoryRecorder(LongSupplier clockNanos) {
    this.clockNanos = Objects.requireNonNull(clockNanos, "clockNanos");
  }

  /**
   * Records that {@code process} sends {@code input} on {@code key} now.
   *
   * @throws IllegalStateException if {@code process} already has an operation in flight
   */
  public Pending invoke(long process, String key, Input input) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(input, "input");
    return start(process, Operation.NO_TRANSACTION, List.of(new Member(key, input)));
  }

  /**
   * Records that {@code process} sends a multi-key write now: one operation per key, a {@link
   * OpKind#WRITE} of its value or, for a {@code null} value, a {@link OpKind#DELETE}, linked by a
   * fresh transaction id. The returned {@link Pending} ends every key's operation at once.
   *
   * @throws IllegalArgumentException if {@code writes} is empty
   * @throws IllegalStateException if {@code process} already has an operation in flight
   */
  public Pending multiWrite(long process, SortedMap<String, String> writes) {
    Objects.requireNonNull(writes, "writes");
    if (writes.isEmpty()) {
      throw new IllegalArgumentException("a multi-key write needs at least one key");
    }
    List<Member> members = new ArrayList<>(writes.size());
    for (Map.Entry<String, String> write : writes.entrySet()) {
      String key = Objects.requireNonNull(write.getKey(), "key");
      Input input = write.getValue() == null ? Input.delete() : Input.write(write.getValue());
      members.add(new Member(key, input));
    }
    synchronized (lock) {
      return start(process, ++lastTransaction, members);
    }
  }

  private Pending start(long process, long transaction, List<Member> members) {
    synchronized (lock) {
      if (inFlight.containsKey(process)) {
        throw new IllegalStateException(
            "process " + process + " already has an operation in flight");
      }
      Pending pending = new Pending(process, transaction, members, clockNanos.getAsLong());
      inFlight.put(process, pending);
      return pending;
    }
  }

  public Pending read(long process, String key) {
    return invoke(process, key, Input.read());
  }

  public Pending write(long process, String key, String value) {
    return invoke(process, key, Input.write(value));
  }

  public Pending delete(long process, String key) {
    return invoke(process, key, Input.delete());
  }

  public Pending cas(long process, String key, String expected, String newValue) {
    return invoke(process, key, Input.cas(expected, newValue));
  }

  public Pending writeIfVersion(long process, String key, long expectedVersion, String value) {
    return invoke(process, key, Input.writeIfVersion(expectedVersion, value));
  }

  /** An increment by {@code delta}; complete it with {@link Pending#okIncremented}. */
  public Pending increment(long process, String key, long delta) {
    return invoke(process, key, Input.increment(delta));
  }

  public Pending append(long process, String key, String suffix) {
    return invoke(process, key, Input.append(suffix));
  }

  /**
   * A snapshot of everything recorded so far. Operations still in flight are included as {@link
   * Outcome#INFO}: they may yet take effect.
   */
  public History history() {
    synchronized (lock) {
      List<Operation> operations = new ArrayList<>(completed);
      for (Pending pending : inFlight.values()) {
        for (Member member : pending.members) {
          operations.add(
              new Operation(
                  pending.process,
                  member.key,
                  member.input,
                  pending.invokeNanos,
                  Operation.INFINITY,
                  Outcome.INFO,
                  null,
                  pending.transaction));
        }
      }
      return new History(operations);
    }
  }

  /** How many operations are in flight. */
  public int inFlight() {
    synchronized (lock) {
      return inFlight.size();
    }
  }

  /**
   * Ends {@code pending}'s operations.
   *
   * @param outputs for {@link Outcome#OK}, each member's output (by key); else ignored
   */
  private void complete(Pending pending, Outcome outcome, Map<String, Output> outputs) {
    synchronized (lock) {
      if (inFlight.get(pending.process) != pending) {
        throw new IllegalStateException("operation already completed: " + pending);
      }
      inFlight.remove(pending.process);
      long now = outcome == Outcome.INFO ? Operation.INFINITY : clockNanos.getAsLong();
      for (Member member : pending.members) {
        completed.add(
            new Operation(
                pending.process,
                member.key,
                member.input,
                pending.invokeNanos,
                now,
                outcome,
                outcome == Outcome.OK ? outputs.get(member.key) : null,
                pending.transaction));
      }
    }
  }

  /** One key's operation of a {@link Pending}. */
  private record Member(String key, Input input) {}

  /**
   * An operation in flight, or the operations of a multi-key write. Complete it exactly once, from
   * any thread.
   */
  public final class Pending {
    private final long process;
    private final long transaction;
    private final List<Member> members;
    private final long invokeNanos;

    private Pending(long process, long transaction, List<Member> members, long invokeNanos) {
      this.process = process;
      this.transaction = transaction;
      this.members = List.copyOf(members);
      this.invokeNanos = invokeNanos;
    }

    /**
     * It happened and returned {@code output}.
     *
     * @throws IllegalStateException for a multi-key write: it completes with {@link #ok()} or
     *     {@link #ok(Map)}
     */
    public void ok(Output output) {
      Objects.requireNonNull(output, "output");
      if (transaction != Operation.NO_TRANSACTION) {
        throw new IllegalStateException(
            "a multi-key write completes with ok() or ok(versions): " + this);
      }
      complete(this, Outcome.OK, Map.of(members.get(0).key, output));
    }

    /**
     * A write, delete, conditional write or multi-key write took effect; no version reported.
     *
     * @throws IllegalStateException for a read: it completes with the value it read
     */
    public void ok() {
      if (transaction != Operation.NO_TRANSACTION) {
        Map<String, Output> outputs = new HashMap<>();
        members.forEach(m -> outputs.put(m.key, Output.done()));
        complete(this, Outcome.OK, outputs);
        return;
      }
      if (members.get(0).input.kind() == OpKind.READ) {
        throw new IllegalStateException("a read completes with the value it read: okRead(value)");
      }
      ok(Output.done());
    }

    /**
     * A multi-key write took effect and created {@code versions} (key to the version its write
     * created); keys without a version in the map are recorded without one.
     *
     * @throws IllegalStateException if this is not a multi-key write
     * @throws IllegalArgumentException if {@code versions} names a key the write does not have
     */
    public void ok(Map<String, Long> versions) {
      Objects.requireNonNull(versions, "versions");
      if (transaction == Operation.NO_TRANSACTION) {
        throw new IllegalStateException("only a multi-key write completes with versions: " + this);
      }
      Map<String, Output> outputs = new HashMap<>();
      for (Member member : members) {
        Long version = versions.get(member.key);
        outputs.put(member.key, version == null ? Output.done() : Output.done(version));
      }
      if (!outputs.keySet().containsAll(versions.keySet())) {
        throw new IllegalArgumentException(
            "versions " + versions + " name keys the multi-key write does not have: " + this);
      }
      complete(this, Outcome.OK, outputs);
    }

    /** A read returned {@code value} ({@code null} = absent). */
    public void okRead(String value) {
      ok(Output.read(value));
    }

    /** A read returned {@code value} at {@code version}. */
    public void okRead(String value, long version) {
      ok(Output.read(value, version));
    }

    /** An increment made the key's value {@code value}. */
    public void okIncremented(long value) {
      ok(Output.incremented(value));
    }

    /** An increment made the key's value {@code value} at {@code version}. */
    public void okIncremented(long value, long version) {
      ok(Output.incremented(value, version));
    }

    /** A conditional write answered that its condition did not hold. */
    public void notApplied() {
      ok(Output.notApplied());
    }

    /** It certainly did not happen (for a multi-key write: none of its keys was written). */
    public void fail() {
      complete(this, Outcome.FAIL, Map.of());
    }

    /**
     * Its outcome is unknown: it may take effect at any time after its invoke, or never (for a
     * multi-key write: on all of its keys at one instant, or on none).
     */
    public void info() {
      complete(this, Outcome.INFO, Map.of());
    }

    public long process() {
      return process;
    }

    /** The multi-key write's transaction id, or {@link Operation#NO_TRANSACTION}. */
    public long transaction() {
      return transaction;
    }

    @Override
    public String toString() {
      StringBuilder text = new StringBuilder("p").append(process);
      if (transaction != Operation.NO_TRANSACTION) {
        text.append(" transaction ").append(transaction).append(':');
      }
      for (Member member : members) {
        text.append(' ').append(member.input.describe()).append(" on ").append(member.key);
      }
      return text.append(" invoked at ").append(invokeNanos).toString();
    }
  }
}

package io.craq.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Records what clients saw. A client calls {@link #invoke} right before sending a request and
 * completes the returned {@link Pending} right after the reply ({@link Pending#ok}), when the store
 * guarantees the request did not happen ({@link Pending#fail}), or when it cannot know ({@link
 * Pending#info}: timeout, connection lost after sending). After an {@code info} the client should
 * retire its process id and continue under a fresh one, as Jepsen does.
 *
 * <p>Thread-safe; never blocks for long (one short lock). Timestamps come from the injected clock,
 * {@link System#nanoTime()} by default; a deterministic simulation passes its tick clock.
 */
public final class HistoryRecorder {
  private final LongSupplier clockNanos;
  private final Object lock = new Object();
  private final List<Operation> completed = new ArrayList<>();
  private final Map<Long, Pending> inFlight = new HashMap<>();

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
    synchronized (lock) {
      if (inFlight.containsKey(process)) {
        throw new IllegalStateException(
            "process " + process + " already has an operation in flight");
      }
      Pending pending = new Pending(process, key, input, clockNanos.getAsLong());
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

  /**
   * A snapshot of everything recorded so far. Operations still in flight are included as {@link
   * Outcome#INFO}: they may yet take effect.
   */
  public History history() {
    synchronized (lock) {
      List<Operation> operations = new ArrayList<>(completed);
      for (Pending pending : inFlight.values()) {
        operations.add(
            Operation.info(pending.process, pending.key, pending.input, pending.invokeNanos));
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

  private void complete(Pending pending, Outcome outcome, Output output) {
    synchronized (lock) {
      if (inFlight.get(pending.process) != pending) {
        throw new IllegalStateException("operation already completed: " + pending);
      }
      inFlight.remove(pending.process);
      long now = outcome == Outcome.INFO ? Operation.INFINITY : clockNanos.getAsLong();
      completed.add(
          new Operation(
              pending.process,
              pending.key,
              pending.input,
              pending.invokeNanos,
              now,
              outcome,
              output));
    }
  }

  /** An operation in flight. Complete it exactly once, from any thread. */
  public final class Pending {
    private final long process;
    private final String key;
    private final Input input;
    private final long invokeNanos;

    private Pending(long process, String key, Input input, long invokeNanos) {
      this.process = process;
      this.key = key;
      this.input = input;
      this.invokeNanos = invokeNanos;
    }

    /** It happened and returned {@code output}. */
    public void ok(Output output) {
      Objects.requireNonNull(output, "output");
      complete(this, Outcome.OK, output);
    }

    /** A write, delete or conditional write took effect; no version reported. */
    public void ok() {
      if (input.kind() == OpKind.READ) {
        throw new IllegalStateException("a read completes with the value it read: okRead(value)");
      }
      ok(Output.done());
    }

    /** A read returned {@code value} ({@code null} = absent). */
    public void okRead(String value) {
      ok(Output.read(value));
    }

    /** A read returned {@code value} at {@code version}. */
    public void okRead(String value, long version) {
      ok(Output.read(value, version));
    }

    /** A conditional write answered that its condition did not hold. */
    public void notApplied() {
      ok(Output.notApplied());
    }

    /** It certainly did not happen. */
    public void fail() {
      complete(this, Outcome.FAIL, null);
    }

    /** Its outcome is unknown: it may take effect at any time after its invoke, or never. */
    public void info() {
      complete(this, Outcome.INFO, null);
    }

    public long process() {
      return process;
    }

    @Override
    public String toString() {
      return "p" + process + " " + input.describe() + " on " + key + " invoked at " + invokeNanos;
    }
  }
}

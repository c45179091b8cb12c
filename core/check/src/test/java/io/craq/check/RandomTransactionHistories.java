package io.craq.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Generates histories of single-key reads, writes and deletes and multi-key writes by simulating a
 * correct store: each request takes effect at one random instant inside its interval (an unknown
 * one anywhere after its invoke, or never; a failed one never), a multi-key write on all its keys
 * at that instant, and results come from a sequential model of versioned registers run in the order
 * of those instants. Such a history is linearizable with atomic multi-key writes by construction.
 * The run ends with final reads of every key, one after another, once every effect has happened.
 */
final class RandomTransactionHistories {
  /** One key's part of a request. */
  record Part(String key, Input input) {}

  /** One request before its results are known. */
  static final class Shell {
    final long process;
    final long transaction;
    final List<Part> parts;
    final long invoke;
    final long complete;
    final Outcome outcome;

    /** When it takes effect, or -1 for never. */
    final long effectAt;

    Shell(
        long process,
        long transaction,
        List<Part> parts,
        long invoke,
        long complete,
        Outcome outcome,
        long effectAt) {
      this.process = process;
      this.transaction = transaction;
      this.parts = parts;
      this.invoke = invoke;
      this.complete = complete;
      this.outcome = outcome;
      this.effectAt = effectAt;
    }

    boolean isWrite() {
      return parts.get(0).input().kind() != OpKind.READ;
    }
  }

  /** A realized history, with each request's operations and the key states before its effect. */
  record Realized(
      History history,
      Map<Shell, List<Operation>> operations,
      Map<Shell, Map<String, RegisterModel.State>> before) {}

  private RandomTransactionHistories() {}

  /**
   * Requests over {@code groups} groups of three keys (a shared hash tag each), by 2..5 clients,
   * about {@code requests} in all, then the final reads.
   */
  static List<Shell> shells(Random random, int groups, int requests) {
    List<Shell> shells = new ArrayList<>();
    long nextProcess = 0;
    long nextTransaction = 1;
    int nextValue = 0;
    int clients = 2 + random.nextInt(4);
    long end = 0;
    for (int c = 0; c < clients; c++) {
      long process = nextProcess++;
      long time = random.nextInt(5);
      for (int i = 0; i < requests / clients; i++) {
        int group = random.nextInt(groups);
        List<String> keys = List.of("a{" + group + "}", "b{" + group + "}", "c{" + group + "}");
        long invoke = time + random.nextInt(4);
        long duration = 1 + random.nextInt(12);
        long complete = invoke + duration;
        List<Part> parts = new ArrayList<>();
        long transaction = Operation.NO_TRANSACTION;
        int dice = random.nextInt(100);
        if (dice < 35) {
          parts.add(new Part(keys.get(random.nextInt(3)), Input.read()));
        } else if (dice < 60) {
          parts.add(new Part(keys.get(random.nextInt(3)), Input.write("v" + nextValue++)));
        } else if (dice < 65) {
          parts.add(new Part(keys.get(random.nextInt(3)), Input.delete()));
        } else {
          transaction = nextTransaction++;
          int skip = random.nextInt(4); // 3: all three keys, else all but one
          for (int k = 0; k < 3; k++) {
            if (k != skip) {
              boolean delete = random.nextInt(10) == 0;
              parts.add(
                  new Part(keys.get(k), delete ? Input.delete() : Input.write("v" + nextValue++)));
            }
          }
        }
        int outcomeDice = random.nextInt(100);
        Outcome outcome =
            outcomeDice < 85 ? Outcome.OK : outcomeDice < 92 ? Outcome.FAIL : Outcome.INFO;
        if (outcome == Outcome.FAIL && parts.get(0).input().kind() == OpKind.READ) {
          outcome = Outcome.OK;
        }
        long effectAt =
            switch (outcome) {
              case OK -> invoke + random.nextInt((int) duration + 1);
              case FAIL -> -1;
              case INFO ->
                  random.nextBoolean() ? invoke + random.nextInt(3 * (int) duration + 1) : -1;
            };
        shells.add(
            new Shell(
                process,
                transaction,
                List.copyOf(parts),
                invoke,
                outcome == Outcome.INFO ? Operation.INFINITY : complete,
                outcome,
                effectAt));
        end = Math.max(end, Math.max(complete, effectAt));
        time = complete;
        if (outcome == Outcome.INFO) {
          process = nextProcess++; // the client retires its id and goes on under a new one
        }
      }
    }
    // Final reads: one reader, one key after another, once every effect has happened.
    long process = nextProcess;
    long time = end + 1;
    for (int group = 0; group < groups; group++) {
      for (String name : List.of("a", "b", "c")) {
        shells.add(
            new Shell(
                process,
                Operation.NO_TRANSACTION,
                List.of(new Part(name + "{" + group + "}", Input.read())),
                time,
                time + 1,
                Outcome.OK,
                time));
        time += 2;
      }
    }
    return shells;
  }

  /**
   * Runs the shells against versioned registers in effect order and records what clients saw.
   *
   * @param tornShell a multi-key write the store applies only in part (its client still gets its
   *     answer), or null for a correct store
   * @param tornKey the key of {@code tornShell} whose write the store drops
   * @param reportVersions whether outputs carry the versions the registers assigned
   */
  static Realized realize(
      List<Shell> shells, Shell tornShell, String tornKey, boolean reportVersions) {
    List<Shell> byEffect =
        shells.stream()
            .filter(s -> s.effectAt >= 0)
            .sorted(Comparator.comparingLong((Shell s) -> s.effectAt))
            .toList();
    RegisterModel model = new RegisterModel();
    Map<String, RegisterModel.State> registers = new HashMap<>();
    Map<Shell, Map<String, Output>> outputs = new IdentityHashMap<>();
    Map<Shell, Map<String, RegisterModel.State>> before = new IdentityHashMap<>();
    for (Shell shell : byEffect) {
      Map<String, Output> out = new HashMap<>();
      Map<String, RegisterModel.State> states = new HashMap<>();
      for (Part part : shell.parts) {
        RegisterModel.State state = registers.getOrDefault(part.key(), model.init());
        states.put(part.key(), state);
        if (part.input().kind() == OpKind.READ) {
          out.put(
              part.key(),
              reportVersions
                  ? Output.read(state.value(), state.version())
                  : Output.read(state.value()));
          continue;
        }
        RegisterModel.State next = model.step(state, part.input(), null);
        boolean dropped = shell == tornShell && part.key().equals(tornKey);
        out.put(
            part.key(), reportVersions && !dropped ? Output.done(next.version()) : Output.done());
        if (!dropped) {
          registers.put(part.key(), next);
        }
      }
      outputs.put(shell, out);
      before.put(shell, states);
    }
    List<Operation> all = new ArrayList<>();
    Map<Shell, List<Operation>> operations = new IdentityHashMap<>();
    for (Shell shell : shells) {
      List<Operation> mine = new ArrayList<>();
      for (Part part : shell.parts) {
        Output output =
            shell.outcome == Outcome.OK
                ? Objects.requireNonNull(outputs.get(shell)).get(part.key())
                : null;
        mine.add(
            new Operation(
                shell.process,
                part.key(),
                part.input(),
                shell.invoke,
                shell.complete,
                shell.outcome,
                output,
                shell.transaction));
      }
      operations.put(shell, mine);
      all.addAll(mine);
    }
    return new Realized(new History(all), operations, before);
  }
}

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
 * Generates legal histories by simulating a real register: concurrent clients invoke operations at
 * random times, each operation takes effect at a random instant inside its interval (an unknown one
 * anywhere after its invoke, or never; a failed one never), and results come from applying them to
 * a register in the order of those instants. Such a history is linearizable by construction.
 */
final class RandomRegisterHistories {
  /** One operation before its result is known. */
  static final class Shell {
    final long process;
    final String key;
    final Input input;
    final long invoke;
    final long complete;
    final Outcome outcome;

    /** When it takes effect, or -1 for never. */
    final long effectAt;

    Shell(
        long process,
        String key,
        Input input,
        long invoke,
        long complete,
        Outcome outcome,
        long effectAt) {
      this.process = process;
      this.key = key;
      this.input = input;
      this.invoke = invoke;
      this.complete = complete;
      this.outcome = outcome;
      this.effectAt = effectAt;
    }
  }

  private RandomRegisterHistories() {}

  /**
   * Shells for {@code keys} keys, each with 2..5 clients and about {@code opsPerKey} operations.
   */
  static List<Shell> shells(Random random, int keys, int opsPerKey) {
    List<Shell> shells = new ArrayList<>();
    long[] nextProcess = {0};
    for (int k = 0; k < keys; k++) {
      shellsForKey(random, "key" + k, opsPerKey, nextProcess, shells);
    }
    return shells;
  }

  private static void shellsForKey(
      Random random, String key, int opsPerKey, long[] nextProcess, List<Shell> shells) {
    int clients = 2 + random.nextInt(4);
    List<String> values = new ArrayList<>();
    int writesGenerated = 0;
    for (int c = 0; c < clients; c++) {
      long process = nextProcess[0]++;
      long time = random.nextInt(5);
      for (int i = 0; i < opsPerKey / clients; i++) {
        long invoke = time + random.nextInt(4);
        long duration = 1 + random.nextInt(12);
        long complete = invoke + duration;
        Input input = randomInput(random, key, values, writesGenerated);
        if (input.kind() != OpKind.READ) {
          writesGenerated++;
        }
        int dice = random.nextInt(100);
        Outcome outcome = dice < 85 ? Outcome.OK : dice < 94 ? Outcome.FAIL : Outcome.INFO;
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
                key,
                input,
                invoke,
                outcome == Outcome.INFO ? Operation.INFINITY : complete,
                outcome,
                effectAt));
        time = complete;
        if (outcome == Outcome.INFO) {
          process = nextProcess[0]++; // the client retires its id and goes on under a new one
        }
      }
    }
  }

  private static Input randomInput(Random random, String key, List<String> values, int writes) {
    int dice = random.nextInt(100);
    if (dice < 40) {
      return Input.read();
    }
    String value = key + "-v" + values.size();
    values.add(value);
    if (dice < 70) {
      return Input.write(value);
    }
    if (dice < 78) {
      values.remove(values.size() - 1);
      return Input.delete();
    }
    if (dice < 89) {
      List<String> recent = values.subList(Math.max(0, values.size() - 4), values.size() - 1);
      String expected =
          recent.isEmpty() || random.nextInt(5) == 0
              ? null
              : recent.get(random.nextInt(recent.size()));
      return Input.cas(expected, value);
    }
    return Input.writeIfVersion(Math.max(0, writes - 2 + random.nextInt(4)), value);
  }

  /**
   * Runs the shells against a register in effect order and records what clients saw.
   *
   * @param lost the shell whose effect the store silently loses (its client still gets OK), or null
   *     for a correct store
   * @param reportVersions whether outputs carry the versions the register assigned
   */
  static History realize(List<Shell> shells, Shell lost, boolean reportVersions) {
    List<Shell> byEffect =
        shells.stream()
            .filter(s -> s.effectAt >= 0)
            .sorted(Comparator.comparingLong((Shell s) -> s.effectAt))
            .toList();
    Map<Shell, Output> outputs = new IdentityHashMap<>();
    Map<String, RegisterModel.State> registers = new HashMap<>();
    RegisterModel model = new RegisterModel();
    for (Shell shell : byEffect) {
      RegisterModel.State state = registers.getOrDefault(shell.key, model.init());
      RegisterModel.State next = model.step(state, shell.input, null);
      Output output = output(shell.input, state, next, reportVersions);
      if (shell != lost) {
        registers.put(shell.key, next);
      }
      outputs.put(shell, output);
    }
    List<Operation> operations = new ArrayList<>();
    for (Shell shell : shells) {
      Output output =
          shell.outcome == Outcome.OK ? Objects.requireNonNull(outputs.get(shell)) : null;
      operations.add(
          new Operation(
              shell.process,
              shell.key,
              shell.input,
              shell.invoke,
              shell.complete,
              shell.outcome,
              output));
    }
    return new History(operations);
  }

  private static Output output(
      Input input, RegisterModel.State before, RegisterModel.State after, boolean versions) {
    if (input.kind() == OpKind.READ) {
      return versions ? Output.read(before.value(), before.version()) : Output.read(before.value());
    }
    if (after.equals(before)) {
      return Output.notApplied();
    }
    return versions ? Output.done(after.version()) : Output.done();
  }
}

package io.craq.check;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Builds small hand-made histories on one key, with times as plain numbers. */
final class Ops {
  static final String KEY = "k";
  static final Duration BUDGET = Duration.ofSeconds(5);

  private final List<Operation> operations = new ArrayList<>();

  Ops ok(long process, long invoke, long complete, Input input, Output output) {
    operations.add(Operation.ok(process, KEY, input, invoke, complete, output));
    return this;
  }

  Ops write(long process, long invoke, long complete, String value) {
    return ok(process, invoke, complete, Input.write(value), Output.done());
  }

  Ops read(long process, long invoke, long complete, String value) {
    return ok(process, invoke, complete, Input.read(), Output.read(value));
  }

  Ops fail(long process, long invoke, long complete, Input input) {
    operations.add(Operation.fail(process, KEY, input, invoke, complete));
    return this;
  }

  Ops info(long process, long invoke, Input input) {
    operations.add(Operation.info(process, KEY, input, invoke));
    return this;
  }

  History history() {
    return new History(operations);
  }

  KeyResult check() {
    return LinearizabilityChecker.checkKey(KEY, operations, new RegisterModel(), BUDGET);
  }

  Verdict verdict() {
    return check().verdict();
  }
}

package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.core.Int64Text;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq incr KEY [N]}: adds N (default 1, negative to decrement) to the key's integer value
 * at the head, atomically (CRAQ §4.1), and prints the new value. N is read as the value is: a
 * signed 64-bit decimal integer, as Redis's INCRBY reads it.
 */
@Command(
    name = "incr",
    mixinStandardHelpOptions = true,
    description = {
      "Add N (default 1) to the integer value of KEY; prints the new value.",
      "An absent or deleted key counts as 0. A value that is not an integer, or a result that"
          + " would overflow 64 bits, is refused (exit 7) and nothing is written."
    })
public final class IncrementCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key (1-511 bytes of UTF-8).")
  String key;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "N",
      description = "The amount to add: a 64-bit integer, negative to subtract (default 1).")
  String delta;

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          long n = delta();
          try (CraqClient craq = client.openClient()) {
            long value = craq.increment(key, n);
            PrintWriter out = spec.commandLine().getOut();
            out.println(
                json.enabled() ? new Json().field("key", key).field("value", value) : value);
            out.flush();
            return ExitCodes.OK;
          }
        });
  }

  private long delta() {
    if (delta == null) {
      return 1;
    }
    try {
      return Int64Text.parse(delta);
    } catch (NumberFormatException e) {
      throw new ParameterException(
          spec.commandLine(), "N must be a 64-bit decimal integer, not '" + delta + "'");
    }
  }
}

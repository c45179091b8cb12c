package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.ConsistencyConverter;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.cli.common.StandardStreams;
import io.craq.client.CraqClient;
import io.craq.client.ReadConsistency;
import io.craq.client.Versioned;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq read KEY}: the value, unadorned, from the node {@code -n} names or any member (a
 * strong read is linearizable at every member, CRAQ §2.3); with {@code --output} the exact bytes to
 * a file.
 */
@Command(
    name = "read",
    mixinStandardHelpOptions = true,
    description = "Print the value of KEY (exit code 1 if absent or deleted).")
public final class ReadCommand implements Callable<Integer> {
  /** {@code --output -}: the raw bytes to standard output. */
  static final String STDOUT = "-";

  private final OutputStream stdout;

  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
  String key;

  @Option(
      names = "--consistency",
      defaultValue = "strong",
      paramLabel = "MODE",
      converter = ConsistencyConverter.class,
      description = "strong (default), eventual, or bounded:N (at most N dirty versions).")
  ReadConsistency consistency;

  @Option(
      names = "--output",
      paramLabel = "FILE",
      description =
          "Write the value's exact bytes to FILE ('-' = standard output), without a"
              + " newline; nothing is written if the key is absent.")
  String output;

  /** Writes {@code --output -} to the process's stdout. */
  public ReadCommand() {
    this(StandardStreams.SYSTEM);
  }

  /** Writes {@code --output -} to {@code streams.out()}. */
  public ReadCommand(StandardStreams streams) {
    this.stdout = streams.out();
  }

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          try (CraqClient craq = client.openClient()) {
            Optional<Versioned> result =
                craq.readPreferring(
                    client.firstReadNode(craq),
                    key,
                    consistency.mode(),
                    consistency.bound(),
                    client.fallbackNotice());
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
              Json object = new Json().field("key", key).field("found", result.isPresent());
              result.ifPresent(v ->
                  object.field("version", v.version()).value(v.value()).field("dirty", v.dirty()));
              out.println(object);
            }
            if (result.isEmpty()) {
              out.flush();
              if (!json.enabled()) {
                Diagnostics.warn(spec, "key '" + key + "' not found");
              }
              return ExitCodes.NOT_FOUND;
            }
            if (output != null) {
              out.flush();
              writeOutput(result.get().value());
            } else if (!json.enabled()) {
              out.println(result.get().valueAsString());
            }
            out.flush();
            return ExitCodes.OK;
          }
        });
  }

  private void writeOutput(byte[] value) {
    try {
      if (output.equals(STDOUT)) {
        stdout.write(value);
        stdout.flush();
      } else {
        Files.write(Path.of(output), value);
      }
    } catch (IOException e) {
      throw new ParameterException(
          spec.commandLine(), "--output " + output + ": cannot write it: " + e.getMessage());
    }
  }
}

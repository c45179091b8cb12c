package io.craq.client;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code craq read KEY}: the value, unadorned, from the node {@code -n} names or any member (a
 * strong read is linearizable at every member, CRAQ §2.3); with {@code --output} the exact bytes
 * to a file.
 */
@Command(name = "read", mixinStandardHelpOptions = true,
    description = "Print the value of KEY (exit code 1 if absent or deleted).")
final class ReadCommand implements Callable<Integer> {
  /** {@code --output -}: the raw bytes to standard output. */
  static final String STDOUT = "-";

  @Spec CommandSpec spec;
  @ParentCommand CraqMain global;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
  String key;

  @Option(names = "--consistency", defaultValue = "strong", paramLabel = "MODE",
      converter = CraqMain.ConsistencyConverter.class,
      description = "strong (default), eventual, or bounded:N (at most N dirty versions).")
  ReadConsistency consistency;

  @Option(names = "--output", paramLabel = "FILE",
      description = "Write the value's exact bytes to FILE ('-' = standard output), without a"
          + " newline; nothing is written if the key is absent.")
  String output;

  @Override
  public Integer call() throws Exception {
    return CraqMain.guard(spec, () -> {
      try (CraqClient client = global.openClient(spec)) {
        Optional<Versioned> result = client.readPreferring(global.firstReadNode(client, spec), key,
            consistency.mode(), consistency.bound(), global.fallbackNotice(spec));
        PrintWriter out = spec.commandLine().getOut();
        if (global.json) {
          Json object = new Json().field("key", key).field("found", result.isPresent());
          result.ifPresent(v -> object.field("version", v.version()).value(v.value())
              .field("dirty", v.dirty()));
          out.println(object);
        }
        if (result.isEmpty()) {
          out.flush();
          if (!global.json) {
            CraqMain.warn(spec, "key '" + key + "' not found");
          }
          return ExitCodes.NOT_FOUND;
        }
        if (output != null) {
          out.flush();
          writeOutput(result.get().value());
        } else if (!global.json) {
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
        OutputStream raw = global.stdout;
        raw.write(value);
        raw.flush();
      } else {
        Files.write(Path.of(output), value);
      }
    } catch (IOException e) {
      throw new ParameterException(spec.commandLine(), "--output " + output
          + ": cannot write it: " + e.getMessage());
    }
  }
}

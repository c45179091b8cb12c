package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.cli.common.StandardStreams;
import io.craq.client.CraqClient;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq append KEY VALUE...}: appends the value (read as {@code write} reads it) to the key's
 * value at the head, atomically (CRAQ §4.1), and prints the new length in bytes.
 */
@Command(
    name = "append",
    mixinStandardHelpOptions = true,
    description = {
      "Append VALUE to the value of KEY; prints the new length in bytes.",
      "An absent or deleted key counts as empty."
    })
public final class AppendCommand implements Callable<Integer> {
  private final InputStream stdin;

  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Option(
      names = "--file",
      paramLabel = "PATH",
      description = "Append the bytes of the file PATH (instead of VALUE).")
  Path file;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key (1-511 bytes of UTF-8).")
  String key;

  @Parameters(
      index = "1..*",
      arity = "0..*",
      paramLabel = "VALUE",
      description = {
        "What to append; several words are joined with single spaces.",
        "A single '-' reads it from standard input, byte for byte.",
        "Use -- before a value that starts with '-'."
      })
  List<String> words;

  /** Reads {@code append KEY -} from the process's stdin. */
  public AppendCommand() {
    this(StandardStreams.SYSTEM);
  }

  /** Reads {@code append KEY -} from {@code streams.in()}. */
  public AppendCommand(StandardStreams streams) {
    this.stdin = streams.in();
  }

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          byte[] suffix = ValueArguments.read(spec, words, file, stdin, client.valueMaxBytes());
          try (CraqClient craq = client.openClient()) {
            long length = craq.append(key, suffix);
            PrintWriter out = spec.commandLine().getOut();
            out.println(
                json.enabled() ? new Json().field("key", key).field("length", length) : length);
            out.flush();
            return ExitCodes.OK;
          }
        });
  }
}

package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.cli.common.StandardStreams;
import io.craq.client.CraqClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq write KEY VALUE...}: the value as {@link ValueArguments} reads it (words, standard
 * input or a file).
 */
@Command(
    name = "write",
    mixinStandardHelpOptions = true,
    description = "Write VALUE under KEY; prints the committed version.")
public final class WriteCommand implements Callable<Integer> {
  private final InputStream stdin;

  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Option(
      names = "--if-version",
      paramLabel = "N",
      description = "Write only if the key's committed version is N (0 = absent or deleted).")
  Long ifVersion;

  @Option(
      names = "--file",
      paramLabel = "PATH",
      description = "Write the bytes of the file PATH (instead of VALUE).")
  Path file;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key (1-511 bytes of UTF-8).")
  String key;

  @Parameters(
      index = "1..*",
      arity = "0..*",
      paramLabel = "VALUE",
      description = {
        "The value; several words are joined with single spaces.",
        "A single '-' reads the value from standard input, byte for byte.",
        "Use -- before a value that starts with '-'."
      })
  List<String> words;

  /** Reads {@code write KEY -} from the process's stdin. */
  public WriteCommand() {
    this(StandardStreams.SYSTEM);
  }

  /** Reads {@code write KEY -} from {@code streams.in()}. */
  public WriteCommand(StandardStreams streams) {
    this.stdin = streams.in();
  }

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          if (ifVersion != null && ifVersion < 0) {
            throw new ParameterException(spec.commandLine(), "--if-version must be >= 0");
          }
          byte[] value = value();
          try (CraqClient craq = client.openClient()) {
            long version =
                ifVersion == null
                    ? craq.write(key, value)
                    : craq.writeIfVersion(key, value, ifVersion);
            PrintWriter out = spec.commandLine().getOut();
            out.println(
                json.enabled() ? new Json().field("key", key).field("version", version) : version);
            out.flush();
            return ExitCodes.OK;
          }
        });
  }

  private byte[] value() throws IOException {
    return ValueArguments.read(spec, words, file, stdin, client.valueMaxBytes());
  }
}

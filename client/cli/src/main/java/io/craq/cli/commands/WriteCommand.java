package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.cli.common.StandardStreams;
import io.craq.client.CraqClient;
import io.craq.client.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
 * {@code craq write KEY VALUE...}: several words are joined with single spaces, as go-craq does.
 * The value may instead come from standard input ({@code -}) or a file ({@code --file}), byte for
 * byte: an argument is text and Linux caps one at 128 KiB, below the 1 MiB value limit.
 */
@Command(
    name = "write",
    mixinStandardHelpOptions = true,
    description = "Write VALUE under KEY; prints the committed version.")
public final class WriteCommand implements Callable<Integer> {
  /** What {@code write KEY -} reads the value from. */
  static final String STDIN = "-";

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

  /** The value from the words, stdin or the file; larger than the limit is an invalid request. */
  private byte[] value() throws IOException {
    boolean hasWords = words != null && !words.isEmpty();
    if (hasWords == (file != null)) {
      throw new ParameterException(
          spec.commandLine(),
          hasWords
              ? "give the value as VALUE or with --file, not both"
              : "missing the value: give VALUE, '-' for standard input, or --file PATH");
    }
    if (file != null) {
      try (InputStream in = Files.newInputStream(file)) {
        return readLimited(in, "file " + file);
      } catch (NoSuchFileException e) {
        throw new ParameterException(spec.commandLine(), "--file " + file + ": no such file");
      } catch (IOException e) {
        throw new ParameterException(
            spec.commandLine(), "--file " + file + ": cannot read it: " + e.getMessage());
      }
    }
    if (words.equals(List.of(STDIN))) {
      return readLimited(stdin, "standard input");
    }
    // go-craq joins the remaining arguments with single spaces: `craq write k hello world`.
    return String.join(" ", words).getBytes(StandardCharsets.UTF_8);
  }

  /** Reads all of {@code in}, refusing (before sending anything) more than the value limit. */
  private byte[] readLimited(InputStream in, String source) throws IOException {
    int limit = client.valueMaxBytes();
    byte[] value = in.readNBytes(limit + 1);
    if (value.length > limit) {
      throw new InvalidRequestException(
          "the value from " + source + " is larger than " + limit + " bytes (--value-max-bytes)");
    }
    return value;
  }
}

package io.craq.cli.commands;

import io.craq.client.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The value of {@code write} and {@code append}: words joined with single spaces (as go-craq does),
 * a single {@code -} for standard input, or {@code --file PATH}, byte for byte. An argument is text
 * and Linux caps one at 128 KiB, below the 1 MiB value limit.
 */
final class ValueArguments {
  /** What {@code write KEY -} reads the value from. */
  static final String STDIN = "-";

  private ValueArguments() {}

  /**
   * The value from {@code words}, {@code stdin} or {@code file}; more than {@code limit} bytes from
   * a stream is an invalid request, refused before anything is sent.
   */
  static byte[] read(CommandSpec spec, List<String> words, Path file, InputStream stdin, int limit)
      throws IOException {
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
        return readLimited(in, "file " + file, limit);
      } catch (NoSuchFileException e) {
        throw new ParameterException(spec.commandLine(), "--file " + file + ": no such file");
      } catch (IOException e) {
        throw new ParameterException(
            spec.commandLine(), "--file " + file + ": cannot read it: " + e.getMessage());
      }
    }
    if (words.equals(List.of(STDIN))) {
      return readLimited(stdin, "standard input", limit);
    }
    // go-craq joins the remaining arguments with single spaces: `craq write k hello world`.
    return String.join(" ", words).getBytes(StandardCharsets.UTF_8);
  }

  /** Reads all of {@code in}, refusing (before sending anything) more than the value limit. */
  private static byte[] readLimited(InputStream in, String source, int limit) throws IOException {
    byte[] value = in.readNBytes(limit + 1);
    if (value.length > limit) {
      throw new InvalidRequestException(
          "the value from " + source + " is larger than " + limit + " bytes (--value-max-bytes)");
    }
    return value;
  }
}

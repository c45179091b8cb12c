package io.craq.cli.common;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * The raw byte streams a command reads a value from ({@code write KEY -}) and writes a value's
 * exact bytes to ({@code read --output -}); text goes through picocli's writers instead. Tests pass
 * their own.
 */
public record StandardStreams(InputStream in, OutputStream out) {
  public static final StandardStreams SYSTEM = new StandardStreams(System.in, System.out);

  public StandardStreams {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
  }
}

package io.craq.cli.common;

import io.craq.client.CraqException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

/** One-line messages on stderr, {@code craq: message}, and the exit code of a failure. */
public final class Diagnostics {
  private Diagnostics() {}

  /** Prints {@code craq: message} on the command's stderr. */
  public static void warn(CommandSpec command, String message) {
    PrintWriter err = command.commandLine().getErr();
    err.println("craq: " + message);
    err.flush();
  }

  /**
   * Runs a subcommand's body and turns a {@link CraqException} into its exit code with a one-line
   * diagnostic, here rather than only in the execution-exception handler, so the mapping also holds
   * for callers that build their own command line.
   */
  public static int guard(CommandSpec command, Callable<Integer> body) throws Exception {
    try {
      return body.call();
    } catch (CraqException failure) {
      warn(command, failure.getMessage());
      return ExitCodes.of(failure);
    }
  }
}

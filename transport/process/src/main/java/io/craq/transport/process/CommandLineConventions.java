package io.craq.transport.process;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * What the command lines of {@code craq}, {@code craq-node} and {@code craq-coordinator} share, as
 * users of git or etcdctl expect it: a usage error prints its reason and one hint line, not pages
 * of usage, and exits 2; {@code --version} prints one format everywhere.
 */
public final class CommandLineConventions {
  /** The exit code of a usage error (picocli's and the CLI's convention). */
  public static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;

  private CommandLineConventions() {}

  /** Installs the short usage-error handler on {@code commandLine}; returns it. */
  public static CommandLine apply(CommandLine commandLine) {
    return commandLine.setParameterExceptionHandler(
        (failure, args) -> usageError(failure.getCommandLine(), failure));
  }

  /**
   * Prints {@code NAME: reason}, suggestions for a mistyped option or subcommand, and one line
   * naming {@code --help}; returns {@link #EXIT_USAGE}.
   */
  public static int usageError(CommandLine command, ParameterException failure) {
    PrintWriter err = command.getErr();
    err.println(command.getCommandSpec().root().name() + ": " + failure.getMessage());
    UnmatchedArgumentException.printSuggestions(failure, err);
    err.println(helpHint(command.getCommandSpec()));
    err.flush();
    return EXIT_USAGE;
  }

  /** {@code Try 'craq read --help' for more information.} */
  private static String helpHint(CommandSpec command) {
    return "Try '" + command.qualifiedName() + " --help' for more information.";
  }

  /**
   * {@code --version}: the command's name and version (the jar manifest's Implementation-Version,
   * or "(development build)" when run from classes), then the Java running it.
   */
  public static final class Version implements IVersionProvider {
    @Spec CommandSpec spec;

    @Override
    public String[] getVersion() {
      CommandSpec root = spec.root();
      Package owner = root.userObject().getClass().getPackage();
      String version = owner == null ? null : owner.getImplementationVersion();
      return new String[] {
        root.name() + " " + (version == null ? "(development build)" : version),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
      };
    }
  }
}

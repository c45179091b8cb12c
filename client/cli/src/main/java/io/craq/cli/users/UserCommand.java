package io.craq.cli.users;

import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.StandardStreams;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Role;
import io.craq.transport.security.SecretFiles;
import io.craq.transport.security.UsersFile;
import io.craq.transport.security.UsersFile.User;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq user add|remove|list --users FILE}: edits the users file that nodes and coordinators
 * read with {@code --users} (they read it again when it changes). The file is written whole and
 * renamed into place, readable by its owner only. Passwords come from a file or stdin, never from
 * the command line, and are stored as salted slow hashes.
 */
@Command(
    name = "user",
    mixinStandardHelpOptions = true,
    description = {
      "Add, remove or list the users of a users file (the servers' --users FILE). Roles: read"
          + " (reads), readwrite (reads and writes), admin (and craq leave), member (nodes and"
          + " coordinators). Servers read the file again when it changes: a removed user is"
          + " refused from their next request. See docs/SECURITY.md."
    },
    subcommands = {UserCommand.Add.class, UserCommand.Remove.class, UserCommand.ListUsers.class})
public final class UserCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  private final StandardStreams streams;

  public UserCommand(StandardStreams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing subcommand: add, remove or list");
  }

  /** The --users option every subcommand takes. */
  static final class UsersFileOption {
    @Option(
        names = "--users",
        required = true,
        paramLabel = "FILE",
        description = "The users file (created, readable by its owner only, if it is missing).")
    Path file;
  }

  static Map<String, User> read(CommandSpec spec, Path file) {
    try {
      return UsersFile.readForEdit(file);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  static int write(CommandSpec spec, Path file, Map<String, User> users) {
    try {
      UsersFile.write(file, users.values());
      return ExitCodes.OK;
    } catch (IOException e) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("craq user: cannot write " + file + ": " + e.getMessage());
      err.flush();
      return ExitCodes.UNAVAILABLE;
    }
  }

  /** {@code craq user add NAME --role ROLE [--password-file F]}. */
  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = {
        "Add user NAME with ROLE, or give an existing user a new role and password. The password"
            + " or token comes from --password-file, else from stdin (one line); it must not be"
            + " empty."
      })
  static final class Add implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.ParentCommand UserCommand parent;

    @picocli.CommandLine.Mixin UsersFileOption users;

    @Parameters(index = "0", paramLabel = "NAME", description = "The user's name.")
    String name;

    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "read, readwrite, admin or member.")
    String role;

    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description =
            "Read the password or token from FILE (readable by its owner only) instead of"
                + " stdin.")
    Path passwordFile;

    @Option(
        names = "--iterations",
        hidden = true,
        paramLabel = "N",
        description = "PBKDF2 iterations of the hash (tests use fewer).")
    int iterations = PasswordHashes.ITERATIONS_DEFAULT;

    @Override
    public Integer call() throws IOException {
      Role parsed;
      try {
        parsed = Role.parse(role);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--role: " + e.getMessage());
      }
      if (!UsersFile.NAME.matcher(name).matches()) {
        throw new ParameterException(
            spec.commandLine(),
            "invalid user name '"
                + name
                + "': 1 to 128 letters, digits and . _ @ : + = - (no spaces)");
      }
      byte[] secret = password();
      try {
        Map<String, User> all = read(spec, users.file);
        boolean existed = all.containsKey(name);
        User user;
        try {
          user = new User(name, parsed, PasswordHashes.hash(secret, iterations));
        } catch (IllegalArgumentException e) {
          throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        all.put(name, user);
        int code = write(spec, users.file, all);
        if (code == ExitCodes.OK) {
          PrintWriter out = spec.commandLine().getOut();
          out.println(
              (existed ? "updated" : "added")
                  + " user "
                  + name
                  + " (role "
                  + parsed.label()
                  + ") in "
                  + users.file);
          out.flush();
        }
        return code;
      } finally {
        Arrays.fill(secret, (byte) 0);
      }
    }

    private byte[] password() throws IOException {
      byte[] secret;
      if (passwordFile != null) {
        try {
          secret = SecretFiles.readPassword(passwordFile, "--password-file");
        } catch (IllegalArgumentException e) {
          throw new ParameterException(spec.commandLine(), e.getMessage());
        }
      } else {
        byte[] line = parent.streams.in().readNBytes(SecretFiles.PASSWORD_BYTES_MAX + 1);
        if (line.length > SecretFiles.PASSWORD_BYTES_MAX) {
          throw new ParameterException(
              spec.commandLine(),
              "the password on stdin is longer than " + SecretFiles.PASSWORD_BYTES_MAX + " bytes");
        }
        secret = SecretFiles.withoutLineBreak(line);
        Arrays.fill(line, (byte) 0);
      }
      if (secret.length == 0) {
        throw new ParameterException(
            spec.commandLine(),
            "empty password: give it on stdin (one line) or with --password-file FILE");
      }
      return secret;
    }
  }

  /** {@code craq user remove NAME}. */
  @Command(
      name = "remove",
      mixinStandardHelpOptions = true,
      description = {
        "Remove user NAME: servers refuse it on new connections, and on open ones from its next"
            + " request. Exit code 1 if there is no such user."
      })
  static final class Remove implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Mixin UsersFileOption users;

    @Parameters(index = "0", paramLabel = "NAME", description = "The user's name.")
    String name;

    @Override
    public Integer call() {
      Map<String, User> all = read(spec, users.file);
      if (all.remove(name) == null) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("craq user: " + users.file + " has no user " + name);
        err.flush();
        return ExitCodes.NOT_FOUND;
      }
      int code = write(spec, users.file, all);
      if (code == ExitCodes.OK) {
        PrintWriter out = spec.commandLine().getOut();
        out.println("removed user " + name + " from " + users.file);
        out.flush();
      }
      return code;
    }
  }

  /** {@code craq user list}: names and roles, never hashes. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {"List the users: name and role, one a line."})
  static final class ListUsers implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Mixin UsersFileOption users;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      for (User user : read(spec, users.file).values()) {
        out.println(user.name() + " " + user.role().label());
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}

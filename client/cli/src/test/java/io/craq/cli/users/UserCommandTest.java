package io.craq.cli.users;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ExitCodes;
import io.craq.client.ClientConfig;
import io.craq.client.NotAuthenticatedException;
import io.craq.client.PermissionDeniedException;
import io.craq.transport.security.AuthenticationException;
import io.craq.transport.security.Role;
import io.craq.transport.security.UsersFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code craq user} and the client's security flags: the users file it writes, passwords from a
 * file or stdin, secrets never printed, and the exit codes of refusals.
 */
class UserCommandTest {
  private static final String SECRET = "correct-horse-battery-staple";

  @TempDir Path dir;

  /** A usage error of {@code craq user SUB}: exit 2, the reason, then the line naming --help. */
  private static void assertUserUsageError(CraqRun run, String reasonPart) {
    assertEquals(ExitCodes.USAGE, run.exitCode(), run.err());
    assertEquals("", run.out());
    List<String> lines = run.errLines();
    assertTrue(lines.get(0).startsWith("craq: ") && lines.get(0).contains(reasonPart), run.err());
    assertTrue(
        lines.get(lines.size() - 1).matches("Try 'craq user \\S+ --help' for more information\\."),
        run.err());
  }

  private static byte[] line(String text) {
    return (text + "\n").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void addListRemove() throws Exception {
    Path users = dir.resolve("users");
    CraqRun added =
        CraqRun.withInput(
            line(SECRET),
            "user",
            "add",
            "alice",
            "--role",
            "readwrite",
            "--users",
            users.toString(),
            "--iterations",
            "1000");
    assertEquals(ExitCodes.OK, added.exitCode(), added.err());
    assertEquals("added user alice (role readwrite) in " + users, added.out().strip());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(users)));

    Path password = dir.resolve("n1.pw");
    Files.writeString(password, "node-secret\n");
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
    CraqRun member =
        CraqRun.of(
            "user",
            "add",
            "n1",
            "--role",
            "member",
            "--password-file",
            password.toString(),
            "--users",
            users.toString(),
            "--iterations",
            "1000");
    assertEquals(ExitCodes.OK, member.exitCode(), member.err());

    CraqRun listed = CraqRun.of("user", "list", "--users", users.toString());
    assertEquals("alice readwrite\nn1 member\n", listed.out());
    String file = Files.readString(users);
    assertFalse(file.contains(SECRET), "only the hash is stored");
    assertFalse(listed.out().contains("pbkdf2"), "list shows no hashes");

    UsersFile read = UsersFile.open(users);
    assertEquals(
        Role.READ_WRITE,
        read.authenticate("alice", SECRET.getBytes(StandardCharsets.UTF_8)).role());
    assertEquals(
        Role.MEMBER,
        read.authenticate("n1", "node-secret".getBytes(StandardCharsets.UTF_8)).role());

    CraqRun removed = CraqRun.of("user", "remove", "alice", "--users", users.toString());
    assertEquals(ExitCodes.OK, removed.exitCode(), removed.err());
    assertThrows(
        AuthenticationException.class,
        () -> read.authenticate("alice", SECRET.getBytes(StandardCharsets.UTF_8)));
    CraqRun again = CraqRun.of("user", "remove", "alice", "--users", users.toString());
    assertEquals(ExitCodes.NOT_FOUND, again.exitCode());
  }

  @Test
  void badInputIsAUsageErrorWithoutTheSecret() throws Exception {
    Path users = dir.resolve("users");
    assertUserUsageError(
        CraqRun.withInput(
            new byte[0], "user", "add", "bob", "--role", "read", "--users", users.toString()),
        "empty password");
    assertUserUsageError(
        CraqRun.withInput(
            line(SECRET), "user", "add", "bob", "--role", "writer", "--users", users.toString()),
        "unknown role 'writer'");
    Path open = dir.resolve("open.pw");
    Files.writeString(open, SECRET);
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    CraqRun refused =
        CraqRun.of(
            "user",
            "add",
            "bob",
            "--role",
            "read",
            "--password-file",
            open.toString(),
            "--users",
            users.toString());
    assertUserUsageError(refused, "chmod 600 " + open);
    assertFalse(refused.err().contains(SECRET));
    assertFalse(Files.exists(users), "nothing written");

    Files.writeString(users, "bob read nonsense\n");
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-------"));
    assertUserUsageError(CraqRun.of("user", "list", "--users", users.toString()), "line 1");
  }

  @Test
  void clientFlagsCheckTheirFilesAndNeverPrintTheSecret() throws Exception {
    Path open = dir.resolve("open.pw");
    Files.writeString(open, SECRET);
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-rw-rw-"));
    CraqRun refused =
        CraqRun.of("read", "k", "--user", "alice", "--password-file", open.toString());
    refused.assertUsageError("chmod 600 " + open);
    assertFalse(refused.err().contains(SECRET));

    CraqRun noPassword = CraqRun.of("read", "k", "--user", "alice", "-c", "127.0.0.1:1");
    // $CRAQ_PASSWORD may be set where the tests run; without it, a usage error naming the fix.
    if (System.getenv("CRAQ_PASSWORD") == null) {
      noPassword.assertUsageError("--password-file");
    }

    CraqRun help = CraqRun.of("read", "--help");
    assertTrue(help.out().contains("--password-file"), help.out());
    assertTrue(help.out().contains("--user"), help.out());
  }

  @Test
  void refusalsHaveTheirOwnExitCodes() {
    assertEquals(
        ExitCodes.NOT_AUTHENTICATED, ExitCodes.of(new NotAuthenticatedException("no", null)));
    assertEquals(ExitCodes.PERMISSION_DENIED, ExitCodes.of(new PermissionDeniedException("no")));
    assertTrue(ExitCodes.descriptions().containsKey("8"));
    assertTrue(ExitCodes.descriptions().containsKey("9"));
    // The configuration's text never holds the secret.
    String config =
        ClientConfig.defaults(":1")
            .withSecurity(
                io.craq.transport.security.Security.NONE.withCredentials(
                    new io.craq.transport.security.Credentials(
                        "alice", SECRET.getBytes(StandardCharsets.UTF_8))))
            .toString();
    assertTrue(config.contains("alice"), config);
    assertFalse(config.contains(SECRET), config);
  }
}

package io.craq.transport.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Users files: format, hashing, reload, revocation, and the authorization built on them. */
class UsersFileTest {
  /** Few iterations: the tests check behaviour, not cost. */
  private static final int ITERATIONS = PasswordHashes.ITERATIONS_MIN;

  @TempDir Path dir;

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static UsersFile.User user(String name, Role role, String password) {
    return new UsersFile.User(name, role, PasswordHashes.hash(bytes(password), ITERATIONS));
  }

  private Path write(UsersFile.User... users) throws IOException {
    Path file = dir.resolve("users");
    UsersFile.write(file, List.of(users));
    return file;
  }

  @Test
  void hashesAreSaltedAndVerify() {
    PasswordHashes.Stored a = PasswordHashes.hash(bytes("secret"), ITERATIONS);
    PasswordHashes.Stored b = PasswordHashes.hash(bytes("secret"), ITERATIONS);
    assertNotEquals(a.toString(), b.toString(), "a fresh salt for each hash");
    assertTrue(PasswordHashes.matches(bytes("secret"), a));
    assertFalse(PasswordHashes.matches(bytes("secreT"), a));
    assertFalse(PasswordHashes.matches(new byte[0], a));
    assertEquals(a, PasswordHashes.parse(a.toString()), "the stored form parses back");
    assertTrue(a.toString().startsWith("pbkdf2-sha256:" + ITERATIONS + ":"));
  }

  @Test
  void authenticatesKnownUsersWithTheirRole() throws Exception {
    Path file = write(user("alice", Role.READ_WRITE, "wonderland"), user("bob", Role.READ, "b"));
    UsersFile users = UsersFile.open(file);
    assertEquals(
        new Principal("alice", Role.READ_WRITE), users.authenticate("alice", bytes("wonderland")));
    assertEquals(new Principal("bob", Role.READ), users.authenticate("bob", bytes("b")));
    // Again: answered from the verified-secret memory, same answer.
    assertEquals(new Principal("bob", Role.READ), users.authenticate("bob", bytes("b")));
    AuthenticationException wrong =
        assertThrows(AuthenticationException.class, () -> users.authenticate("bob", bytes("c")));
    AuthenticationException unknown =
        assertThrows(AuthenticationException.class, () -> users.authenticate("eve", bytes("b")));
    // The same words for both: a refusal does not tell whether the user exists.
    assertEquals(wrong.getMessage().replace("bob", "X"), unknown.getMessage().replace("eve", "X"));
    assertFalse(wrong.getMessage().contains("c'"), "no secret in the message");
    assertEquals(new Principal("bob", Role.READ), users.forCertificate("bob"));
    assertThrows(AuthenticationException.class, () -> users.forCertificate("eve"));
  }

  @Test
  void theFileFormatIsNameRoleHashWithComments() throws Exception {
    String hash = PasswordHashes.hash(bytes("pw"), ITERATIONS).toString();
    Map<String, UsersFile.User> users =
        UsersFile.parse(
            List.of("# comment", "", "  alice   readwrite  " + hash + "  ", "n1 member " + hash),
            "f");
    assertEquals(List.of("alice", "n1"), List.copyOf(users.keySet()));
    assertEquals(Role.MEMBER, users.get("n1").role());
    assertFalse(users.get("alice").toString().contains(hash), "toString hides the hash");
  }

  @Test
  void malformedLinesNameTheFileAndLine() {
    String hash = PasswordHashes.hash(bytes("pw"), ITERATIONS).toString();
    List<List<String>> bad = new ArrayList<>();
    bad.add(List.of("# ok", "alice readwrite"));
    bad.add(List.of("# ok", "alice writer " + hash));
    bad.add(List.of("# ok", "alice read md5:abc"));
    bad.add(List.of("# ok", "alice read pbkdf2-sha256:10:AAAAAAAAAAA=:AAAA"));
    bad.add(List.of("# ok", "al/ice read " + hash));
    bad.add(List.of("alice read " + hash, "alice admin " + hash));
    for (List<String> lines : bad) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> UsersFile.parse(lines, "users.txt"));
      assertTrue(e.getMessage().startsWith("users.txt line 2: "), e.getMessage());
    }
  }

  @Test
  void aFileOthersCanReadIsRefusedNamingTheFix() throws Exception {
    Path file = write(user("alice", Role.READ, "pw"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> UsersFile.open(file));
    assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw----r--"));
    assertThrows(IllegalArgumentException.class, () -> UsersFile.open(file));
  }

  @Test
  void writtenFilesAreOwnerOnly() throws Exception {
    Path file = write(user("alice", Role.READ, "pw"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void aChangedFileIsReadAgainAndRemovedUsersAreRevoked() throws Exception {
    Path file = write(user("alice", Role.READ_WRITE, "a"), user("bob", Role.READ, "b"));
    AtomicLong now = new AtomicLong();
    UsersFile users = UsersFile.open(file, now::get);
    Authorization authorization = Authorization.of(users);
    LinkSession bob = new LinkSession(null, users.authenticate("bob", bytes("b")));
    LinkSession alice = new LinkSession(null, users.authenticate("alice", bytes("a")));
    Message write = new Message.WriteRequest("k", bytes("v"), false, Message.ANY_VERSION);
    assertNull(authorization.refusal(alice, write));

    // Remove alice, make bob readwrite; add carol.
    UsersFile.write(
        file, List.of(user("bob", Role.READ_WRITE, "b"), user("carol", Role.ADMIN, "c")));
    // A new connection sees the change at once (authentication reads the file if it changed).
    assertThrows(AuthenticationException.class, () -> users.authenticate("alice", bytes("a")));
    assertEquals(Role.ADMIN, users.authenticate("carol", bytes("c")).role());
    // Open connections: from their next request once the check is due.
    now.addAndGet(UsersFile.RECHECK_NANOS);
    ErrorReply revoked = authorization.refusal(alice, write);
    assertEquals(ErrorCode.UNAUTHENTICATED, revoked.code());
    assertTrue(revoked.message().contains("alice"), revoked.message());
    assertNull(authorization.refusal(bob, write), "bob's new role applies to his open link");
  }

  @Test
  void aBrokenFileKeepsTheUsersReadBefore() throws Exception {
    Path file = write(user("alice", Role.READ, "a"));
    UsersFile users = UsersFile.open(file);
    Files.writeString(file, "alice read not-a-hash\n");
    users.refresh();
    assertEquals(Role.READ, users.authenticate("alice", bytes("a")).role());
    Files.delete(file);
    users.refresh();
    assertEquals(Role.READ, users.currentRole("alice"));
  }

  @Test
  void rolesDecideWhatASessionMaySend() throws Exception {
    Path file =
        write(
            user("reader", Role.READ, "r"),
            user("writer", Role.READ_WRITE, "w"),
            user("admin", Role.ADMIN, "a"),
            user("n1", Role.MEMBER, "m"));
    UsersFile users = UsersFile.open(file);
    Authorization authorization = Authorization.of(users);
    Message read = new Message.ReadRequest("k", io.craq.core.message.ReadMode.STRONG, 0);
    Message write = new Message.WriteRequest("k", bytes("v"), false, Message.ANY_VERSION);
    Message leave = new Message.LeaveRequest("n2");
    Message join = new Message.Chained(0, new Message.JoinRequest("n1", "h:1", -1, 1));

    LinkSession reader = new LinkSession(null, new Principal("reader", Role.READ));
    assertNull(authorization.refusal(reader, read));
    ErrorReply denied = authorization.refusal(reader, write);
    assertEquals(ErrorCode.PERMISSION_DENIED, denied.code());
    assertEquals("user reader (role read) may not write (needs readwrite)", denied.message());

    LinkSession writer = new LinkSession(null, new Principal("writer", Role.READ_WRITE));
    assertNull(authorization.refusal(writer, write));
    assertEquals(ErrorCode.PERMISSION_DENIED, authorization.refusal(writer, leave).code());

    LinkSession admin = new LinkSession(null, new Principal("admin", Role.ADMIN));
    assertNull(authorization.refusal(admin, leave));
    assertEquals(ErrorCode.PERMISSION_DENIED, authorization.refusal(admin, join).code());

    LinkSession member = new LinkSession(null, new Principal("n1", Role.MEMBER));
    assertNull(authorization.refusal(member, join));

    // A member known by its cluster certificate is not in the users file and stays a member.
    LinkSession certified = new LinkSession("CN=n7", new Principal("n7", Role.MEMBER));
    assertNull(authorization.refusal(certified, join));

    assertEquals(
        ErrorCode.UNAUTHENTICATED,
        authorization.refusal(LinkSession.OPEN, read).code(),
        "authentication required: a session nobody authenticated fails closed");

    LinkSession anonymous = new LinkSession(null, null);
    assertEquals(ErrorCode.UNAUTHENTICATED, authorization.refusal(anonymous, read).code());
    assertNull(
        authorization.refusal(anonymous, new Message.AuthRequest("reader", bytes("r"))),
        "authentication itself needs no role");
  }

  @Test
  void withAuthenticationOffEverythingIsAllowed() {
    for (Message message : io.craq.transport.Samples.all()) {
      assertNull(Authorization.OPEN.refusal(LinkSession.OPEN, message), message.toString());
    }
  }
}

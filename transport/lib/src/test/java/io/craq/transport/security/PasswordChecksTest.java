package io.craq.transport.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordChecksTest {
  @TempDir Path dir;

  private final List<PasswordChecks> opened = new ArrayList<>();

  private PasswordChecks checks(int threads, int queuedMax, Duration failureDelay) {
    PasswordChecks checks = new PasswordChecks(threads, queuedMax, failureDelay);
    opened.add(checks);
    return checks;
  }

  @AfterEach
  void close() {
    opened.forEach(PasswordChecks::close);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static UsersFile.User user(String name, Role role, String password) {
    return new UsersFile.User(name, role, PasswordHashes.hash(bytes(password), 1_000));
  }

  private static Principal await(CompletableFuture<Principal> check) throws Exception {
    try {
      return check.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  @Test
  @DisplayName(
      "a verified secret is remembered (no second slow hash); a changed password or a removed"
          + " user is refused once the file changes")
  void remembersUntilTheFileChanges() throws Exception {
    Path file = dir.resolve("users");
    UsersFile.write(
        file, List.of(user("alice", Role.READ_WRITE, "first"), user("bob", Role.READ, "b")));
    UsersFile users = UsersFile.open(file);
    PasswordChecks checks = checks(1, 8, Duration.ZERO);

    assertEquals(
        new Principal("alice", Role.READ_WRITE),
        await(checks.authenticate(users, "alice", bytes("first"))));
    assertEquals(1, checks.verified());
    CompletableFuture<Principal> again = checks.authenticate(users, "alice", bytes("first"));
    assertTrue(again.isDone(), "a remembered secret is answered on the caller's thread");
    assertEquals(new Principal("alice", Role.READ_WRITE), again.join());
    assertEquals(1, checks.verified(), "no second slow hash");
    assertInstanceOf(
        AuthenticationException.class,
        assertThrows(
            Exception.class, () -> await(checks.authenticate(users, "alice", bytes("firsT")))));

    // A new password: the old one is refused, though it was remembered.
    UsersFile.write(
        file, List.of(user("alice", Role.READ_WRITE, "second"), user("bob", Role.READ, "b")));
    users.refresh();
    assertThrows(
        AuthenticationException.class,
        () -> await(checks.authenticate(users, "alice", bytes("first"))));
    assertEquals(
        new Principal("alice", Role.READ_WRITE),
        await(checks.authenticate(users, "alice", bytes("second"))));

    // Removed: refused, remembered or not.
    UsersFile.write(file, List.of(user("bob", Role.READ, "b")));
    users.refresh();
    AuthenticationException refused =
        assertThrows(
            AuthenticationException.class,
            () -> await(checks.authenticate(users, "alice", bytes("second"))));
    assertFalse(refused.getMessage().contains("second"), "the secret leaked: " + refused);
  }

  /** Blocks every check until released; knows only the password "right". */
  private static final class Blocking implements Authenticator {
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch entered = new CountDownLatch(1);

    @Override
    public Principal authenticate(String user, byte[] secret) throws AuthenticationException {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (new String(secret, StandardCharsets.UTF_8).equals("right")) {
        return new Principal(user, Role.READ);
      }
      throw new AuthenticationException("user '" + user + "': unknown user or wrong password");
    }

    @Override
    public Principal forCertificate(String commonName) throws AuthenticationException {
      throw new AuthenticationException("no");
    }
  }

  @Test
  @DisplayName(
      "beyond the cap of checks in progress a check is refused without being verified; the"
          + " others finish")
  void capsChecksInProgress() throws Exception {
    PasswordChecks checks = checks(1, 2, Duration.ZERO);
    Blocking blocking = new Blocking();
    try {
      CompletableFuture<Principal> first = checks.authenticate(blocking, "a", bytes("right"));
      CompletableFuture<Principal> second = checks.authenticate(blocking, "b", bytes("wrong"));
      assertTrue(blocking.entered.await(30, TimeUnit.SECONDS));
      assertEquals(2, checks.inProgress());
      AuthenticationException busy =
          assertThrows(
              AuthenticationException.class,
              () -> await(checks.authenticate(blocking, "c", bytes("right"))));
      assertEquals(PasswordChecks.BUSY, busy.getMessage());
      assertEquals(1, checks.refusedBusy());
      assertFalse(first.isDone());
      blocking.release.countDown();
      assertEquals(new Principal("a", Role.READ), await(first));
      assertThrows(AuthenticationException.class, () -> await(second));
      assertEquals(2, checks.verified());
      assertEquals(0, checks.inProgress());
    } finally {
      blocking.release.countDown();
    }
  }

  @Test
  @DisplayName("a refusal is answered only after the failure delay; a success at once")
  void refusalsWait() throws Exception {
    Path file = dir.resolve("users");
    UsersFile.write(file, List.of(user("alice", Role.READ, "right")));
    UsersFile users = UsersFile.open(file);
    PasswordChecks checks = checks(1, 8, Duration.ofMillis(300));
    CompletableFuture<Principal> wrong = checks.authenticate(users, "alice", bytes("wrong"));
    // The slow hash done, the refusal still waits: the counter moves before the answer.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (checks.verified() == 0) {
      assertTrue(System.nanoTime() < deadline, "never verified");
      Thread.onSpinWait();
    }
    assertThrows(AuthenticationException.class, () -> await(wrong));
    assertEquals(
        new Principal("alice", Role.READ),
        await(checks.authenticate(users, "alice", bytes("right"))));
  }
}

package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.transport.security.AuthenticationException;
import io.craq.transport.security.Authenticator;
import io.craq.transport.security.Credentials;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.PasswordChecks;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Principal;
import io.craq.transport.security.Role;
import io.craq.transport.security.Security;
import io.craq.transport.security.UsersFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication by the transport, the same on every implementation: a subclass says how a
 * listening and a dialing side are secured.
 */
abstract class AuthenticationContractTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Message PING = new Message.WriteReply("ping", 1);

  /** Knows bob (password "right", read-write); refuses every certificate user. */
  static final Authenticator USERS =
      new Authenticator() {
        @Override
        public Principal authenticate(String user, byte[] secret) throws AuthenticationException {
          if (user.equals("bob")
              && Arrays.equals(secret, "right".getBytes(StandardCharsets.UTF_8))) {
            return new Principal("bob", Role.READ_WRITE);
          }
          throw new AuthenticationException("unknown user or wrong password");
        }

        @Override
        public Principal forCertificate(String commonName) throws AuthenticationException {
          throw new AuthenticationException("no user may connect by certificate here");
        }
      };

  /** A listening side's security: {@code authenticator} (null for none). */
  protected abstract Security serverSecurity(Authenticator authenticator);

  /** A dialing side's security: {@code credentials} (null for none). */
  protected abstract Security clientSecurity(Credentials credentials);

  protected abstract Transport newTransport(TransportConfig config);

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final BlockingQueue<LinkSession> seen = new LinkedBlockingQueue<>();
  private final AtomicInteger handled = new AtomicInteger();

  private final Handler recording =
      (m, responder) -> {
        handled.incrementAndGet();
        seen.add(responder.session());
        if (responder.expectsReply()) {
          responder.reply(m);
        }
      };

  private Transport transport(Security security) {
    Transport transport = newTransport(TransportConfig.DEFAULT.withSecurity(security));
    toClose.add(transport);
    return transport;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private static Message request(Connection connection) throws Exception {
    try {
      return connection.request(PING, TIMEOUT).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private static Credentials credentials(String user, String password) {
    return new Credentials(user, password.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("a request before authenticating gets UNAUTHENTICATED; the handler never sees it")
  void unauthenticated() throws Exception {
    Server server = transport(serverSecurity(USERS)).listen("127.0.0.1:0", recording);
    Connection connection = transport(clientSecurity(null)).connect(server.address());
    Message reply = request(connection);
    Message.ErrorReply error = assertInstanceOf(Message.ErrorReply.class, reply);
    assertEquals(ErrorCode.UNAUTHENTICATED, error.code());
    assertTrue(error.message().contains("authenticate first"), error.message());
    connection.send(new Message.Heartbeat("n", 1, 1, true)); // dropped, with a warning
    assertEquals(ErrorCode.UNAUTHENTICATED, ((Message.ErrorReply) request(connection)).code());
    assertEquals(0, handled.get(), "the handler saw a message of an unauthenticated connection");
  }

  @Test
  @DisplayName("a wrong password fails the client's requests with AuthenticationFailedException")
  void wrongPassword() throws Exception {
    Server server = transport(serverSecurity(USERS)).listen("127.0.0.1:0", recording);
    Connection connection =
        transport(clientSecurity(credentials("bob", "hunter2-secret"))).connect(server.address());
    Exception failure = assertThrows(Exception.class, () -> request(connection));
    assertInstanceOf(AuthenticationFailedException.class, failure, failure.toString());
    assertTrue(failure.getMessage().contains("bob"), failure.getMessage());
    assertTrue(!failure.getMessage().contains("hunter2"), "the secret leaked: " + failure);
    assertEquals(0, handled.get());
  }

  @Test
  @DisplayName("the right password: the handler sees the user's principal, on every reconnect")
  void rightPassword() throws Exception {
    Transport serverSide = transport(serverSecurity(USERS));
    Server server = serverSide.listen("127.0.0.1:0", recording);
    String address = server.address();
    Connection connection = transport(clientSecurity(credentials("bob", "right"))).connect(address);
    assertEquals(PING, request(connection));
    LinkSession session = seen.poll(10, TimeUnit.SECONDS);
    assertEquals(new Principal("bob", Role.READ_WRITE), session.principal());
    assertTrue(session.allows(Role.READ_WRITE) && !session.allows(Role.ADMIN));

    server.close();
    serverSide.listen(address, recording);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        assertEquals(PING, request(connection));
        break;
      } catch (ConnectionClosedException | ConnectFailedException e) {
        assertTrue(System.nanoTime() < deadline, "never reconnected: " + e);
      }
    }
    assertEquals(
        new Principal("bob", Role.READ_WRITE),
        seen.poll(10, TimeUnit.SECONDS).principal(),
        "the credentials were presented again on the new link");
  }

  /**
   * Remembers bob's password "right" (answered on the loop, no slow hash); every other check hangs
   * in the slow path until released, then is refused.
   */
  private static final class Hanging implements Authenticator {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger entered = new AtomicInteger();

    @Override
    public Principal remembered(String user, byte[] secret) {
      return user.equals("bob") && Arrays.equals(secret, "right".getBytes(StandardCharsets.UTF_8))
          ? new Principal("bob", Role.READ_WRITE)
          : null;
    }

    @Override
    public Principal authenticate(String user, byte[] secret) throws AuthenticationException {
      entered.incrementAndGet();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new AuthenticationException("unknown user or wrong password");
    }

    @Override
    public Principal forCertificate(String commonName) throws AuthenticationException {
      throw new AuthenticationException("no user may connect by certificate here");
    }
  }

  @Test
  @DisplayName(
      "password checks that hang do not stall another connection's requests on the same event"
          + " loop; the requests behind each check wait for it and are then refused")
  void hangingChecksDoNotStallTheLoop() throws Exception {
    Hanging hanging = new Hanging();
    try {
      Transport serverSide =
          newTransport(
              TransportConfig.DEFAULT.withSecurity(serverSecurity(hanging)).withIoThreads(1));
      toClose.add(serverSide);
      Server server = serverSide.listen("127.0.0.1:0", recording);
      Connection good =
          transport(clientSecurity(credentials("bob", "right"))).connect(server.address());
      assertEquals(PING, request(good));

      List<CompletableFuture<Message>> refused = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Connection bad =
            transport(clientSecurity(credentials("mallory" + i, "guess" + i)))
                .connect(server.address());
        refused.add(bad.request(PING, Duration.ofSeconds(60)));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (hanging.entered.get() == 0) {
        assertTrue(System.nanoTime() < deadline, "no password check started");
        Thread.sleep(10); // polling for a condition
      }
      // The loop serving every connection is free while the checks hang.
      for (int i = 0; i < 20; i++) {
        assertEquals(PING, request(good));
      }
      for (CompletableFuture<Message> r : refused) {
        assertTrue(!r.isDone(), "a request behind a pending authentication was answered: " + r);
      }
      hanging.release.countDown();
      for (CompletableFuture<Message> r : refused) {
        ExecutionException failure =
            assertThrows(ExecutionException.class, () -> r.get(30, TimeUnit.SECONDS));
        assertInstanceOf(AuthenticationFailedException.class, failure.getCause());
      }
      assertEquals(21, handled.get(), "only bob's requests reached the handler");
    } finally {
      hanging.release.countDown();
    }
  }

  @TempDir Path dir;

  @Test
  @DisplayName(
      "with a users file: a user reconnects without a second slow hash; once removed from the"
          + " file it is refused")
  void usersFileRemembersAndRevokes() throws Exception {
    Path file = dir.resolve("users");
    UsersFile.User carol =
        new UsersFile.User(
            "carol",
            Role.READ,
            PasswordHashes.hash("carol-pw".getBytes(StandardCharsets.UTF_8), 1_000));
    UsersFile.write(file, List.of(carol));
    UsersFile users = UsersFile.open(file);
    Server server = transport(serverSecurity(users)).listen("127.0.0.1:0", recording);
    PasswordChecks checks = PasswordChecks.shared();

    long before = checks.verified();
    Connection first =
        transport(clientSecurity(credentials("carol", "carol-pw"))).connect(server.address());
    assertEquals(PING, request(first));
    assertEquals(before + 1, checks.verified(), "the first connection pays the slow hash");
    Connection second =
        transport(clientSecurity(credentials("carol", "carol-pw"))).connect(server.address());
    assertEquals(PING, request(second));
    assertEquals(before + 1, checks.verified(), "the second is remembered");
    assertEquals(new Principal("carol", Role.READ), seen.poll(10, TimeUnit.SECONDS).principal());

    UsersFile.write(file, List.of());
    Connection third =
        transport(clientSecurity(credentials("carol", "carol-pw"))).connect(server.address());
    Exception refused = assertThrows(Exception.class, () -> request(third));
    assertInstanceOf(AuthenticationFailedException.class, refused, refused.toString());
  }

  @Test
  @DisplayName("credentials sent to a server without authentication are answered and harmless")
  void credentialsToOpenServer() throws Exception {
    Server server = transport(serverSecurity(null)).listen("127.0.0.1:0", recording);
    Connection connection =
        transport(clientSecurity(credentials("bob", "anything"))).connect(server.address());
    assertEquals(PING, request(connection));
    assertTrue(seen.poll(10, TimeUnit.SECONDS).principal() != null);
    Message reply = connection.request(new Message.AuthRequest("bob", new byte[1]), TIMEOUT).get();
    assertInstanceOf(Message.AuthReply.class, reply);
    assertEquals(1, handled.get(), "AuthRequest reached the handler");
  }
}

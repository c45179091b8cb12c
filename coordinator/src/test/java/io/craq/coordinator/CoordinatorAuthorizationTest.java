package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapReply;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import io.craq.transport.security.AuthenticationException;
import io.craq.transport.security.Authenticator;
import io.craq.transport.security.Authorization;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.Principal;
import io.craq.transport.security.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator checks the role of a request's connection before it queues it: before it forwards
 * a write under its own identity, takes a node into the pool or changes the membership. Sessions
 * come from {@link SessionTransport}, as an authenticating transport would give them.
 */
class CoordinatorAuthorizationTest {
  /** Authentication is on; the sessions themselves come from {@link SessionTransport}. */
  private static final Authenticator NOBODY =
      new Authenticator() {
        @Override
        public Principal authenticate(String user, byte[] secret) throws AuthenticationException {
          throw new AuthenticationException("nobody");
        }

        @Override
        public Principal forCertificate(String commonName) throws AuthenticationException {
          throw new AuthenticationException("nobody");
        }
      };

  @TempDir Path dir;

  private volatile LinkSession session = new LinkSession(null, new Principal("reader", Role.READ));

  private static LinkSession as(String name, Role role) {
    return new LinkSession(null, new Principal(name, role));
  }

  @Test
  void eachRequestNeedsItsRole() throws Exception {
    try (Transport client = new TcpTransport();
        CoordinatorServer coordinator =
            CoordinatorServer.start(
                CoordinatorServerSettings.defaults("127.0.0.1:0", dir)
                    .withFailureTimeoutMillis(60_000)
                    .withForwardTimeout(Duration.ofMillis(500)),
                new SessionTransport(new TcpTransport(), message -> session),
                System::nanoTime,
                who -> {},
                Authorization.of(NOBODY))) {
      String address = coordinator.listenAddress();
      long mapVersion = coordinator.map().version();
      Message write =
          new Message.WriteRequest(
              "k", "v".getBytes(StandardCharsets.UTF_8), false, Message.ANY_VERSION);
      Message hello = new Message.NodeHello("n1", "127.0.0.1:9", 1, 0);
      Message leave = new Message.LeaveRequest("n1");

      // A reader reads the map, may not write (nothing is forwarded) nor join.
      assertInstanceOf(MapReply.class, request(client, address, new Message.MapRequest()));
      ErrorReply denied = assertInstanceOf(ErrorReply.class, request(client, address, write));
      assertEquals(ErrorCode.PERMISSION_DENIED, denied.code());
      assertEquals("user reader (role read) may not write (needs readwrite)", denied.message());
      assertEquals(ErrorCode.PERMISSION_DENIED, refusal(client, address, hello).code());

      // A read-write user's write passes the check (no chain has members: UNAVAILABLE or the
      // like, never PERMISSION_DENIED); membership changes need admin.
      session = as("writer", Role.READ_WRITE);
      Message answer = request(client, address, write);
      assertTrue(
          !(answer instanceof ErrorReply e) || e.code() != ErrorCode.PERMISSION_DENIED,
          answer.toString());
      ErrorReply notAdmin = refusal(client, address, leave);
      assertEquals(ErrorCode.PERMISSION_DENIED, notAdmin.code());
      assertEquals(
          "user writer (role readwrite) may not change the membership (needs admin)",
          notAdmin.message());

      // An admin changes the membership by hand but may not pose as a node.
      session = as("admin", Role.ADMIN);
      assertEquals(ErrorCode.PERMISSION_DENIED, refusal(client, address, hello).code());
      assertEquals(mapVersion, coordinator.map().version(), "nothing changed");
      assertInstanceOf(MapReply.class, request(client, address, leave));

      // A member joins the pool.
      session = as("n1", Role.MEMBER);
      assertInstanceOf(MapReply.class, request(client, address, hello));

      // Not authenticated at all.
      session = new LinkSession(null, null);
      assertEquals(
          ErrorCode.UNAUTHENTICATED, refusal(client, address, new Message.MapRequest()).code());
      // A transport that authenticated nobody on a guarded endpoint: refused (fails closed).
      session = LinkSession.OPEN;
      assertEquals(
          ErrorCode.UNAUTHENTICATED, refusal(client, address, new Message.MapRequest()).code());
    }
  }

  private static ErrorReply refusal(Transport client, String address, Message message)
      throws Exception {
    return assertInstanceOf(ErrorReply.class, request(client, address, message));
  }

  private static Message request(Transport client, String address, Message message)
      throws Exception {
    return client
        .connect(address)
        .request(message, Duration.ofSeconds(10))
        .get(15, TimeUnit.SECONDS);
  }
}

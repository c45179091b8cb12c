package io.craq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.craq.coordinator.SessionTransport;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.ReadMode;
import io.craq.store.MemoryStorer;
import io.craq.transport.TcpTransport;
import io.craq.transport.security.Authorization;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Principal;
import io.craq.transport.security.Role;
import io.craq.transport.security.UsersFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node enforces roles where requests enter: a read-only user's write is refused with
 * PERMISSION_DENIED and changes nothing, a read-write user writes, a removed user is refused from
 * its next request. The sessions are given by {@link SessionTransport}, as an authenticating
 * transport would give them: client requests carry the session under test, chain traffic a
 * member's.
 */
class NodeAuthorizationTest {
  private static final LinkSession MEMBER =
      new LinkSession("CN=coordinator", new Principal("coordinator", Role.MEMBER));

  @TempDir Path dir;

  private volatile LinkSession client = new LinkSession(null, new Principal("reader", Role.READ));

  private static UsersFile.User user(String name, Role role) {
    return new UsersFile.User(
        name, role, PasswordHashes.hash(name.getBytes(StandardCharsets.UTF_8), 1_000));
  }

  private LinkSession sessionFor(Message message) {
    boolean fromClient =
        message instanceof Message.NodeRequest
            || message instanceof Message.MapRequest
            || message instanceof Message.LeaveRequest;
    return fromClient ? client : MEMBER;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void rolesAreEnforcedWhereRequestsEnter() throws Exception {
    Path usersPath = dir.resolve("users");
    UsersFile.write(usersPath, List.of(user("reader", Role.READ), user("writer", Role.READ_WRITE)));
    AtomicLong now = new AtomicLong();
    UsersFile users = UsersFile.open(usersPath, now::get);
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node =
          NodeServer.start(
              cluster.settings("n1"),
              new MemoryStorer(),
              new SessionTransport(new TcpTransport(), this::sessionFor),
              System::nanoTime,
              who -> {},
              Authorization.of(users));
      cluster.nodes.add(node);
      cluster.awaitChain(1);
      String address = node.listenAddress();
      Message write = new Message.WriteRequest("k", bytes("v"), false, Message.ANY_VERSION);
      Message read = new Message.ReadRequest("k", ReadMode.STRONG, 0);

      ErrorReply denied = assertInstanceOf(ErrorReply.class, cluster.request(address, write));
      assertEquals(ErrorCode.PERMISSION_DENIED, denied.code());
      assertEquals("user reader (role read) may not write (needs readwrite)", denied.message());
      assertEquals(
          ErrorCode.PERMISSION_DENIED,
          assertInstanceOf(
                  ErrorReply.class, cluster.request(address, new Message.IncrementRequest("k", 1)))
              .code());
      assertFalse(
          assertInstanceOf(ReadReply.class, cluster.request(address, read)).found(),
          "a refused write changes nothing");

      client = new LinkSession(null, new Principal("writer", Role.READ_WRITE));
      assertInstanceOf(WriteReply.class, cluster.request(address, write));
      ReadReply after = assertInstanceOf(ReadReply.class, cluster.request(address, read));
      assertEquals("v", new String(after.value(), StandardCharsets.UTF_8));

      // Another front-end in the process (the Redis port) passes its client's session.
      ErrorReply inProcess =
          assertInstanceOf(
              ErrorReply.class,
              node.request(write, new LinkSession(null, new Principal("reader", Role.READ)))
                  .get(10, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals(ErrorCode.PERMISSION_DENIED, inProcess.code());
      assertInstanceOf(
          WriteReply.class,
          node.request(write, client).get(10, java.util.concurrent.TimeUnit.SECONDS));

      // The writer is removed: refused from the next request once the check is due.
      UsersFile.write(usersPath, List.of(user("reader", Role.READ)));
      now.addAndGet(UsersFile.RECHECK_NANOS);
      assertEquals(
          ErrorCode.UNAUTHENTICATED,
          assertInstanceOf(ErrorReply.class, cluster.request(address, write)).code());

      // No principal (the transport would have refused it already): refused here too.
      client = new LinkSession(null, null);
      assertEquals(
          ErrorCode.UNAUTHENTICATED,
          assertInstanceOf(ErrorReply.class, cluster.request(address, read)).code());
    }
  }
}

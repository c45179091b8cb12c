package io.craq.transport.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.Message;
import io.craq.transport.Samples;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PermissionsTest {

  /**
   * The permission table, written out again: a message type added to the protocol without a row
   * here fails {@link #everyMessageTypeHasARow} (and {@link Permissions} does not compile without
   * its own row). null: the transport answers it before any role applies.
   */
  private static final Map<Class<?>, Role> EXPECTED = new HashMap<>();

  static {
    EXPECTED.put(Message.ReadRequest.class, Role.READ);
    EXPECTED.put(Message.ReadAllRequest.class, Role.READ);
    EXPECTED.put(Message.ChainRequest.class, Role.READ);
    EXPECTED.put(Message.StatsRequest.class, Role.READ);
    EXPECTED.put(Message.MapRequest.class, Role.READ);
    EXPECTED.put(Message.WriteRequest.class, Role.READ_WRITE);
    EXPECTED.put(Message.MultiWriteRequest.class, Role.READ_WRITE);
    EXPECTED.put(Message.IncrementRequest.class, Role.READ_WRITE);
    EXPECTED.put(Message.AppendRequest.class, Role.READ_WRITE);
    EXPECTED.put(Message.LeaveRequest.class, Role.ADMIN);
    EXPECTED.put(Message.JoinRequest.class, Role.MEMBER);
    EXPECTED.put(Message.Heartbeat.class, Role.MEMBER);
    EXPECTED.put(Message.NodeHello.class, Role.MEMBER);
    EXPECTED.put(Message.Propagate.class, Role.MEMBER);
    EXPECTED.put(Message.Commit.class, Role.MEMBER);
    EXPECTED.put(Message.Durable.class, Role.MEMBER);
    EXPECTED.put(Message.VersionQuery.class, Role.MEMBER);
    EXPECTED.put(Message.VersionReply.class, Role.MEMBER);
    EXPECTED.put(Message.CatchUpRequest.class, Role.MEMBER);
    EXPECTED.put(Message.CatchUpBatch.class, Role.MEMBER);
    EXPECTED.put(Message.ConfigPush.class, Role.MEMBER);
    EXPECTED.put(Message.HeartbeatReply.class, Role.MEMBER);
    EXPECTED.put(Message.WriteReply.class, Role.MEMBER);
    EXPECTED.put(Message.MultiWriteReply.class, Role.MEMBER);
    EXPECTED.put(Message.UpdateReply.class, Role.MEMBER);
    EXPECTED.put(Message.ReadReply.class, Role.MEMBER);
    EXPECTED.put(Message.ReadAllReply.class, Role.MEMBER);
    EXPECTED.put(Message.ErrorReply.class, Role.MEMBER);
    EXPECTED.put(Message.ChainReply.class, Role.MEMBER);
    EXPECTED.put(Message.StatsReply.class, Role.MEMBER);
    EXPECTED.put(Message.MapReply.class, Role.MEMBER);
    EXPECTED.put(Message.AuthReply.class, Role.MEMBER);
    EXPECTED.put(Message.AuthRequest.class, null);
    EXPECTED.put(Message.Chained.class, null); // what the message inside needs: see below
  }

  @Test
  void everyMessageTypeHasARow() {
    Set<String> missing = new TreeSet<>();
    for (Class<?> type : concreteTypes(Message.class, new java.util.HashSet<>())) {
      if (!EXPECTED.containsKey(type)) {
        missing.add(type.getSimpleName());
      }
    }
    assertTrue(
        missing.isEmpty(),
        "message types without a permission row (add one to Permissions and to this test): "
            + missing);
  }

  @Test
  void everySampleNeedsTheRoleOfItsRow() {
    for (Message message : Samples.all()) {
      Role expected =
          message instanceof Message.Chained chained
              ? EXPECTED.get(chained.message().getClass())
              : EXPECTED.get(message.getClass());
      assertEquals(expected, Permissions.required(message), message.getClass().getSimpleName());
    }
  }

  @Test
  void anEnvelopeNeedsWhatItsMessageNeeds() {
    assertEquals(
        Role.READ, Permissions.required(new Message.Chained(3, new Message.ChainRequest())));
    assertEquals(
        Role.ADMIN, Permissions.required(new Message.Chained(3, new Message.LeaveRequest("n1"))));
    assertEquals(
        Role.MEMBER,
        Permissions.required(new Message.Chained(3, new Message.Heartbeat("n1", 1, 2, true))));
    assertNull(Permissions.required(new Message.AuthRequest("u", new byte[] {1})));
  }

  private static Set<Class<?>> concreteTypes(Class<?> type, Set<Class<?>> into) {
    if (type.isSealed()) {
      for (Class<?> sub : type.getPermittedSubclasses()) {
        concreteTypes(sub, into);
      }
    } else {
      into.add(type);
    }
    return into;
  }
}

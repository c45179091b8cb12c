package io.craq.transport.security;

import io.craq.core.message.Message;

/**
 * The role each message needs, in one table: what a connection of a given role may send to a node
 * or coordinator. An exhaustive switch, so a new message type does not compile until it has a row.
 *
 * <table>
 *   <caption>Roles by message</caption>
 *   <tr><th>Role</th><th>Messages</th></tr>
 *   <tr><td>read</td><td>read, read-all, chain, map and stats requests</td></tr>
 *   <tr><td>readwrite</td><td>writes and deletes, multi-key writes, increments, appends</td></tr>
 *   <tr><td>admin</td><td>leave requests (taking a node out by hand, {@code craq leave})</td></tr>
 *   <tr><td>member</td><td>everything between nodes and coordinators: propagations, commits,
 *       durable notices, version queries and replies, catch-up, hellos, joins, heartbeats,
 *       configuration pushes, heartbeat replies; replies sent as requests</td></tr>
 * </table>
 *
 * <p>A message in a chain's envelope needs what the message inside needs. An authentication request
 * needs nothing: the transport answers it before anything else.
 */
public final class Permissions {
  private Permissions() {}

  /**
   * The role {@code message} needs, or null for none (an authentication request, which the
   * transport answers itself).
   */
  public static Role required(Message message) {
    return switch (message) {
      case Message.Chained chained -> required(chained.message());
      case Message.AuthRequest auth -> null;
      case Message.NodeRequest request -> required(request);
      case Message.MapRequest request -> Role.READ;
      case Message.NodeMessage oneWay -> Role.MEMBER;
      case Message.NodeHello hello -> Role.MEMBER;
      case Message.CoordinatorRequest request -> required(request);
      case Message.Reply reply -> Role.MEMBER;
    };
  }

  private static Role required(Message.NodeRequest request) {
    return switch (request) {
      case Message.ReadRequest read -> Role.READ;
      case Message.ReadAllRequest readAll -> Role.READ;
      case Message.ChainRequest chain -> Role.READ;
      case Message.StatsRequest stats -> Role.READ;
      case Message.WriteRequest write -> Role.READ_WRITE;
      case Message.MultiWriteRequest multi -> Role.READ_WRITE;
      case Message.IncrementRequest increment -> Role.READ_WRITE;
      case Message.AppendRequest append -> Role.READ_WRITE;
    };
  }

  private static Role required(Message.CoordinatorRequest request) {
    return switch (request) {
      case Message.ChainRequest chain -> Role.READ;
      case Message.LeaveRequest leave -> Role.ADMIN;
      case Message.JoinRequest join -> Role.MEMBER;
      case Message.Heartbeat heartbeat -> Role.MEMBER;
    };
  }

  /** What a refused message is called in a refusal: "write", "read", "join the chain". */
  public static String verb(Message message) {
    return switch (message) {
      case Message.Chained chained -> verb(chained.message());
      case Message.WriteRequest write -> write.delete() ? "delete" : "write";
      case Message.MultiWriteRequest multi -> "write";
      case Message.IncrementRequest increment -> "write";
      case Message.AppendRequest append -> "write";
      case Message.ReadRequest read -> "read";
      case Message.ReadAllRequest readAll -> "read";
      case Message.LeaveRequest leave -> "change the membership";
      case Message.JoinRequest join -> "join a chain";
      case Message.NodeHello hello -> "join the cluster";
      default -> "send " + message.getClass().getSimpleName();
    };
  }
}

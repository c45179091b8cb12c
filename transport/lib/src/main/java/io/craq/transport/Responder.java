package io.craq.transport;

import io.craq.core.message.Message;
import io.craq.transport.security.LinkSession;

/**
 * The way back to the sender of one inbound message. Thread-safe; may be kept and used after {@link
 * Handler#handle} returned. Never blocks: replies go through the connection's bounded outbound
 * queue.
 */
public interface Responder {

  /** True if the message was a request, which expects exactly one {@link #reply}. */
  boolean expectsReply();

  /**
   * Sends the reply to this request. Returns false, after logging at debug level, if it could not
   * be queued: the connection is gone or its outbound queue is full (the requester will time out).
   *
   * @throws IllegalStateException if the message was one-way, or a reply was already sent
   * @throws MessageTooLargeException if the reply does not fit in a frame
   */
  boolean reply(Message reply);

  /**
   * Sends a one-way message back over the same connection (for example a version-query answer).
   * Returns false if it could not be queued, as for {@link #reply}.
   */
  boolean send(Message message);

  /** The peer's address as seen by this side ({@code host:port}, or a name for in-memory links). */
  String peer();

  /**
   * The connection the message arrived on: who the peer proved to be. {@link LinkSession#OPEN}
   * where authentication is off.
   */
  default LinkSession session() {
    return LinkSession.OPEN;
  }
}

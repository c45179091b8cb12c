package io.craq.transport;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;

/**
 * Receives inbound messages. For one connection, calls come one at a time in arrival order on a
 * transport thread; calls for different connections may run concurrently, so an implementation
 * shared by several connections must be thread-safe. A handler must not block (no disk syncs, no
 * waiting for replies): the TCP transport's thread serves many connections, and while a handler
 * runs nothing more is read from any of them. Hand slow work to another thread and reply from
 * there.
 *
 * <p>Replies are asynchronous: the handler may keep the {@link Responder} and reply later from any
 * thread (a node answers a write only after it committed). A handler that throws is logged; a
 * request it was handling is answered with {@link ErrorCode#INTERNAL}.
 */
@FunctionalInterface
public interface Handler {

  /**
   * One inbound message.
   *
   * @param message the decoded, validated message (never null)
   * @param responder answers this message if it is a request; also tells the peer's address
   */
  void handle(Message message, Responder responder);

  /** Refuses requests with {@link ErrorCode#UNSUPPORTED} and drops one-way messages. */
  Handler REFUSE =
      (message, responder) -> {
        if (responder.expectsReply()) {
          responder.reply(
              new Message.ErrorReply(ErrorCode.UNSUPPORTED, "this endpoint takes no requests", ""));
        }
      };
}

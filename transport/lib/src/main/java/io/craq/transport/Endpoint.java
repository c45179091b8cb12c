package io.craq.transport;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.transport.security.Credentials;
import io.craq.transport.security.LinkSession;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One end of one link (a TCP socket, or an in-memory pair): the requests it sent that await a
 * reply, the dispatch of inbound frames, and the way out for encoded frames. Subclasses move the
 * bytes. Thread-safe.
 */
abstract class Endpoint {
  private static final Logger log = LoggerFactory.getLogger(Endpoint.class);

  final MessageCodec codec;
  final Handler handler;
  final PendingRequests pending;
  final String peer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile TransportException closeCause;

  /**
   * Who the peer is; see {@link Admission}. Links this side dialed stay {@link LinkSession#OPEN}.
   */
  private volatile LinkSession session = LinkSession.OPEN;

  /** How an accepted link answers authentication; null for a link this side dialed. */
  private volatile Admission admission;

  /** The text of the refusal of requests while the session has no principal. */
  volatile String refusal = Admission.AUTHENTICATE_FIRST;

  /** A frame that came while an authentication was checked, with a copy of its body. */
  private record HeldFrame(Frames.Header header, byte[] body) {}

  // ---- the link's thread only
  /** An authentication is checked off the link's thread: frames are held until it is answered. */
  private boolean authenticating;

  private final ArrayDeque<HeldFrame> heldFrames = new ArrayDeque<>();

  Endpoint(MessageCodec codec, Handler handler, PendingRequests pending, String peer) {
    this.codec = codec;
    this.handler = handler;
    this.pending = pending;
    this.peer = peer;
  }

  /** Queues an encoded frame for the peer; false if the outbound queue is full or closed. */
  abstract boolean offerFrame(byte[] frame);

  /** Releases the link's resources; called once, by {@link #close}. */
  abstract void closeLink();

  /**
   * Gives an accepted link its session; called before its first frame is dispatched (for TLS, when
   * the handshake completed).
   */
  final void admit(LinkSession value, Admission by) {
    session = value;
    admission = by;
  }

  final LinkSession session() {
    return session;
  }

  /**
   * Queues an {@link Message.AuthRequest} with {@code credentials}; called on a link this side
   * dialed before anything else is queued on it, so that it is the link's first frame. Frames
   * queued next follow right behind it. If the peer refuses, the link closes with {@link
   * AuthenticationFailedException}, which every request pending on it then fails with.
   */
  final void authenticateFirst(Credentials credentials, long timeoutNanos) {
    byte[] frame =
        codec.encodeFrame(
            Frames.KIND_REQUEST,
            0,
            new Message.AuthRequest(credentials.user(), credentials.secret()));
    request(frame, timeoutNanos)
        .whenComplete((reply, failure) -> {
          if (failure instanceof RequestTimeoutException) {
            close(
                new ConnectFailedException(
                    peer
                        + " did not answer the authentication of user '"
                        + credentials.user()
                        + "' within "
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                        + " ms",
                    failure));
          } else if (reply instanceof Message.ErrorReply error) {
            log.warn(
                "{} refused the credentials of user '{}': {}",
                peer,
                credentials.user(),
                error.message());
            close(
                new AuthenticationFailedException(
                    peer
                        + " refused the credentials of user '"
                        + credentials.user()
                        + "': "
                        + error.message()));
          } else if (reply != null && !(reply instanceof Message.AuthReply)) {
            close(
                new ConnectionClosedException(peer + " answered the authentication with " + reply));
          }
        });
  }

  final boolean isClosed() {
    return closed.get();
  }

  /**
   * Closes the link and fails every pending request with a failure derived from {@code cause}.
   * Idempotent: only the first cause counts.
   */
  final void close(TransportException cause) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeCause = cause;
    try {
      closeLink();
    } finally {
      pending.failAll(this::failure);
    }
  }

  /** A fresh exception describing why this endpoint closed. */
  final TransportException failure() {
    TransportException cause = closeCause;
    if (cause instanceof ConnectFailedException) {
      return new ConnectFailedException(cause.getMessage(), cause.getCause());
    }
    if (cause instanceof AuthenticationFailedException) {
      return new AuthenticationFailedException(cause.getMessage(), cause);
    }
    String why = cause == null ? "closed" : cause.getMessage();
    return new ConnectionClosedException("connection to " + peer + " lost: " + why, cause);
  }

  /** Sends a request frame (request id still 0) and returns the future of its reply. */
  final CompletableFuture<Message> request(byte[] frame, long timeoutNanos) {
    CompletableFuture<Message> future = new CompletableFuture<>();
    long id;
    try {
      id = pending.register(future, timeoutNanos);
    } catch (QueueFullException e) {
      return CompletableFuture.failedFuture(e);
    }
    Frames.writeLong(frame, 8, id);
    if (!offerFrame(frame)) {
      pending.fail(
          id,
          isClosed()
              ? failure()
              : new QueueFullException("outbound queue to " + peer + " is full"));
    } else if (isClosed()) {
      // Closed between register and offer: the close may not have seen this entry.
      pending.fail(id, failure());
    }
    return future;
  }

  /** Queues a one-way frame. */
  final void send(byte[] frame) {
    if (isClosed()) {
      throw failure();
    }
    if (!offerFrame(frame)) {
      throw isClosed()
          ? failure()
          : new QueueFullException("outbound queue to " + peer + " is full");
    }
  }

  /** Handles one inbound frame whose header was already checked. */
  final void dispatch(Frames.Header header, byte[] bytes, int offset) {
    if (authenticating) {
      heldFrames.add(
          new HeldFrame(header, Arrays.copyOfRange(bytes, offset, offset + header.bodyLength())));
      return;
    }
    Message message;
    try {
      message = codec.decodeBody(header.type(), bytes, offset, header.bodyLength());
    } catch (ProtocolException e) {
      log.warn("refused a frame from {}: {}", peer, e.getMessage());
      if (header.kind() == Frames.KIND_REQUEST) {
        refuse(header.requestId(), e.code(), e.getMessage());
      } else if (header.kind() == Frames.KIND_REPLY) {
        pending.fail(header.requestId(), e);
      }
      return;
    }
    if (header.kind() == Frames.KIND_REPLY) {
      pending.complete(header.requestId(), message);
      return;
    }
    if (message instanceof Message.AuthRequest auth) {
      // Answered here, in order: the connection's next frame sees the new principal.
      Admission by = admission;
      boolean request = header.kind() == Frames.KIND_REQUEST;
      long requestId = header.requestId();
      if (by == null) {
        answerAuth(request, requestId, new Message.AuthReply(auth.user(), principalRole()));
        return;
      }
      CompletableFuture<Message> answer = by.authenticate(auth, session, peer);
      if (answer.isDone() || !pauseReads()) {
        answerAuth(request, requestId, answer.join());
        return;
      }
      // A slow hash on another thread: this link's later frames wait for it, unread or held.
      authenticating = true;
      answer.whenComplete(
          (reply, failure) -> onLinkThread(() -> authenticated(request, requestId, reply)));
      return;
    }
    if (session.principal() == null) {
      if (header.kind() == Frames.KIND_REQUEST) {
        refuse(header.requestId(), ErrorCode.UNAUTHENTICATED, refusal);
      } else {
        Admission by = admission;
        if (by != null) {
          by.dropped(message, peer);
        }
      }
      return;
    }
    FrameResponder responder =
        new FrameResponder(header.kind() == Frames.KIND_REQUEST, header.requestId());
    try {
      handler.handle(message, responder);
    } catch (RuntimeException e) {
      log.warn("handler failed on {} from {}", message, peer, e);
      if (responder.expectsReply() && !responder.replied.get()) {
        responder.reply(
            new Message.ErrorReply(ErrorCode.INTERNAL, "handler failed: " + e.getMessage(), ""));
      }
    }
  }

  private void answerAuth(boolean request, long requestId, Message answer) {
    if (request) {
      offerFrame(codec.encodeFrame(Frames.KIND_REPLY, requestId, answer));
    }
  }

  /**
   * On the link's thread, once an authentication checked elsewhere is answered: the answer, then
   * the frames held meanwhile, in order, then reading again (unless one of them is another
   * authentication that waits).
   */
  private void authenticated(boolean request, long requestId, Message answer) {
    authenticating = false;
    if (isClosed()) {
      heldFrames.clear();
      return;
    }
    answerAuth(
        request,
        requestId,
        answer != null
            ? answer
            : new Message.ErrorReply(ErrorCode.INTERNAL, "authentication failed", ""));
    HeldFrame next;
    while (!authenticating && !isClosed() && (next = heldFrames.poll()) != null) {
      dispatch(next.header(), next.body(), 0);
    }
    if (!authenticating && !isClosed()) {
      resumeReads();
    }
  }

  /**
   * Stops reading from the peer until {@link #resumeReads}, while an authentication is checked off
   * the link's thread; on the link's thread. False if this link cannot pause: the check is then
   * waited for on the link's thread.
   */
  boolean pauseReads() {
    return false;
  }

  /** Reads from the peer again after {@link #pauseReads}; on the link's thread. */
  void resumeReads() {}

  /** Runs {@code task} on the link's thread (the one that dispatches its frames). */
  void onLinkThread(Runnable task) {
    task.run();
  }

  private String principalRole() {
    var principal = session.principal();
    return principal == null
        ? io.craq.transport.security.Role.READ.label()
        : principal.role().label();
  }

  /** Answers request {@code requestId} with an error reply (best effort). */
  final void refuse(long requestId, ErrorCode code, String message) {
    offerFrame(
        codec.encodeFrame(Frames.KIND_REPLY, requestId, new Message.ErrorReply(code, message, "")));
  }

  private final class FrameResponder implements Responder {
    private final boolean expectsReply;
    private final long requestId;
    final AtomicBoolean replied = new AtomicBoolean();

    FrameResponder(boolean expectsReply, long requestId) {
      this.expectsReply = expectsReply;
      this.requestId = requestId;
    }

    @Override
    public boolean expectsReply() {
      return expectsReply;
    }

    @Override
    public boolean reply(Message reply) {
      if (!expectsReply) {
        throw new IllegalStateException("one-way message: there is no one to reply to");
      }
      if (!replied.compareAndSet(false, true)) {
        throw new IllegalStateException("request " + requestId + " was already answered");
      }
      if (offered(codec.encodeFrame(Frames.KIND_REPLY, requestId, reply), reply)) {
        return true;
      }
      if (!isClosed()) {
        // A reply that cannot be queued would leave the requester waiting for nothing: close
        // the connection so every request on it fails at once and is seen as refused.
        close(
            new QueueFullException(
                "outbound queue to "
                    + peer
                    + " is full; reply to request "
                    + requestId
                    + " dropped, connection closed"));
      }
      return false;
    }

    @Override
    public boolean send(Message message) {
      return offered(codec.encodeFrame(Frames.KIND_ONE_WAY, 0, message), message);
    }

    private boolean offered(byte[] frame, Message message) {
      if (isClosed() || !offerFrame(frame)) {
        log.debug(
            "could not queue {} to {}: {}",
            message,
            peer,
            isClosed() ? "connection closed" : "outbound queue full");
        return false;
      }
      return true;
    }

    @Override
    public String peer() {
      return peer;
    }

    @Override
    public LinkSession session() {
      return session;
    }
  }
}

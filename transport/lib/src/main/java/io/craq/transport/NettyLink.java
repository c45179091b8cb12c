package io.craq.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection of a {@link NettyTransport}, served by one Netty event loop: TLS (if on) in an
 * {@link SslHandler}, then this link's frame reader, which dispatches every complete frame in order
 * on the loop thread.
 *
 * <p>Writing: frames go to a bounded {@link OutboundQueue} (a full queue refuses, as in {@link
 * TcpSession}); the loop drains it into batches of up to {@link TransportConfig#writeBatchBytesMax}
 * bytes, each written and flushed at once (one TLS record run, one system call), and stops while
 * Netty's own buffer is above its high-water mark, so neither queue grows without bound. Nothing is
 * written before the link is ready: connected, and the TLS handshake done.
 *
 * <p>Reading: frames are taken from Netty's cumulation buffer, from its array when it has one, else
 * through a reusable 64 KiB scratch array (the codec copies what it keeps); a frame larger than
 * that gets its own array. A header announcing more than {@link TransportConfig#frameBytesMax}
 * closes the link before anything is allocated, and a frame must be complete within the read
 * deadline of its first byte.
 */
final class NettyLink extends Endpoint {
  private static final Logger log = LoggerFactory.getLogger(NettyLink.class);

  private static final int SCRATCH_BYTES_MAX = 64 << 10;
  private static final int BATCH_BYTES_INITIAL = 4 << 10;

  /** See {@link #batchWrites}. */
  private static final ThreadLocal<List<NettyLink>> HELD = new ThreadLocal<>();

  private final NettyTransport transport;
  private final TransportConfig config;
  private final EventLoop loop;
  private final OutboundQueue queue;
  private final boolean accepted;
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private volatile Channel channel;

  /** Connected, and the TLS handshake (if any) done: frames may be written. */
  private volatile boolean ready;

  // ---- loop thread only
  private boolean tls;

  /**
   * Batches in heap buffers, for the JDK's SSLEngine, which encrypts them faster; BoringSSL and
   * plain sockets take direct ones (given a heap batch, SslHandler copies it into a direct buffer
   * before encrypting it).
   */
  private boolean heapBatches;

  private TlsContexts.Material material;
  private SslHandler ssl;
  private byte[] carry;
  private boolean closing;
  private boolean receivedFrame;
  private boolean admitted;
  private boolean readingStopped;

  /** Reading waits for an authentication checked off the loop (see Endpoint#pauseReads). */
  private boolean readsPaused;

  private long frameStartNanos;
  private ScheduledFuture<?> deadlineCheck;
  private final byte[] header = new byte[Frames.HEADER_BYTES];
  private byte[] scratch = new byte[1024];

  NettyLink(
      NettyTransport transport, EventLoop loop, Handler handler, String peer, boolean accepted) {
    super(
        transport.codec(),
        handler,
        new PendingRequests(transport.config().inFlightRequestsMax(), transport.sweeper(), peer),
        peer);
    this.transport = transport;
    this.config = transport.config();
    this.loop = loop;
    this.accepted = accepted;
    this.queue =
        new OutboundQueue(config.outboundQueueMessagesMax(), config.outboundQueueBytesMax());
    if (accepted && transport.usesTls()) {
      // Nobody until the handshake says who: nothing is read before it anyway.
      admit(new io.craq.transport.security.LinkSession(null, null), transport.admission());
      refusal = "the TLS handshake is not complete";
    }
  }

  void attach(Channel value) {
    channel = value;
    if (isClosed()) {
      value.close();
    }
  }

  /** Sets up the pipeline; on the loop, when the channel is registered. */
  void install(Channel value, SslHandler sslHandler, TlsContexts.Material tlsMaterial) {
    channel = value;
    ssl = sslHandler;
    material = tlsMaterial;
    tls = sslHandler != null;
    heapBatches = tls && !(sslHandler.engine() instanceof ReferenceCountedOpenSslEngine);
    if (sslHandler != null) {
      value.pipeline().addLast("tls", sslHandler);
    }
    value.pipeline().addLast("frames", new Reader());
    if (isClosed()) {
      value.close();
    }
  }

  void connectFailed(Throwable cause) {
    String why =
        cause == null
            ? "failed"
            : cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
    log.debug("cannot connect to {}: {}", peer, why);
    close(new ConnectFailedException("cannot connect to " + peer + ": " + why, cause));
  }

  // ------------------------------------------------------------------------------ writing

  @Override
  boolean offerFrame(byte[] frame) {
    if (isClosed() || !queue.offer(frame)) {
      return false;
    }
    List<NettyLink> held = HELD.get();
    if (held != null && !loop.inEventLoop()) {
      if (!held.contains(this)) {
        held.add(this);
      }
      return true;
    }
    scheduleDrain();
    return true;
  }

  /**
   * Runs {@code action}, holding back the frames this thread queues meanwhile, then hands each
   * connection's to its loop at once (see {@link Transport#batchWrites}).
   */
  static void batchWrites(Runnable action) {
    HeldWrites.run(HELD, action, NettyLink::scheduleDrain);
  }

  private void scheduleDrain() {
    if (!ready || !drainScheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      loop.execute(this::drain);
    } catch (RejectedExecutionException e) {
      close(new ConnectionClosedException("transport closed"));
    }
  }

  /** Writes queued frames in batches while Netty's buffer is below its high-water mark. */
  private void drain() {
    drainScheduled.set(false);
    Channel ch = channel;
    if (!ready || closing || isClosed() || ch == null) {
      return;
    }
    int batchMax = config.writeBatchBytesMax();
    ByteBuf batch = null;
    while (ch.isWritable()) {
      byte[] frame = carry != null ? carry : queue.poll();
      carry = null;
      if (frame == null) {
        break;
      }
      if (frame == OutboundQueue.CLOSE_MARKER) {
        if (batch != null) {
          ch.write(batch, ch.voidPromise());
          batch = null;
        }
        closing = true;
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER)
            .addListener(
                f -> close(new ConnectionClosedException("closed after a protocol error")));
        return;
      }
      if (batch != null && batch.maxWritableBytes() < frame.length) {
        ch.writeAndFlush(batch, ch.voidPromise());
        batch = null;
        carry = frame;
        continue; // writability may have changed
      }
      if (frame.length >= batchMax) {
        ch.writeAndFlush(Unpooled.wrappedBuffer(frame), ch.voidPromise());
        continue;
      }
      if (batch == null) {
        int initial = Math.min(batchMax, Math.max(BATCH_BYTES_INITIAL, frame.length));
        batch =
            heapBatches
                ? ch.alloc().heapBuffer(initial, batchMax)
                : ch.alloc().ioBuffer(initial, batchMax);
      }
      batch.writeBytes(frame);
    }
    if (batch != null) {
      ch.writeAndFlush(batch, ch.voidPromise());
    }
  }

  /** Writes what is queued (an error reply, say), then closes; forced after the read deadline. */
  private void closeAfterFlush() {
    queue.offerCloseMarker();
    scheduleDrain();
    transport
        .timer()
        .schedule(
            () -> close(new ConnectionClosedException("closed after a protocol error")),
            config.readDeadlineMillis(),
            TimeUnit.MILLISECONDS);
  }

  @Override
  void closeLink() {
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
    queue.clear();
    transport.forget(this);
  }

  // ------------------------------------------------------------------------------ state

  private void becameReady() {
    ready = true;
    drain();
  }

  /** The session of an accepted TLS link, from the certificate the handshake verified. */
  private void admitFromHandshake() {
    if (admitted) {
      return;
    }
    admitted = true;
    X509Certificate certificate = null;
    boolean member = false;
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      X509Certificate[] x509 = new X509Certificate[chain.length];
      for (int i = 0; i < chain.length; i++) {
        x509[i] = (X509Certificate) chain[i];
      }
      certificate = x509[0];
      member = material.isMember(x509);
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate
    }
    refusal = Admission.AUTHENTICATE_FIRST;
    admit(transport.admission().tls(certificate, member, this), transport.admission());
  }

  private void handshakeFailed(Throwable cause) {
    if (isClosed()) {
      return;
    }
    String why = describe(cause);
    if (accepted) {
      transport.handshakeWarnings.warn(log, "TLS handshake from {} failed: {}", peer, why);
      close(new ConnectionClosedException("TLS handshake failed: " + why, null));
    } else {
      transport.handshakeWarnings.warn(log, "TLS handshake with {} failed: {}", peer, why);
      close(new ConnectFailedException("TLS handshake with " + peer + " failed: " + why, cause));
    }
  }

  /** One line saying why a TLS handshake failed. */
  private static String describe(Throwable cause) {
    Throwable t = cause;
    while (t instanceof DecoderException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof NotSslRecordException) {
      return "not a TLS record (a client without TLS?)";
    }
    if (t instanceof ClosedChannelException) {
      return "the peer closed the connection during the handshake (it may not speak TLS)";
    }
    // Our trust managers say exactly what is wrong with a certificate: prefer their words to
    // the engine's wrapping and the certificate-path library's.
    for (Throwable c = t; c != null && c.getCause() != c; c = c.getCause()) {
      if (c instanceof java.security.cert.CertificateException && c.getMessage() != null) {
        return c.getMessage();
      }
    }
    String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    message = message.replace("General OpenSslEngine problem: ", "");
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != t && root.getMessage() != null && !message.contains(root.getMessage())) {
      message = message + ": " + root.getMessage();
    }
    if (message.contains("ALERT") || message.contains("fatal alert")) {
      message += " (the peer refused the handshake; its log says why)";
    }
    return message;
  }

  // ------------------------------------------------------------------------------ reading

  @Override
  boolean pauseReads() {
    Channel ch = channel;
    if (ch == null) {
      return false;
    }
    readsPaused = true;
    ch.config().setAutoRead(false);
    return true;
  }

  @Override
  void resumeReads() {
    readsPaused = false;
    Channel ch = channel;
    if (ch != null && !readingStopped) {
      if (frameStartNanos != 0) {
        frameStartNanos = System.nanoTime(); // the pause does not count against the read deadline
        armDeadline();
      }
      ch.config().setAutoRead(true);
    }
  }

  @Override
  void onLinkThread(Runnable task) {
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      close(new ConnectionClosedException("transport closed"));
    }
  }

  private void checkDeadline() {
    deadlineCheck = null;
    if (isClosed() || frameStartNanos == 0 || readsPaused) {
      return; // after a pause, resumeReads arms it again
    }
    long deadlineNanos = TimeUnit.MILLISECONDS.toNanos(config.readDeadlineMillis());
    long elapsed = System.nanoTime() - frameStartNanos;
    if (elapsed >= deadlineNanos) {
      log.warn(
          "{} did not send a whole frame within {} ms; closing", peer, config.readDeadlineMillis());
      close(new ConnectionClosedException("frame not complete within the read deadline"));
    } else {
      deadlineCheck =
          loop.schedule(this::checkDeadline, deadlineNanos - elapsed, TimeUnit.NANOSECONDS);
    }
  }

  private void armDeadline() {
    if (deadlineCheck == null) {
      deadlineCheck =
          loop.schedule(this::checkDeadline, config.readDeadlineMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * A header that breaks the framing: answer it if its request id can be trusted, then close once
   * the replies already queued (to earlier, valid frames) are written.
   */
  private void refuseStream(byte[] badHeader, ProtocolException e) {
    log.warn("closing the connection from {}: {}", peer, e.getMessage());
    readingStopped = true;
    frameStartNanos = 0;
    Channel ch = channel;
    if (ch != null) {
      ch.config().setAutoRead(false);
    }
    boolean magicOk = Frames.readInt(badHeader, 0) == Frames.MAGIC;
    if (magicOk && Frames.kindOf(badHeader) == Frames.KIND_REQUEST) {
      refuse(Frames.requestIdOf(badHeader), e.code(), e.getMessage());
    }
    closeAfterFlush();
  }

  /** Frames from the (decrypted) byte stream, and the link's life-cycle events. */
  private final class Reader extends ByteToMessageDecoder {

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      if (!tls) {
        becameReady();
      }
      super.channelActive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof SslHandshakeCompletionEvent done) {
        if (done.isSuccess()) {
          if (accepted) {
            admitFromHandshake();
          }
          becameReady();
        } else {
          handshakeFailed(done.cause());
        }
        return;
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
      if (ctx.channel().isWritable()) {
        drain();
      }
      super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      super.channelInactive(ctx);
      if (isClosed()) {
        return;
      }
      if (!ready && !accepted) {
        close(
            new ConnectFailedException(
                "cannot connect to "
                    + peer
                    + ": "
                    + (tls
                        ? "the connection closed during the TLS handshake (does the peer speak"
                            + " TLS?)"
                        : "closed"),
                null));
      } else if (frameStartNanos != 0) {
        log.warn("{} closed the connection in the middle of a frame", peer);
        close(new ConnectionClosedException("closed by the peer in the middle of a frame"));
      } else {
        log.debug("{} closed the connection", peer);
        close(new ConnectionClosedException("closed by the peer"));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable failure) {
      Throwable cause = failure;
      while (cause instanceof DecoderException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (isClosed()) {
        return;
      }
      if (tls && (cause instanceof SSLException || cause instanceof NotSslRecordException)) {
        // In TLS 1.3 a client learns that the server refused its certificate only after its own
        // side of the handshake completed: an alert before any frame is still a refused connect.
        if (!ready || (!accepted && !receivedFrame)) {
          handshakeFailed(cause);
        } else {
          log.warn("TLS error on the connection with {}: {}", peer, describe(cause));
          close(new ConnectionClosedException("TLS error: " + describe(cause), null));
        }
        return;
      }
      if (cause instanceof IOException) {
        log.debug("connection with {} failed: {}", peer, cause.toString());
        close(new ConnectionClosedException("read failed: " + cause.getMessage(), null));
        return;
      }
      log.warn("unexpected failure on the connection with {}", peer, cause);
      close(new ConnectionClosedException("unexpected failure: " + cause, null));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (readingStopped || isClosed()) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (tls && accepted && !admitted) {
        admitFromHandshake(); // data comes only after the handshake, whatever the event order
      }
      boolean completed = false;
      while (!readingStopped && !isClosed() && in.readableBytes() >= Frames.HEADER_BYTES) {
        int start = in.readerIndex();
        in.getBytes(start, header);
        Frames.Header parsed;
        try {
          parsed = Frames.parseHeader(header, 0, config.frameBytesMax());
        } catch (ProtocolException e) {
          refuseStream(header.clone(), e);
          in.skipBytes(in.readableBytes());
          return;
        }
        int length = parsed.bodyLength();
        if (in.readableBytes() - Frames.HEADER_BYTES < length) {
          break;
        }
        byte[] body;
        int offset;
        if (in.hasArray()) {
          body = in.array();
          offset = in.arrayOffset() + start + Frames.HEADER_BYTES;
        } else {
          if (length <= SCRATCH_BYTES_MAX) {
            if (scratch.length < length) {
              scratch = new byte[Math.min(SCRATCH_BYTES_MAX, Math.max(length, 2 * scratch.length))];
            }
            body = scratch;
          } else {
            body = new byte[length];
          }
          in.getBytes(start + Frames.HEADER_BYTES, body, 0, length);
          offset = 0;
        }
        in.readerIndex(start + Frames.HEADER_BYTES + length);
        completed = true;
        receivedFrame = true;
        dispatch(parsed, body, offset);
      }
      if (!in.isReadable() || readingStopped) {
        frameStartNanos = 0;
      } else {
        if (completed || frameStartNanos == 0) {
          frameStartNanos = System.nanoTime();
        }
        armDeadline();
      }
    }
  }
}

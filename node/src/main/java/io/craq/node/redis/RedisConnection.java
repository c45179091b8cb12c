package io.craq.node.redis;

import io.craq.transport.security.LinkSession;
import io.craq.transport.security.Principal;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;

/**
 * One client connection, served on its channel's event loop: every byte that one read brought is
 * parsed into commands, each command is started (a future of its reply), and the replies are
 * written in the order the commands came, all that are ready in one write and one flush. Pipelined
 * commands run concurrently; a reply that is not ready holds back the later ones (in order) until
 * it completes, when its completion hands the connection back to the event loop.
 *
 * <p>Memory per connection is bounded (see {@link RedisServer#PENDING_MAX} and {@link
 * RedisServer#HELD_BYTES_MAX}): while more replies wait than the count or the byte budget allow
 * (held here behind a reply that is not ready, or written and not yet taken by the client), the
 * connection stops reading, so a client that sends without reading is slowed down, not refused.
 *
 * <p>Only the channel's event loop touches the fields (replies complete on other threads and hand
 * over to it), so nothing here is locked.
 */
final class RedisConnection extends ChannelInboundHandlerAdapter {
  /** A reply the connection waits for, the protocol it is written in, and what it holds. */
  private static final class Pending {
    final CompletableFuture<Object> reply;
    final int protocol;

    /** The most its reply may take before it completes: counted in {@link #inFlightBytes}. */
    final long potential;

    /** Its size once it completed and was counted in {@link #heldBytes}, else -1. */
    long size = -1;

    boolean watched;
    boolean timedOut;
    ScheduledFuture<?> timeout;

    Pending(CompletableFuture<Object> reply, int protocol, long potential) {
      this.reply = reply;
      this.protocol = protocol;
      this.potential = potential;
    }
  }

  final long id;
  private final RedisServer server;
  private final RespReader reader;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final long startedNanos = System.nanoTime();
  private ChannelHandlerContext ctx;

  /** Input not parsed yet (the rest of a read while reading is paused, or a partial line). */
  private ByteBuf buffered;

  /** Bytes of completed replies held in {@link #pending}, not yet written. */
  private long heldBytes;

  /** The most the replies of {@link #pending} that did not complete yet may take. */
  private long inFlightBytes;

  /** A command read but not started: the budget had no room for its reply. */
  private List<byte[]> deferred;

  /** No more commands are taken: QUIT, a protocol error, or the client's end of input. */
  private boolean closing;

  private boolean inputClosed;
  private boolean paused;
  private boolean closeRequested;
  private boolean tlsFailed;

  /**
   * Who the client proved to be: {@link LinkSession#OPEN} without authentication; else without a
   * principal until AUTH (or a client certificate) succeeds.
   */
  LinkSession session;

  /** The cluster, on behalf of {@link #session}. */
  ChainAccess access;

  /**
   * The reply to an AUTH (or HELLO ... AUTH) whose password is checked off the loop, or null: no
   * further command is read until it completes, so that the next one runs as the user it names.
   */
  CompletableFuture<Object> authInFlight;

  /** The client proved to be {@code value}: its commands from now on are made on its behalf. */
  void authenticated(LinkSession value) {
    session = value;
    access = server.access(value);
  }

  /** 2 or 3, as HELLO chose. */
  int protocol = 2;

  volatile String name;

  /** The last write command's reply, and the reads started since (see RedisCommands#dispatch). */
  CompletableFuture<?> lastWrite = CompletableFuture.completedFuture(null);

  /**
   * Completes once the last write command has been handed to the node in order: at once for a plain
   * write (the node's queue keeps the order from there), at its end for one that reads first (see
   * RedisCommands#dispatch).
   */
  CompletableFuture<?> lastWriteIssued = CompletableFuture.completedFuture(null);

  final List<CompletableFuture<?>> readsSinceWrite = new ArrayList<>();

  RedisConnection(long id, RedisServer server, LinkSession session) {
    this.id = id;
    this.server = server;
    this.session = session;
    this.access = server.access(session);
    this.reader =
        new RespReader(server.bulkBytesMax(), RedisServer.ARGS_MAX, server.commandBytesMax());
  }

  /** QUIT: the connection closes once this command's reply is written. */
  void closeAfterReply() {
    closing = true;
  }

  /** The channel's event loop, which alone touches this connection's fields. */
  Executor loop() {
    return ctx.executor();
  }

  String peer() {
    return ctx == null ? "?" : String.valueOf(ctx.channel().remoteAddress());
  }

  String describe() {
    long age = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos);
    return "id="
        + id
        + " addr="
        + peer()
        + " name="
        + (name == null ? "" : name)
        + " age="
        + age
        + " db=0 resp="
        + protocol;
  }

  /** Closes the connection from any thread. */
  void close() {
    if (ctx != null) {
      ctx.close();
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (buffered != null) {
      buffered.release();
      buffered = null;
    }
    for (Pending p : pending) {
      if (p.timeout != null) {
        p.timeout.cancel(false);
      }
    }
    pending.clear();
    heldBytes = 0;
    inFlightBytes = 0;
    deferred = null;
    closing = true;
    server.closed(this);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf in = (ByteBuf) msg;
    if (closing) {
      in.release();
      return;
    }
    if (buffered == null) {
      buffered = in;
    } else {
      try {
        buffered = appended(buffered, in);
      } finally {
        in.release();
      }
    }
    serve();
  }

  /** {@code in} after {@code buffered}'s unread bytes, in one buffer. */
  private ByteBuf appended(ByteBuf buffered, ByteBuf in) {
    ByteBuf all = ctx.alloc().buffer(buffered.readableBytes() + in.readableBytes());
    all.writeBytes(buffered).writeBytes(in);
    buffered.release();
    return all;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    drain();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    drain(); // the client took replies: reading may go on
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof SslHandshakeCompletionEvent done) {
      if (done.isSuccess()) {
        admitCertificate(ctx);
      } else {
        Throwable cause = done.cause();
        while (cause instanceof DecoderException && cause.getCause() != null) {
          cause = cause.getCause();
        }
        tlsFailed(cause);
        ctx.close();
      }
      return;
    }
    if (event instanceof ChannelInputShutdownEvent) {
      inputClosed = true;
      drain();
    }
    ReferenceCountUtil.release(event);
  }

  /**
   * After the TLS handshake: a client certificate (verified against the client CA) names the user
   * the connection is, as on the node's own port; without one, or when authentication is off,
   * nothing changes.
   */
  private void admitCertificate(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null || !server.authenticationRequired()) {
      return;
    }
    X509Certificate leaf;
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      leaf = (X509Certificate) chain[0];
    } catch (SSLPeerUnverifiedException e) {
      return; // no client certificate: AUTH it is
    }
    String subject = leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
    String commonName = commonName(subject);
    Principal principal = commonName == null ? null : server.forCertificate(this, commonName);
    if (principal != null) {
      authenticated(new LinkSession(subject, principal));
    }
  }

  private static String commonName(String subject) {
    try {
      for (Rdn rdn : new LdapName(subject).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable tls = cause;
    while (tls instanceof DecoderException && tls.getCause() != null) {
      tls = tls.getCause();
    }
    if (tls instanceof SSLException) {
      tlsFailed(tls); // not TLS (a plaintext client), or a bad record: this connection only
    } else {
      server.connectionFailed(this, cause);
    }
    ctx.close();
  }

  /** One log line per connection whose TLS failed (the handshake event may follow the error). */
  private void tlsFailed(Throwable cause) {
    if (!tlsFailed) {
      tlsFailed = true;
      server.tlsFailed(this, cause);
    }
  }

  /**
   * Starts the commands that {@link #buffered} holds, in batches the node answers together (one
   * read-only round for all the reads of a batch), while the budgets allow; stops reading from the
   * client when they do not.
   */
  private void serve() {
    while (!closing) {
      server.batch(this::parse);
      if (!blocked()) {
        return; // every command of this read started
      }
      writeReady(); // what completed goes to the client; then there may be room again
      if (blocked()) {
        pause(); // reading goes on when replies complete or the client takes them (drain)
        return;
      }
    }
  }

  /** Starts commands while input and room for their replies last. */
  private void parse() {
    while (!closing && !overBudget()) {
      List<byte[]> args = deferred;
      if (args == null) {
        if (buffered == null) {
          break;
        }
        try {
          args = reader.next(buffered);
        } catch (RespProtocolException e) {
          server.protocolError(this, e.getMessage());
          closing = true;
          add(
              CompletableFuture.completedFuture(
                  new Resp.Err("ERR Protocol error: " + e.getMessage())),
              0);
          break;
        }
        if (args == null) {
          break;
        }
        if (args.isEmpty()) {
          continue;
        }
      }
      if (!fits(args)) {
        deferred = args; // started once the replies before it completed or were written
        break;
      }
      deferred = null;
      server.commandStarted();
      long potential = potential(args);
      add(server.commands().dispatch(this, args), potential);
    }
    if (buffered != null && !buffered.isReadable()) {
      buffered.release();
      buffered = null;
    }
  }

  /** The most bytes the reply to {@code args} may take: the values it may return. */
  private long potential(List<byte[]> args) {
    return Math.min(
        (long) RedisCommands.valuesReturned(args) * server.valueBytesMax(),
        RedisCommands.MGET_REPLY_BYTES_MAX);
  }

  /** True if the reply to {@code args} fits in the byte budget; always when nothing is held. */
  private boolean fits(List<byte[]> args) {
    return pending.isEmpty()
        || heldBytes + inFlightBytes + potential(args) <= RedisServer.HELD_BYTES_MAX;
  }

  private void add(CompletableFuture<Object> reply, long potential) {
    Pending p = new Pending(reply, protocol, potential);
    pending.add(p);
    inFlightBytes += potential;
    count(p);
  }

  /** Counts a completed reply's bytes in {@link #heldBytes} (once), instead of its potential. */
  private void count(Pending p) {
    if (p.size < 0 && p.reply.isDone()) {
      p.size = RespWriter.size(value(p.reply));
      heldBytes += p.size;
      inFlightBytes -= p.potential;
    }
  }

  /** True while the budgets leave no room for the next command (read, or still to read). */
  private boolean blocked() {
    return overBudget() || (deferred != null && !fits(deferred));
  }

  private boolean overBudget() {
    return (authInFlight != null && !authInFlight.isDone())
        || pending.size() >= RedisServer.PENDING_MAX
        || heldBytes + inFlightBytes > RedisServer.HELD_BYTES_MAX
        || !ctx.channel().isWritable();
  }

  private void pause() {
    if (!paused) {
      paused = true;
      server.readsPaused();
      ctx.channel().config().setAutoRead(false);
    }
  }

  /**
   * Writes what is ready, takes input that waited for the budget, and closes the connection once
   * nothing more is to come; on the event loop.
   */
  private void drain() {
    if (!ctx.channel().isActive()) {
      return;
    }
    writeReady();
    if (paused && !blocked()) {
      paused = false;
      serve();
      if (!paused && !closing) {
        ctx.channel().config().setAutoRead(true);
      }
      writeReady();
    }
    closeIfDone();
  }

  /** Writes every reply that is ready, in order, in one write and one flush. */
  private void writeReady() {
    ByteBuf out = null;
    RespWriter writer = null;
    boolean allDone = true;
    Pending p;
    while ((p = pending.peek()) != null) {
      Object reply;
      if (p.reply.isDone()) {
        reply = value(p.reply);
        if (p.timeout != null) {
          p.timeout.cancel(false);
        }
      } else if (p.timedOut) {
        allDone = false; // still running: later commands must keep waiting for it
        reply = Resp.err("no answer within " + RedisServer.REPLY_TIMEOUT.toSeconds() + " s");
      } else {
        watch(p);
        break;
      }
      pending.poll();
      if (p.size >= 0) {
        heldBytes -= p.size;
      } else {
        inFlightBytes -= p.potential; // not counted yet (completed just now, or timed out)
      }
      if (out == null) {
        out = ctx.alloc().ioBuffer();
        writer = new RespWriter(out);
      }
      writer.write(reply, p.protocol);
    }
    if (pending.isEmpty() && allDone) {
      readsSinceWrite.clear(); // every command started so far completed: nothing to wait for
    }
    if (!pending.isEmpty()) {
      for (Pending later : pending) {
        count(later); // replies done behind the one that is not: held here
      }
    }
    if (out != null) {
      ctx.writeAndFlush(out, ctx.voidPromise());
    }
  }

  /** Hands the connection back to the event loop when {@code p} completes or times out. */
  private void watch(Pending p) {
    if (p.watched) {
      return;
    }
    p.watched = true;
    p.reply.whenComplete((r, t) -> ctx.executor().execute(this::drain));
    p.timeout =
        ctx.executor()
            .schedule(
                () -> {
                  p.timedOut = true;
                  drain();
                },
                RedisServer.REPLY_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
  }

  private void closeIfDone() {
    if (!pending.isEmpty() || paused || deferred != null) {
      return; // replies to write, or commands still to start from what the client sent
    }
    if (inputClosed && !closing) {
      if (reader.inCommand(buffered == null ? Unpooled.EMPTY_BUFFER : buffered)) {
        server.protocolError(this, "the client closed the connection inside a command");
      }
      closing = true;
    }
    if (closing && !closeRequested) {
      closeRequested = true; // once the replies written before are flushed
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static Object value(CompletableFuture<Object> reply) {
    try {
      return reply.join();
    } catch (CompletionException | CancellationException e) {
      return ChainAccess.translate(e).reply();
    }
  }
}

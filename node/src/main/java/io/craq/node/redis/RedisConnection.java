package io.craq.node.redis;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

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

    /** Its size once it completed and was counted in {@link #heldBytes}, else -1. */
    long size = -1;

    boolean watched;
    boolean timedOut;
    ScheduledFuture<?> timeout;

    Pending(CompletableFuture<Object> reply, int protocol) {
      this.reply = reply;
      this.protocol = protocol;
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

  /** No more commands are taken: QUIT, a protocol error, or the client's end of input. */
  private boolean closing;

  private boolean inputClosed;
  private boolean paused;

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

  RedisConnection(long id, RedisServer server) {
    this.id = id;
    this.server = server;
    this.reader =
        new RespReader(server.bulkBytesMax(), RedisServer.ARGS_MAX, server.commandBytesMax());
  }

  /** QUIT: the connection closes once this command's reply is written. */
  void closeAfterReply() {
    closing = true;
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
    parse();
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
    if (event instanceof ChannelInputShutdownEvent) {
      inputClosed = true;
      drain();
    }
    ReferenceCountUtil.release(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    server.connectionFailed(this, cause);
    ctx.close();
  }

  /** Starts the commands that {@link #buffered} holds, while the budgets allow. */
  private void parse() {
    while (!closing && buffered != null) {
      if (overBudget()) {
        writeReady(); // what is ready goes to the client; read on only if that was enough
        if (overBudget()) {
          pause();
          break;
        }
      }
      List<byte[]> args;
      try {
        args = reader.next(buffered);
      } catch (RespProtocolException e) {
        server.protocolError(this, e.getMessage());
        closing = true;
        add(
            CompletableFuture.completedFuture(
                new Resp.Err("ERR Protocol error: " + e.getMessage())));
        break;
      }
      if (args == null) {
        break;
      }
      if (!args.isEmpty()) {
        server.commandStarted();
        add(server.commands().dispatch(this, args));
      }
    }
    if (buffered != null && !buffered.isReadable()) {
      buffered.release();
      buffered = null;
    }
  }

  private void add(CompletableFuture<Object> reply) {
    Pending p = new Pending(reply, protocol);
    pending.add(p);
    count(p);
  }

  /** Counts a completed reply's bytes in {@link #heldBytes} (once). */
  private void count(Pending p) {
    if (p.size < 0 && p.reply.isDone()) {
      p.size = RespWriter.size(value(p.reply));
      heldBytes += p.size;
    }
  }

  private boolean overBudget() {
    return pending.size() >= RedisServer.PENDING_MAX
        || heldBytes > RedisServer.HELD_BYTES_MAX
        || !ctx.channel().isWritable();
  }

  private void pause() {
    if (!paused) {
      paused = true;
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
    while (paused && !overBudget()) {
      paused = false;
      int before = pending.size();
      parse();
      if (pending.size() > before) {
        writeReady();
      }
      if (!paused && !closing) {
        ctx.channel().config().setAutoRead(true);
      }
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
      if (p.size > 0) {
        heldBytes -= p.size;
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
    if (!pending.isEmpty()) {
      return;
    }
    if (inputClosed && !closing) {
      if (reader.inCommand(buffered == null ? io.netty.buffer.Unpooled.EMPTY_BUFFER : buffered)) {
        server.protocolError(this, "the client closed the connection inside a command");
      }
      closing = true;
    }
    if (closing) {
      ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
          .addListener(ChannelFutureListener.CLOSE);
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

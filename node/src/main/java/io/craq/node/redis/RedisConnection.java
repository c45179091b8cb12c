package io.craq.node.redis;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One client connection, served by one virtual thread: it reads commands, starts each one (a future
 * of its reply), and writes the replies in the order the commands came. Pipelined commands run
 * concurrently; their replies are written when the reader would otherwise wait for input, or when
 * {@link RedisServer#PENDING_MAX} replies wait, so a client that sends without reading holds at
 * most that many replies here.
 */
final class RedisConnection implements Runnable {
  /** A reply the connection waits for, and the protocol it is written in. */
  private record Pending(CompletableFuture<Object> reply, int protocol) {}

  final long id;
  final Socket socket;
  private final RedisServer server;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final long startedNanos = System.nanoTime();
  private RespWriter writer;
  private boolean closing;

  /** 2 or 3, as HELLO chose; only this connection's thread reads or writes the fields below. */
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

  final List<CompletableFuture<?>> readsSinceWrite = new java.util.ArrayList<>();

  RedisConnection(long id, Socket socket, RedisServer server) {
    this.id = id;
    this.socket = socket;
    this.server = server;
  }

  /** QUIT: the connection closes once this command's reply is written. */
  void closeAfterReply() {
    closing = true;
  }

  String peer() {
    return String.valueOf(socket.getRemoteSocketAddress());
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

  @Override
  public void run() {
    try (socket) {
      socket.setTcpNoDelay(true);
      writer = new RespWriter(new BufferedOutputStream(socket.getOutputStream(), 16 << 10));
      RespReader reader =
          new RespReader(
              socket.getInputStream(),
              server.bulkBytesMax(),
              RedisServer.ARGS_MAX,
              server.commandBytesMax());
      serve(reader);
    } catch (IOException e) {
      server.connectionFailed(this, e);
    } finally {
      server.closed(this);
    }
  }

  private void serve(RespReader reader) throws IOException {
    while (!closing) {
      List<byte[]> args;
      try {
        args = reader.read(this::flushReplies);
      } catch (RespProtocolException e) {
        flushReplies();
        writer.write(new Resp.Err("ERR Protocol error: " + e.getMessage()), protocol);
        writer.flush();
        server.protocolError(this, e.getMessage());
        return;
      } catch (EOFException e) {
        flushReplies();
        server.protocolError(this, "the client closed the connection inside a command");
        return;
      }
      if (args == null) {
        flushReplies();
        return;
      }
      if (args.isEmpty()) {
        continue;
      }
      server.commandStarted();
      CompletableFuture<Object> reply = server.commands().dispatch(this, args);
      pending.add(new Pending(reply, protocol));
      if (pending.size() >= RedisServer.PENDING_MAX) {
        flushReplies();
      }
    }
    flushReplies();
  }

  /** Writes every waiting reply in order (waiting for each), then flushes. */
  private void flushReplies() throws IOException {
    Pending next;
    boolean allDone = true;
    while ((next = pending.poll()) != null) {
      Object reply;
      try {
        reply = next.reply().get(RedisServer.REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        reply = ChainAccess.translate(e).reply();
      } catch (TimeoutException e) {
        allDone = false; // still running: later commands must keep waiting for it
        reply = Resp.err("no answer within " + RedisServer.REPLY_TIMEOUT.toSeconds() + " s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("stopping");
      }
      writer.write(reply, next.protocol());
    }
    if (allDone) {
      readsSinceWrite.clear(); // every command started so far completed: nothing to wait for
    }
    writer.flush();
  }
}

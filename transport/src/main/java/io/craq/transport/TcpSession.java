package io.craq.transport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP socket: a writer thread that drains the outbound queue (several frames per flush) and a
 * reader thread that reads frames under the read deadline and dispatches them. Both are virtual
 * threads. A dialing session connects from its writer thread, so nothing blocks the caller.
 */
final class TcpSession extends Endpoint {
  private static final Logger log = LoggerFactory.getLogger(TcpSession.class);
  /** Bodies up to this size are allocated at once; larger ones grow as their bytes arrive. */
  private static final int BODY_CHUNK_BYTES = 64 << 10;
  private static final int READ_BUFFER_BYTES = 64 << 10;

  private final TcpTransport transport;
  private final TransportConfig config;
  private final OutboundQueue queue;
  private final InetSocketAddress dialAddress;
  private volatile Socket socket;
  private final Thread writer;
  private volatile Thread reader;
  /** Whoever holds it writes to {@link #out}: the writer thread or an inline caller. */
  private final ReentrantLock writeLock = new ReentrantLock();
  /** Wake-up tokens for the writer thread. */
  private final Semaphore writerWakeups = new Semaphore(0);
  /** The buffered socket stream, set once connected; guarded by {@link #writeLock}. */
  private volatile OutputStream out;
  /** Frames written inline since the last inbound frame; see {@link #writeQueued}. */
  private final AtomicInteger inlineStreak = new AtomicInteger();
  private static final int INLINE_STREAK_MAX = 2;

  private TcpSession(TcpTransport transport, Handler handler, String peer, Socket socket,
      InetSocketAddress dialAddress) {
    super(transport.codec(), handler,
        new PendingRequests(transport.config().inFlightRequestsMax(), transport.sweeper(), peer),
        peer);
    this.transport = transport;
    this.config = transport.config();
    this.queue = new OutboundQueue(config.outboundQueueMessagesMax(),
        config.outboundQueueBytesMax());
    this.socket = socket;
    this.dialAddress = dialAddress;
    this.writer = threadBuilder().name("craq-tcp-writer " + peer).unstarted(this::writeLoop);
  }

  /** A session that dials {@code address} from its writer thread. */
  static TcpSession dial(TcpTransport transport, Handler handler, String peer,
      InetSocketAddress address) {
    TcpSession session = new TcpSession(transport, handler, peer, null, address);
    session.writer.start();
    return session;
  }

  /** A session over a socket a server accepted; not running until {@link #start()}. */
  static TcpSession accepted(TcpTransport transport, Handler handler, Socket socket) {
    String peer = socket.getInetAddress().getHostAddress() + ":" + socket.getPort();
    return new TcpSession(transport, handler, peer, socket, null);
  }

  /** Starts reading and writing an accepted socket. */
  void start() {
    startReader();
    writer.start();
  }

  private Thread.Builder threadBuilder() {
    return config.virtualThreads() ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
  }

  /**
   * Queues the frame; then, if the connection is idle, writes the queue on this thread (inline
   * write, saving a hand-off), else wakes the writer thread. Order is kept because frames are only
   * ever taken from the queue under {@link #writeLock}.
   */
  @Override
  boolean offerFrame(byte[] frame) {
    if (isClosed() || !queue.offer(frame)) {
      return false;
    }
    if (Thread.currentThread() == reader) {
      // A handler answering on the reader thread: written when the reader runs out of buffered
      // input (flushBeforeBlocking), so pipelined requests get their replies in one write.
      return true;
    }
    writeQueued();
    return true;
  }

  /**
   * Writes the queue inline if the connection looks idle, else leaves it to the writer thread.
   * "Idle" means the writer lock is free and fewer than {@link #INLINE_STREAK_MAX} frames were
   * written inline since the last inbound frame: a caller pipelining many messages then goes
   * through the writer thread, which writes everything queued with one flush (batching), while
   * request/response traffic keeps writing inline.
   */
  private void writeQueued() {
    if (config.inlineWrites() && out != null && inlineStreak.get() < INLINE_STREAK_MAX
        && writeLock.tryLock()) {
      inlineStreak.incrementAndGet();
      try {
        drainLocked();
      } catch (IOException e) {
        writeFailed(e);
      } finally {
        writeLock.unlock();
      }
      if (!queue.isEmpty()) {
        writerWakeups.release();
      }
    } else {
      writerWakeups.release();
    }
  }

  /** Called by the reader before it may block: sends the replies its handler queued. */
  private void flushBeforeBlocking(ReadBuffer in, int needed) {
    if (in.buffered() < needed && !queue.isEmpty()) {
      writeQueued();
    }
  }

  @Override
  void closeLink() {
    Socket s = socket;
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        log.debug("closing socket to {}", peer, e);
      }
    }
    writer.interrupt();
    queue.clear();
    transport.forget(this);
  }

  private void startReader() {
    Thread thread = threadBuilder().name("craq-tcp-reader " + peer).unstarted(this::readLoop);
    reader = thread; // assigned before it runs: offerFrame compares against it
    thread.start();
  }

  // ------------------------------------------------------------------------------------ writing

  private boolean connect() {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      if (config.dialTrafficClass() != TransportConfig.DIAL_TRAFFIC_CLASS_NONE) {
        s.setTrafficClass(config.dialTrafficClass());
      }
      s.connect(dialAddress, (int) Math.min(Integer.MAX_VALUE, config.connectTimeoutMillis()));
    } catch (IOException e) {
      closeQuietly(s);
      log.debug("cannot connect to {}: {}", peer, e.toString());
      close(new ConnectFailedException("cannot connect to " + peer + ": " + e.getMessage(), e));
      return false;
    }
    socket = s;
    if (isClosed()) {
      closeQuietly(s);
      return false;
    }
    startReader();
    return true;
  }

  private void writeLoop() {
    if (socket == null && !connect()) {
      return;
    }
    try {
      out = new BufferedOutputStream(socket.getOutputStream(), config.writeBatchBytesMax());
      while (!isClosed()) {
        writerWakeups.acquire();
        writerWakeups.drainPermits();
        writeLock.lock();
        try {
          drainLocked();
        } finally {
          writeLock.unlock();
        }
      }
    } catch (InterruptedException e) {
      // close() interrupts the writer: nothing more to write.
    } catch (IOException e) {
      writeFailed(e);
    }
  }

  /** Writes every queued frame, flushing every writeBatchBytesMax bytes and at the end. */
  private void drainLocked() throws IOException {
    int batchBytes = 0;
    byte[] frame;
    while ((frame = queue.poll()) != null) {
      if (frame == OutboundQueue.CLOSE_MARKER) {
        out.flush();
        close(new ConnectionClosedException("closed after a protocol error"));
        return;
      }
      out.write(frame);
      batchBytes += frame.length;
      if (batchBytes >= config.writeBatchBytesMax()) {
        out.flush();
        transport.countFlush();
        batchBytes = 0;
      }
    }
    if (batchBytes > 0) {
      out.flush();
      transport.countFlush();
    }
  }

  private void writeFailed(IOException e) {
    if (!isClosed()) {
      log.debug("write to {} failed: {}", peer, e.toString());
      close(new ConnectionClosedException("write failed: " + e.getMessage(), e));
    }
  }

  /** Writes what is queued (an error reply, say), then closes; forced after the read deadline. */
  private void closeAfterFlush() {
    queue.offerCloseMarker();
    writerWakeups.release();
    transport.timer().schedule(() -> close(new ConnectionClosedException(
        "closed after a protocol error")), config.readDeadlineMillis(), TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------------------------ reading

  private void readLoop() {
    byte[] header = new byte[Frames.HEADER_BYTES];
    try {
      ReadBuffer in = new ReadBuffer(socket.getInputStream(), READ_BUFFER_BYTES);
      while (!isClosed()) {
        flushBeforeBlocking(in, 1);
        socket.setSoTimeout(0); // an idle connection may wait for its next frame indefinitely
        int first = in.read();
        if (first < 0) {
          log.debug("{} closed the connection", peer);
          close(new ConnectionClosedException("closed by the peer"));
          return;
        }
        long deadlineNanos = System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(config.readDeadlineMillis());
        header[0] = (byte) first;
        readFully(in, header, 1, Frames.HEADER_BYTES - 1, deadlineNanos);
        Frames.Header parsed;
        try {
          parsed = Frames.parseHeader(header, 0, config.frameBytesMax());
        } catch (ProtocolException e) {
          refuseStream(header, e);
          return;
        }
        byte[] body = readBody(in, parsed.bodyLength(), deadlineNanos);
        inlineStreak.set(0);
        dispatch(parsed, body, 0);
      }
    } catch (SocketTimeoutException e) {
      log.warn("{} did not send a whole frame within {} ms; closing", peer,
          config.readDeadlineMillis());
      close(new ConnectionClosedException("frame not complete within the read deadline"));
    } catch (EOFException e) {
      log.warn("{} closed the connection in the middle of a frame", peer);
      close(new ConnectionClosedException("closed by the peer in the middle of a frame"));
    } catch (IOException e) {
      if (!isClosed()) {
        log.debug("read from {} failed: {}", peer, e.toString());
        close(new ConnectionClosedException("read failed: " + e.getMessage(), e));
      }
    }
  }

  /**
   * A header that breaks the framing: answer it if its request id can be trusted, then close once
   * the replies already queued (to earlier, valid frames) are written.
   */
  private void refuseStream(byte[] header, ProtocolException e) {
    log.warn("closing the connection from {}: {}", peer, e.getMessage());
    boolean magicOk = Frames.readInt(header, 0) == Frames.MAGIC;
    if (magicOk && Frames.kindOf(header) == Frames.KIND_REQUEST) {
      refuse(Frames.requestIdOf(header), e.code(), e.getMessage());
    }
    closeAfterFlush();
  }

  /**
   * Reads a body whose length was already checked against frameBytesMax. A large body grows as its
   * bytes arrive, so a header alone cannot make us allocate frameBytesMax.
   */
  private byte[] readBody(ReadBuffer in, int length, long deadlineNanos) throws IOException {
    if (length <= BODY_CHUNK_BYTES) {
      byte[] body = new byte[length];
      readFully(in, body, 0, length, deadlineNanos);
      return body;
    }
    byte[] body = new byte[BODY_CHUNK_BYTES];
    int filled = 0;
    while (filled < length) {
      if (filled == body.length) {
        body = Arrays.copyOf(body, (int) Math.min(length, 2L * body.length));
      }
      int chunk = body.length - filled;
      readFully(in, body, filled, chunk, deadlineNanos);
      filled += chunk;
    }
    return body;
  }

  private void readFully(ReadBuffer in, byte[] bytes, int offset, int length, long deadlineNanos)
      throws IOException {
    int done = 0;
    while (done < length) {
      flushBeforeBlocking(in, length - done);
      long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (remainingMillis <= 0) {
        throw new SocketTimeoutException("read deadline passed");
      }
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remainingMillis));
      int n = in.read(bytes, offset + done, length - done);
      if (n < 0) {
        throw new EOFException();
      }
      done += n;
    }
  }

  /** A read buffer that tells how many bytes it holds (reading them cannot block). */
  private static final class ReadBuffer extends BufferedInputStream {
    ReadBuffer(InputStream in, int size) {
      super(in, size);
    }

    synchronized int buffered() {
      return count - pos;
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }
}

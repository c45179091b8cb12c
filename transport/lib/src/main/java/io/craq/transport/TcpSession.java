package io.craq.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP connection, served by one {@link EventLoop}: non-blocking reads on the loop thread,
 * complete frames dispatched there; writes from whichever thread queued the frame.
 *
 * <p>Writing: frames are queued in a bounded {@link OutboundQueue}. A frame queued on the loop
 * thread (a handler's reply, a send from a handler) is written at the end of the loop's pass, with
 * everything else queued meanwhile, in one system call. A frame queued on another thread is written
 * at once on that thread (non-blocking; {@link TransportConfig#inlineWrites()}), or by the loop
 * when inline writes are off or the thread is sending a burst (see {@link #offerFrame}). What the
 * kernel does not take is kept and written when the socket is writable again (OP_WRITE); meanwhile
 * frames keep queuing up to the queue's bounds.
 *
 * <p>Reading: one read per readiness event into a 64 KiB buffer, every complete frame in it
 * dispatched in order straight from the buffer (the codec copies what it keeps). A frame larger
 * than the buffer gets its own array, grown as its bytes arrive, so a header alone never makes us
 * allocate its announced length. A frame must be complete within the read deadline of its first
 * byte.
 */
final class TcpSession extends Endpoint implements EventLoop.Ready {
  private static final Logger log = LoggerFactory.getLogger(TcpSession.class);

  /** Bodies too large for the read buffer start at this size and double as their bytes arrive. */
  private static final int BODY_CHUNK_BYTES = 64 << 10;

  private static final int READ_BUFFER_BYTES = 64 << 10;

  /** The write buffer is writeBatchBytesMax, but never more than this. */
  private static final int WRITE_BUFFER_BYTES_MAX = 1 << 20;

  private final TcpTransport transport;
  private final TransportConfig config;
  private final EventLoop loop;
  private final OutboundQueue queue;
  private final SocketChannel channel;

  /** Null for an accepted connection. */
  private final InetSocketAddress dialAddress;

  private volatile boolean connected;
  private long connectDeadlineNanos;

  // ---- loop thread only
  private SelectionKey key;

  /** Set by {@link EventLoop#flushLater}. */
  boolean flushScheduled;

  private final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES);

  /** The header and the body read so far of a frame larger than {@link #in}. */
  private Frames.Header largeHeader;

  private byte[] largeBody;
  private int largeFilled;

  /** When the first byte of the incomplete frame arrived; 0 when no frame is incomplete. */
  private long frameStartNanos;

  /** After a framing error nothing more is read. */
  private boolean readingStopped;

  /** Reading waits for an authentication checked off the loop (see Endpoint#pauseReads). */
  private boolean readsPaused;

  // ---- guarded by writeLock
  private final ReentrantLock writeLock = new ReentrantLock();

  /** Bytes taken from the queue but not yet written, in read mode. */
  private ByteBuffer out;

  /** A frame too large for {@link #out}, written on its own; null if none. */
  private ByteBuffer large;

  /** A frame taken from the queue that did not fit in {@link #out}. */
  private byte[] carry;

  /** The kernel did not take everything: the loop writes the rest when the socket is writable. */
  private volatile boolean waitingForWritable;

  /** Frames written inline since the last inbound frame; see {@link #offerFrame}. */
  private final AtomicInteger inlineStreak = new AtomicInteger();

  private static final int INLINE_STREAK_MAX = 2;

  /** A flush by the loop was asked for and has not run yet. */
  private final AtomicBoolean loopFlushPending = new AtomicBoolean();

  /**
   * The sessions this thread queued frames to while it holds its writes back ({@link
   * #batchWrites}), in the order first used; null when it does not hold them.
   */
  private static final ThreadLocal<List<TcpSession>> HELD = new ThreadLocal<>();

  private TcpSession(
      TcpTransport transport,
      EventLoop loop,
      Handler handler,
      String peer,
      SocketChannel channel,
      InetSocketAddress dialAddress) {
    super(
        transport.codec(),
        handler,
        new PendingRequests(transport.config().inFlightRequestsMax(), transport.sweeper(), peer),
        peer);
    this.transport = transport;
    this.config = transport.config();
    this.loop = loop;
    this.queue =
        new OutboundQueue(config.outboundQueueMessagesMax(), config.outboundQueueBytesMax());
    this.channel = channel;
    this.dialAddress = dialAddress;
    this.connected = dialAddress == null;
  }

  /** A session that connects to {@code address} without blocking the caller. */
  static TcpSession dial(
      TcpTransport transport,
      EventLoop loop,
      Handler handler,
      String peer,
      InetSocketAddress address) {
    SocketChannel channel;
    try {
      channel = SocketChannel.open();
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      if (transport.config().dialTrafficClass() != TransportConfig.DIAL_TRAFFIC_CLASS_NONE) {
        channel.setOption(StandardSocketOptions.IP_TOS, transport.config().dialTrafficClass());
      }
    } catch (IOException e) {
      throw new ConnectFailedException(
          "cannot open a socket to " + peer + ": " + e.getMessage(), e);
    }
    TcpSession session = new TcpSession(transport, loop, handler, peer, channel, address);
    session.connectDeadlineNanos =
        System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(transport.config().connectTimeoutMillis());
    loop.execute(session::registerAndConnect);
    return session;
  }

  /** A session over a channel a server accepted; served once {@link #start()} is called. */
  static TcpSession accepted(
      TcpTransport transport, EventLoop loop, Handler handler, SocketChannel channel)
      throws IOException {
    channel.configureBlocking(false);
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
    String peer = remote.getAddress().getHostAddress() + ":" + remote.getPort();
    return new TcpSession(transport, loop, handler, peer, channel, null);
  }

  /** Starts serving an accepted channel. */
  void start() {
    loop.execute(this::register);
  }

  // ------------------------------------------------------------------------- registration

  private void register() {
    if (isClosed()) {
      return;
    }
    try {
      key = channel.register(loop.selector(), 0, this);
    } catch (IOException | RuntimeException e) {
      close(new ConnectionClosedException("cannot register with the event loop: " + e, e));
      return;
    }
    loop.add(this);
    updateInterest();
    if (!queue.isEmpty()) {
      loop.flushLater(this);
    }
  }

  private void registerAndConnect() {
    if (isClosed()) {
      return;
    }
    boolean done;
    try {
      done = channel.connect(dialAddress);
    } catch (IOException | RuntimeException e) {
      connectFailed(e);
      return;
    }
    register();
    if (done) {
      onConnected();
    }
  }

  private void finishConnect() {
    try {
      if (!channel.finishConnect()) {
        return;
      }
    } catch (IOException | RuntimeException e) {
      connectFailed(e);
      return;
    }
    onConnected();
  }

  private void onConnected() {
    connected = true;
    updateInterest();
    loop.flushLater(this);
  }

  private void connectFailed(Exception e) {
    log.debug("cannot connect to {}: {}", peer, e.toString());
    String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    close(new ConnectFailedException("cannot connect to " + peer + ": " + why, e));
  }

  /** OP_READ unless reading stopped, OP_CONNECT until connected, OP_WRITE while waiting for it. */
  private void updateInterest() {
    if (key == null || !key.isValid()) {
      return;
    }
    int ops;
    if (!connected) {
      ops = SelectionKey.OP_CONNECT;
    } else {
      ops =
          (readingStopped || readsPaused ? 0 : SelectionKey.OP_READ)
              | (waitingForWritable ? SelectionKey.OP_WRITE : 0);
    }
    try {
      if (key.interestOps() != ops) {
        key.interestOps(ops);
      }
    } catch (CancelledKeyException e) {
      // closed by another thread since the check above: nothing to select for any more
    }
  }

  @Override
  public void onReady(SelectionKey readyKey) {
    int ready = readyKey.readyOps();
    if ((ready & SelectionKey.OP_CONNECT) != 0) {
      finishConnect();
      return;
    }
    if ((ready & SelectionKey.OP_WRITE) != 0) {
      onWritable();
    }
    if ((ready & SelectionKey.OP_READ) != 0 && !isClosed() && !readingStopped) {
      onReadable();
    }
  }

  /** Connect timeout and read deadline; called by the loop now and then. */
  void checkDeadlines(long nowNanos) {
    if (isClosed()) {
      loop.remove(this);
    } else if (!connected && dialAddress != null && nowNanos - connectDeadlineNanos >= 0) {
      connectFailed(
          new IOException("connect timed out after " + config.connectTimeoutMillis() + " ms"));
    } else if (frameStartNanos != 0
        && !readsPaused
        && nowNanos - frameStartNanos
            >= TimeUnit.MILLISECONDS.toNanos(config.readDeadlineMillis())) {
      log.warn(
          "{} did not send a whole frame within {} ms; closing", peer, config.readDeadlineMillis());
      close(new ConnectionClosedException("frame not complete within the read deadline"));
    }
  }

  // ------------------------------------------------------------------------------ writing

  /**
   * Queues the frame and writes it now or soon (see the class comment). A thread that is not the
   * loop's writes inline only while the connection looks like request/response traffic: fewer than
   * {@link #INLINE_STREAK_MAX} frames since the last inbound one. A caller sending a burst thus
   * hands it to the loop, which writes everything queued meanwhile in one system call.
   */
  @Override
  boolean offerFrame(byte[] frame) {
    if (isClosed() || !queue.offer(frame)) {
      return false;
    }
    List<TcpSession> held = HELD.get();
    if (held != null && !loop.inLoop()) {
      if (!held.contains(this)) {
        held.add(this);
      }
      return true;
    }
    if (loop.inLoop()) {
      loop.flushLater(this);
    } else if (config.inlineWrites() && inlineStreak.get() < INLINE_STREAK_MAX) {
      inlineStreak.incrementAndGet();
      flush();
    } else if (loopFlushPending.compareAndSet(false, true)) {
      loop.execute(() -> {
        loopFlushPending.set(false);
        loop.flushLater(this);
      });
    }
    return true;
  }

  /**
   * Runs {@code action}, holding back the frames this thread queues meanwhile, then writes each
   * connection's in one go (see {@link Transport#batchWrites}). Nested calls join the outer one.
   */
  static void batchWrites(Runnable action) {
    HeldWrites.run(HELD, action, TcpSession::writeHeld);
  }

  /** Writes the frames a batch held back: inline if the connection allows it, else by the loop. */
  private void writeHeld() {
    if (config.inlineWrites()) {
      flush();
    } else if (loopFlushPending.compareAndSet(false, true)) {
      loop.execute(() -> {
        loopFlushPending.set(false);
        loop.flushLater(this);
      });
    }
  }

  /**
   * Writes what is queued without blocking, on any thread. A thread that finds another writing
   * leaves the work to it: the writer looks at the queue again after it lets go of the lock, so no
   * frame is left behind.
   */
  void flush() {
    while (!isClosed() && connected && !waitingForWritable && !queue.isEmpty()) {
      if (!writeLock.tryLock()) {
        return;
      }
      try {
        writeLocked();
      } catch (IOException e) {
        writeFailed(e);
      } finally {
        writeLock.unlock();
      }
    }
  }

  private void onWritable() {
    writeLock.lock();
    try {
      waitingForWritable = false;
      writeLocked();
    } catch (IOException e) {
      writeFailed(e);
    } finally {
      writeLock.unlock();
    }
    updateInterest();
    flush();
  }

  /**
   * Writes pending bytes, then queued frames, until the queue is empty or the kernel takes no more;
   * in the latter case asks the loop for OP_WRITE. Caller holds {@link #writeLock}.
   */
  private void writeLocked() throws IOException {
    if (out == null) {
      out =
          ByteBuffer.allocateDirect(Math.min(config.writeBatchBytesMax(), WRITE_BUFFER_BYTES_MAX))
              .flip();
    }
    while (!isClosed()) {
      if (out.hasRemaining() && !writeSome(out)) {
        return;
      }
      if (large != null) {
        if (!writeSome(large)) {
          return;
        }
        large = null;
      }
      if (!fill()) {
        return;
      }
    }
  }

  /** Writes from {@code buffer}; false (and OP_WRITE requested) if some is left. */
  private boolean writeSome(ByteBuffer buffer) throws IOException {
    transport.countFlush(); // before the write: a peer that received the bytes sees it counted
    channel.write(buffer);
    if (!buffer.hasRemaining()) {
      return true;
    }
    waitingForWritable = true;
    if (loop.inLoop()) {
      updateInterest();
    } else {
      loop.execute(this::updateInterest);
    }
    return false;
  }

  /**
   * Takes frames from the queue into {@link #out} (or {@link #large}); false if there was nothing
   * to take. Handles the close marker: everything before it is written first.
   */
  private boolean fill() {
    out.clear();
    if (carry == null) {
      carry = queue.poll();
    }
    while (carry != null) {
      if (carry == OutboundQueue.CLOSE_MARKER) {
        if (out.position() == 0) {
          carry = null;
          out.flip();
          close(new ConnectionClosedException("closed after a protocol error"));
          return false;
        }
        break; // write what is before it first
      }
      if (carry.length > out.remaining()) {
        if (out.position() == 0) {
          large = ByteBuffer.wrap(carry);
          carry = queue.poll();
        }
        break;
      }
      out.put(carry);
      carry = queue.poll();
    }
    out.flip();
    return out.hasRemaining() || large != null;
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
    loop.flushLater(this);
    transport
        .timer()
        .schedule(
            () -> close(new ConnectionClosedException("closed after a protocol error")),
            config.readDeadlineMillis(),
            TimeUnit.MILLISECONDS);
  }

  @Override
  void closeLink() {
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing the socket to {}", peer, e);
    }
    queue.clear();
    transport.forget(this);
    // The selector releases the socket at its next select: wake it so the peer sees the close now.
    loop.execute(() -> loop.remove(this));
  }

  // ------------------------------------------------------------------------------ reading

  @Override
  boolean pauseReads() {
    readsPaused = true;
    updateInterest();
    return true;
  }

  @Override
  void resumeReads() {
    readsPaused = false;
    if (frameStartNanos != 0) {
      frameStartNanos = System.nanoTime(); // the pause does not count against the read deadline
    }
    updateInterest();
  }

  @Override
  void onLinkThread(Runnable task) {
    loop.execute(task);
  }

  private void onReadable() {
    int n;
    try {
      n = largeBody != null ? readLarge() : channel.read(in);
    } catch (IOException e) {
      if (!isClosed()) {
        log.debug("read from {} failed: {}", peer, e.toString());
        close(new ConnectionClosedException("read failed: " + e.getMessage(), e));
      }
      return;
    }
    if (n < 0) {
      if (frameStartNanos != 0 || in.position() > 0) {
        log.warn("{} closed the connection in the middle of a frame", peer);
        close(new ConnectionClosedException("closed by the peer in the middle of a frame"));
      } else {
        log.debug("{} closed the connection", peer);
        close(new ConnectionClosedException("closed by the peer"));
      }
      return;
    }
    if (largeBody == null) {
      parseFrames();
    }
  }

  /** Dispatches every complete frame in {@link #in}; keeps the incomplete rest. */
  private void parseFrames() {
    in.flip();
    byte[] bytes = in.array();
    boolean completed = false;
    while (!isClosed() && !readingStopped && in.remaining() >= Frames.HEADER_BYTES) {
      int start = in.position();
      Frames.Header header;
      try {
        header = Frames.parseHeader(bytes, start, config.frameBytesMax());
      } catch (ProtocolException e) {
        refuseStream(Arrays.copyOfRange(bytes, start, start + Frames.HEADER_BYTES), e);
        in.clear();
        return;
      }
      int frameBytes = Frames.HEADER_BYTES + header.bodyLength();
      if (frameBytes > in.capacity()) {
        startLarge(header, start);
        return;
      }
      if (in.remaining() < frameBytes) {
        break;
      }
      in.position(start + frameBytes);
      completed = true;
      inlineStreak.set(0);
      dispatch(header, bytes, start + Frames.HEADER_BYTES);
    }
    in.compact();
    if (in.position() == 0) {
      frameStartNanos = 0;
    } else if (completed || frameStartNanos == 0) {
      frameStartNanos = System.nanoTime();
    }
  }

  /** A frame larger than the read buffer: its body gets an array of its own. */
  private void startLarge(Frames.Header header, int start) {
    int bodyStart = start + Frames.HEADER_BYTES;
    int buffered = in.limit() - bodyStart; // < body length, since the frame exceeds the buffer
    largeHeader = header;
    largeBody = new byte[Math.max(buffered, Math.min(header.bodyLength(), BODY_CHUNK_BYTES))];
    System.arraycopy(in.array(), bodyStart, largeBody, 0, buffered);
    largeFilled = buffered;
    in.clear();
    if (frameStartNanos == 0 || start > 0) {
      frameStartNanos = System.nanoTime();
    }
  }

  private int readLarge() throws IOException {
    int length = largeHeader.bodyLength();
    if (largeFilled == largeBody.length) {
      largeBody = Arrays.copyOf(largeBody, (int) Math.min(length, 2L * largeBody.length));
    }
    int n = channel.read(ByteBuffer.wrap(largeBody, largeFilled, largeBody.length - largeFilled));
    if (n > 0) {
      largeFilled += n;
      if (largeFilled == length) {
        byte[] body = largeBody;
        Frames.Header header = largeHeader;
        largeBody = null;
        largeHeader = null;
        frameStartNanos = 0;
        inlineStreak.set(0);
        dispatch(header, body, 0);
      }
    }
    return n;
  }

  /**
   * A header that breaks the framing: answer it if its request id can be trusted, then close once
   * the replies already queued (to earlier, valid frames) are written.
   */
  private void refuseStream(byte[] header, ProtocolException e) {
    log.warn("closing the connection from {}: {}", peer, e.getMessage());
    readingStopped = true;
    frameStartNanos = 0;
    updateInterest();
    boolean magicOk = Frames.readInt(header, 0) == Frames.MAGIC;
    if (magicOk && Frames.kindOf(header) == Frames.KIND_REQUEST) {
      refuse(Frames.requestIdOf(header), e.code(), e.getMessage());
    }
    closeAfterFlush();
  }
}

package io.craq.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain TCP transport: the frame format of docs/PROTOCOL.md over non-blocking sockets with
 * TCP_NODELAY. Connections are spread over {@link TransportConfig#ioThreads()} {@link EventLoop}s
 * (one thread and one selector each, however many connections); each listening address has a thread
 * blocked in accept; one timer thread per transport expires requests. Thread-safe.
 */
public final class TcpTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(TcpTransport.class);

  private static final long CLOSE_WAIT_MILLIS = 5_000;
  private static final long ACCEPT_RETRY_PAUSE_MILLIS = 50;

  private final TransportConfig config;
  private final MessageCodec codec;
  private final TimeoutSweeper sweeper;
  private final EventLoop[] loops;
  private final java.util.concurrent.atomic.AtomicInteger nextLoop =
      new java.util.concurrent.atomic.AtomicInteger();
  private final Set<TcpServer> servers = ConcurrentHashMap.newKeySet();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final Set<TcpSession> sessions = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  private final java.util.concurrent.atomic.LongAdder flushes =
      new java.util.concurrent.atomic.LongAdder();

  private final Admission admission;

  /**
   * A plain TCP transport. Authentication ({@link
   * io.craq.transport.security.Security#authenticator} and {@code credentials}) works as over TLS;
   * TLS itself is {@link NettyTransport}'s.
   *
   * @throws IllegalArgumentException if the configuration asks for TLS
   */
  public TcpTransport(TransportConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    if (config.security().tls() != null) {
      throw new IllegalArgumentException(
          "TcpTransport does not speak TLS: open the transport with Transports.open");
    }
    this.admission = new Admission(config.security());
    this.codec = new MessageCodec(config);
    this.sweeper = new TimeoutSweeper("craq-tcp-timer");
    this.loops = new EventLoop[config.effectiveIoThreads()];
    for (int i = 0; i < loops.length; i++) {
      loops[i] = new EventLoop("craq-tcp-io-" + i);
    }
  }

  public TcpTransport() {
    this(TransportConfig.DEFAULT);
  }

  TransportConfig config() {
    return config;
  }

  MessageCodec codec() {
    return codec;
  }

  ScheduledExecutorService timer() {
    return sweeper.executor();
  }

  TimeoutSweeper sweeper() {
    return sweeper;
  }

  /** Socket flushes so far, over all connections (each is one write system call or more). */
  long flushCount() {
    return flushes.sum();
  }

  void countFlush() {
    flushes.increment();
  }

  /** The loop of the next new connection: round robin. */
  private EventLoop nextLoop() {
    return loops[Math.floorMod(nextLoop.getAndIncrement(), loops.length)];
  }

  static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      log.debug("closing {} failed", closeable, e);
    }
  }

  void forget(TcpSession session) {
    sessions.remove(session);
  }

  private void checkOpen() {
    if (closed) {
      throw new ConnectionClosedException("transport is closed");
    }
  }

  @Override
  public Server listen(String address, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    Addresses.HostPort hostPort = Addresses.parse(address);
    checkOpen();
    ServerSocketChannel serverSocket = null;
    try {
      serverSocket = ServerSocketChannel.open();
      serverSocket.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      serverSocket.bind(hostPort.bindAddress(), 1024);
    } catch (IOException e) {
      if (serverSocket != null) {
        closeQuietly(serverSocket);
      }
      throw new ListenFailedException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
    TcpServer server = new TcpServer(serverSocket, hostPort, handler);
    servers.add(server);
    server.start();
    return server;
  }

  @Override
  public Connection connect(String address, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    InetSocketAddress dial = Addresses.parse(address).dialAddress();
    checkOpen();
    Connection[] self = new Connection[1];
    ReconnectingConnection connection =
        new ReconnectingConnection(address, codec, () -> connections.remove(self[0])) {
          @Override
          Endpoint open() {
            checkOpen();
            TcpSession session =
                TcpSession.dial(TcpTransport.this, nextLoop(), handler, address, dial);
            sessions.add(session);
            if (config.security().credentials() != null) {
              session.authenticateFirst(config.security().credentials(), authTimeoutNanos(config));
            }
            return session;
          }
        };
    self[0] = connection;
    connections.add(connection);
    return connection;
  }

  /** How long a dialed link waits for the answer to its credentials: connect, then a frame. */
  static long authTimeoutNanos(TransportConfig config) {
    return java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
        config.connectTimeoutMillis() + config.readDeadlineMillis());
  }

  @Override
  public void batchWrites(Runnable action) {
    TcpSession.batchWrites(action);
  }

  @Override
  public void close() {
    closed = true;
    servers.forEach(TcpServer::close);
    connections.forEach(Connection::close);
    sessions.forEach(s -> s.close(new ConnectionClosedException("transport closed")));
    for (EventLoop loop : loops) {
      loop.close();
    }
    sweeper.close();
  }

  private final class TcpServer implements Server {
    private final ServerSocketChannel serverSocket;
    private final String address;
    private final Handler handler;
    private final Set<TcpSession> accepted = ConcurrentHashMap.newKeySet();
    private final RateLimitedWarning refusals = new RateLimitedWarning(1_000_000_000L);
    private volatile boolean serverClosed;
    private volatile Thread acceptor;

    TcpServer(ServerSocketChannel serverSocket, Addresses.HostPort requested, Handler handler) {
      this.serverSocket = serverSocket;
      this.address =
          (requested.host().isEmpty()
                  ? ""
                  : requested.host().contains(":")
                      ? "[" + requested.host() + "]"
                      : requested.host())
              + ":"
              + serverSocket.socket().getLocalPort();
      this.handler = handler;
    }

    void start() {
      acceptor = Thread.ofVirtual().name("craq-tcp-accept " + address).start(this::acceptLoop);
    }

    private void acceptLoop() {
      while (!serverClosed) {
        SocketChannel socket;
        try {
          socket = serverSocket.accept();
        } catch (IOException e) {
          if (!serverClosed) {
            log.warn("accept on {} failed: {}", address, e.toString());
            pauseAfterAcceptFailure();
          }
          continue;
        }
        accepted.removeIf(Endpoint::isClosed);
        if (accepted.size() >= config.acceptedConnectionsMax()) {
          // Bounded like every other table: refuse at once rather than run out of descriptors.
          refusals.warn(
              log,
              "{} refused a connection from {}: {} connections open (limit)",
              address,
              remoteOf(socket),
              accepted.size());
          closeQuietly(socket);
          continue;
        }
        TcpSession session;
        try {
          session = TcpSession.accepted(TcpTransport.this, nextLoop(), handler, socket);
        } catch (IOException e) {
          log.debug("setting up an accepted socket failed: {}", e.toString());
          closeQuietly(socket);
          continue;
        }
        session.admit(admission.plain(), admission);
        // Registered before it runs, and checked against a concurrent close() afterwards, so
        // close() never misses a session that has already served requests.
        sessions.add(session);
        accepted.add(session);
        accepted.removeIf(Endpoint::isClosed);
        session.start();
        if (serverClosed) {
          session.close(new ConnectionClosedException("server closed"));
        }
      }
    }

    private static String remoteOf(SocketChannel socket) {
      try {
        return String.valueOf(socket.getRemoteAddress());
      } catch (IOException e) {
        return "?";
      }
    }

    /** Out of file descriptors, say: do not spin on a failing accept. */
    private void pauseAfterAcceptFailure() {
      try {
        Thread.sleep(ACCEPT_RETRY_PAUSE_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        serverClosed = true;
      }
    }

    @Override
    public String address() {
      return address;
    }

    @Override
    public void close() {
      serverClosed = true;
      try {
        serverSocket.close();
      } catch (IOException e) {
        log.debug("closing server socket {}", address, e);
      }
      accepted.forEach(s -> s.close(new ConnectionClosedException("server closed")));
      servers.remove(this);
      // The socket is released only when the accept thread has left accept(): wait for it, so
      // that the address can be bound again as soon as close() returns.
      Thread thread = acceptor;
      if (thread != null && thread != Thread.currentThread()) {
        try {
          thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}

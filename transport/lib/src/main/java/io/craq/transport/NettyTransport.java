package io.craq.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport on Netty: the frame format of docs/PROTOCOL.md, over TLS 1.3 when the
 * configuration's {@link io.craq.transport.security.Security#tls()} is set (mutual: see {@link
 * Admission} for who a connection is), over plain TCP otherwise. Native epoll where available, NIO
 * elsewhere; {@link TransportConfig#effectiveIoThreads()} event-loop threads serve every
 * connection, accepting included. The same bounds as {@link TcpTransport}: frame size, outbound
 * queue (a full queue refuses), requests in flight, read deadline, connect timeout, accepted
 * connections.
 *
 * <p>{@link Transports#open} returns it whenever TLS is on, and for plain TCP when the system
 * property {@code craq.transport=netty} is set. Thread-safe.
 */
public final class NettyTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(NettyTransport.class);

  private static final long CLOSE_WAIT_MILLIS = 5_000;

  /** Set to false to use NIO even where native epoll is available (for comparisons). */
  public static final String EPOLL_PROPERTY = "craq.netty.epoll";

  private final TransportConfig config;
  private final MessageCodec codec;
  private final TimeoutSweeper sweeper;
  private final EventLoopGroup group;
  private final boolean epoll;
  private final TlsContexts tls;
  private final Admission admission;
  private final WriteBufferWaterMark waterMark;
  private final Set<NettyServer> servers = ConcurrentHashMap.newKeySet();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final Set<NettyLink> links = ConcurrentHashMap.newKeySet();
  final RateLimitedWarning handshakeWarnings = new RateLimitedWarning(1_000_000_000L);
  final RateLimitedWarning refusals = new RateLimitedWarning(1_000_000_000L);
  private volatile boolean closed;

  /**
   * A transport for {@code config}; loads its TLS material now.
   *
   * @throws IllegalArgumentException if the TLS files cannot be read or do not fit together
   */
  public NettyTransport(TransportConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.codec = new MessageCodec(config);
    this.sweeper = new TimeoutSweeper("craq-netty-timer");
    this.admission = new Admission(config.security());
    try {
      this.tls =
          config.security().tls() == null
              ? null
              : new TlsContexts(config.security().tls(), sweeper.executor());
    } catch (RuntimeException e) {
      sweeper.close();
      throw e;
    }
    this.epoll = Epoll.isAvailable() && !"false".equals(System.getProperty(EPOLL_PROPERTY));
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.group =
        new MultiThreadIoEventLoopGroup(
            config.effectiveIoThreads(), new DefaultThreadFactory("craq-netty-io", true), io);
    int low = Math.max(32 << 10, config.writeBatchBytesMax());
    this.waterMark = new WriteBufferWaterMark(low, 2 * low);
  }

  public NettyTransport() {
    this(TransportConfig.DEFAULT);
  }

  TransportConfig config() {
    return config;
  }

  MessageCodec codec() {
    return codec;
  }

  TimeoutSweeper sweeper() {
    return sweeper;
  }

  ScheduledExecutorService timer() {
    return sweeper.executor();
  }

  /** The TLS material of new connections, or null without TLS. */
  TlsContexts.Material tls() {
    return tls == null ? null : tls.current();
  }

  Admission admission() {
    return admission;
  }

  /** True if this transport runs on native epoll (else NIO). */
  public boolean usesEpoll() {
    return epoll;
  }

  /** True if this transport speaks TLS. */
  public boolean usesTls() {
    return tls != null;
  }

  void forget(NettyLink link) {
    links.remove(link);
  }

  private void checkOpen() {
    if (closed) {
      throw new ConnectionClosedException("transport is closed");
    }
  }

  private Class<? extends Channel> channelClass() {
    return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  private Class<? extends ServerChannel> serverChannelClass() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  @Override
  public Server listen(String address, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    Addresses.HostPort hostPort = Addresses.parse(address);
    checkOpen();
    if (tls != null && !config.security().tls().hasCertificate()) {
      throw new IllegalArgumentException(
          "TLS: listening needs this process's certificate and key (--tls-cert, --tls-key)");
    }
    NettyServer server = new NettyServer(hostPort, handler);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(serverChannelClass())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    server.accept(channel);
                  }
                });
    ChannelFuture bound;
    try {
      bound = bootstrap.bind(hostPort.bindAddress()).awaitUninterruptibly();
    } catch (RejectedExecutionException e) {
      throw new ConnectionClosedException("transport is closed");
    }
    if (!bound.isSuccess()) {
      Throwable cause = bound.cause();
      throw new ListenFailedException(
          "cannot listen on " + address + ": " + (cause == null ? "failed" : cause.getMessage()),
          cause);
    }
    server.started(bound.channel());
    servers.add(server);
    if (closed) {
      server.close();
      throw new ConnectionClosedException("transport is closed");
    }
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
            return dial(address, dial, handler);
          }
        };
    self[0] = connection;
    connections.add(connection);
    return connection;
  }

  private NettyLink dial(String peer, InetSocketAddress address, Handler handler) {
    EventLoop loop = group.next();
    NettyLink link = new NettyLink(this, loop, handler, peer, false);
    links.add(link);
    if (config.security().credentials() != null) {
      link.authenticateFirst(
          config.security().credentials(), TcpTransport.authTimeoutNanos(config));
    }
    TlsContexts.Material material = tls();
    Bootstrap bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(channelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, config.connectTimeoutMillis()))
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    SslHandler ssl = null;
                    if (material != null) {
                      ssl =
                          material.client.newHandler(
                              channel.alloc(), address.getHostString(), address.getPort());
                      ssl.setHandshakeTimeoutMillis(config.connectTimeoutMillis());
                    }
                    link.install(channel, ssl, material);
                  }
                });
    if (config.dialTrafficClass() != TransportConfig.DIAL_TRAFFIC_CLASS_NONE) {
      bootstrap.option(ChannelOption.IP_TOS, config.dialTrafficClass());
    }
    ChannelFuture connecting;
    try {
      connecting = bootstrap.connect(address);
    } catch (RejectedExecutionException e) {
      link.close(new ConnectionClosedException("transport is closed"));
      return link;
    }
    link.attach(connecting.channel());
    connecting.addListener(future -> {
      if (!future.isSuccess()) {
        link.connectFailed(future.cause());
      }
    });
    return link;
  }

  @Override
  public void batchWrites(Runnable action) {
    NettyLink.batchWrites(action);
  }

  @Override
  public void close() {
    closed = true;
    servers.forEach(NettyServer::close);
    connections.forEach(Connection::close);
    links.forEach(l -> l.close(new ConnectionClosedException("transport closed")));
    if (tls != null) {
      tls.close();
    }
    var terminated = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    boolean onLoop = false;
    for (var executor : group) {
      onLoop |= executor.inEventLoop();
    }
    if (!onLoop) {
      terminated.awaitUninterruptibly(CLOSE_WAIT_MILLIS);
    }
    sweeper.close();
  }

  private final class NettyServer implements Server {
    private final Addresses.HostPort requested;
    private final Handler handler;
    private final Set<NettyLink> accepted = ConcurrentHashMap.newKeySet();
    private volatile Channel channel;
    private volatile String address;
    private volatile boolean serverClosed;

    NettyServer(Addresses.HostPort requested, Handler handler) {
      this.requested = requested;
      this.handler = handler;
    }

    void started(Channel bound) {
      channel = bound;
      int port = ((InetSocketAddress) bound.localAddress()).getPort();
      address =
          (requested.host().isEmpty()
                  ? ""
                  : requested.host().contains(":")
                      ? "[" + requested.host() + "]"
                      : requested.host())
              + ":"
              + port;
    }

    /** Sets up an accepted channel, on its event loop. */
    void accept(Channel child) {
      accepted.removeIf(Endpoint::isClosed);
      if (serverClosed || closed) {
        child.close();
        return;
      }
      if (accepted.size() >= config.acceptedConnectionsMax()) {
        refusals.warn(
            log,
            "{} refused a connection from {}: {} connections open (limit)",
            address,
            child.remoteAddress(),
            accepted.size());
        child.close();
        return;
      }
      InetSocketAddress remote = (InetSocketAddress) child.remoteAddress();
      String peer =
          remote == null ? "?" : remote.getAddress().getHostAddress() + ":" + remote.getPort();
      NettyLink link = new NettyLink(NettyTransport.this, child.eventLoop(), handler, peer, true);
      TlsContexts.Material material = tls();
      SslHandler ssl = null;
      if (material != null) {
        ssl = material.server.newHandler(child.alloc());
        // A handshake is a few frames' worth of work: the read deadline, but never less than a
        // connect may take.
        ssl.setHandshakeTimeoutMillis(
            Math.max(config.readDeadlineMillis(), config.connectTimeoutMillis()));
      } else {
        link.admit(admission.plain(), admission);
      }
      link.attach(child);
      link.install(child, ssl, material);
      links.add(link);
      accepted.add(link);
      if (serverClosed) {
        link.close(new ConnectionClosedException("server closed"));
      }
    }

    @Override
    public String address() {
      return address;
    }

    @Override
    public void close() {
      serverClosed = true;
      Channel bound = channel;
      if (bound != null) {
        ChannelFuture closing = bound.close();
        if (!bound.eventLoop().inEventLoop()) {
          // The address can be bound again as soon as close() returns.
          closing.awaitUninterruptibly(CLOSE_WAIT_MILLIS);
        }
      }
      accepted.forEach(l -> l.close(new ConnectionClosedException("server closed")));
      servers.remove(this);
    }
  }
}

package io.craq.node.redis;

import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.core.Limits;
import io.craq.node.NodeServer;
import io.craq.transport.Addresses;
import io.craq.transport.RateLimitedWarning;
import io.craq.transport.security.AuthenticationException;
import io.craq.transport.security.Authenticator;
import io.craq.transport.security.Authorization;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.PasswordChecks;
import io.craq.transport.security.Principal;
import io.craq.transport.security.Security;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A port that speaks the Redis protocol (RESP2, and RESP3 after {@code HELLO 3}) in front of a
 * node: {@code redis-cli}, {@code redis-benchmark} and Redis client libraries read and write the
 * cluster through it, every read strong. See docs/REDIS.md for the commands and what differs from
 * Redis.
 *
 * <p>Connections are served by a few event-loop threads (Netty; epoll where available): each read
 * of a connection is parsed into commands, which start at once, and the replies that are ready go
 * out in one write (see {@link RedisConnection}). Commands are answered by the node in this process
 * ({@link NodeServer#request}; a strong read of a clean key usually completes on the event loop
 * itself, in the node's read-only round) or, for keys of chains this node does not lead or hold, by
 * a {@link CraqClient} this port keeps, so no thread ever waits on a Redis client. Memory per
 * connection is bounded: see {@link RespReader}, {@link #PENDING_MAX} and {@link #HELD_BYTES_MAX}.
 *
 * <p>TLS: a {@link SslContext} given to {@link #start(String, NodeServer, List, int, SslContext)}
 * puts its handler first in every connection's pipeline; the RESP handler sees plain bytes either
 * way.
 */
public final class RedisServer implements AutoCloseable {
  /** Connections at once; more are answered with an error and closed. */
  public static final int CONNECTIONS_MAX = 10_000;

  /** Replies a connection holds for a client that pipelines without reading. */
  static final int PENDING_MAX = 256;

  /**
   * Reply bytes a connection holds before it stops reading from its client: replies that wait
   * behind one not ready yet, and, as much again, replies written but not yet taken by the client.
   * Reading goes on once the client took them (backpressure, not an error).
   */
  static final int HELD_BYTES_MAX = 16 << 20;

  /** Arguments of one command at most (MGET, DEL, EXISTS take many keys). */
  static final int ARGS_MAX = 4096;

  /** The longest a reply is waited for; the client's own deadlines end it much earlier. */
  static final Duration REPLY_TIMEOUT = Duration.ofSeconds(60);

  /** Event-loop threads serving the connections; at most the processors, at most 4. */
  static final int IO_THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());

  /**
   * Native epoll instead of NIO ({@code -Dcraq.redis.epoll=true}). Off by default: with epoll, a
   * connection that stopped reading (backpressure) and whose client ended its input could lose its
   * epoll registration (Netty 4.2.18: {@code epoll_ctl} fails with ENOENT), cutting its last
   * replies short.
   */
  static final boolean EPOLL = Boolean.getBoolean("craq.redis.epoll");

  private static final Logger log = LoggerFactory.getLogger(RedisServer.class);

  private final EventLoopGroup group;
  private final NodeServer node;
  private final Channel listener;
  private final CraqClient client;
  private final RedisCommands commands;
  private final ChainAccess access;
  private final int valueBytesMax;
  private final String nodeId;
  private final Authenticator authenticator;
  private final Authorization authorization;

  /** Null without TLS; closed with the server when it is {@link AutoCloseable}. */
  private final Supplier<SslContext> tls;

  private final RateLimitedWarning authWarning =
      new RateLimitedWarning(TimeUnit.SECONDS.toNanos(1));
  private final AtomicLong authFailures = new AtomicLong();
  private final Set<RedisConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong nextId = new AtomicLong(1);
  private final AtomicLong connectionsReceived = new AtomicLong();
  private final AtomicLong connectionsRejected = new AtomicLong();
  private final AtomicLong commandsProcessed = new AtomicLong();
  private final AtomicLong protocolErrors = new AtomicLong();
  private final AtomicLong readsPaused = new AtomicLong();
  private final RateLimitedWarning protocolWarning =
      new RateLimitedWarning(TimeUnit.SECONDS.toNanos(1));
  private final long startedNanos = System.nanoTime();
  private volatile boolean closed;

  private RedisServer(
      EventLoopGroup group,
      Class<? extends ServerChannel> channelType,
      InetSocketAddress bindAddress,
      String listenAddress,
      NodeServer node,
      CraqClient client,
      int valueBytesMax,
      Authenticator authenticator,
      Supplier<SslContext> tls)
      throws IOException {
    this.group = group;
    this.tls = tls;
    this.authenticator = authenticator;
    this.authorization = Authorization.of(authenticator);
    this.node = node;
    this.client = client;
    this.valueBytesMax = valueBytesMax;
    this.nodeId = node.nodeId();
    this.access = new ChainAccess(node, client);
    this.commands = new RedisCommands(access, this, valueBytesMax);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(HELD_BYTES_MAX / 2, HELD_BYTES_MAX))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    accept(channel, tls);
                  }
                });
    try {
      this.listener = bootstrap.bind(bindAddress).syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      throw new IOException(
          "cannot listen for Redis clients on " + listenAddress + ": " + e.getMessage(), e);
    }
  }

  /**
   * Listens on {@code listenAddress} ({@code :PORT} = all interfaces, port 0 = any) for Redis
   * clients of {@code node}; keys the node does not answer go through a client of the cluster that
   * asks {@code coordinators}.
   *
   * @throws IOException if the address cannot be bound
   */
  public static RedisServer start(
      String listenAddress, NodeServer node, List<String> coordinators, int valueBytesMax)
      throws IOException {
    return start(listenAddress, node, coordinators, valueBytesMax, null);
  }

  /**
   * As {@link #start(String, NodeServer, List, int)}; with {@code tls} not null, every connection
   * speaks TLS first (its handler is the first of the pipeline). No authentication.
   *
   * @throws IOException if the address cannot be bound
   */
  public static RedisServer start(
      String listenAddress,
      NodeServer node,
      List<String> coordinators,
      int valueBytesMax,
      SslContext tls)
      throws IOException {
    return start(
        listenAddress,
        node,
        coordinators,
        valueBytesMax,
        Security.NONE,
        tls == null ? null : () -> tls);
  }

  /**
   * As {@link #start(String, NodeServer, List, int)}, secured as the node is: with an authenticator
   * in {@code security}, every connection must {@code AUTH} (or present a client certificate)
   * before any other command, and its user's role decides what it may do; the port's own client of
   * the cluster (for keys this node does not answer) dials with the TLS settings and credentials of
   * {@code security}. With {@code tls} not null, every connection speaks TLS first.
   *
   * @throws IOException if the address cannot be bound
   */
  public static RedisServer start(
      String listenAddress,
      NodeServer node,
      List<String> coordinators,
      int valueBytesMax,
      Security security,
      Supplier<SslContext> tls)
      throws IOException {
    Addresses.HostPort address = Addresses.parse(listenAddress);
    boolean epoll = EPOLL && Epoll.isAvailable();
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            IO_THREADS,
            new DefaultThreadFactory("redis-io", true),
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    CraqClient client = null;
    try {
      client =
          CraqClient.connect(
              ClientConfig.defaults(coordinators)
                  .withValueBytesMax(valueBytesMax)
                  .withSecurity(security));
      RedisServer server =
          new RedisServer(
              group,
              epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class,
              address.bindAddress(),
              listenAddress,
              node,
              client,
              valueBytesMax,
              security.authenticator(),
              tls);
      log.info(
          "Redis protocol port listening on {} ({} event loops, {}{}{})",
          server.listenAddress(),
          IO_THREADS,
          epoll ? "epoll" : "NIO",
          tls != null ? ", TLS" : "",
          security.authenticationRequired() ? ", AUTH required" : "");
      return server;
    } catch (IOException | RuntimeException e) {
      if (client != null) {
        client.close();
      }
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
  }

  /** The bound address as host:port (the port chosen if 0 was asked). */
  public String listenAddress() {
    InetSocketAddress bound = (InetSocketAddress) listener.localAddress();
    String host = bound.getAddress().isAnyLocalAddress() ? "" : bound.getAddress().getHostAddress();
    return host + ":" + bound.getPort();
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  RedisCommands commands() {
    return commands;
  }

  int valueBytesMax() {
    return valueBytesMax;
  }

  int bulkBytesMax() {
    return valueBytesMax + Limits.KEY_BYTES_MAX;
  }

  /** All bulk strings of one command: MSET's values share the value limit, plus keys and slack. */
  long commandBytesMax() {
    return (long) valueBytesMax + (1 << 20);
  }

  private void accept(SocketChannel channel, Supplier<SslContext> tls) {
    connectionsReceived.incrementAndGet();
    if (closed || connections.size() >= CONNECTIONS_MAX) {
      connectionsRejected.incrementAndGet();
      ByteBuf refusal =
          channel
              .alloc()
              .buffer()
              .writeBytes(
                  "-ERR max number of clients reached\r\n".getBytes(StandardCharsets.US_ASCII));
      channel.writeAndFlush(refusal).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    RedisConnection connection =
        new RedisConnection(
            nextId.getAndIncrement(),
            this,
            authenticator == null ? LinkSession.OPEN : new LinkSession(null, null));
    connections.add(connection);
    ChannelPipeline pipeline = channel.pipeline();
    if (tls != null) {
      pipeline.addLast("tls", tls.get().newHandler(channel.alloc()));
    }
    pipeline.addLast("redis", connection);
  }

  /** Access to the cluster on behalf of a client that is {@code session}. */
  ChainAccess access(LinkSession session) {
    return access.as(session);
  }

  /** True if connections must authenticate before their commands are served. */
  boolean authenticationRequired() {
    return authenticator != null;
  }

  Authorization authorization() {
    return authorization;
  }

  /**
   * Completes with the principal of {@code user} if {@code password} is theirs, else with null
   * (logged, rate-limited: the user and the peer, never the password). Checked by the process's
   * {@link PasswordChecks}: at once for a password verified before, else off the event loop, a
   * refusal only after its delay. Must not be called without an authenticator.
   */
  CompletableFuture<Principal> authenticate(
      RedisConnection connection, String user, byte[] password) {
    String peer = connection.peer();
    return PasswordChecks.shared()
        .authenticate(authenticator, user, password)
        .handle((principal, failure) -> {
          if (failure == null) {
            return principal;
          }
          Throwable cause =
              failure instanceof CompletionException && failure.getCause() != null
                  ? failure.getCause()
                  : failure;
          authFailures.incrementAndGet();
          if (cause instanceof AuthenticationException) {
            authWarning.warn(
                log,
                "Redis connection {} from {}: AUTH refused for user '{}'",
                connection.id,
                peer,
                user);
          } else {
            log.error(
                "Redis connection {} from {}: checking the password of user '{}' failed",
                connection.id,
                peer,
                user,
                cause);
          }
          return null;
        });
  }

  /**
   * The principal of a client whose verified certificate names {@code commonName}, else null
   * (logged, rate-limited); null too without an authenticator.
   */
  Principal forCertificate(RedisConnection connection, String commonName) {
    if (authenticator == null) {
      return null;
    }
    try {
      return authenticator.forCertificate(commonName);
    } catch (AuthenticationException e) {
      authFailures.incrementAndGet();
      authWarning.warn(
          log,
          "Redis connection {} from {}: client certificate refused: {}",
          connection.id,
          connection.peer(),
          e.getMessage());
      return null;
    }
  }

  void tlsFailed(RedisConnection connection, Throwable cause) {
    protocolErrors.incrementAndGet();
    protocolWarning.warn(
        log,
        "closed Redis connection {} from {}: {}",
        connection.id,
        connection.peer(),
        cause instanceof NotSslRecordException
            ? "not TLS (a plaintext client on the TLS port?)"
            : "TLS failed: " + shortened(String.valueOf(cause.getMessage())));
  }

  private static String shortened(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  /** Runs {@code issue}; the node takes the requests it makes together (see NodeServer#batch). */
  void batch(Runnable issue) {
    node.batch(issue);
  }

  void commandStarted() {
    commandsProcessed.incrementAndGet();
  }

  /** A connection stopped reading: its replies filled its budget. */
  void readsPaused() {
    readsPaused.incrementAndGet();
  }

  void protocolError(RedisConnection connection, String reason) {
    protocolErrors.incrementAndGet();
    protocolWarning.warn(
        log, "closed Redis connection {} from {}: {}", connection.id, connection.peer(), reason);
  }

  void connectionFailed(RedisConnection connection, Throwable e) {
    if (!closed && !(e instanceof IOException)) {
      protocolWarning.warn(
          log,
          "Redis connection {} from {} failed: {}",
          connection.id,
          connection.peer(),
          e.toString());
    }
  }

  void closed(RedisConnection connection) {
    connections.remove(connection);
  }

  void describeServer(StringBuilder b) {
    b.append("# Server\r\n");
    b.append("redis_version:").append(RedisCommands.REDIS_VERSION).append("\r\n");
    b.append("craq_version:").append(version()).append("\r\n");
    b.append("redis_mode:standalone\r\n");
    b.append("arch_bits:64\r\n");
    b.append("process_id:").append(ProcessHandle.current().pid()).append("\r\n");
    b.append("tcp_port:").append(port()).append("\r\n");
    long uptime = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos);
    b.append("uptime_in_seconds:").append(uptime).append("\r\n");
    b.append("craq_node_id:").append(nodeId).append("\r\n");
    b.append("\r\n");
  }

  void describeClients(StringBuilder b) {
    b.append("# Clients\r\n");
    b.append("connected_clients:").append(connections.size()).append("\r\n");
    b.append("maxclients:").append(CONNECTIONS_MAX).append("\r\n");
    b.append("\r\n");
  }

  void describeStats(StringBuilder b, long forwarded) {
    b.append("# Stats\r\n");
    b.append("total_connections_received:").append(connectionsReceived.get()).append("\r\n");
    b.append("total_commands_processed:").append(commandsProcessed.get()).append("\r\n");
    b.append("rejected_connections:").append(connectionsRejected.get()).append("\r\n");
    b.append("craq_protocol_errors:").append(protocolErrors.get()).append("\r\n");
    b.append("craq_forwarded_requests:").append(forwarded).append("\r\n");
    b.append("craq_reads_paused:").append(readsPaused.get()).append("\r\n");
    b.append("craq_auth_failures:").append(authFailures.get()).append("\r\n");
    b.append("\r\n");
  }

  private static String version() {
    String v = RedisServer.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Connections served now. */
  public int connectionCount() {
    return connections.size();
  }

  /** Stops listening, closes every connection and the client. */
  @Override
  public void close() {
    closed = true;
    listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    for (RedisConnection connection : connections) {
      connection.close();
    }
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    client.close();
    if (tls instanceof AutoCloseable reloading) {
      try {
        reloading.close();
      } catch (Exception e) {
        log.debug("stopping the TLS file checks", e);
      }
    }
  }
}

package io.craq.node.redis;

import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.core.Limits;
import io.craq.node.NodeServer;
import io.craq.transport.Addresses;
import io.craq.transport.RateLimitedWarning;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A port that speaks the Redis protocol (RESP2, and RESP3 after {@code HELLO 3}) in front of a
 * node: {@code redis-cli}, {@code redis-benchmark} and Redis client libraries read and write the
 * cluster through it, every read strong. See docs/REDIS.md for the commands and what differs from
 * Redis.
 *
 * <p>One virtual thread per connection (see {@link RedisConnection}); commands are answered by the
 * node in this process ({@link NodeServer#request}) or, for keys of chains this node does not lead
 * or hold, by a {@link CraqClient} this port keeps, so no node thread ever waits on a Redis client.
 * Memory per connection is bounded: see {@link RespReader} and {@link #PENDING_MAX}.
 */
public final class RedisServer implements AutoCloseable {
  /** Connections at once; more are answered with an error and closed. */
  public static final int CONNECTIONS_MAX = 10_000;

  /** Replies a connection holds for a client that pipelines without reading. */
  static final int PENDING_MAX = 256;

  /** Arguments of one command at most (MGET, DEL, EXISTS take many keys). */
  static final int ARGS_MAX = 4096;

  /** The longest a reply is waited for; the client's own deadlines end it much earlier. */
  static final Duration REPLY_TIMEOUT = Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(RedisServer.class);

  private final ServerSocket listener;
  private final CraqClient client;
  private final RedisCommands commands;
  private final int valueBytesMax;
  private final String nodeId;
  private final Set<RedisConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong nextId = new AtomicLong(1);
  private final AtomicLong connectionsReceived = new AtomicLong();
  private final AtomicLong connectionsRejected = new AtomicLong();
  private final AtomicLong commandsProcessed = new AtomicLong();
  private final AtomicLong protocolErrors = new AtomicLong();
  private final RateLimitedWarning protocolWarning =
      new RateLimitedWarning(TimeUnit.SECONDS.toNanos(1));
  private final long startedNanos = System.nanoTime();
  private final Thread acceptor;
  private volatile boolean closed;

  private RedisServer(
      ServerSocket listener, NodeServer node, CraqClient client, int valueBytesMax) {
    this.listener = listener;
    this.client = client;
    this.valueBytesMax = valueBytesMax;
    this.nodeId = node.nodeId();
    this.commands = new RedisCommands(new ChainAccess(node, client), this, valueBytesMax);
    this.acceptor = Thread.ofPlatform().daemon().name("redis-accept").unstarted(this::accept);
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
    Addresses.HostPort address = Addresses.parse(listenAddress);
    ServerSocket listener = new ServerSocket();
    try {
      listener.setReuseAddress(true);
      listener.bind(address.bindAddress(), 1024);
    } catch (IOException e) {
      listener.close();
      throw new IOException(
          "cannot listen for Redis clients on " + listenAddress + ": " + e.getMessage(), e);
    }
    CraqClient client =
        CraqClient.connect(ClientConfig.defaults(coordinators).withValueBytesMax(valueBytesMax));
    RedisServer server = new RedisServer(listener, node, client, valueBytesMax);
    server.acceptor.start();
    log.info("Redis protocol port listening on {}", server.listenAddress());
    return server;
  }

  /** The bound address as host:port (the port chosen if 0 was asked). */
  public String listenAddress() {
    InetSocketAddress bound = (InetSocketAddress) listener.getLocalSocketAddress();
    String host = bound.getAddress().isAnyLocalAddress() ? "" : bound.getAddress().getHostAddress();
    return host + ":" + bound.getPort();
  }

  public int port() {
    return listener.getLocalPort();
  }

  RedisCommands commands() {
    return commands;
  }

  int bulkBytesMax() {
    return valueBytesMax + Limits.KEY_BYTES_MAX;
  }

  /** All bulk strings of one command: MSET's values share the value limit, plus keys and slack. */
  long commandBytesMax() {
    return (long) valueBytesMax + (1 << 20);
  }

  private void accept() {
    while (!closed) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException e) {
        if (!closed) {
          log.error("Redis port stopped accepting connections: {}", e.getMessage());
        }
        return;
      }
      connectionsReceived.incrementAndGet();
      if (connections.size() >= CONNECTIONS_MAX) {
        connectionsRejected.incrementAndGet();
        refuse(socket);
        continue;
      }
      RedisConnection connection = new RedisConnection(nextId.getAndIncrement(), socket, this);
      connections.add(connection);
      Thread.ofVirtual().name("redis-" + connection.id).start(connection);
    }
  }

  private static void refuse(Socket socket) {
    try (socket) {
      OutputStream out = socket.getOutputStream();
      out.write("-ERR max number of clients reached\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
    } catch (IOException ignored) {
      // it is being closed anyway
    }
  }

  void commandStarted() {
    commandsProcessed.incrementAndGet();
  }

  void protocolError(RedisConnection connection, String reason) {
    protocolErrors.incrementAndGet();
    protocolWarning.warn(
        log, "closed Redis connection {} from {}: {}", connection.id, connection.peer(), reason);
  }

  void connectionFailed(RedisConnection connection, IOException e) {
    if (!closed && !(e instanceof SocketException)) {
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
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing
    }
    for (RedisConnection connection : connections) {
      try {
        connection.socket.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    client.close();
  }
}

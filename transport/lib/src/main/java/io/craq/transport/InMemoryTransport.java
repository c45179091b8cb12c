package io.craq.transport;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transport for tests: links between transports of one {@link InMemoryNetwork}, with the same
 * contract as {@link TcpTransport}. Messages are encoded and decoded with the real codec (so a test
 * cannot share mutable state through a message), queues are bounded by the same settings, handlers
 * run one message at a time per connection on a virtual thread, and the network can drop, delay and
 * reorder. Addresses are any {@code name:port} strings. Thread-safe.
 */
public final class InMemoryTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(InMemoryTransport.class);
  private static final AtomicLong CLIENT_NUMBERS = new AtomicLong();
  private static final byte[] STOP = new byte[0];

  private final InMemoryNetwork network;
  private final TransportConfig config;
  private final MessageCodec codec;
  private final Admission admission;
  private final Set<MemServer> servers = ConcurrentHashMap.newKeySet();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  public InMemoryTransport(InMemoryNetwork network, TransportConfig config) {
    this.network = Objects.requireNonNull(network, "network");
    this.config = Objects.requireNonNull(config, "config");
    this.codec = new MessageCodec(config);
    this.admission = new Admission(config.security());
  }

  public InMemoryTransport(InMemoryNetwork network) {
    this(network, TransportConfig.DEFAULT);
  }

  private void checkOpen() {
    if (closed) {
      throw new ConnectionClosedException("transport is closed");
    }
  }

  @Override
  public Server listen(String address, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    Addresses.parse(address);
    checkOpen();
    MemServer server = new MemServer(address, handler);
    if (network.servers.putIfAbsent(address, server) != null) {
      throw new ListenFailedException("cannot listen on " + address + ": address in use", null);
    }
    servers.add(server);
    return server;
  }

  @Override
  public Connection connect(String address, Handler handler) {
    Objects.requireNonNull(handler, "handler");
    Addresses.parse(address);
    checkOpen();
    Connection[] self = new Connection[1];
    ReconnectingConnection connection =
        new ReconnectingConnection(address, codec, () -> connections.remove(self[0])) {
          @Override
          Endpoint open() {
            checkOpen();
            return openLink(address, handler);
          }
        };
    self[0] = connection;
    connections.add(connection);
    return connection;
  }

  private Endpoint openLink(String address, Handler handler) {
    String clientName = "mem-client-" + CLIENT_NUMBERS.incrementAndGet();
    MemEndpoint client = new MemEndpoint(handler, address, codec, pending(address));
    MemServer server = network.servers.get(address);
    if (server == null || !server.accept(client, clientName)) {
      client.close(
          new ConnectFailedException(
              "cannot connect to " + address + ": nothing listens there", null));
    } else if (config.security().credentials() != null) {
      client.authenticateFirst(
          config.security().credentials(), TcpTransport.authTimeoutNanos(config));
    }
    return client;
  }

  private PendingRequests pending(String peer) {
    return new PendingRequests(config.inFlightRequestsMax(), network.sweeper, peer);
  }

  @Override
  public void close() {
    closed = true;
    servers.forEach(MemServer::close);
    connections.forEach(Connection::close);
  }

  private record Delayed(long atNanos, long sequence, byte[] frame) implements Comparable<Delayed> {
    @Override
    public int compareTo(Delayed other) {
      int byTime = Long.compare(atNanos - other.atNanos, 0);
      return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
  }

  final class MemServer implements Server {
    private final String address;
    private final Handler handler;
    private final Set<MemEndpoint> accepted = ConcurrentHashMap.newKeySet();
    private volatile boolean serverClosed;

    MemServer(String address, Handler handler) {
      this.address = address;
      this.handler = handler;
    }

    synchronized boolean accept(MemEndpoint client, String clientName) {
      if (serverClosed) {
        return false;
      }
      MemEndpoint serverSide = new MemEndpoint(handler, clientName, codec, pending(clientName));
      serverSide.admit(admission.plain(), admission);
      serverSide.peerEndpoint = client;
      client.peerEndpoint = serverSide;
      accepted.add(serverSide);
      serverSide.start();
      client.start();
      return true;
    }

    @Override
    public String address() {
      return address;
    }

    @Override
    public void close() {
      synchronized (this) {
        serverClosed = true;
      }
      network.servers.remove(address, this);
      accepted.forEach(e -> e.close(new ConnectionClosedException("server closed")));
      servers.remove(this);
    }
  }

  /** One end of an in-memory link; its inbox holds the frames the other end sent it. */
  final class MemEndpoint extends Endpoint {
    volatile MemEndpoint peerEndpoint;
    private final LinkedBlockingQueue<byte[]> inbox = new LinkedBlockingQueue<>();
    private final AtomicInteger inboxMessages = new AtomicInteger();
    private final AtomicLong inboxBytes = new AtomicLong();

    /** Delayed frames by due time, then by send order; guarded by {@code this}. */
    private final java.util.PriorityQueue<Delayed> delayed = new java.util.PriorityQueue<>();

    private long lastDeliveryNanos;
    private long sequence;

    MemEndpoint(Handler handler, String peer, MessageCodec endpointCodec, PendingRequests pending) {
      super(endpointCodec, handler, pending, peer);
    }

    void start() {
      Thread.ofVirtual().name("craq-mem " + peer).start(this::deliverLoop);
    }

    @Override
    boolean offerFrame(byte[] frame) {
      MemEndpoint to = peerEndpoint;
      if (isClosed() || to == null || to.isClosed()) {
        return false;
      }
      return to.receive(frame);
    }

    /** Reserves room, then hands the frame over now or after the network's delay. */
    private boolean receive(byte[] frame) {
      if (inboxMessages.incrementAndGet() > config.outboundQueueMessagesMax()) {
        inboxMessages.decrementAndGet();
        return false;
      }
      if (inboxBytes.addAndGet(frame.length) > config.outboundQueueBytesMax()) {
        release(frame);
        return false;
      }
      if (network.drop()) {
        release(frame);
        log.debug("network dropped a frame to {}", peer);
        return true;
      }
      long delay = network.delayNanos();
      synchronized (this) {
        long now = System.nanoTime();
        long at = now + delay;
        if (!network.reorders()) {
          at = Math.max(at, lastDeliveryNanos);
          lastDeliveryNanos = at;
        }
        if (at <= now && delayed.isEmpty()) {
          inbox.add(frame);
          return true;
        }
        delayed.add(new Delayed(at, sequence++, frame));
        network.scheduler.schedule(this::deliverDue, at - now, TimeUnit.NANOSECONDS);
      }
      return true;
    }

    /**
     * Moves every due frame to the inbox in (due time, send order). The scheduler's own clock may
     * fire these tasks slightly out of order, so the order comes from the queue, not the tasks.
     */
    private synchronized void deliverDue() {
      long now = System.nanoTime();
      while (!delayed.isEmpty() && delayed.peek().atNanos() - now <= 0) {
        inbox.add(delayed.poll().frame());
      }
    }

    private void release(byte[] frame) {
      inboxMessages.decrementAndGet();
      inboxBytes.addAndGet(-frame.length);
    }

    private void deliverLoop() {
      try {
        while (!isClosed()) {
          byte[] frame = inbox.take();
          if (frame == STOP) {
            return;
          }
          release(frame);
          Frames.Header header;
          try {
            header = Frames.parseHeader(frame, 0, config.frameBytesMax());
          } catch (ProtocolException e) {
            log.warn("closing the link from {}: {}", peer, e.getMessage());
            close(new ConnectionClosedException("protocol error: " + e.getMessage()));
            return;
          }
          dispatch(header, frame, Frames.HEADER_BYTES);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    void closeLink() {
      inbox.clear();
      inbox.add(STOP);
      MemEndpoint to = peerEndpoint;
      if (to != null) {
        to.close(new ConnectionClosedException("closed by the peer"));
      }
    }
  }
}

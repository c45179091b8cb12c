package io.craq.node;

import static org.awaitility.Awaitility.await;

import io.craq.coordinator.CoordinatorServer;
import io.craq.coordinator.CoordinatorServerSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.store.MemoryStorer;
import io.craq.store.Storer;
import io.craq.transport.Connection;
import io.craq.transport.TcpTransport;
import io.craq.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A coordinator and nodes in this JVM over TCP on 127.0.0.1 with ephemeral ports; a client
 * transport to talk to them. Closes everything it started.
 */
final class TestCluster implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(20);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /** The coordinator; replaced by {@link #restartCoordinator}. */
  volatile CoordinatorServer coordinator;

  final List<NodeServer> nodes = new ArrayList<>();
  private final Transport client = new TcpTransport();
  private final CoordinatorServerSettings coordinatorSettings;

  /** A one-chain cluster, every node a member, as before many chains. */
  TestCluster(Path coordinatorData) {
    this(CoordinatorServerSettings.defaults("127.0.0.1:0", coordinatorData));
  }

  TestCluster(CoordinatorServerSettings settings) {
    coordinator = CoordinatorServer.start(settings, new TcpTransport());
    // A restart listens where the nodes were told the coordinator is.
    coordinatorSettings = settings.withListenAddress(coordinator.listenAddress());
  }

  /** Closes the coordinator; returns the map it stored last. */
  ChainMap closeCoordinator() {
    coordinator.close();
    return coordinator.map();
  }

  /** Starts the coordinator again on the same address and data directory. */
  CoordinatorServer startCoordinatorAgain() {
    coordinator = CoordinatorServer.start(coordinatorSettings, new TcpTransport());
    return coordinator;
  }

  NodeServer startNode(String id, Storer storer) {
    return startNode(settings(id), storer);
  }

  NodeServer startNode(NodeServerSettings settings, Storer storer) {
    return startNode(settings, storer, new TcpTransport(), System::nanoTime);
  }

  NodeServer startNode(
      NodeServerSettings settings, Storer storer, Transport transport, LongSupplier nanoClock) {
    NodeServer node = NodeServer.start(settings, storer, transport, nanoClock, who -> {});
    nodes.add(node);
    return node;
  }

  NodeServerSettings settings(String id) {
    return NodeServerSettings.defaults("127.0.0.1:0", coordinator.listenAddress()).withNodeId(id);
  }

  NodeServer startMemoryNode(String id) {
    return startNode(id, new MemoryStorer());
  }

  /**
   * Waits until the (first) chain has {@code size} members and every member serves strong reads (it
   * caught up and holds a lease).
   */
  ChainConfig awaitChain(int size) {
    await().atMost(WAIT).until(() -> chainReady(size));
    return coordinator.config();
  }

  private boolean chainReady(int size) throws Exception {
    ChainConfig config = coordinator.config();
    // The coordinator records a member as caught up in a configuration after the member said so.
    if (config.size() != size || !config.members().stream().allMatch(m -> m.caughtUp())) {
      return false;
    }
    // A member serves reads only once it caught up and holds a lease: ask each one.
    for (var member : config.members()) {
      Message reply =
          request(
              member.address(),
              new Message.ReadRequest("readiness-probe", io.craq.core.message.ReadMode.STRONG, 0));
      if (!(reply instanceof Message.ReadReply)) {
        return false;
      }
    }
    return true;
  }

  Message request(String address, Message message) throws Exception {
    Connection connection = client.connect(address);
    try {
      return connection
          .request(message, REQUEST_TIMEOUT)
          .get(REQUEST_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } finally {
      connection.close();
    }
  }

  ChainConfig chainFrom(String address) throws Exception {
    return ((ChainReply) request(address, new ChainRequest())).config();
  }

  @Override
  public void close() {
    nodes.forEach(NodeServer::close);
    coordinator.close();
    client.close();
  }
}

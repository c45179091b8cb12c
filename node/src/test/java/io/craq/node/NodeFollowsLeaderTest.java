package io.craq.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.ReadMode;
import io.craq.store.MemoryStorer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node given several coordinators: it follows a standby's NOT_LEADER redirect to the leader and
 * moves on when a coordinator says none leads or cannot be reached. The leader is a real
 * coordinator (file mode); standbys and the coordinators that die are {@link FakeCoordinator}s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeFollowsLeaderTest {
  /** More heartbeats than the handful a node may send before the first redirect comes back. */
  private static final int HEARTBEATS = 10;

  @TempDir Path dir;

  private static NodeServerSettings settings(String id, List<String> coordinators) {
    return NodeServerSettings.defaults("127.0.0.1:0", coordinators).withNodeId(id);
  }

  private static boolean servesStrongReads(TestCluster cluster, NodeServer node) throws Exception {
    return cluster.request(node.publicAddress(), new ReadRequest("k", ReadMode.STRONG, 0))
        instanceof ReadReply;
  }

  @Test
  @DisplayName(
      "a node given only a standby says hello and heartbeats through its redirect, at the leader"
          + " it names (not listed), and stays there")
  void joinsAndHeartbeatsThroughRedirect() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"));
        FakeCoordinator leader = FakeCoordinator.forwarding(cluster.coordinator.listenAddress());
        FakeCoordinator standby = FakeCoordinator.standby(leader.address())) {
      NodeServer node =
          cluster.startNode(settings("n1", List.of(standby.address())), new MemoryStorer());

      cluster.awaitChain(1);
      await().atMost(TestCluster.WAIT).until(() -> leader.count(Heartbeat.class) >= HEARTBEATS);

      assertTrue(leader.count(NodeHello.class) >= 1);
      assertTrue(
          standby.count() < HEARTBEATS / 2,
          "the node kept asking the standby: " + standby.count() + " requests");
      assertTrue(servesStrongReads(cluster, node));
    }
  }

  @Test
  @DisplayName("a standby that knows no leader (empty hint) is passed over for the next listed one")
  void emptyHintMovesToNextListed() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"));
        FakeCoordinator leader = FakeCoordinator.forwarding(cluster.coordinator.listenAddress());
        FakeCoordinator standby = FakeCoordinator.standby("")) {
      NodeServer node =
          cluster.startNode(
              settings("n1", List.of(standby.address(), leader.address())), new MemoryStorer());

      cluster.awaitChain(1);
      await().atMost(TestCluster.WAIT).until(() -> leader.count(Heartbeat.class) >= HEARTBEATS);

      assertTrue(standby.count() >= 1, "the first listed coordinator was asked first");
      assertTrue(standby.count() < HEARTBEATS / 2, standby.count() + " requests to the standby");
      assertTrue(servesStrongReads(cluster, node));
    }
  }

  @Test
  @DisplayName(
      "when its coordinator dies, the node moves on to the next listed one and stays in the "
          + "chain, serving strong reads")
  void movesOnWhenTheCoordinatorDies() throws Exception {
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"));
        FakeCoordinator first = FakeCoordinator.forwarding(cluster.coordinator.listenAddress());
        FakeCoordinator second = FakeCoordinator.forwarding(cluster.coordinator.listenAddress())) {
      NodeServer node =
          cluster.startNode(
              settings("n1", List.of(first.address(), second.address())), new MemoryStorer());
      cluster.awaitChain(1);
      await().atMost(TestCluster.WAIT).until(() -> first.count(Heartbeat.class) >= 3);
      assertEquals(
          0, second.count(), "the second coordinator is not asked while the first answers");
      long epoch = cluster.coordinator.config().epoch();

      first.stop();

      await().atMost(TestCluster.WAIT).until(() -> second.count(Heartbeat.class) >= HEARTBEATS);
      await().atMost(TestCluster.WAIT).until(() -> servesStrongReads(cluster, node));
      assertEquals(1, cluster.coordinator.config().size());
      assertEquals(epoch, cluster.coordinator.config().epoch(), "the node was never failed out");
    }
  }

  @Test
  @DisplayName("a listed coordinator nobody listens at is passed over: the node joins at the next")
  void unreachableFirstCoordinator() throws Exception {
    String dead;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      dead = "127.0.0.1:" + socket.getLocalPort();
    }
    try (TestCluster cluster = new TestCluster(dir.resolve("coordinator"))) {
      NodeServer node =
          cluster.startNode(
              settings("n1", List.of(dead, cluster.coordinator.listenAddress())),
              new MemoryStorer());

      cluster.awaitChain(1);

      assertInstanceOf(
          ReadReply.class,
          cluster.request(node.publicAddress(), new ReadRequest("k", ReadMode.STRONG, 0)));
    }
  }
}

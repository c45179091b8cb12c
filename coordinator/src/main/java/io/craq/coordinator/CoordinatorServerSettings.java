package io.craq.coordinator;

import io.craq.core.chain.KeySlots;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.transport.Addresses;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the coordinator driver needs besides its transport. Immutable, validated.
 *
 * @param listenAddress where nodes and clients reach the coordinator ({@code :PORT} = all
 *     interfaces, port 0 = any free port)
 * @param dataDirectory where the membership file lives
 * @param tickMillis length of one state-machine tick
 * @param failureTimeoutMillis a member not heard from for this long is removed; must exceed the
 *     nodes' read lease (30 node ticks, 1.5 s by default)
 * @param membersMax the longest chain accepted
 * @param chains how many chains a new cluster gets; a stored map must have as many (the chain count
 *     decides where keys live and never changes)
 * @param replicas how many members each chain gets when the pool has that many nodes (at most
 *     {@code membersMax}); a stored map's count is replaced by it
 * @param movesMax how many chains may have a membership move in progress at once
 * @param forwardTimeout how long a client write or read forwarded to a node may take; a write
 *     unanswered by then is reported AMBIGUOUS. Longer than the nodes' own write timeout (200
 *     ticks, 10 s by default), so the node's definite answer arrives first when there is one
 * @param inboxMax requests waiting for the event loop before new ones are refused BUSY
 * @param batchInputsMax requests handled per persisted batch at most
 * @param expectNodes how many nodes a new cluster of several chains waits for before it is laid out
 *     (0: until they stop arriving)
 * @param zooKeeper null for the file mode (one coordinator, the configuration in {@code
 *     dataDirectory}); else the ZooKeeper mode (several coordinators, the configuration in
 *     ZooKeeper, {@code dataDirectory} unused)
 */
public record CoordinatorServerSettings(
    String listenAddress,
    Path dataDirectory,
    long tickMillis,
    long failureTimeoutMillis,
    int membersMax,
    int chains,
    int replicas,
    int movesMax,
    Duration forwardTimeout,
    int inboxMax,
    int batchInputsMax,
    ZooKeeperSettings zooKeeper,
    int expectNodes) {

  public static final long TICK_MILLIS_DEFAULT = 50;
  public static final long FAILURE_TIMEOUT_MILLIS_DEFAULT = 2_000;
  public static final Duration FORWARD_TIMEOUT_DEFAULT = Duration.ofSeconds(15);
  public static final int INBOX_MAX_DEFAULT = 16_384;
  public static final int BATCH_INPUTS_MAX_DEFAULT = 1_024;

  /** Members per chain by default when there are several chains. */
  public static final int REPLICAS_DEFAULT = 3;

  public static final int MOVES_MAX_DEFAULT = 2;

  public CoordinatorServerSettings {
    Addresses.parse(listenAddress);
    Objects.requireNonNull(dataDirectory, "dataDirectory");
    Objects.requireNonNull(forwardTimeout, "forwardTimeout");
    require(tickMillis > 0 && tickMillis <= 10_000, "tick must be 1..10000 ms: " + tickMillis);
    require(
        failureTimeoutMillis >= tickMillis,
        "failure timeout ("
            + failureTimeoutMillis
            + " ms) must be at least one tick ("
            + tickMillis
            + " ms)");
    require(membersMax > 0, "membersMax must be positive");
    KeySlots.checkChains(chains);
    require(
        replicas >= 1 && replicas <= membersMax,
        "replicas must be between 1 and " + membersMax + ": " + replicas);
    require(movesMax >= 1, "movesMax must be positive: " + movesMax);
    require(forwardTimeout.toMillis() > 0, "forwardTimeout must be positive");
    require(inboxMax > 0, "inboxMax must be positive");
    require(batchInputsMax > 0, "batchInputsMax must be positive");
    require(expectNodes >= 0, "expectNodes must not be negative: " + expectNodes);
    require(
        zooKeeper == null
            || zooKeeper.advertise() != null
            || !Addresses.parse(listenAddress).host().isEmpty(),
        "in ZooKeeper mode a listen address without a host ('"
            + listenAddress
            + "') needs an advertised address: where nodes and clients reach this coordinator");
  }

  /** One chain that every node joins, as a single-chain cluster always did. */
  public static CoordinatorServerSettings defaults(String listenAddress, Path dataDirectory) {
    int membersMax = CoordinatorSettings.defaults().membersMax();
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        TICK_MILLIS_DEFAULT,
        FAILURE_TIMEOUT_MILLIS_DEFAULT,
        membersMax,
        1,
        membersMax,
        MOVES_MAX_DEFAULT,
        FORWARD_TIMEOUT_DEFAULT,
        INBOX_MAX_DEFAULT,
        BATCH_INPUTS_MAX_DEFAULT,
        null,
        0);
  }

  /** The machine's settings: the failure timeout rounded up to whole ticks. */
  public CoordinatorSettings machine() {
    long ticks = (failureTimeoutMillis + tickMillis - 1) / tickMillis;
    return new CoordinatorSettings(
        (int) Math.min(Integer.MAX_VALUE, ticks),
        membersMax,
        chains,
        replicas,
        movesMax,
        expectNodes);
  }

  /**
   * {@code chainCount} chains of {@code replicaCount} members each (0: the default, every node with
   * one chain, {@link #REPLICAS_DEFAULT} with several).
   */
  public CoordinatorServerSettings withChains(int chainCount, int replicaCount) {
    int resolved =
        replicaCount != 0
            ? replicaCount
            : chainCount == 1 ? membersMax : Math.min(REPLICAS_DEFAULT, membersMax);
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        tickMillis,
        failureTimeoutMillis,
        membersMax,
        chainCount,
        resolved,
        movesMax,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        expectNodes);
  }

  public CoordinatorServerSettings withMovesMax(int moves) {
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        tickMillis,
        failureTimeoutMillis,
        membersMax,
        chains,
        replicas,
        moves,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        expectNodes);
  }

  public CoordinatorServerSettings withTickMillis(long millis) {
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        millis,
        failureTimeoutMillis,
        membersMax,
        chains,
        replicas,
        movesMax,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        expectNodes);
  }

  public CoordinatorServerSettings withFailureTimeoutMillis(long millis) {
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        tickMillis,
        millis,
        membersMax,
        chains,
        replicas,
        movesMax,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        expectNodes);
  }

  public CoordinatorServerSettings withForwardTimeout(Duration timeout) {
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        tickMillis,
        failureTimeoutMillis,
        membersMax,
        chains,
        replicas,
        movesMax,
        timeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        expectNodes);
  }

  public CoordinatorServerSettings withListenAddress(String address) {
    return new CoordinatorServerSettings(
        address,
        dataDirectory,
        tickMillis,
        failureTimeoutMillis,
        membersMax,
        chains,
        replicas,
        movesMax,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        expectNodes);
  }

  /** A new cluster of several chains waits for {@code nodes} nodes before it is laid out. */
  public CoordinatorServerSettings withExpectNodes(int nodes) {
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        tickMillis,
        failureTimeoutMillis,
        membersMax,
        chains,
        replicas,
        movesMax,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        zooKeeper,
        nodes);
  }

  /** The ZooKeeper mode with {@code settings}; null for the file mode. */
  public CoordinatorServerSettings withZooKeeper(ZooKeeperSettings settings) {
    return new CoordinatorServerSettings(
        listenAddress,
        dataDirectory,
        tickMillis,
        failureTimeoutMillis,
        membersMax,
        chains,
        replicas,
        movesMax,
        forwardTimeout,
        inboxMax,
        batchInputsMax,
        settings,
        expectNodes);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}

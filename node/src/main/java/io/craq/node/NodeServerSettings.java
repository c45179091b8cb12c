package io.craq.node;

import io.craq.core.node.NodeSettings;
import io.craq.transport.Addresses;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything the node driver needs besides its store and transport. Immutable, validated.
 *
 * @param listenAddress where to accept connections ({@code :PORT} = all interfaces, port 0 = any)
 * @param publicAddress the address other processes dial; null = derived from the bound address
 * @param coordinatorAddresses the coordinators to dial ({@code :PORT} = loopback), at least one, no
 *     address twice; with several, the driver follows the one that leads (see {@link NodeServer})
 * @param nodeId the stable identity; null = the public address, so a restart keeps it
 * @param joinPosition where to join the chain (0 = head, -1 = tail)
 * @param tickMillis length of one state-machine tick; {@link NodeSettings} counts in ticks
 * @param machine the state machine's tunables
 * @param inboxMax inputs waiting in each of the node's two input queues (reads, the rest) before
 *     requests are refused BUSY
 * @param batchInputsMax inputs handled per storage batch (group commit) at most
 * @param coordinatorTimeout how long to wait for the coordinator's answer to a join or heartbeat
 */
public record NodeServerSettings(
    String listenAddress,
    String publicAddress,
    List<String> coordinatorAddresses,
    String nodeId,
    int joinPosition,
    long tickMillis,
    NodeSettings machine,
    int inboxMax,
    int batchInputsMax,
    Duration coordinatorTimeout) {

  public static final int INBOX_MAX_DEFAULT = 16_384;
  public static final int BATCH_INPUTS_MAX_DEFAULT = 1_024;
  public static final long TICK_MILLIS_DEFAULT = 50;
  public static final Duration COORDINATOR_TIMEOUT_DEFAULT = Duration.ofSeconds(2);

  public NodeServerSettings {
    Addresses.parse(listenAddress);
    if (publicAddress != null) {
      Addresses.parse(publicAddress);
    }
    coordinatorAddresses = Addresses.checkList(coordinatorAddresses, "coordinator");
    Objects.requireNonNull(machine, "machine");
    Objects.requireNonNull(coordinatorTimeout, "coordinatorTimeout");
    require(nodeId == null || !nodeId.isBlank(), "node id must not be blank");
    require(joinPosition >= -1, "join position must be >= -1 (-1 = tail): " + joinPosition);
    require(tickMillis > 0 && tickMillis <= 10_000, "tick must be 1..10000 ms: " + tickMillis);
    require(inboxMax > 0, "inboxMax must be positive");
    require(batchInputsMax > 0, "batchInputsMax must be positive");
    require(coordinatorTimeout.toMillis() > 0, "coordinatorTimeout must be positive");
  }

  /**
   * Defaults around the given addresses: tail position, 50 ms ticks, default machine settings.
   *
   * @param coordinatorAddresses one coordinator address, or several separated by commas
   * @throws IllegalArgumentException naming the first malformed address
   */
  public static NodeServerSettings defaults(String listenAddress, String coordinatorAddresses) {
    return defaults(listenAddress, parseCoordinatorAddresses(coordinatorAddresses));
  }

  /** As {@link #defaults(String, String)}, with the coordinators as a list. */
  public static NodeServerSettings defaults(
      String listenAddress, List<String> coordinatorAddresses) {
    return new NodeServerSettings(
        listenAddress,
        null,
        coordinatorAddresses,
        null,
        -1,
        TICK_MILLIS_DEFAULT,
        NodeSettings.defaults(),
        INBOX_MAX_DEFAULT,
        BATCH_INPUTS_MAX_DEFAULT,
        COORDINATOR_TIMEOUT_DEFAULT);
  }

  public NodeServerSettings withPublicAddress(String address) {
    return new NodeServerSettings(
        listenAddress,
        address,
        coordinatorAddresses,
        nodeId,
        joinPosition,
        tickMillis,
        machine,
        inboxMax,
        batchInputsMax,
        coordinatorTimeout);
  }

  public NodeServerSettings withNodeId(String id) {
    return new NodeServerSettings(
        listenAddress,
        publicAddress,
        coordinatorAddresses,
        id,
        joinPosition,
        tickMillis,
        machine,
        inboxMax,
        batchInputsMax,
        coordinatorTimeout);
  }

  public NodeServerSettings withJoinPosition(int position) {
    return new NodeServerSettings(
        listenAddress,
        publicAddress,
        coordinatorAddresses,
        nodeId,
        position,
        tickMillis,
        machine,
        inboxMax,
        batchInputsMax,
        coordinatorTimeout);
  }

  public NodeServerSettings withTickMillis(long millis) {
    return new NodeServerSettings(
        listenAddress,
        publicAddress,
        coordinatorAddresses,
        nodeId,
        joinPosition,
        millis,
        machine,
        inboxMax,
        batchInputsMax,
        coordinatorTimeout);
  }

  public NodeServerSettings withMachine(NodeSettings settings) {
    return new NodeServerSettings(
        listenAddress,
        publicAddress,
        coordinatorAddresses,
        nodeId,
        joinPosition,
        tickMillis,
        settings,
        inboxMax,
        batchInputsMax,
        coordinatorTimeout);
  }

  public NodeServerSettings withInboxMax(int max) {
    return new NodeServerSettings(
        listenAddress,
        publicAddress,
        coordinatorAddresses,
        nodeId,
        joinPosition,
        tickMillis,
        machine,
        max,
        batchInputsMax,
        coordinatorTimeout);
  }

  /** The coordinators as one comma-separated string, as {@code -c} takes them. */
  public String coordinatorAddress() {
    return String.join(",", coordinatorAddresses);
  }

  /**
   * Splits {@code A[,B...]} into addresses and checks each one; blanks around the commas are
   * ignored.
   *
   * @throws IllegalArgumentException saying which entry is wrong (malformed, empty, repeated)
   */
  public static List<String> parseCoordinatorAddresses(String list) {
    return Addresses.parseList(list, "coordinator");
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}

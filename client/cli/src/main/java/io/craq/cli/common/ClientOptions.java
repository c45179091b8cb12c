package io.craq.cli.common;

import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.ReadFallback;
import io.craq.client.UnavailableException;
import io.craq.core.Limits;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.transport.Addresses;
import io.craq.transport.security.Credentials;
import io.craq.transport.security.Security;
import io.craq.transport.security.SecuritySetup;
import io.craq.transport.security.TlsSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options that name the cluster and say how to talk to it: {@code -c}, {@code -n}, {@code
 * --any-node}, {@code --timeout-millis}, {@code --via-coordinator}, {@code --value-max-bytes}, and
 * TLS and credentials ({@code --tls-cert}, {@code --tls-key}, {@code --tls-ca}, {@code --user},
 * {@code --password-file}; see docs/SECURITY.md). A mixin of {@code craq} and of every subcommand
 * that talks to a cluster, so that they may come before or after the subcommand's name; given in
 * both places, the one after it wins. What nobody gave has the default named in its description. A
 * malformed value is a usage error of the command this mixin belongs to.
 */
public final class ClientOptions {
  /** The environment variable that replaces the built-in default of {@code -c}. */
  public static final String COORDINATOR_ENV = "CRAQ_COORDINATOR";

  /** The largest --value-max-bytes: a value is held in memory and sent in one frame. */
  public static final int VALUE_MAX_BYTES_LIMIT = 16 << 20;

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  // Each field is null unless given to this command: then a parent's value, or the default, holds.

  @Option(
      names = {"-c", "--coordinator"},
      paramLabel = "ADDRESS[,ADDRESS...]",
      description =
          "Coordinator address, or the addresses of several coordinators separated by commas:"
              + " a standby names the leader and the client follows it (default: ${env:"
              + COORDINATOR_ENV
              + ":-"
              + ClientConfig.COORDINATOR_ADDRESS_DEFAULT
              + "}, from $"
              + COORDINATOR_ENV
              + " if set, else "
              + ClientConfig.COORDINATOR_ADDRESS_DEFAULT
              + ").")
  String coordinator;

  @Option(
      names = {"-n", "--node"},
      paramLabel = "ADDRESS",
      description =
          "Node read and readall ask first; it must be a member of the chain -c names"
              + " (with several chains: a node of the cluster; keys of chains it is not in are"
              + " read elsewhere)."
              + " If it cannot answer, another member answers (said on stderr)."
              + " Default: a random member.")
  String node;

  @Option(
      names = "--any-node",
      description = "Read from a random chain member even if -n is given.")
  Boolean anyNode;

  @Option(
      names = "--timeout-millis",
      paramLabel = "MILLIS",
      description =
          "Deadline of the whole operation, retries included (default: "
              + ClientConfig.CALL_TIMEOUT_MILLIS_DEFAULT
              + ").")
  Long timeoutMillis;

  @Option(
      names = "--via-coordinator",
      description =
          "Send writes to the coordinator, which forwards them to the head"
              + " (default: straight to the head).")
  Boolean viaCoordinator;

  @Option(
      names = "--value-max-bytes",
      paramLabel = "BYTES",
      description =
          "Largest value written, from VALUE, a file or stdin (default: "
              + Limits.VALUE_BYTES_MAX_DEFAULT
              + "; the nodes' --value-max-bytes is the real limit).")
  Integer valueMaxBytes;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description =
          "TLS: this client's certificate (PEM); with --tls-key and --tls-ca. Its CN names the"
              + " user when the servers take client certificates.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "The private key of --tls-cert (PEM); must be readable by its owner only.")
  Path tlsKey;

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description =
          "TLS: the CA certificates (PEM) the servers' certificates must chain to. Alone, the"
              + " client presents no certificate (authenticate with --user then).")
  Path tlsCa;

  @Option(
      names = "--user",
      paramLabel = "NAME",
      description =
          "Authenticate as this user (default: $" + SecuritySetup.USER_ENV + "; none if unset).")
  String user;

  @Option(
      names = "--password-file",
      paramLabel = "FILE",
      description =
          "The password or token of --user, in a file readable by its owner only (default: $"
              + SecuritySetup.PASSWORD_ENV
              + ").")
  Path passwordFile;

  private <V> V given(Function<ClientOptions, V> field) {
    return Mixins.nearest(mixee, ClientOptions.class, field);
  }

  /**
   * {@code -c}, else {@code $CRAQ_COORDINATOR} if set, else {@code :1234}: one address or several
   * separated by commas, as given (see {@link #coordinatorAddresses()}).
   */
  public String coordinator() {
    String value = given(o -> o.coordinator);
    if (value != null) {
      return value;
    }
    String environment = System.getenv(COORDINATOR_ENV);
    return environment == null || environment.isEmpty()
        ? ClientConfig.COORDINATOR_ADDRESS_DEFAULT
        : environment;
  }

  /**
   * The coordinators {@link #coordinator()} names, each checked.
   *
   * @throws ParameterException naming the bad address and where it came from ({@code -c} or {@code
   *     $CRAQ_COORDINATOR})
   */
  public List<String> coordinatorAddresses() {
    String value = coordinator();
    try {
      return ClientConfig.parseCoordinatorAddresses(value);
    } catch (IllegalArgumentException e) {
      String source = coordinatorGiven() ? "-c/--coordinator" : "$" + COORDINATOR_ENV;
      throw usageError(source + ": " + e.getMessage());
    }
  }

  /** Whether {@code -c} was given on the command line (the environment does not count). */
  public boolean coordinatorGiven() {
    return given(o -> o.coordinator) != null;
  }

  /** {@code -n}, or null. */
  public String node() {
    return given(o -> o.node);
  }

  public boolean anyNode() {
    return Boolean.TRUE.equals(given(o -> o.anyNode));
  }

  /** {@code --timeout-millis}, checked: > 0. */
  public long timeoutMillis() {
    Long value = given(o -> o.timeoutMillis);
    long millis = value == null ? ClientConfig.CALL_TIMEOUT_MILLIS_DEFAULT : value;
    if (millis <= 0) {
      throw usageError("--timeout-millis must be > 0, got " + millis);
    }
    return millis;
  }

  public boolean viaCoordinator() {
    return Boolean.TRUE.equals(given(o -> o.viaCoordinator));
  }

  /** {@code --value-max-bytes}, checked: 0 to {@link #VALUE_MAX_BYTES_LIMIT}. */
  public int valueMaxBytes() {
    Integer value = given(o -> o.valueMaxBytes);
    int bytes = value == null ? Limits.VALUE_BYTES_MAX_DEFAULT : value;
    if (bytes < 0 || bytes > VALUE_MAX_BYTES_LIMIT) {
      throw usageError("--value-max-bytes must be 0.." + VALUE_MAX_BYTES_LIMIT + ", got " + bytes);
    }
    return bytes;
  }

  /**
   * TLS and credentials from {@code --tls-*}, {@code --user} and {@code --password-file}, else
   * {@code $CRAQ_USER} and {@code $CRAQ_PASSWORD}; {@link Security#NONE} if none is given.
   *
   * @throws ParameterException naming the flag and the fix (a missing or empty password file, one
   *     readable by others, a user without a password)
   */
  public Security security() {
    return security(System.getenv());
  }

  /** {@link #security()} with {@code environment} in place of the process's. */
  public Security security(Map<String, String> environment) {
    try {
      TlsSettings tls =
          SecuritySetup.clientTls(given(o -> o.tlsCert), given(o -> o.tlsKey), given(o -> o.tlsCa));
      Credentials credentials =
          SecuritySetup.credentials(given(o -> o.user), given(o -> o.passwordFile), environment);
      return new Security(tls, null, credentials);
    } catch (IllegalArgumentException e) {
      throw usageError(e.getMessage());
    }
  }

  /** A client for these options; a malformed address or timeout is a usage error. */
  public CraqClient openClient() {
    long timeout = timeoutMillis();
    List<String> coordinators = coordinatorAddresses();
    ClientConfig config;
    try {
      if (node() != null) {
        Addresses.parse(node());
      }
      config =
          ClientConfig.defaults(coordinators)
              .withCallTimeoutMillis(timeout)
              .withReadAttemptTimeoutMillis(
                  Math.min(timeout, ClientConfig.READ_ATTEMPT_TIMEOUT_MILLIS_DEFAULT))
              .withWriteViaCoordinator(viaCoordinator())
              .withValueBytesMax(valueMaxBytes())
              .withSecurity(security());
    } catch (IllegalArgumentException e) {
      throw usageError(e.getMessage());
    }
    return CraqClient.connect(config);
  }

  /**
   * The node reads go to first: the member {@code -n} names (by the address the chain map knows it
   * by), or null for a random member (no {@code -n}, or {@code --any-node}). With several chains, a
   * key of a chain the node is not a member of is read at a member of that chain (said on stderr).
   *
   * @throws ParameterException if {@code -n} names no member of the chain {@code -c} names (with
   *     several chains: no node of the cluster)
   */
  public String firstReadNode(CraqClient client) {
    String node = node();
    if (node == null || anyNode()) {
      return null;
    }
    ChainMap map;
    try {
      map = client.map();
    } catch (UnavailableException e) {
      // Without the coordinator the check cannot be made; the node itself may still answer.
      Diagnostics.warn(
          mixee, "cannot check that " + node + " is a member of the chain: " + e.getMessage());
      return node;
    }
    if (map.chainCount() == 1) {
      ChainConfig chain = map.chain(0);
      return CraqClient.memberAt(chain, node)
          .map(Member::address)
          .orElseThrow(() ->
              usageError(
                  "-n "
                      + node
                      + " is not a member of the chain at coordinator "
                      + coordinator()
                      + " (members: "
                      + describe(chain.members())
                      + "); leave out -n to read from any member"));
    }
    return CraqClient.nodeAt(map, node)
        .map(Member::address)
        .orElseThrow(() ->
            usageError(
                "-n "
                    + node
                    + " is not a node of the cluster at coordinator "
                    + coordinator()
                    + " (nodes: "
                    + describeNodes(map)
                    + "); leave out -n to read from any member"));
  }

  private static String describeNodes(ChainMap map) {
    List<ChainMaps.Node> nodes = ChainMaps.nodes(map);
    return nodes.isEmpty()
        ? "none"
        : nodes.stream().map(n -> n.id() + " " + n.address()).collect(Collectors.joining(", "));
  }

  private static String describe(List<Member> members) {
    return members.isEmpty()
        ? "none"
        : members.stream().map(m -> m.id() + " " + m.address()).collect(Collectors.joining(", "));
  }

  /** Says on stderr that a read was answered by another member than the one tried first. */
  public ReadFallback fallbackNotice() {
    return (firstTried, reason, answeredBy) ->
        Diagnostics.warn(
            mixee,
            firstTried
                + " could not answer ("
                + reason
                + "); read from "
                + answeredBy
                + " instead");
  }

  private ParameterException usageError(String message) {
    return new ParameterException(mixee.commandLine(), message);
  }
}

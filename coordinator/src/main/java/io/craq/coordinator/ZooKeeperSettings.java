package io.craq.coordinator;

import io.craq.transport.Addresses;
import java.util.Objects;
import org.apache.zookeeper.common.PathUtils;

/**
 * The ZooKeeper mode of the coordinator: several coordinators share the chain configuration in
 * ZooKeeper and elect one leader among them. Immutable, validated.
 *
 * @param hosts the ensemble, {@code host:port[,host:port...]}
 * @param chroot the path under which everything lives ({@code /craq}, {@code /craq/config}, {@code
 *     /craq/election}), {@code ""} for the root; created if missing
 * @param sessionTimeoutMillis the ZooKeeper session timeout asked for (the ensemble may grant
 *     another; the coordinator counts with the smaller of the two)
 * @param connectTimeoutMillis how long start-up waits to reach ZooKeeper before giving up
 * @param leaderLeaseMillis how long the leader keeps answering nodes without hearing from
 *     ZooKeeper; a new leader counts no member as silent until the old leader's lease has ended
 * @param advertise where nodes and clients reach this coordinator ({@code host:port}, what standbys
 *     redirect to), or null for the address the listener is bound to
 */
public record ZooKeeperSettings(
    String hosts,
    String chroot,
    long sessionTimeoutMillis,
    long connectTimeoutMillis,
    long leaderLeaseMillis,
    String advertise) {

  public static final long SESSION_TIMEOUT_MILLIS_DEFAULT = 4_000;
  public static final long CONNECT_TIMEOUT_MILLIS_DEFAULT = 15_000;
  public static final long LEADER_LEASE_MILLIS_DEFAULT = 10_000;

  /** The shortest leader lease: the leader renews it every quarter of a second. */
  public static final long LEADER_LEASE_MILLIS_MIN = 500;

  public ZooKeeperSettings {
    Objects.requireNonNull(hosts, "hosts");
    Objects.requireNonNull(chroot, "chroot");
    parse(hosts + chroot); // same rules as the command line
    require(
        sessionTimeoutMillis > 0 && sessionTimeoutMillis <= Integer.MAX_VALUE,
        "the ZooKeeper session timeout must be 1.."
            + Integer.MAX_VALUE
            + " ms: "
            + sessionTimeoutMillis);
    require(
        connectTimeoutMillis > 0 && connectTimeoutMillis <= Integer.MAX_VALUE,
        "the ZooKeeper connect timeout must be 1.."
            + Integer.MAX_VALUE
            + " ms: "
            + connectTimeoutMillis);
    require(
        leaderLeaseMillis >= LEADER_LEASE_MILLIS_MIN,
        "the leader lease must be at least "
            + LEADER_LEASE_MILLIS_MIN
            + " ms (the leader renews it every 250 ms): "
            + leaderLeaseMillis);
    if (advertise != null) {
      Addresses.HostPort address = Addresses.parse(advertise);
      require(
          !address.host().isEmpty() && address.port() > 0,
          "the advertised address '" + advertise + "' needs a host and a port other than 0");
    }
  }

  /** Default timeouts and lease for {@code connectString} (see {@link #parse}). */
  public static ZooKeeperSettings defaults(String connectString) {
    ConnectString parsed = parse(connectString);
    return new ZooKeeperSettings(
        parsed.hosts(),
        parsed.chroot(),
        SESSION_TIMEOUT_MILLIS_DEFAULT,
        CONNECT_TIMEOUT_MILLIS_DEFAULT,
        LEADER_LEASE_MILLIS_DEFAULT,
        null);
  }

  /**
   * Splits {@code host:port[,host:port...][/chroot]} into the hosts and the chroot ({@code ""} for
   * none, also for a lone {@code /}).
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static ConnectString parse(String connectString) {
    if (connectString == null || connectString.isBlank()) {
      throw new IllegalArgumentException(
          "empty ZooKeeper connect string; expected HOST:PORT[,HOST:PORT...][/chroot]");
    }
    int slash = connectString.indexOf('/');
    String hosts = slash < 0 ? connectString : connectString.substring(0, slash);
    String chroot = slash < 0 ? "" : connectString.substring(slash);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException(
          "ZooKeeper connect string '"
              + connectString
              + "' names no server; expected HOST:PORT[,HOST:PORT...][/chroot]");
    }
    for (String host : hosts.split(",", -1)) {
      Addresses.HostPort address;
      try {
        address = Addresses.parse(host);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "ZooKeeper connect string '" + connectString + "': " + e.getMessage(), e);
      }
      if (address.host().isEmpty() || address.port() == 0) {
        throw new IllegalArgumentException(
            "ZooKeeper connect string '"
                + connectString
                + "': server '"
                + host
                + "' needs a host and a port other than 0");
      }
    }
    if (chroot.equals("/")) {
      chroot = "";
    } else if (!chroot.isEmpty()) {
      try {
        PathUtils.validatePath(chroot);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "ZooKeeper connect string '"
                + connectString
                + "': chroot '"
                + chroot
                + "' is not a ZooKeeper path ("
                + e.getMessage()
                + ")",
            e);
      }
    }
    return new ConnectString(hosts, chroot);
  }

  /** A connect string split into its servers and its chroot ({@code ""} for none). */
  public record ConnectString(String hosts, String chroot) {}

  /** The connect string as given: hosts and chroot. */
  public String connectString() {
    return hosts + chroot;
  }

  public ZooKeeperSettings withSessionTimeoutMillis(long millis) {
    return new ZooKeeperSettings(
        hosts, chroot, millis, connectTimeoutMillis, leaderLeaseMillis, advertise);
  }

  public ZooKeeperSettings withConnectTimeoutMillis(long millis) {
    return new ZooKeeperSettings(
        hosts, chroot, sessionTimeoutMillis, millis, leaderLeaseMillis, advertise);
  }

  public ZooKeeperSettings withLeaderLeaseMillis(long millis) {
    return new ZooKeeperSettings(
        hosts, chroot, sessionTimeoutMillis, connectTimeoutMillis, millis, advertise);
  }

  public ZooKeeperSettings withAdvertise(String address) {
    return new ZooKeeperSettings(
        hosts, chroot, sessionTimeoutMillis, connectTimeoutMillis, leaderLeaseMillis, address);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}

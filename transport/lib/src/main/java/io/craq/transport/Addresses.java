package io.craq.transport;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Address syntax shared by every transport: {@code host:port}, where {@code :port} (empty host)
 * means all interfaces when listening and the loopback interface when dialing. IPv6 literals are
 * written in brackets: {@code [::1]:7000}. Port 0 when listening picks a free port.
 */
public final class Addresses {
  private Addresses() {}

  /** A parsed address: {@code host} is empty for "all interfaces". */
  public record HostPort(String host, int port) {
    /** The socket address to bind: the wildcard address for an empty host. */
    public InetSocketAddress bindAddress() {
      return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    /** The socket address to dial: loopback for an empty host. */
    public InetSocketAddress dialAddress() {
      return new InetSocketAddress(host.isEmpty() ? "127.0.0.1" : host, port);
    }
  }

  /**
   * Parses {@code host:port} or {@code :port}.
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static HostPort parse(String address) {
    if (address == null) {
      throw new IllegalArgumentException("address must not be null");
    }
    int colon = address.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(
          "address '" + address + "' has no port; expected host:port or :port");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(
          "address '" + address + "': write IPv6 hosts in brackets, e.g. [::1]:7000");
    }
    String portText = address.substring(colon + 1);
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "address '" + address + "': port '" + portText + "' is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("address '" + address + "': port must be 0-65535");
    }
    return new HostPort(host, port);
  }

  /**
   * Splits a list of {@code what} addresses, {@code A[,B...]}, and checks each one with {@link
   * #checkList}; blanks around the commas are ignored.
   *
   * @throws IllegalArgumentException saying which entry is wrong (malformed, empty, repeated)
   */
  public static List<String> parseList(String list, String what) {
    Objects.requireNonNull(list, what + " addresses");
    List<String> addresses = new ArrayList<>();
    for (String part : list.split(",", -1)) {
      addresses.add(part.strip());
    }
    return checkList(addresses, what);
  }

  /**
   * Checks a non-empty list of {@code what} addresses (each one {@link #parse}s, none is listed
   * twice) and returns an immutable copy.
   *
   * @throws IllegalArgumentException saying which entry is wrong
   */
  public static List<String> checkList(List<String> addresses, String what) {
    Objects.requireNonNull(addresses, what + " addresses");
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("no " + what + " address given");
    }
    Set<String> seen = new HashSet<>();
    for (String address : addresses) {
      if (address == null || address.isEmpty()) {
        throw new IllegalArgumentException(
            "empty " + what + " address in '" + String.join(",", addresses) + "'");
      }
      parse(address);
      if (!seen.add(address)) {
        throw new IllegalArgumentException(what + " address '" + address + "' is listed twice");
      }
    }
    return List.copyOf(addresses);
  }
}

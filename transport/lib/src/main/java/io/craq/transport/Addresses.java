package io.craq.transport;

import java.net.InetSocketAddress;

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
}

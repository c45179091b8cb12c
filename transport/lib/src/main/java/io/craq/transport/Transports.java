package io.craq.transport;

/** Opens the transport a configuration asks for. */
public final class Transports {
  private Transports() {}

  /**
   * The system property that picks the plain-TCP implementation: {@code netty} for {@link
   * NettyTransport}, anything else (or unset) for {@link TcpTransport}. With TLS the transport is
   * always {@link NettyTransport}.
   */
  public static final String TRANSPORT_PROPERTY = "craq.transport";

  /**
   * A transport for {@code config}: TLS and authentication as its {@code security} says. TLS is
   * served by {@link NettyTransport}; plain TCP by {@link TcpTransport}, or by {@link
   * NettyTransport} when {@code -Dcraq.transport=netty} is set (to measure what Netty alone costs).
   *
   * @throws IllegalArgumentException if the TLS files cannot be loaded (the message names the file)
   */
  public static Transport open(TransportConfig config) {
    if (config.security().tls() != null
        || "netty".equalsIgnoreCase(System.getProperty(TRANSPORT_PROPERTY, ""))) {
      return new NettyTransport(config);
    }
    return new TcpTransport(config);
  }
}

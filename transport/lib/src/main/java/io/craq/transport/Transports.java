package io.craq.transport;

/** Opens the transport a configuration asks for. */
public final class Transports {
  private Transports() {}

  /** A transport for {@code config}: TLS and authentication as its {@code security} says. */
  public static Transport open(TransportConfig config) {
    return new TcpTransport(config);
  }
}

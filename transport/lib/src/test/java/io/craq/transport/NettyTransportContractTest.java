package io.craq.transport;

/** The transport contract over {@link NettyTransport} without TLS. */
class NettyTransportContractTest extends TcpTransportContractTest {
  @Override
  protected Transport newTransport(TransportConfig config) {
    return new NettyTransport(config);
  }
}

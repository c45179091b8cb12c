package io.craq.transport;

import io.craq.transport.security.Security;

/**
 * The transport contract over {@link NettyTransport} with TLS 1.3 on every connection: both sides
 * present a certificate of the cluster CA.
 */
class NettyTlsContractTest extends TcpTransportContractTest {
  @Override
  protected Transport newTransport(TransportConfig config) {
    return Transports.open(config.withSecurity(Security.NONE.withTls(TestPki.get().member())));
  }
}

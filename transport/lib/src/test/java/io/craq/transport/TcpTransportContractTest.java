package io.craq.transport;

import java.net.ServerSocket;

/** The transport contract over loopback TCP. */
class TcpTransportContractTest extends TransportContractTest {
  @Override
  protected Transport newTransport(TransportConfig config) {
    return new TcpTransport(config);
  }

  @Override
  protected String freshListenAddress() {
    return "127.0.0.1:0";
  }

  @Override
  protected String deadAddress() throws Exception {
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + probe.getLocalPort();
    }
  }
}

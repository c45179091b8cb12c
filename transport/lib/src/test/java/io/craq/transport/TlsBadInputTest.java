package io.craq.transport;

import io.craq.transport.security.Security;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * The malformed-frame suite of {@link TcpBadInputTest} inside TLS: the raw socket is a JDK TLS
 * client presenting a member certificate, so every bad frame reaches the frame reader of a {@link
 * NettyTransport} TLS port.
 */
class TlsBadInputTest extends TcpBadInputTest {
  private final TestPki pki = TestPki.get();

  @Override
  protected Transport newTransport(TransportConfig config) {
    return Transports.open(config.withSecurity(Security.NONE.withTls(pki.member())));
  }

  private SSLContext context() throws IOException {
    try {
      return RawTls.context(pki.clusterCa.certificate(), pki.nodeNext);
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  @Override
  protected Socket rawSocket(int port) throws IOException {
    SSLSocket socket = RawTls.connect(context(), "127.0.0.1:" + port);
    socket.setTcpNoDelay(true);
    return socket;
  }

  @Override
  protected ServerSocket fakeServer() throws IOException {
    SSLServerSocket server =
        (SSLServerSocket)
            context()
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
    server.setEnabledProtocols(new String[] {"TLSv1.3"});
    return server;
  }
}

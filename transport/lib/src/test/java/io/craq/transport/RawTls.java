package io.craq.transport;

import io.craq.transport.security.CertificateTool;
import io.craq.transport.security.Pem;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** Plain JDK TLS clients for tests that need to see or break what the transport does. */
final class RawTls {
  private RawTls() {}

  /**
   * A TLS 1.3 client context that trusts {@code ca} and presents {@code who} (null: no
   * certificate).
   */
  static SSLContext context(Path ca, CertificateTool.Issued who)
      throws IOException, GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    List<X509Certificate> cas = Pem.readCertificates(ca);
    for (int i = 0; i < cas.size(); i++) {
      trust.setCertificateEntry("ca" + i, cas.get(i));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (who != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(
          "me",
          Pem.readPrivateKey(who.privateKey()),
          "x".toCharArray(),
          Pem.readCertificates(who.certificate()).toArray(new Certificate[0]));
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, "x".toCharArray());
    }
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  /** A connected, handshaken TLS socket to {@code address} ({@code host:port}). */
  static SSLSocket connect(SSLContext context, String address) throws IOException {
    int colon = address.lastIndexOf(':');
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
    socket.connect(
        new InetSocketAddress(
            address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
        5000);
    socket.setSoTimeout(10_000);
    socket.setEnabledProtocols(new String[] {"TLSv1.3"});
    socket.startHandshake();
    return socket;
  }

  /** The CN of the certificate the server at {@code address} presents. */
  static String serverName(SSLContext context, String address) throws IOException {
    try (SSLSocket socket = connect(context, address)) {
      X509Certificate certificate = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      return Admission.commonName(certificate);
    }
  }

  /** A client engine's first flight: the bytes of a real ClientHello record. */
  static byte[] clientHello(SSLContext context) throws GeneralSecurityException, IOException {
    SSLEngine engine = context.createSSLEngine("127.0.0.1", 1);
    engine.setUseClientMode(true);
    engine.setEnabledProtocols(new String[] {"TLSv1.3"});
    java.nio.ByteBuffer out =
        java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(java.nio.ByteBuffer.allocate(0), out);
    out.flip();
    byte[] hello = new byte[out.remaining()];
    out.get(hello);
    return hello;
  }
}

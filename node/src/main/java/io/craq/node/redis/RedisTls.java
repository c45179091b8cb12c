package io.craq.node.redis;

import io.craq.transport.security.Pem;
import io.craq.transport.security.TlsSettings;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * TLS for the Redis port, from the node's own {@link TlsSettings}: TLS 1.3 only, the node's
 * certificate, and, with a client CA, client certificates asked for (optional) and verified against
 * it (chain and validity window). A verified client certificate makes the connection the user its
 * CN names (see {@link RedisConnection}). The files are read once, at start.
 */
public final class RedisTls {
  static final String PROTOCOL = "TLSv1.3";

  private RedisTls() {}

  /**
   * The server context for {@code settings}.
   *
   * @throws IllegalArgumentException naming the file and the problem if the files cannot be used
   */
  public static SslContext serverContext(TlsSettings settings) {
    try {
      List<X509Certificate> chain = Pem.readCertificates(settings.certificate());
      PrivateKey key = Pem.readPrivateKey(settings.privateKey());
      SslContextBuilder builder =
          SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
              .protocols(PROTOCOL);
      if (settings.clientCa() != null) {
        builder
            .clientAuth(ClientAuth.OPTIONAL)
            .trustManager(
                Pem.readCertificates(settings.clientCa()).toArray(new X509Certificate[0]));
      }
      return builder.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "TLS for the Redis port: cannot use " + settings.certificate() + ": " + e.getMessage(),
          e);
    }
  }
}

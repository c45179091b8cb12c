package io.craq.node.redis;

import io.craq.transport.ServerTls;
import io.craq.transport.security.TlsSettings;
import io.netty.handler.ssl.SslContext;
import java.util.function.Supplier;

/**
 * TLS for the Redis port, from the node's own {@link TlsSettings}, by the rules of the node's own
 * port ({@link ServerTls}): TLS 1.3 only, the node's certificate, a client certificate asked for
 * (optional) and verified against the cluster CA and the client CA (chain and validity window). A
 * verified client certificate makes the connection the user of the users file its CN names (see
 * {@link RedisConnection}). The files are read again when they change.
 */
public final class RedisTls {
  private RedisTls() {}

  /**
   * The server context for {@code settings}, read again when one of its files changed (checked once
   * a second). Files that changed but cannot be used leave the previous context in place, with one
   * error in the log per change. The supplier is {@link AutoCloseable}: {@link RedisServer#close}
   * stops the checks.
   *
   * @throws IllegalArgumentException if the files cannot be used now
   */
  public static Supplier<SslContext> reloading(TlsSettings settings) {
    return new Reloading(ServerTls.open(settings));
  }

  private record Reloading(ServerTls tls) implements Supplier<SslContext>, AutoCloseable {
    @Override
    public SslContext get() {
      return tls.nettyContext();
    }

    @Override
    public void close() {
      tls.close();
    }
  }
}

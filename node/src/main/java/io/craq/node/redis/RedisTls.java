package io.craq.node.redis;

import io.craq.transport.security.Pem;
import io.craq.transport.security.TlsSettings;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for the Redis port, from the node's own {@link TlsSettings}: TLS 1.3 only, the node's
 * certificate, and, with a client CA, client certificates asked for (optional) and verified against
 * it (chain and validity window). A verified client certificate makes the connection the user its
 * CN names (see {@link RedisConnection}). The files are read once, at start.
 */
public final class RedisTls {
  static final String PROTOCOL = "TLSv1.3";

  private static final Logger log = LoggerFactory.getLogger(RedisTls.class);

  private static final long CHECK_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private RedisTls() {}

  /**
   * The server context for {@code settings}, read again when one of its files changed (looked at at
   * most once a second, when a connection is accepted). Files that changed but cannot be used leave
   * the previous context in place, with one error in the log per change.
   *
   * @throws IllegalArgumentException if the files cannot be used now
   */
  public static Supplier<SslContext> reloading(TlsSettings settings) {
    return new Reloading(settings);
  }

  private static final class Reloading implements Supplier<SslContext> {
    private final TlsSettings settings;
    private SslContext current;
    private List<Object> loadedState;
    private List<Object> failedState;
    private long checkedNanos;

    Reloading(TlsSettings settings) {
      this.settings = settings;
      this.loadedState = state();
      this.current = serverContext(settings);
      this.checkedNanos = System.nanoTime();
    }

    private List<Object> state() {
      List<Object> state = new ArrayList<>();
      for (Path file :
          Arrays.asList(
              settings.certificate(),
              settings.privateKey(),
              settings.clusterCa(),
              settings.clientCa())) {
        if (file == null) {
          continue;
        }
        try {
          BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
          state.add(List.of(file, a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey())));
        } catch (IOException e) {
          state.add(List.of(file, "unreadable"));
        }
      }
      return state;
    }

    @Override
    public synchronized SslContext get() {
      long now = System.nanoTime();
      if (now - checkedNanos < CHECK_INTERVAL_NANOS) {
        return current;
      }
      checkedNanos = now;
      List<Object> state = state();
      if (state.equals(loadedState) || state.equals(failedState)) {
        return current;
      }
      try {
        current = serverContext(settings);
        loadedState = state;
        failedState = null;
        log.info("Redis port: TLS certificates reloaded from {}", settings.certificate());
      } catch (IllegalArgumentException e) {
        failedState = state;
        log.error(
            "Redis port: TLS files changed but cannot be used, keeping the previous ones: {}",
            e.getMessage());
      }
      return current;
    }
  }

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

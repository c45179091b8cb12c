package io.craq.transport;

import io.craq.transport.security.TlsSettings;
import io.netty.handler.ssl.SslContext;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the other server ports of a process (the Redis port, the metrics port), by the rules of
 * the transport's own listening side, from the same {@link TlsSettings}: TLS 1.3 only, this
 * process's certificate, a client certificate asked for (optional) and accepted if it chains to the
 * cluster CA (a member) or to the client CA, within its validity window. The files are checked once
 * a second and read again when they change; new connections use the new material, and files that
 * cannot be used leave the previous material in place with one error in the log.
 *
 * <p>Two faces of the same material: {@link #nettyContext()} for a Netty pipeline, and {@link
 * #jdkContext()} with {@link #jdkParameters()} for the JDK's own TLS (its HTTPS server).
 * Thread-safe; {@link #close()} stops the checks.
 */
public final class ServerTls implements AutoCloseable {
  /** The only protocol served. */
  public static final String PROTOCOL = TlsContexts.PROTOCOL;

  /** The checks of every {@code ServerTls} of the process: one daemon thread. */
  private static final class Timer {
    static final ScheduledExecutorService INSTANCE = create();

    private static ScheduledExecutorService create() {
      ScheduledThreadPoolExecutor timer =
          new ScheduledThreadPoolExecutor(
              1, task -> Thread.ofPlatform().daemon().name("craq-tls-files").unstarted(task));
      timer.setRemoveOnCancelPolicy(true);
      return timer;
    }
  }

  /**
   * The verified certificate a client presented.
   *
   * @param certificate its leaf certificate
   * @param commonName the CN of its subject (the whole subject if it has none)
   * @param member true if it chains to the cluster CA (a node or coordinator), false if to the
   *     client CA
   */
  public record Peer(X509Certificate certificate, String commonName, boolean member) {}

  private final TlsContexts contexts;
  private final SSLContext jdk;

  private ServerTls(TlsContexts contexts) throws GeneralSecurityException {
    this.contexts = contexts;
    this.jdk = SSLContext.getInstance(PROTOCOL);
    jdk.init(new KeyManager[] {new CurrentKey()}, new TrustManager[] {new CurrentTrust()}, null);
  }

  /**
   * Loads the material of {@code settings} now and checks its files every second.
   *
   * @throws IllegalArgumentException naming the file and the problem if the files cannot be used,
   *     or if the settings have no certificate of this process
   */
  public static ServerTls open(TlsSettings settings) {
    if (!settings.hasCertificate()) {
      throw new IllegalArgumentException(
          "TLS on a server port needs this process's certificate and key (--tls-cert, --tls-key)");
    }
    TlsContexts contexts = new TlsContexts(settings, Timer.INSTANCE);
    try {
      return new ServerTls(contexts);
    } catch (GeneralSecurityException e) {
      contexts.close();
      throw new IllegalArgumentException("TLS: the JDK cannot serve " + PROTOCOL + ": " + e, e);
    }
  }

  /** The Netty server context of the current material (for a new connection's handler). */
  public SslContext nettyContext() {
    return contexts.current().server;
  }

  /**
   * A JDK context whose key and certificate checks follow the current material; use every engine of
   * it with {@link #jdkParameters()}.
   */
  public SSLContext jdkContext() {
    return jdk;
  }

  /** TLS 1.3 only, and a client certificate asked for but not required. */
  public SSLParameters jdkParameters() {
    SSLParameters parameters = jdk.getDefaultSSLParameters();
    parameters.setProtocols(new String[] {PROTOCOL});
    parameters.setWantClientAuth(true);
    return parameters;
  }

  /** The client certificate a finished handshake verified, or null if the client presented none. */
  public Peer peer(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
      return null;
    }
    X509Certificate[] x509 = new X509Certificate[chain.length];
    for (int i = 0; i < chain.length; i++) {
      if (!(chain[i] instanceof X509Certificate certificate)) {
        return null;
      }
      x509[i] = certificate;
    }
    return new Peer(x509[0], Admission.commonName(x509[0]), contexts.current().isMember(x509));
  }

  /** Stops checking the files; contexts already handed out keep working. Idempotent. */
  @Override
  public void close() {
    contexts.close();
  }

  /** This process's key and certificate, as last loaded. */
  private final class CurrentKey extends X509ExtendedKeyManager {
    private X509ExtendedKeyManager current() {
      return contexts.current().keyManager;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public String chooseEngineClientAlias(
        String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current().getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return current().chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return current().chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return current().getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return current().getPrivateKey(alias);
    }
  }

  /** The verification of client certificates, as last loaded. */
  private final class CurrentTrust extends X509ExtendedTrustManager {
    private X509ExtendedTrustManager current() {
      return contexts.current().serverTrust;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      current().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      current().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      current().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a server port does not dial");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a server port does not dial");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a server port does not dial");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return current().getAcceptedIssuers();
    }
  }
}

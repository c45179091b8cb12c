package io.craq.transport;

import io.craq.transport.security.Pem;
import io.craq.transport.security.TlsSettings;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS material of one transport, from the PEM files of its {@link TlsSettings}: a server and a
 * client {@link SslContext} (TLS 1.3 only), both presenting this process's certificate. The files'
 * modification times are checked once a second; when they change they are read again and new
 * connections use the new material (existing ones keep theirs). New files that cannot be read or do
 * not fit together leave the old material in place, with one error in the log. Thread-safe.
 *
 * <p>Verification: a server asks every client for a certificate (optional) and accepts one that
 * chains to the cluster CA or to the client CA, within its validity window; a client accepts only a
 * server certificate that chains to the cluster CA. Host names are not checked: every certificate
 * of the cluster CA is a member, whatever address it was reached at.
 */
final class TlsContexts implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

  static final String PROTOCOL = "TLSv1.3";

  /**
   * The TLS implementation: {@code openssl} (Netty's BoringSSL, the default where its native
   * library loads, several times cheaper per record) or {@code jdk} (the JDK's SSLEngine, the
   * fallback elsewhere).
   */
  static final String PROVIDER_PROPERTY = "craq.tls.provider";

  /** The provider this process uses, decided once. */
  static final SslProvider PROVIDER = provider();

  private static SslProvider provider() {
    String wanted = System.getProperty(PROVIDER_PROPERTY, "openssl");
    if (wanted.equalsIgnoreCase("jdk")) {
      return SslProvider.JDK;
    }
    try {
      if (io.netty.handler.ssl.OpenSsl.isAvailable()) {
        return SslProvider.OPENSSL;
      }
      log.info(
          "OpenSSL is not available here ({}): TLS uses the JDK's SSLEngine",
          String.valueOf(io.netty.handler.ssl.OpenSsl.unavailabilityCause()));
    } catch (LinkageError e) {
      log.info("OpenSSL is not available here ({}): TLS uses the JDK's SSLEngine", e.toString());
    }
    return SslProvider.JDK;
  }

  private static final long CHECK_INTERVAL_MILLIS = 1_000;
  private static final String ALIAS = "self";

  /** One generation of loaded material. */
  static final class Material {
    /** Null when the settings have no certificate (a dial-only client). */
    final SslContext server;

    final SslContext client;
    final X509Certificate certificate;
    private final X509ExtendedTrustManager cluster;

    /**
     * What a server built on the JDK's TLS (not Netty) needs to follow the same rules: this
     * process's key and certificate, and the verification of client certificates. Null when the
     * settings have no certificate.
     */
    final X509ExtendedKeyManager keyManager;

    final X509ExtendedTrustManager serverTrust;

    Material(
        SslContext server,
        SslContext client,
        X509Certificate certificate,
        X509ExtendedTrustManager cluster) {
      this(server, client, certificate, cluster, null, null);
    }

    Material(
        SslContext server,
        SslContext client,
        X509Certificate certificate,
        X509ExtendedTrustManager cluster,
        X509ExtendedKeyManager keyManager,
        X509ExtendedTrustManager serverTrust) {
      this.server = server;
      this.client = client;
      this.certificate = certificate;
      this.cluster = cluster;
      this.keyManager = keyManager;
      this.serverTrust = serverTrust;
    }

    /** True if the verified client chain {@code chain} chains to the cluster CA. */
    boolean isMember(X509Certificate[] chain) {
      try {
        cluster.checkClientTrusted(chain, chain[0].getPublicKey().getAlgorithm());
        return true;
      } catch (CertificateException e) {
        return false;
      }
    }
  }

  private record FileState(Path path, long modifiedNanos, long size, Object key) {}

  private final TlsSettings settings;
  private volatile Material current;
  private List<FileState> loadedState;
  private List<FileState> failedState;
  private final ScheduledFuture<?> watch;

  /**
   * Loads the material now and checks the files every second on {@code timer}.
   *
   * @throws IllegalArgumentException naming the file and the problem if the material cannot be
   *     loaded
   */
  TlsContexts(TlsSettings settings, ScheduledExecutorService timer) {
    this.settings = Objects.requireNonNull(settings, "settings");
    List<FileState> state = state();
    try {
      current = load(settings);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS: " + e.getMessage(), e);
    }
    loadedState = state;
    watch =
        timer.scheduleWithFixedDelay(
            this::checkForChanges,
            CHECK_INTERVAL_MILLIS,
            CHECK_INTERVAL_MILLIS,
            TimeUnit.MILLISECONDS);
  }

  Material current() {
    return current;
  }

  @Override
  public void close() {
    watch.cancel(false);
  }

  // ---------------------------------------------------------------------------- rotation

  private List<Path> files() {
    List<Path> files = new ArrayList<>();
    if (settings.hasCertificate()) {
      files.add(settings.certificate());
      files.add(settings.privateKey());
    }
    files.add(settings.clusterCa());
    if (settings.clientCa() != null) {
      files.add(settings.clientCa());
    }
    return files;
  }

  private List<FileState> state() {
    List<FileState> states = new ArrayList<>();
    for (Path file : files()) {
      try {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        states.add(
            new FileState(
                file,
                attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS),
                attributes.size(),
                attributes.fileKey()));
      } catch (IOException e) {
        states.add(new FileState(file, -1, -1, null));
      }
    }
    return states;
  }

  /** Reloads if a file changed since the last load; runs on the transport's timer. */
  void checkForChanges() {
    try {
      List<FileState> state = state();
      if (state.equals(loadedState) || state.equals(failedState)) {
        return;
      }
      Material fresh;
      try {
        fresh = load(settings);
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        failedState = state;
        log.error(
            "TLS files changed but cannot be used, keeping the previous certificates: {}",
            e.getMessage());
        return;
      }
      current = fresh;
      loadedState = state;
      failedState = null;
      if (fresh.certificate == null) {
        log.info("TLS trusted CA reloaded from {}", settings.clusterCa());
      } else {
        log.info(
            "TLS certificates reloaded from {}: now {} (valid until {})",
            settings.certificate(),
            fresh.certificate.getSubjectX500Principal().getName(X500Principal.RFC2253),
            fresh.certificate.getNotAfter().toInstant());
      }
    } catch (RuntimeException e) {
      log.error("checking the TLS files for changes failed", e);
    }
  }

  // ---------------------------------------------------------------------------- loading

  static Material load(TlsSettings settings) throws IOException, GeneralSecurityException {
    if (!settings.hasCertificate()) {
      X509ExtendedTrustManager cluster = trustManager(settings.clusterCa());
      SslContext client =
          SslContextBuilder.forClient()
              .sslProvider(PROVIDER)
              .protocols(PROTOCOL)
              .trustManager(new ClusterTrust(cluster))
              .endpointIdentificationAlgorithm(null)
              .build();
      return new Material(null, client, null, cluster);
    }
    List<X509Certificate> chain = Pem.readCertificates(settings.certificate());
    PrivateKey key = Pem.readPrivateKey(settings.privateKey());
    checkKeyMatches(settings, chain.get(0), key);
    warnIfReadableByOthers(settings.privateKey());
    X509Certificate own = chain.get(0);
    try {
      own.checkValidity();
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      log.warn(
          "this process's certificate {} is outside its validity window ({} .. {}): peers will"
              + " refuse it",
          settings.certificate(),
          own.getNotBefore().toInstant(),
          own.getNotAfter().toInstant());
    }
    X509ExtendedTrustManager cluster = trustManager(settings.clusterCa());
    X509ExtendedTrustManager clients =
        settings.clientCa() == null ? null : trustManager(settings.clientCa());
    X509Certificate[] ownChain = chain.toArray(new X509Certificate[0]);
    FixedKeyManager keyManager = new FixedKeyManager(key, ownChain);
    ServerTrust serverTrust = new ServerTrust(cluster, clients);
    SslContext server =
        SslContextBuilder.forServer(keyManager)
            .sslProvider(PROVIDER)
            .protocols(PROTOCOL)
            .clientAuth(ClientAuth.OPTIONAL)
            .trustManager(serverTrust)
            .build();
    SslContext client =
        SslContextBuilder.forClient()
            .sslProvider(PROVIDER)
            .protocols(PROTOCOL)
            .keyManager(keyManager)
            .trustManager(new ClusterTrust(cluster))
            .endpointIdentificationAlgorithm(null)
            .build();
    return new Material(server, client, own, cluster, keyManager, serverTrust);
  }

  private static X509ExtendedTrustManager trustManager(Path caFile)
      throws IOException, GeneralSecurityException {
    List<X509Certificate> cas = Pem.readCertificates(caFile);
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    for (int i = 0; i < cas.size(); i++) {
      store.setCertificateEntry("ca-" + i, cas.get(i));
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    factory.init(store);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509ExtendedTrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager for " + caFile);
  }

  /** The key must be the certificate's: a mismatch would only show as failed handshakes. */
  private static void checkKeyMatches(
      TlsSettings settings, X509Certificate certificate, PrivateKey key) throws IOException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "RSASSA-PSS" -> null;
          default -> key.getAlgorithm(); // EdDSA, Ed25519
        };
    if (algorithm == null) {
      return;
    }
    try {
      byte[] probe = "craq key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signature)) {
        throw new IOException(
            settings.privateKey() + " is not the key of the certificate " + settings.certificate());
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(
          settings.privateKey()
              + " does not fit the certificate "
              + settings.certificate()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static void warnIfReadableByOthers(Path keyFile) {
    try {
      Set<PosixFilePermission> mode =
          Files.getPosixFilePermissions(keyFile, LinkOption.NOFOLLOW_LINKS);
      if (mode.contains(PosixFilePermission.OTHERS_READ)
          || mode.contains(PosixFilePermission.GROUP_READ)) {
        log.warn(
            "the private key {} is readable by other users: chmod 600 it",
            keyFile.toAbsolutePath());
      }
    } catch (IOException | UnsupportedOperationException e) {
      // no POSIX permissions here, or a symbolic link: nothing to say
    }
  }

  // ---------------------------------------------------------------------------- verification

  private static String describe(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName(X500Principal.RFC2253)
        + " (issued by "
        + certificate.getIssuerX500Principal().getName(X500Principal.RFC2253)
        + ")";
  }

  /** Fails with a clear message if the leaf is expired or not yet valid. */
  private static void checkWindow(X509Certificate[] chain, String whose)
      throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException(whose + " presented no certificate");
    }
    X509Certificate leaf = chain[0];
    try {
      leaf.checkValidity();
    } catch (CertificateExpiredException e) {
      throw new CertificateExpiredException(
          whose
              + " certificate "
              + describe(leaf)
              + " expired on "
              + leaf.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new CertificateNotYetValidException(
          whose
              + " certificate "
              + describe(leaf)
              + " is not valid before "
              + leaf.getNotBefore().toInstant());
    }
  }

  /** Client side: the server must chain to the cluster CA. */
  private static final class ClusterTrust extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager cluster;

    ClusterTrust(X509ExtendedTrustManager cluster) {
      this.cluster = cluster;
    }

    private void check(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkWindow(chain, "the server's");
      try {
        if (engine != null) {
          cluster.checkServerTrusted(chain, authType, engine);
        } else {
          cluster.checkServerTrusted(chain, authType);
        }
      } catch (CertificateException e) {
        throw new CertificateException(
            "the server's certificate "
                + describe(chain[0])
                + " is not signed by the cluster CA: "
                + e.getMessage(),
            e);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain, authType, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, authType, null);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a client transport does not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a client transport does not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a client transport does not accept clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return cluster.getAcceptedIssuers();
    }
  }

  /** Server side: a client certificate must chain to the cluster CA or to the client CA. */
  private static final class ServerTrust extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager cluster;
    private final X509ExtendedTrustManager clients;

    ServerTrust(X509ExtendedTrustManager cluster, X509ExtendedTrustManager clients) {
      this.cluster = cluster;
      this.clients = clients;
    }

    private void check(X509Certificate[] chain, String authType) throws CertificateException {
      checkWindow(chain, "the client's");
      try {
        cluster.checkClientTrusted(chain, authType);
        return;
      } catch (CertificateException e) {
        if (clients == null) {
          throw new CertificateException(
              "the client's certificate "
                  + describe(chain[0])
                  + " is not signed by the cluster CA: "
                  + e.getMessage(),
              e);
        }
      }
      try {
        clients.checkClientTrusted(chain, authType);
      } catch (CertificateException e) {
        throw new CertificateException(
            "the client's certificate "
                + describe(chain[0])
                + " is signed by neither the cluster CA nor the client CA: "
                + e.getMessage(),
            e);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a server transport does not dial");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a server transport does not dial");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a server transport does not dial");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      X509Certificate[] a = cluster.getAcceptedIssuers();
      if (clients == null) {
        return a;
      }
      X509Certificate[] b = clients.getAcceptedIssuers();
      X509Certificate[] all = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, all, a.length, b.length);
      return all;
    }
  }

  /**
   * Presents this process's one certificate whatever issuers the peer says it accepts, so that a
   * peer of another CA refuses it loudly instead of the handshake going on without a certificate.
   */
  private static final class FixedKeyManager extends X509ExtendedKeyManager {
    private final PrivateKey key;
    private final X509Certificate[] chain;

    FixedKeyManager(PrivateKey key, X509Certificate[] chain) {
      this.key = key;
      this.chain = chain;
    }

    private boolean fits(String keyType) {
      return keyType != null
          && (keyType.equals(key.getAlgorithm())
              || (keyType.equals("EdDSA") && key.getAlgorithm().startsWith("Ed")));
    }

    private String aliasFor(String[] keyTypes) {
      if (keyTypes == null) {
        return null;
      }
      for (String keyType : keyTypes) {
        if (fits(keyType)) {
          return ALIAS;
        }
      }
      return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return fits(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      return aliasFor(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(
        String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      return aliasFor(keyTypes);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return fits(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return fits(keyType) ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return fits(keyType) ? ALIAS : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return ALIAS.equals(alias) ? key : null;
    }
  }
}

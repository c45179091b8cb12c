package io.craq.transport.security;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for one process, from PEM files. Files are read again when they change, so certificates can
 * be rotated without a restart; new connections use the new ones.
 *
 * @param certificate this process's certificate chain (PEM), presented to every peer; null (with a
 *     null key) for a client that only dials and proves who it is by password, if at all
 * @param privateKey its private key (PEM, PKCS#8, unencrypted); must not be readable by others;
 *     null exactly when {@code certificate} is
 * @param clusterCa the cluster's CA certificates (PEM). A peer whose certificate chains to it is a
 *     member of the cluster ({@link Role#MEMBER}); this process also checks every server it dials
 *     against it
 * @param clientCa CA certificates (PEM) of client certificates, or null for none. A client whose
 *     certificate chains to it is the user its subject's CN names ({@link
 *     Authenticator#forCertificate}); clients without a certificate may still authenticate with a
 *     password or token
 */
public record TlsSettings(Path certificate, Path privateKey, Path clusterCa, Path clientCa) {

  /** TLS for a client that presents no certificate: it only checks servers against {@code ca}. */
  public static TlsSettings trustOnly(Path ca) {
    return new TlsSettings(null, null, ca, null);
  }

  /** True if this process presents a certificate (it may then also listen). */
  public boolean hasCertificate() {
    return certificate != null;
  }

  public TlsSettings {
    Objects.requireNonNull(clusterCa, "clusterCa");
    if ((certificate == null) != (privateKey == null)) {
      throw new IllegalArgumentException(
          "TLS: a certificate needs its private key and a key its certificate");
    }
  }
}

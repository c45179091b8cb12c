package io.craq.transport.security;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for one process, from PEM files. Files are read again when they change, so certificates can
 * be rotated without a restart; new connections use the new ones.
 *
 * @param certificate this process's certificate chain (PEM), presented to every peer
 * @param privateKey its private key (PEM, PKCS#8, unencrypted); must not be readable by others
 * @param clusterCa the cluster's CA certificates (PEM). A peer whose certificate chains to it is a
 *     member of the cluster ({@link Role#MEMBER}); this process also checks every server it dials
 *     against it
 * @param clientCa CA certificates (PEM) of client certificates, or null for none. A client whose
 *     certificate chains to it is the user its subject's CN names ({@link
 *     Authenticator#forCertificate}); clients without a certificate may still authenticate with a
 *     password or token
 */
public record TlsSettings(Path certificate, Path privateKey, Path clusterCa, Path clientCa) {

  public TlsSettings {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(clusterCa, "clusterCa");
  }
}

package io.craq.transport.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Reads and writes the PEM files of {@link TlsSettings}: certificates and PKCS#8 private keys. */
public final class Pem {
  private Pem() {}

  private static final String BEGIN_KEY = "-----BEGIN PRIVATE KEY-----";
  private static final String END_KEY = "-----END PRIVATE KEY-----";

  /**
   * Every certificate in {@code file}, in file order.
   *
   * @throws IOException naming the file if it cannot be read or holds no certificate
   */
  public static List<X509Certificate> readCertificates(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(bytes))) {
        certificates.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IOException(file + ": not a PEM certificate file: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IOException(file + " holds no certificate (BEGIN CERTIFICATE)");
    }
    return certificates;
  }

  /**
   * The unencrypted PKCS#8 private key (EC, RSA or EdDSA) in {@code file}.
   *
   * @throws IOException naming the file and what is wrong with it
   */
  public static PrivateKey readPrivateKey(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = text.indexOf(BEGIN_KEY);
    int end = text.indexOf(END_KEY);
    if (begin < 0 || end < begin) {
      String hint =
          text.contains("ENCRYPTED PRIVATE KEY")
              ? " (it is encrypted: decrypt it with openssl pkcs8 -nocrypt)"
              : text.contains("RSA PRIVATE KEY") || text.contains("EC PRIVATE KEY")
                  ? " (convert it with openssl pkcs8 -topk8 -nocrypt)"
                  : "";
      throw new IOException(file + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY)" + hint);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(begin + BEGIN_KEY.length(), end));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": the key is not valid base64", e);
    }
    for (String algorithm : List.of("EC", "RSA", "EdDSA", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new IOException(file + ": not an EC, RSA or EdDSA private key");
  }

  /** {@code der} as a PEM block of {@code type} (CERTIFICATE, PRIVATE KEY). */
  public static String encode(String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }
}

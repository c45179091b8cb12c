package io.craq.transport.security;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Makes a certificate authority and certificates it signs, as PEM files, with the JDK's {@code
 * keytool} (no other dependency): for tests, {@code craq tls-init} and throwaway clusters. Keys are
 * EC P-256; private key files are PKCS#8 PEM with mode 0600 where the file system has POSIX
 * permissions. Every file is written to a temporary name and moved into place, so a process that
 * reloads certificates never reads half a file.
 *
 * <p>Example: {@code CertificateTool.Ca ca = CertificateTool.newCa(dir, "cluster-ca"); var node =
 * ca.issue(dir, "node-1", List.of("127.0.0.1", "localhost"), Instant.now(),
 * Instant.now().plus(Duration.ofDays(365)));} then {@code new TlsSettings(node.certificate(),
 * node.privateKey(), ca.certificate(), null)}.
 */
public final class CertificateTool {
  private CertificateTool() {}

  /** A CA made by {@link #newCa} lasts this long. */
  public static final Duration CA_VALIDITY = Duration.ofDays(3650);

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final DateTimeFormatter KEYTOOL_DATE =
      DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final long KEYTOOL_TIMEOUT_SECONDS = 120;
  private static final String PASSWORD_VARIABLE = "CRAQ_KEYTOOL_PASSWORD";

  /** A certificate (PEM chain: the certificate, then its CA's) and its private key (PEM). */
  public record Issued(Path certificate, Path privateKey) {}

  /**
   * A certificate authority: its certificate and private key files.
   *
   * @param certificate the CA certificate (PEM): what peers trust
   * @param privateKey the CA's private key (PKCS#8 PEM, mode 0600): keep it off the servers
   */
  public record Ca(Path certificate, Path privateKey) {

    public Ca {
      Objects.requireNonNull(certificate, "certificate");
      Objects.requireNonNull(privateKey, "privateKey");
    }

    /**
     * Issues a certificate for {@code commonName}, valid from {@code validFrom} for the whole days
     * up to {@code validTo} (rounded up, at least one), usable by servers and clients alike. Writes
     * {@code dir/<commonName>.pem} (the certificate followed by this CA's) and {@code
     * dir/<commonName>-key.pem}, replacing existing files.
     *
     * @param sans subject alternative names: IP addresses (v4 or v6) and DNS names
     * @throws IllegalArgumentException if the name is not a plain file name, or validTo is not
     *     after validFrom
     * @throws IOException if a file cannot be read or written, or keytool fails
     */
    public Issued issue(
        Path dir, String commonName, List<String> sans, Instant validFrom, Instant validTo)
        throws IOException {
      checkName(commonName);
      List<String> extensions = new ArrayList<>();
      if (!sans.isEmpty()) {
        extensions.add("SAN=" + String.join(",", sans.stream().map(CertificateTool::san).toList()));
      }
      extensions.add("KU=digitalSignature,keyEncipherment");
      extensions.add("EKU=serverAuth,clientAuth");
      Files.createDirectories(dir);
      Path work = Files.createTempDirectory(dir, ".certificate-tool-");
      try {
        String password = randomPassword();
        Path store = work.resolve("store.p12");
        X509Certificate caCertificate = Pem.readCertificates(certificate).get(0);
        PrivateKey caKey = Pem.readPrivateKey(privateKey);
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        keyStore.setKeyEntry(
            "ca", caKey, password.toCharArray(), new Certificate[] {caCertificate});
        try (OutputStream out = Files.newOutputStream(store)) {
          keyStore.store(out, password.toCharArray());
        }
        List<String> args =
            new ArrayList<>(
                List.of(
                    "-genkeypair",
                    "-alias",
                    "leaf",
                    "-signer",
                    "ca",
                    "-signerkeypass:env",
                    PASSWORD_VARIABLE));
        args.addAll(keyArguments(commonName, store, validFrom, validTo));
        for (String extension : extensions) {
          args.add("-ext");
          args.add(extension);
        }
        keytool(args, password);
        KeyStore issued = loadStore(store, password);
        Certificate[] chain = issued.getCertificateChain("leaf");
        PrivateKey key = (PrivateKey) issued.getKey("leaf", password.toCharArray());
        Path certificateFile = dir.resolve(commonName + ".pem");
        Path keyFile = dir.resolve(commonName + "-key.pem");
        StringBuilder pem = new StringBuilder();
        for (Certificate c : chain) {
          pem.append(Pem.encode("CERTIFICATE", c.getEncoded()));
        }
        if (chain.length == 1) {
          pem.append(Pem.encode("CERTIFICATE", caCertificate.getEncoded()));
        }
        writeKey(keyFile, key);
        writeAtomically(certificateFile, pem.toString(), false);
        return new Issued(certificateFile, keyFile);
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot issue a certificate for " + commonName + ": " + e, e);
      } finally {
        deleteTree(work);
      }
    }
  }

  /** A new CA named {@code name}, valid for {@link #CA_VALIDITY} from an hour ago. */
  public static Ca newCa(Path dir, String name) throws IOException {
    Instant from = Instant.now().minus(Duration.ofHours(1));
    return newCa(dir, name, from, from.plus(CA_VALIDITY));
  }

  /**
   * A new self-signed CA whose subject is {@code CN=name}: writes {@code dir/<name>.pem} and {@code
   * dir/<name>-key.pem}, replacing existing files.
   *
   * @throws IllegalArgumentException if the name is not a plain file name, or validTo is not after
   *     validFrom
   * @throws IOException if a file cannot be written, or keytool fails
   */
  public static Ca newCa(Path dir, String name, Instant validFrom, Instant validTo)
      throws IOException {
    checkName(name);
    Files.createDirectories(dir);
    Path work = Files.createTempDirectory(dir, ".certificate-tool-");
    try {
      String password = randomPassword();
      Path store = work.resolve("ca.p12");
      List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", "ca"));
      args.addAll(keyArguments(name, store, validFrom, validTo));
      args.addAll(List.of("-ext", "BC:c", "-ext", "KU:c=keyCertSign,cRLSign"));
      keytool(args, password);
      KeyStore keyStore = loadStore(store, password);
      Certificate certificate = keyStore.getCertificate("ca");
      PrivateKey key = (PrivateKey) keyStore.getKey("ca", password.toCharArray());
      Ca ca = new Ca(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"));
      writeKey(ca.privateKey(), key);
      writeAtomically(ca.certificate(), Pem.encode("CERTIFICATE", certificate.getEncoded()), false);
      return ca;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot make the CA " + name + ": " + e, e);
    } finally {
      deleteTree(work);
    }
  }

  /** The CA whose files {@link #newCa} wrote; nothing is read until it issues. */
  public static Ca loadCa(Path certificate, Path privateKey) {
    return new Ca(certificate, privateKey);
  }

  // ------------------------------------------------------------------------------ keytool

  private static List<String> keyArguments(
      String commonName, Path store, Instant validFrom, Instant validTo) {
    if (!validTo.isAfter(validFrom)) {
      throw new IllegalArgumentException(
          "validTo (" + validTo + ") must be after validFrom (" + validFrom + ")");
    }
    long seconds = Duration.between(validFrom, validTo).toSeconds();
    long days = Math.max(1, (seconds + 86_399) / 86_400);
    return List.of(
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=" + commonName,
        "-startdate",
        KEYTOOL_DATE.format(validFrom),
        "-validity",
        Long.toString(days),
        "-keystore",
        store.toString(),
        "-storetype",
        "PKCS12",
        "-storepass:env",
        PASSWORD_VARIABLE,
        "-keypass:env",
        PASSWORD_VARIABLE);
  }

  /** Runs keytool; the password goes through the environment, never the command line. */
  private static void keytool(List<String> args, String password) throws IOException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> command =
        new ArrayList<>(
            List.of(
                keytool.toString(),
                "-J-Duser.timezone=UTC",
                "-J-XX:TieredStopAtLevel=1",
                "-J-XX:+UseSerialGC",
                "-J-XX:-UsePerfData",
                "-noprompt"));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put(PASSWORD_VARIABLE, password);
    Process process = builder.start();
    String output;
    try (InputStream in = process.getInputStream()) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
    try {
      if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("keytool did not finish within " + KEYTOOL_TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IOException("interrupted while keytool ran", e);
    }
    if (process.exitValue() != 0) {
      throw new IOException("keytool failed (exit " + process.exitValue() + "): " + output);
    }
  }

  private static KeyStore loadStore(Path store, String password)
      throws IOException, GeneralSecurityException {
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, password.toCharArray());
    }
    return keyStore;
  }

  private static String randomPassword() {
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  private static void checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' is not usable as a certificate name: letters, digits, '.', '_' and '-' only"
              + " (it names the files)");
    }
  }

  private static String san(String name) {
    if (IPV4.matcher(name).matches() || name.contains(":")) {
      return "ip:" + name;
    }
    return "dns:" + name;
  }

  // ------------------------------------------------------------------------------ PEM

  private static void writeKey(Path file, PrivateKey key) throws IOException {
    writeAtomically(file, Pem.encode("PRIVATE KEY", key.getEncoded()), true);
  }

  /** Writes {@code text} to a temporary file beside {@code file}, then moves it into place. */
  private static void writeAtomically(Path file, String text, boolean secret) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Path temp;
    boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
    if (posix) {
      Set<PosixFilePermission> mode =
          PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--");
      temp = Files.createTempFile(dir, ".tmp-", ".pem", PosixFilePermissions.asFileAttribute(mode));
      // The umask may have removed bits we asked for; the key must end up exactly 0600.
      Files.setPosixFilePermissions(temp, mode);
    } else {
      temp = Files.createTempFile(dir, ".tmp-", ".pem");
    }
    try {
      Files.writeString(temp, text, StandardCharsets.US_ASCII);
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

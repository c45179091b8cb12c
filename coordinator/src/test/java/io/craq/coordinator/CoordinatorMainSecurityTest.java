package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator takes the same security flags as the node, checked the same way. */
class CoordinatorMainSecurityTest {
  private static final String SECRET = "coordinator-secret-never-printed";

  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return CoordinatorMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
  }

  @Test
  void secretFilesOthersMayReadAreRefused() throws Exception {
    Path key = dir.resolve("key.pem");
    Files.writeString(key, SECRET);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
    assertEquals(
        2,
        run(
            "-d",
            dir.toString(),
            "--tls-cert",
            cert.toString(),
            "--tls-key",
            key.toString(),
            "--tls-ca",
            ca.toString()));
    assertTrue(err.toString().contains("chmod 600 " + key), err.toString());
    assertFalse(err.toString().contains(SECRET));
  }

  @Test
  void tlsNeedsAllThreeFiles() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    assertEquals(2, run("-d", dir.toString(), "--tls-cert", cert.toString()));
    assertTrue(err.toString().contains("--tls-key, --tls-ca"), err.toString());
  }

  @Test
  void metricsTlsWithoutTheCertificateIsAUsageErrorNamingTheFlags() {
    assertEquals(2, run("-d", dir.toString(), "--metrics-listen", "127.0.0.1:0", "--metrics-tls"));
    assertTrue(err.toString().contains("--metrics-tls needs --tls-cert"), err.toString());
    assertEquals(2, run("-d", dir.toString(), "--metrics-tls"));
    assertTrue(err.toString().contains("--metrics-tls needs --metrics-listen"), err.toString());
  }

  @Test
  void helpListsTheSecurityFlags() {
    assertEquals(0, run("--help"));
    assertTrue(out.toString().contains("--users=FILE"), out.toString());
    assertTrue(out.toString().contains("--password-file=FILE"), out.toString());
  }
}

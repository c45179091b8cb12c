package io.craq.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ExitCodes;
import io.craq.transport.security.Pem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code craq tls-init}: the files it writes, who signed what, and a non-empty directory. */
class TlsInitCommandTest {
  @TempDir Path dir;

  private static X509Certificate first(Path file) throws Exception {
    return Pem.readCertificates(file).get(0);
  }

  private static Set<String> sans(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream()
        .map(entry -> String.valueOf(entry.get(1)))
        .collect(Collectors.toSet());
  }

  @Test
  void writesCasMemberAndClientCertificatesAndPrintsTheFlags() throws Exception {
    Path out = dir.resolve("tls");
    CraqRun run = CraqRun.of("tls-init", out.toString(), "--nodes", "1", "--hosts", "db1.example");
    assertEquals(ExitCodes.OK, run.exitCode(), run.err());

    X509Certificate ca = first(out.resolve("ca.pem"));
    X509Certificate clientCa = first(out.resolve("client-ca.pem"));
    for (String member : List.of("n1", "coordinator")) {
      X509Certificate certificate = first(out.resolve(member + ".pem"));
      certificate.verify(ca.getPublicKey());
      assertThrows(
          GeneralSecurityException.class, () -> certificate.verify(clientCa.getPublicKey()));
      assertEquals("CN=" + member, certificate.getSubjectX500Principal().getName());
      assertTrue(
          sans(certificate).containsAll(Set.of("127.0.0.1", "localhost", "db1.example")),
          member + ": " + sans(certificate));
      Pem.readPrivateKey(out.resolve(member + "-key.pem"));
    }
    assertFalse(Files.exists(out.resolve("n2.pem")));
    X509Certificate admin = first(out.resolve("admin.pem"));
    admin.verify(clientCa.getPublicKey());
    assertEquals("CN=admin", admin.getSubjectX500Principal().getName());
    for (String key : List.of("ca-key.pem", "client-ca-key.pem", "n1-key.pem", "admin-key.pem")) {
      assertEquals(
          "rw-------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(key))),
          key);
    }

    String printed = run.out();
    assertTrue(
        printed.contains(
            "--tls-cert "
                + out.resolve("admin.pem")
                + " --tls-key "
                + out.resolve("admin-key.pem")
                + " --tls-ca "
                + out.resolve("ca.pem")),
        printed);
    assertTrue(printed.contains("--tls-client-ca " + out.resolve("client-ca.pem")), printed);
    assertFalse(printed.contains("PRIVATE KEY"), printed);
  }

  @Test
  void refusesANonEmptyDirectoryUnlessForced() throws Exception {
    Files.writeString(dir.resolve("something"), "keep me", StandardCharsets.UTF_8);
    CraqRun refused = CraqRun.of("tls-init", dir.toString(), "--nodes", "1");
    assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.err());
    assertTrue(refused.err().contains("is not empty") && refused.err().contains("--force"));
    assertFalse(Files.exists(dir.resolve("ca.pem")));

    CraqRun forced = CraqRun.of("tls-init", dir.toString(), "--nodes", "1", "--force");
    assertEquals(ExitCodes.OK, forced.exitCode(), forced.err());
    assertTrue(Files.exists(dir.resolve("n1.pem")));
    assertEquals("keep me", Files.readString(dir.resolve("something")));
  }

  @Test
  void refusesBadCounts() {
    CraqRun run = CraqRun.of("tls-init", dir.resolve("x").toString(), "--nodes", "0");
    assertEquals(ExitCodes.USAGE, run.exitCode(), run.err());
    assertTrue(run.err().contains("--nodes must be"), run.err());
  }
}

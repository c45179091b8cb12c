package io.craq.transport;

import io.craq.transport.security.CertificateTool;
import io.craq.transport.security.TlsSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Certificates for the TLS tests, made once per test JVM with {@link CertificateTool} (keytool is
 * slow to start, so the runs go in parallel): a cluster CA with two member certificates and an
 * expired one, a client CA with a user certificate, and an unrelated CA with a certificate of its
 * own.
 */
final class TestPki {
  private static TestPki instance;

  final Path dir;
  final CertificateTool.Ca clusterCa;
  final CertificateTool.Ca clientCa;
  final CertificateTool.Ca otherCa;
  final CertificateTool.Issued node;
  final CertificateTool.Issued nodeNext;
  final CertificateTool.Issued expired;
  final CertificateTool.Issued alice;
  final CertificateTool.Issued mallory;

  static synchronized TestPki get() {
    if (instance == null) {
      try {
        instance = new TestPki(Files.createTempDirectory("craq-test-pki-"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return instance;
  }

  private TestPki(Path dir) throws IOException {
    this.dir = dir;
    dir.toFile().deleteOnExit();
    var cluster = async(() -> CertificateTool.newCa(dir, "cluster-ca"));
    var client = async(() -> CertificateTool.newCa(dir, "client-ca"));
    var other = async(() -> CertificateTool.newCa(dir, "other-ca"));
    Instant now = Instant.now();
    Instant from = now.minus(Duration.ofHours(1));
    Instant to = now.plus(Duration.ofDays(30));
    List<String> sans = List.of("127.0.0.1", "localhost");
    var nodeF = cluster.thenCompose(ca -> async(() -> ca.issue(dir, "node-1", sans, from, to)));
    var nextF = cluster.thenCompose(ca -> async(() -> ca.issue(dir, "node-2", sans, from, to)));
    var expiredF =
        cluster.thenCompose(ca ->
            async(() ->
                ca.issue(
                    dir,
                    "expired",
                    sans,
                    now.minus(Duration.ofDays(10)),
                    now.minus(Duration.ofDays(3)))));
    var aliceF = client.thenCompose(ca -> async(() -> ca.issue(dir, "alice", sans, from, to)));
    var malloryF = other.thenCompose(ca -> async(() -> ca.issue(dir, "mallory", sans, from, to)));
    try {
      clusterCa = cluster.join();
      clientCa = client.join();
      otherCa = other.join();
      node = nodeF.join();
      nodeNext = nextF.join();
      expired = expiredF.join();
      alice = aliceF.join();
      mallory = malloryF.join();
    } catch (CompletionException e) {
      throw new IOException("making the test certificates failed: " + e.getCause(), e.getCause());
    }
  }

  interface IoSupplier<T> {
    T get() throws IOException;
  }

  /** keytool runs are mostly waiting for a process: a thread each, not the common pool. */
  private static final java.util.concurrent.Executor RUNNER =
      java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

  private static <T> CompletableFuture<T> async(IoSupplier<T> supplier) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return supplier.get();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        RUNNER);
  }

  /** Settings presenting {@code who}, trusting the cluster CA and the client CA. */
  TlsSettings settings(CertificateTool.Issued who) {
    return new TlsSettings(
        who.certificate(), who.privateKey(), clusterCa.certificate(), clientCa.certificate());
  }

  /** A member's settings: the first node certificate. */
  TlsSettings member() {
    return settings(node);
  }
}

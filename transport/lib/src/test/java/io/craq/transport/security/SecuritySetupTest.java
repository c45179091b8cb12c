package io.craq.transport.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The security flags: TLS files, credentials, secrets never in messages, exposure warnings. */
class SecuritySetupTest {
  private static final String SECRET = "pa55-w0rd-never-printed";

  @TempDir Path dir;

  private Path file(String name, String content, String mode) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, content);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  @Test
  void credentialsComeFromTheFlagsElseTheEnvironment() throws Exception {
    Path password = file("pw", SECRET + "\n", "rw-------");
    Credentials fromFile = SecuritySetup.credentials("alice", password, Map.of());
    assertEquals("alice", fromFile.user());
    assertArrayEquals(SECRET.getBytes(StandardCharsets.UTF_8), fromFile.secret());
    assertFalse(fromFile.toString().contains(SECRET));

    Credentials fromEnvironment =
        SecuritySetup.credentials(null, null, Map.of("CRAQ_USER", "bob", "CRAQ_PASSWORD", SECRET));
    assertEquals("bob", fromEnvironment.user());
    assertArrayEquals(SECRET.getBytes(StandardCharsets.UTF_8), fromEnvironment.secret());

    // Flags win over the environment.
    Credentials both =
        SecuritySetup.credentials(
            "alice", password, Map.of("CRAQ_USER", "bob", "CRAQ_PASSWORD", "other"));
    assertEquals("alice", both.user());
    assertArrayEquals(SECRET.getBytes(StandardCharsets.UTF_8), both.secret());

    assertNull(SecuritySetup.credentials(null, null, Map.of()));
  }

  @Test
  void incompleteOrUnsafeCredentialsAreRefusedWithoutTheSecret() throws Exception {
    List<String> messages =
        List.of(
            refusal(() -> SecuritySetup.credentials("alice", null, Map.of())),
            refusal(() -> SecuritySetup.credentials(null, null, Map.of("CRAQ_PASSWORD", SECRET))),
            refusal(() ->
                SecuritySetup.credentials("alice", file("open", SECRET, "rw-r--r--"), Map.of())),
            refusal(() ->
                SecuritySetup.credentials("alice", file("empty", "\n", "rw-------"), Map.of())),
            refusal(
                () -> SecuritySetup.credentials("a b", file("ok", SECRET, "rw-------"), Map.of())));
    for (String message : messages) {
      assertFalse(message.contains(SECRET), message);
    }
    assertTrue(messages.get(0).contains("--password-file"), messages.get(0));
    assertTrue(messages.get(1).contains("--user"), messages.get(1));
    assertTrue(messages.get(2).contains("chmod 600"), messages.get(2));
    assertTrue(messages.get(3).contains("empty"), messages.get(3));
  }

  @Test
  void tlsNeedsCertificateKeyAndCaAndAPrivateKey() throws Exception {
    assertNull(SecuritySetup.tls(null, null, null, null));
    Path cert = file("cert.pem", "x", "rw-r--r--");
    Path ca = file("ca.pem", "x", "rw-r--r--");
    Path key = file("key.pem", "x", "rw-------");
    TlsSettings tls = SecuritySetup.tls(cert, key, ca, null);
    assertEquals(key, tls.privateKey());
    assertTrue(refusal(() -> SecuritySetup.tls(cert, null, ca, null)).contains("--tls-key"));
    assertTrue(refusal(() -> SecuritySetup.tls(null, null, null, ca)).contains("--tls-client-ca"));
    Path openKey = file("open-key.pem", "x", "rw-rw-r--");
    assertTrue(
        refusal(() -> SecuritySetup.tls(cert, openKey, ca, null)).contains("chmod 600 " + openKey));
    assertTrue(
        refusal(() -> SecuritySetup.tls(cert, key, dir.resolve("missing"), null))
            .contains("--tls-ca"));
  }

  @Test
  void aServerDialsAsAMember() throws Exception {
    Path users = dir.resolve("users");
    UsersFile.write(
        users,
        List.of(
            new UsersFile.User(
                "n1",
                Role.READ,
                PasswordHashes.hash(new byte[] {1}, PasswordHashes.ITERATIONS_MIN))));
    UsersFile file = UsersFile.open(users);
    Credentials n1 = new Credentials("n1", new byte[] {1});
    assertTrue(refusal(() -> SecuritySetup.server(null, file, n1)).contains("--role member"));
    Credentials other = new Credentials("n2", new byte[] {1});
    assertEquals(other, SecuritySetup.server(null, file, other).credentials());
  }

  @Test
  void listeningBeyondLoopbackWithoutTlsOrUsersWarns() throws Exception {
    String risk = "read and write every key";
    List<String> wildcard =
        SecuritySetup.exposureWarnings("craq-node", ":1235", Security.NONE, risk);
    assertEquals(2, wildcard.size(), wildcard.toString());
    assertTrue(wildcard.get(0).contains("every interface"), wildcard.get(0));
    assertTrue(wildcard.get(0).contains("--tls-cert"), wildcard.get(0));
    assertTrue(wildcard.get(1).contains("--users"), wildcard.get(1));
    assertTrue(wildcard.get(1).contains(risk), wildcard.get(1));
    assertEquals(
        2, SecuritySetup.exposureWarnings("craq-node", "0.0.0.0:1", Security.NONE, risk).size());
    assertEquals(
        List.of(), SecuritySetup.exposureWarnings("craq-node", "127.0.0.1:1", Security.NONE, risk));
    assertEquals(
        List.of(), SecuritySetup.exposureWarnings("craq-node", "[::1]:1", Security.NONE, risk));
    assertEquals(
        List.of(), SecuritySetup.exposureWarnings("craq-node", "localhost:1", Security.NONE, risk));
    Security authenticated =
        Security.NONE.withAuthenticator(
            new Authenticator() {
              @Override
              public Principal authenticate(String user, byte[] secret) {
                return Principal.OPEN;
              }

              @Override
              public Principal forCertificate(String commonName) {
                return Principal.OPEN;
              }
            });
    String dialing = SecuritySetup.dialWarning("craq-node", authenticated);
    assertTrue(dialing.contains("--user NAME"), dialing);
    assertNull(
        SecuritySetup.dialWarning(
            "craq-node", authenticated.withCredentials(new Credentials("n1", new byte[] {1}))));
    assertNull(SecuritySetup.dialWarning("craq-node", Security.NONE));
    List<String> onlyTls = SecuritySetup.exposureWarnings("craq-node", ":1", authenticated, risk);
    assertEquals(1, onlyTls.size());
    assertTrue(onlyTls.get(0).contains("without TLS"), onlyTls.get(0));

    List<String> redis =
        SecuritySetup.redisExposureWarnings("craq-node", "10.0.0.5:6379", false, Security.NONE);
    assertEquals(2, redis.size(), redis.toString());
    assertTrue(redis.get(0).contains("Redis protocol on 10.0.0.5:6379 without TLS"), redis.get(0));
    assertTrue(redis.get(0).contains("--redis-tls"), redis.get(0));
    assertTrue(redis.get(1).contains("--users FILE"), redis.get(1));
    assertEquals(
        List.of(),
        SecuritySetup.redisExposureWarnings("craq-node", "127.0.0.1:6379", false, Security.NONE));
    List<String> redisTls =
        SecuritySetup.redisExposureWarnings("craq-node", ":6379", true, authenticated);
    assertEquals(List.of(), redisTls);

    List<String> metrics =
        SecuritySetup.metricsExposureWarnings("craq-node", ":9235", false, Security.NONE);
    assertEquals(2, metrics.size(), metrics.toString());
    assertTrue(metrics.get(0).contains("over plain HTTP"), metrics.get(0));
    assertTrue(metrics.get(0).contains("--metrics-tls"), metrics.get(0));
    assertTrue(metrics.get(1).contains("can read the metrics"), metrics.get(1));
    List<String> metricsWithUsers =
        SecuritySetup.metricsExposureWarnings("craq-node", ":9235", false, authenticated);
    assertEquals(1, metricsWithUsers.size(), metricsWithUsers.toString());
    assertTrue(
        metricsWithUsers.get(0).contains("the passwords of scrapers"), metricsWithUsers.get(0));
    assertEquals(
        List.of(),
        SecuritySetup.metricsExposureWarnings("craq-node", ":9235", true, authenticated));
    assertEquals(
        List.of(),
        SecuritySetup.metricsExposureWarnings("craq-node", "[::1]:9235", false, Security.NONE));
  }

  private interface Action {
    void run() throws Exception;
  }

  private static String refusal(Action action) {
    return assertThrows(IllegalArgumentException.class, action::run).getMessage();
  }
}

package io.craq.transport;

import io.craq.core.message.Message;
import io.craq.transport.security.Credentials;
import io.craq.transport.security.PasswordChecks;
import io.craq.transport.security.PasswordHashes;
import io.craq.transport.security.Role;
import io.craq.transport.security.Security;
import io.craq.transport.security.UsersFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Not a test: the latency of one authenticated connection's requests on a TCP transport with one
 * event loop, first quiet, then while 16 other connections keep authenticating with wrong passwords
 * (PBKDF2 at the default iteration count). See docs/SECURITY.md, Password checks.
 *
 * <pre>
 * java -cp transport/lib/target/classes:transport/lib/target/test-classes:$(cat cp.txt) \
 *   io.craq.transport.PasswordFloodBenchmark
 * </pre>
 */
public final class PasswordFloodBenchmark {
  private PasswordFloodBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("flood");
    Path file = dir.resolve("users");
    UsersFile.write(
        file,
        List.of(
            new UsersFile.User(
                "alice",
                Role.READ_WRITE,
                PasswordHashes.hash(
                    "pw".getBytes(StandardCharsets.UTF_8), PasswordHashes.ITERATIONS_DEFAULT))));
    UsersFile users = UsersFile.open(file);
    long t0 = System.nanoTime();
    PasswordHashes.matches("x".getBytes(), users.users().get(0).hash());
    System.out.printf("one PBKDF2 check: %.1f ms%n", (System.nanoTime() - t0) / 1e6);
    Transport server =
        new TcpTransport(
            TransportConfig.DEFAULT
                .withIoThreads(1)
                .withSecurity(Security.NONE.withAuthenticator(users)));
    Server s =
        server.listen(
            "127.0.0.1:0",
            (m, r) -> {
              if (r.expectsReply()) r.reply(m);
            });
    Transport good =
        new TcpTransport(
            TransportConfig.DEFAULT.withSecurity(
                Security.NONE.withCredentials(new Credentials("alice", "pw".getBytes()))));
    Connection c = good.connect(s.address());
    Message ping = new Message.WriteReply("ping", 1);
    c.request(ping, Duration.ofSeconds(30)).get();
    for (int phase = 0; phase < 2; phase++) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong attempts = new AtomicLong();
      List<Thread> attackers = new ArrayList<>();
      if (phase == 1) {
        for (int i = 0; i < 16; i++) {
          int n = i;
          attackers.add(
              Thread.ofPlatform()
                  .start(() -> {
                    while (!stop.get()) {
                      try (Transport bad =
                          new TcpTransport(
                              TransportConfig.DEFAULT.withSecurity(
                                  Security.NONE.withCredentials(
                                      new Credentials("alice", ("guess" + n).getBytes()))))) {
                        try {
                          bad.connect(s.address())
                              .request(ping, Duration.ofSeconds(30))
                              .get(30, TimeUnit.SECONDS);
                        } catch (Exception e) {
                          attempts.incrementAndGet();
                        }
                      }
                    }
                  }));
        }
        Thread.sleep(500);
      }
      long[] lat = new long[2000];
      int k = 0;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < end && k < lat.length) {
        long a = System.nanoTime();
        c.request(ping, Duration.ofSeconds(30)).get();
        lat[k++] = System.nanoTime() - a;
        Thread.sleep(2);
      }
      stop.set(true);
      for (Thread t : attackers) t.join();
      long[] l = Arrays.copyOf(lat, k);
      Arrays.sort(l);
      System.out.printf(
          "%s: %d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms; wrong-password attempts refused: %d, busy refusals: %d%n",
          phase == 0 ? "quiet" : "16 connections flooding wrong passwords",
          k,
          l[k / 2] / 1e6,
          l[k * 99 / 100] / 1e6,
          l[k - 1] / 1e6,
          attempts.get(),
          PasswordChecks.shared().refusedBusy());
    }
    good.close();
    server.close();
    System.exit(0);
  }
}

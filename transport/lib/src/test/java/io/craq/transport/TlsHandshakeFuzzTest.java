package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.craq.core.message.Message;
import io.craq.transport.security.Security;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Seeded random and mutated TLS records sent to a TLS port, starting from a real ClientHello of the
 * JDK's SSLEngine (bytes flipped, truncated, extended, record headers rewritten, records repeated,
 * pure noise). Each connection must be closed by the server, which must keep serving.
 *
 * <p>Prints its seed; {@code -Dcraq.tlsfuzz.seed=N} replays a run and {@code
 * -Dcraq.tlsfuzz.inputs=N} sets how many inputs (300 by default; see docs/SECURITY.md for a long
 * run).
 */
class TlsHandshakeFuzzTest {
  private static final Message PING = new Message.WriteReply("ping", 1);

  @Test
  @DisplayName("malformed TLS handshakes close their connection, never the server")
  void fuzzHandshake() throws Exception {
    long seed = Long.getLong("craq.tlsfuzz.seed", new Random().nextLong());
    int inputs = Integer.getInteger("craq.tlsfuzz.inputs", 300);
    System.out.println(
        "TlsHandshakeFuzzTest seed="
            + seed
            + " inputs="
            + inputs
            + " (replay: -Dcraq.tlsfuzz.seed="
            + seed
            + ")");
    Random random = new Random(seed);
    TestPki pki = TestPki.get();
    byte[] hello = RawTls.clientHello(RawTls.context(pki.clusterCa.certificate(), pki.nodeNext));
    TransportConfig config =
        TransportConfig.DEFAULT
            .withReadDeadlineMillis(1_000)
            .withSecurity(Security.NONE.withTls(pki.member()));
    try (Transport serverSide = Transports.open(config);
        Transport clientSide = Transports.open(config)) {
      Server server =
          serverSide.listen(
              "127.0.0.1:0",
              (m, responder) -> {
                if (responder.expectsReply()) {
                  responder.reply(m);
                }
              });
      int port =
          Integer.parseInt(server.address().substring(server.address().lastIndexOf(':') + 1));
      long start = System.nanoTime();
      for (int i = 0; i < inputs; i++) {
        byte[] input = mutate(hello, random);
        try {
          sendAndExpectClose(port, input);
        } catch (AssertionError | IOException e) {
          throw new AssertionError(
              "input "
                  + i
                  + " (seed "
                  + seed
                  + ", "
                  + input.length
                  + " bytes: "
                  + hex(input)
                  + "): "
                  + e.getMessage(),
              e);
        }
        if (i % 100 == 99) {
          assertServerUp(clientSide, server);
        }
      }
      assertServerUp(clientSide, server);
      System.out.println(
          "TlsHandshakeFuzzTest: "
              + inputs
              + " inputs in "
              + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
              + " ms");
    }
  }

  private static void assertServerUp(Transport client, Server server) throws Exception {
    assertEquals(
        PING,
        client
            .connect(server.address())
            .request(PING, Duration.ofSeconds(10))
            .get(30, TimeUnit.SECONDS));
  }

  /** Writes {@code input}, half-closes, and waits for the server to close. */
  private static void sendAndExpectClose(int port, byte[] input) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(10_000);
      try {
        socket.getOutputStream().write(input);
        socket.shutdownOutput();
      } catch (SocketException e) {
        return; // the server closed while we wrote: closed
      }
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[4096];
      try {
        while (in.read(buffer) >= 0) {
          // a ServerHello or an alert; then the close
        }
      } catch (SocketTimeoutException e) {
        fail("the server did not close the connection");
      } catch (SocketException e) {
        // reset: closed
      }
    }
  }

  static byte[] mutate(byte[] hello, Random random) {
    switch (random.nextInt(8)) {
      case 0 -> { // flip a few bytes
        byte[] b = hello.clone();
        for (int n = 1 + random.nextInt(8); n > 0; n--) {
          b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
        }
        return b;
      }
      case 1 -> { // truncate
        return Arrays.copyOf(hello, random.nextInt(hello.length));
      }
      case 2 -> { // extend with noise
        byte[] b = Arrays.copyOf(hello, hello.length + 1 + random.nextInt(2000));
        for (int i = hello.length; i < b.length; i++) {
          b[i] = (byte) random.nextInt(256);
        }
        return b;
      }
      case 3 -> { // rewrite the record header: type, version, length
        byte[] b = hello.clone();
        int field = random.nextInt(3);
        if (field == 0) {
          b[0] = (byte) random.nextInt(256);
        } else if (field == 1) {
          b[1 + random.nextInt(2)] = (byte) random.nextInt(256);
        } else {
          b[3] = (byte) random.nextInt(256);
          b[4] = (byte) random.nextInt(256);
        }
        return b;
      }
      case 4 -> { // rewrite a handshake length or the handshake type
        byte[] b = hello.clone();
        int at = 5 + random.nextInt(Math.min(4, b.length - 5));
        b[at] = (byte) random.nextInt(256);
        return b;
      }
      case 5 -> { // the hello twice
        byte[] b = Arrays.copyOf(hello, hello.length * 2);
        System.arraycopy(hello, 0, b, hello.length, hello.length);
        return b;
      }
      case 6 -> { // a record header announcing the maximum, then a trickle
        byte[] b = new byte[5 + random.nextInt(64)];
        b[0] = 0x16;
        b[1] = 0x03;
        b[2] = 0x03;
        b[3] = (byte) 0xff;
        b[4] = (byte) 0xff;
        for (int i = 5; i < b.length; i++) {
          b[i] = (byte) random.nextInt(256);
        }
        return b;
      }
      default -> { // noise
        byte[] b = new byte[1 + random.nextInt(1500)];
        random.nextBytes(b);
        return b;
      }
    }
  }

  private static String hex(byte[] bytes) {
    return java.util.HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 64))
        + (bytes.length > 64 ? "..." : "");
  }
}

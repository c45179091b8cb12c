package io.craq.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.node.redis.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed RESP on raw sockets: bad lengths, huge announced lengths, half frames and random bytes
 * close the connection (after one error line when there is something to say), the node keeps
 * serving other connections, and nothing is allocated for what is only announced.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisPortMalformedTest {
  private static final long SEED = Long.getLong("craq.test.seed", System.nanoTime());

  @TempDir static Path dir;

  private TestCluster cluster;
  private RedisServer port;

  @BeforeAll
  void start() throws Exception {
    cluster = new TestCluster(dir.resolve("coordinator"));
    NodeServer node = cluster.startMemoryNode("n1");
    cluster.awaitChain(1);
    port =
        RedisServer.start(
            "127.0.0.1:0",
            node,
            List.of(cluster.coordinator.listenAddress()),
            Limits.VALUE_BYTES_MAX_DEFAULT);
  }

  @AfterAll
  void stop() {
    if (port != null) {
      port.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Sends {@code bytes} (then half-closes if {@code close}); returns all the server said. */
  private String exchange(byte[] bytes, boolean close) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port.port())) {
      socket.setSoTimeout(10_000);
      try {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        if (close) {
          socket.shutdownOutput();
        }
      } catch (SocketException e) {
        // the server closed first: what it said is still readable
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buffer = new byte[4096];
      int n;
      try {
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
        }
      } catch (SocketException e) {
        // reset after the server closed: the answer so far is what counts
      }
      return out.toString(UTF_8);
    }
  }

  private void assertStillServing() throws IOException {
    String answer =
        exchange(
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
                .getBytes(UTF_8),
            true);
    assertEquals("+OK\r\n$1\r\nv\r\n", answer);
  }

  @Test
  @DisplayName("bad lengths and huge announced lengths: one error line, then the connection closes")
  void badLengths() throws Exception {
    for (String input :
        List.of(
            "*1\r\n$-5\r\n",
            "*1\r\n$1073741824\r\n",
            "*2147483647\r\n",
            "*1\r\n$x\r\n",
            "*1\r\n+PING\r\n",
            "*1\r\n$4\r\nPINGxx")) {
      // No bytes follow the announcement: the error comes at once, nothing waits for 1 GB.
      String answer = exchange(input.getBytes(UTF_8), false);
      assertTrue(answer.startsWith("-ERR Protocol error: "), input + " -> " + answer);
      assertEquals(1, answer.split("\r\n").length, answer);
      assertStillServing();
    }
  }

  @Test
  @DisplayName("a half frame then EOF: the connection closes without a reply; others are served")
  void halfFrames() throws Exception {
    for (String input : List.of("*2\r\n$3\r\nGET\r\n$3\r\nab", "*2\r\n", "*1\r\n$4\r\nPI")) {
      assertEquals("", exchange(input.getBytes(UTF_8), true), input);
      assertStillServing();
    }
  }

  @Test
  @DisplayName("an inline command longer than 64 KiB is refused")
  void longInline() throws Exception {
    String answer = exchange("a".repeat(70_000).getBytes(UTF_8), false);
    assertTrue(answer.startsWith("-ERR Protocol error: too big inline request"), answer);
    assertStillServing();
  }

  @Test
  @DisplayName("random bytes: the connection answers errors or closes, the node keeps serving")
  void garbage() throws Exception {
    System.out.println(
        "RedisPortMalformedTest seed " + SEED + " (replay: -Dcraq.test.seed=" + SEED + ")");
    Random random = new Random(SEED);
    for (int round = 0; round < 50; round++) {
      byte[] bytes = new byte[1 + random.nextInt(2000)];
      random.nextBytes(bytes);
      if (round % 2 == 0) {
        bytes[0] = '*'; // look like an array, so the array parser meets the garbage
      }
      String answer = exchange(bytes, true);
      assertTrue(answer.isEmpty() || answer.startsWith("-") || answer.startsWith("+"), answer);
    }
    assertStillServing();
    await().atMost(Duration.ofSeconds(10)).until(() -> port.connectionCount() == 0);
  }
}

package io.craq.node;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.node.redis.RedisServer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
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
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

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

  /** The value of {@code field} in INFO's answer at {@code probe}, as a number. */
  private static long info(Jedis probe, String field) {
    for (String line : probe.info().split("\r\n")) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.substring(field.length() + 1));
      }
    }
    throw new AssertionError("INFO has no " + field);
  }

  @Test
  @DisplayName(
      "a client that pipelines GETs of a large value without reading is slowed down, not refused:"
          + " the port stops reading, then answers every GET in order once the client reads, even"
          + " after the client ended its input")
  void backpressure() throws Exception {
    byte[] big = new byte[Limits.VALUE_BYTES_MAX_DEFAULT - 100];
    new Random(SEED).nextBytes(big);
    try (Jedis jedis = new Jedis("127.0.0.1", port.port())) {
      assertEquals("OK", jedis.set("big".getBytes(UTF_8), big));
    }
    int gets = 100; // 100 MiB of replies, far over one connection's budget
    int[] probes = {0};
    try (Jedis probe = new Jedis("127.0.0.1", port.port());
        Socket socket = new Socket()) {
      long pausedBefore = info(probe, "craq_reads_paused");
      long commandsBefore = info(probe, "total_commands_processed");
      socket.setReceiveBufferSize(64 << 10);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port.port()));
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write("GET big\r\n".repeat(gets).getBytes(UTF_8));
      out.flush();
      socket.shutdownOutput(); // the end of input while paused: every GET is still answered
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> {
            probes[0]++;
            return info(probe, "craq_reads_paused") > pausedBefore;
          });
      // The INFO probes count as commands too: far fewer than the GETs were started.
      long started = info(probe, "total_commands_processed") - commandsBefore - probes[0] - 1;
      assertTrue(started < gets, "stopped after " + started + " GETs");
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      String header = "$" + big.length + "\r\n";
      byte[] got = new byte[big.length];
      for (int i = 0; i < gets; i++) {
        byte[] line = new byte[header.length()];
        in.readFully(line);
        assertEquals(header, new String(line, UTF_8), "reply " + i);
        in.readFully(got);
        assertArrayEquals(big, got, "reply " + i);
        assertEquals('\r', in.read());
        assertEquals('\n', in.read());
      }
      assertEquals(-1, in.read(), "then the port closes the connection");
    }
  }

  @Test
  @DisplayName(
      "an MGET whose values pass the reply limit is refused with an error naming the limit; the"
          + " connection stays usable")
  void mgetOverTheLimit() {
    byte[] big = new byte[Limits.VALUE_BYTES_MAX_DEFAULT - 100];
    try (Jedis jedis = new Jedis("127.0.0.1", port.port(), 30_000)) { // 64 MiB read: a busy CI
      assertEquals("OK", jedis.set("mget-big".getBytes(UTF_8), big));
      String[] keys = new String[65]; // 65 values of almost 1 MiB: over 64 MiB
      Arrays.fill(keys, "mget-big");
      JedisDataException e = assertThrows(JedisDataException.class, () -> jedis.mget(keys));
      assertTrue(e.getMessage().startsWith("ERR MGET reply over 67108864 bytes"), e.getMessage());
      assertEquals(Arrays.asList(null, null), jedis.mget("absent-1", "absent-2"));
      assertEquals(big.length, jedis.mget("mget-big".getBytes(UTF_8)).get(0).length);
    }
  }
}

package io.craq.cli.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.Message;
import io.craq.core.message.ReadMode;
import io.craq.transport.Frames;
import io.craq.transport.MessageCodec;
import io.craq.transport.TransportConfig;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input on the live system: malformed frames over real sockets to a node and the coordinator
 * running as child JVMs, then floods of connections and of requests beyond the configured bounds.
 * Each malformed frame gets an error reply or a closed connection, the processes stay up without
 * running out of memory, and a valid request right after succeeds.
 */
class LiveBadInputTest {
  private static final MessageCodec CODEC = new MessageCodec(TransportConfig.DEFAULT);

  /** The largest body the default configuration accepts, plus one. */
  private static final int MAX_PLUS_ONE =
      TransportConfig.FRAME_BYTES_MAX_DEFAULT - Frames.HEADER_BYTES + 1;

  @TempDir Path directory;
  private ProcessCluster cluster;

  @BeforeEach
  void start() throws Exception {
    cluster = new ProcessCluster(directory, 2000);
    cluster.startCoordinator();
    cluster.startNode("n1");
    cluster.awaitChain(List.of("n1"), FaultRun.WAIT);
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private static byte[] header(int magic, int version, int kind, int type, long id, int length) {
    return ByteBuffer.allocate(Frames.HEADER_BYTES)
        .putInt(magic)
        .put((byte) version)
        .put((byte) kind)
        .putShort((short) type)
        .putLong(id)
        .putInt(length)
        .array();
  }

  private static byte[] header(int type, long id, int length) {
    return header(Frames.MAGIC, Frames.PROTOCOL_VERSION, Frames.KIND_REQUEST, type, id, length);
  }

  private static byte[] request(long id, Message message) {
    byte[] frame = CODEC.encodeFrame(Frames.KIND_REQUEST, 0, message);
    ByteBuffer.wrap(frame).putLong(8, id);
    return frame;
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    ByteBuffer out = ByteBuffer.allocate(length);
    for (byte[] part : parts) {
      out.put(part);
    }
    return out.array();
  }

  /** The malformed-frame set, by name. */
  private static Map<String, byte[]> malformed() {
    byte[] valid = request(7, new Message.ChainRequest());
    byte[] garbage = new byte[64];
    new Random(1).nextBytes(garbage);
    Map<String, byte[]> cases = new LinkedHashMap<>();
    cases.put("length 0", header(Message.ReadRequest.TAG, 1, 0));
    cases.put("length negative", header(Message.ReadRequest.TAG, 2, -1));
    cases.put("length huge", header(Message.ReadRequest.TAG, 3, Integer.MAX_VALUE));
    cases.put("length max+1", header(Message.ReadRequest.TAG, 4, MAX_PLUS_ONE));
    cases.put("truncated header", java.util.Arrays.copyOf(valid, 11));
    cases.put("truncated body", concat(header(Message.ReadRequest.TAG, 5, 100), new byte[10]));
    cases.put(
        "bad magic",
        header(
            0x12345678,
            Frames.PROTOCOL_VERSION,
            Frames.KIND_REQUEST,
            Message.ChainRequest.TAG,
            6,
            0));
    cases.put(
        "unknown version",
        header(Frames.MAGIC, 99, Frames.KIND_REQUEST, Message.ChainRequest.TAG, 7, 0));
    cases.put(
        "unknown kind",
        header(Frames.MAGIC, Frames.PROTOCOL_VERSION, 9, Message.ChainRequest.TAG, 8, 0));
    cases.put("unknown type", concat(header(0xfff0, 9, 4), new byte[4]));
    cases.put("valid frame + garbage", concat(valid, garbage));
    return cases;
  }

  /** Sends {@code bytes} on a fresh connection; returns "reply ..." or "closed". */
  private static String send(String address, byte[] bytes) throws IOException {
    int colon = address.lastIndexOf(':');
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(
              address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
          5000);
      socket.setSoTimeout(20_000); // above the 10 s read deadline that cuts truncated frames off
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      try {
        MessageCodec.Frame frame = readFrame(in);
        return "reply " + frame.message();
      } catch (EOFException | SocketException e) {
        return "closed";
      } catch (SocketTimeoutException e) {
        return "NEITHER A REPLY NOR A CLOSE";
      }
    }
  }

  private static MessageCodec.Frame readFrame(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] h = new byte[Frames.HEADER_BYTES];
    data.readFully(h);
    int length = ByteBuffer.wrap(h).getInt(16);
    byte[] frame = java.util.Arrays.copyOf(h, Frames.HEADER_BYTES + length);
    data.readFully(frame, Frames.HEADER_BYTES, length);
    return CODEC.decodeFrame(frame);
  }

  private void assertUp(String name, String address, Process process) throws IOException {
    assertTrue(process.isAlive(), name + " died");
    long start = System.nanoTime();
    cluster.awaitCondition(
        name + " answers a valid request",
        java.time.Duration.ofSeconds(30),
        () -> cluster.askChain(address) != null);
    System.out.println(
        name
            + " answered a valid request after "
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
            + " ms");
    for (Path log : Files.list(directory).filter(p -> p.toString().endsWith(".log")).toList()) {
      assertFalse(Files.readString(log).contains("OutOfMemoryError"), log + " ran out of memory");
    }
  }

  private Map<String, String[]> targets() {
    Map<String, String[]> targets = new LinkedHashMap<>();
    targets.put("node", new String[] {cluster.nodes().get("n1").address()});
    targets.put("coordinator", new String[] {cluster.coordinatorAddress()});
    return targets;
  }

  private Process process(String name) {
    return name.equals("node") ? cluster.nodes().get("n1").process() : cluster.coordinator();
  }

  @Test
  @DisplayName(
      "a node and the coordinator answer every malformed frame with an error or a close, "
          + "stay up, and answer a valid request right after")
  void malformedFrames() throws Exception {
    for (Map.Entry<String, String[]> target : targets().entrySet()) {
      String address = target.getValue()[0];
      // All cases at once: the truncated ones wait for the server's read deadline together.
      Map<String, CompletableFuture<String>> outcomes = new LinkedHashMap<>();
      malformed()
          .forEach((name, bytes) ->
              outcomes.put(
                  name,
                  CompletableFuture.supplyAsync(
                      () -> {
                        try {
                          return send(address, bytes);
                        } catch (IOException e) {
                          return "closed (" + e.getMessage() + ")";
                        }
                      },
                      r -> Thread.ofVirtual().start(r))));
      for (Map.Entry<String, CompletableFuture<String>> outcome : outcomes.entrySet()) {
        String result = outcome.getValue().get(60, TimeUnit.SECONDS);
        System.out.println(
            "bad input " + target.getKey() + " / " + outcome.getKey() + ": " + result);
        assertTrue(
            result.startsWith("reply") || result.startsWith("closed"),
            target.getKey() + " / " + outcome.getKey() + ": " + result);
      }
      assertUp(target.getKey(), address, process(target.getKey()));
    }
  }

  @Test
  @DisplayName(
      "floods of connections and of pipelined requests beyond the bounds: BUSY or "
          + "refused, no out-of-memory, the process stays up and serves right after")
  void floods() throws Exception {
    for (Map.Entry<String, String[]> target : targets().entrySet()) {
      String address = target.getValue()[0];
      int colon = address.lastIndexOf(':');
      InetSocketAddress socketAddress =
          new InetSocketAddress(
              address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
      // 1. Many idle connections at once.
      List<Socket> sockets = new ArrayList<>();
      int refused = 0;
      // Twice the servers' connection limit (512): the excess is closed at accept.
      int connections = Integer.getInteger("craq.flood.connections", 1024);
      for (int i = 0; i < connections; i++) {
        Socket socket = new Socket();
        try {
          socket.connect(socketAddress, 2000);
          sockets.add(socket);
        } catch (IOException e) {
          refused++;
          socket.close();
        }
      }
      assertTrue(process(target.getKey()).isAlive(), target.getKey() + " died in the flood");
      for (Socket socket : sockets) {
        socket.close();
      }
      // While the flood holds every slot, new connections are refused (the limit protects
      // memory); once it lets go, a valid request is served again.
      assertUp(target.getKey(), address, process(target.getKey()));
      // 2. Requests pipelined on one connection beyond the in-flight and inbox bounds (16384).
      int requests = 40_000;
      AtomicLong ok = new AtomicLong();
      AtomicLong busy = new AtomicLong();
      AtomicLong otherErrors = new AtomicLong();
      String ending;
      try (Socket socket = new Socket()) {
        socket.connect(socketAddress, 5000);
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        CompletableFuture<String> reader =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    for (long n = 0; n < requests; n++) {
                      Message reply = readFrame(in).message();
                      if (reply instanceof Message.ErrorReply error) {
                        (error.code().name().equals("BUSY") ? busy : otherErrors).incrementAndGet();
                      } else {
                        ok.incrementAndGet();
                      }
                    }
                    return "all answered";
                  } catch (SocketTimeoutException e) {
                    return "UNANSWERED: "
                        + (requests - ok.get() - busy.get() - otherErrors.get())
                        + " requests got neither a reply nor a close within 10 s";
                  } catch (IOException e) {
                    return "closed after "
                        + (ok.get() + busy.get() + otherErrors.get())
                        + " replies ("
                        + e
                        + ")";
                  }
                },
                r -> Thread.ofVirtual().start(r));
        Message flood =
            target.getKey().equals("node")
                ? new Message.ReadRequest("flood", ReadMode.STRONG, 0)
                : new Message.ChainRequest();
        OutputStream out = socket.getOutputStream();
        try {
          java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
          for (int n = 1; n <= requests; n++) {
            batch.write(request(n, flood));
            if (n % 1000 == 0) {
              out.write(batch.toByteArray());
              batch.reset();
            }
          }
          out.flush();
        } catch (IOException e) {
          // refused by closing: acceptable
        }
        ending = reader.get(120, TimeUnit.SECONDS);
      }
      System.out.println(
          "flood "
              + target.getKey()
              + ": "
              + sockets.size()
              + " connections accepted, "
              + refused
              + " refused; "
              + requests
              + " pipelined requests: "
              + ok.get()
              + " answered, "
              + busy.get()
              + " BUSY, "
              + otherErrors.get()
              + " other errors, "
              + ending);
      assertUp(target.getKey(), address, process(target.getKey()));
      // A reply that does not fit the outbound queue closes the connection: every request is
      // answered, refused BUSY, or sees the close; none waits for nothing.
      assertFalse(ending.startsWith("UNANSWERED"), target.getKey() + ": " + ending);
    }
  }
}

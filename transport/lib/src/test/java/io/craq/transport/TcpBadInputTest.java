package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.craq.core.Limits;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Hand-made malformed frames sent over a raw socket. Each must get an error reply or a closed
 * connection; afterwards the server is still up and a valid request on a new connection succeeds.
 */
class TcpBadInputTest {
  private static final int READ_DEADLINE_MILLIS = 400;

  /** A large limit so that allocating it would be visible in the allocation counter. */
  private static final int BIG_FRAME_BYTES_MAX = 64 << 20;

  private final TransportConfig serverConfig =
      TransportConfig.DEFAULT.withReadDeadlineMillis(READ_DEADLINE_MILLIS).withValueBytesMax(1000);
  private final MessageCodec codec = new MessageCodec(TransportConfig.DEFAULT);
  private Transport serverTransport;
  private Transport clientTransport;
  private Server server;

  /** The transport under test, for both sides; subclasses run the suite on other ones. */
  protected Transport newTransport(TransportConfig config) {
    return new TcpTransport(config);
  }

  /** A raw connection to {@code port}, below the transport (a subclass may wrap it in TLS). */
  protected Socket rawSocket(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    return socket;
  }

  /** A server socket playing a broken peer for the client side. */
  protected java.net.ServerSocket fakeServer() throws IOException {
    return new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
  }

  @BeforeEach
  void start() {
    serverTransport = newTransport(serverConfig);
    clientTransport = newTransport(TransportConfig.DEFAULT);
    server =
        serverTransport.listen(
            "127.0.0.1:0",
            (m, responder) -> {
              if (responder.expectsReply()) {
                responder.reply(m);
              }
            });
  }

  @AfterEach
  void stop() {
    clientTransport.close();
    serverTransport.close();
  }

  private Socket raw() throws IOException {
    Socket socket = rawSocket(port());
    socket.setSoTimeout(10_000);
    return socket;
  }

  private int port() {
    String address = server.address();
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  private static byte[] header(int magic, int version, int kind, int type, long id, int length) {
    byte[] h = new byte[Frames.HEADER_BYTES];
    Frames.writeHeader(h, kind, type, id, length);
    Frames.writeInt(h, 0, magic);
    h[4] = (byte) version;
    return h;
  }

  private static byte[] header(int type, long id, int length) {
    return header(Frames.MAGIC, Frames.PROTOCOL_VERSION, Frames.KIND_REQUEST, type, id, length);
  }

  private byte[] request(long id, Message m) {
    byte[] frame = codec.encodeFrame(Frames.KIND_REQUEST, 0, m);
    Frames.writeLong(frame, 8, id);
    return frame;
  }

  private MessageCodec.Frame readFrame(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] h = new byte[Frames.HEADER_BYTES];
    data.readFully(h);
    int length = Frames.readInt(h, 16);
    byte[] frame = Arrays.copyOf(h, Frames.HEADER_BYTES + length);
    data.readFully(frame, Frames.HEADER_BYTES, length);
    return codec.decodeFrame(frame);
  }

  private ErrorReply readError(InputStream in, long id, ErrorCode code) throws IOException {
    MessageCodec.Frame frame = readFrame(in);
    assertEquals(id, frame.header().requestId());
    assertEquals(Frames.KIND_REPLY, frame.header().kind());
    ErrorReply error = assertInstanceOf(ErrorReply.class, frame.message());
    assertEquals(code, error.code(), error.message());
    return error;
  }

  /** The server closes the connection (EOF or reset) within the test's patience. */
  private static void assertClosedByServer(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    try {
      InputStream in = socket.getInputStream();
      while (true) {
        if (in.read() < 0) {
          return;
        }
      }
    } catch (java.net.SocketTimeoutException e) {
      fail("the server did not close the connection");
    } catch (SocketException | javax.net.ssl.SSLException e) {
      return; // connection reset, or a TLS alert: closed too
    }
  }

  /** The connection still answers a valid request. */
  private void assertStillServes(Socket socket, long id) throws IOException {
    Message ping = new Message.WriteReply("ping", id);
    socket.getOutputStream().write(request(id, ping));
    MessageCodec.Frame reply = readFrame(socket.getInputStream());
    assertEquals(id, reply.header().requestId());
    assertEquals(ping, reply.message());
  }

  /** A fresh connection through the real client succeeds: the server stayed up. */
  private void assertServerUp() throws Exception {
    Message ping = new Message.WriteReply("after", 1);
    assertEquals(
        ping,
        clientTransport
            .connect(server.address())
            .request(ping, Duration.ofSeconds(10))
            .get(20, TimeUnit.SECONDS));
  }

  @Test
  @DisplayName("length 0 for a type with a body: error reply, the connection stays usable")
  void lengthZero() throws Exception {
    try (Socket s = raw()) {
      s.getOutputStream().write(header(WriteRequest.TAG, 5, 0));
      readError(s.getInputStream(), 5, ErrorCode.INVALID_REQUEST);
      assertStillServes(s, 6);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("negative, huge and maximum+1 lengths: error reply and close, nothing allocated")
  void badLengths() throws Exception {
    int max = serverConfig.frameBytesMax() - Frames.HEADER_BYTES;
    for (int length : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, max + 1}) {
      try (Socket s = raw()) {
        s.getOutputStream().write(header(WriteRequest.TAG, 9, length));
        ErrorReply error = readError(s.getInputStream(), 9, ErrorCode.INVALID_REQUEST);
        assertTrue(error.message().contains("length"), error.message());
        assertClosedByServer(s);
      }
    }
    assertServerUp();
  }

  @Test
  @DisplayName("announced lengths up to 2 GiB do not make the server allocate them")
  void memoryDoesNotJump() throws Exception {
    serverTransport.close();
    serverTransport =
        newTransport(
            TransportConfig.DEFAULT
                .withFrameBytesMax(BIG_FRAME_BYTES_MAX)
                .withReadDeadlineMillis(READ_DEADLINE_MILLIS));
    server = serverTransport.listen("127.0.0.1:0", (m, responder) -> responder.reply(m));
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long limitBytes = 16L << 20;
    // Calibration: the counter does see a large allocation, so this test can fail.
    long before = threads.getTotalThreadAllocatedBytes();
    byte[] probe = new byte[BIG_FRAME_BYTES_MAX];
    assertTrue(
        threads.getTotalThreadAllocatedBytes() - before >= probe.length,
        "allocation counter does not work here");

    before = threads.getTotalThreadAllocatedBytes();
    int max = BIG_FRAME_BYTES_MAX - Frames.HEADER_BYTES;
    for (int length : new int[] {max + 1, Integer.MAX_VALUE}) {
      try (Socket s = raw()) {
        s.getOutputStream().write(header(WriteRequest.TAG, 1, length));
        readError(s.getInputStream(), 1, ErrorCode.INVALID_REQUEST);
        assertClosedByServer(s);
      }
    }
    // A valid header announcing the maximum, whose body never comes: cut off at the deadline,
    // and only the first chunk of the body was allocated.
    try (Socket s = raw()) {
      s.getOutputStream().write(header(WriteRequest.TAG, 1, max));
      s.getOutputStream().write(new byte[1000]);
      assertClosedByServer(s);
    }
    long allocated = threads.getTotalThreadAllocatedBytes() - before;
    assertTrue(allocated < limitBytes, "server allocated " + allocated + " bytes");
    assertServerUp();
  }

  @Test
  @DisplayName("a truncated header is cut off at the read deadline")
  void truncatedHeader() throws Exception {
    try (Socket s = raw()) {
      long start = System.nanoTime();
      s.getOutputStream().write(Arrays.copyOf(request(1, new Message.ChainRequest()), 11));
      assertClosedByServer(s);
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(elapsedMillis >= READ_DEADLINE_MILLIS - 50, "closed after " + elapsedMillis);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("a truncated body is cut off at the read deadline")
  void truncatedBody() throws Exception {
    try (Socket s = raw()) {
      byte[] frame = request(1, new WriteRequest("key", new byte[100], false, 0));
      s.getOutputStream().write(Arrays.copyOf(frame, frame.length - 10));
      assertClosedByServer(s);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("a slow sender dribbling a frame byte by byte is cut off at the read deadline")
  void slowSender() throws Exception {
    try (Socket s = raw()) {
      byte[] frame = request(1, new WriteRequest("key", new byte[100], false, 0));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      boolean cut = false;
      for (int i = 0; i < frame.length && System.nanoTime() < deadline; i++) {
        try {
          s.getOutputStream().write(frame[i]);
          s.getOutputStream().flush();
        } catch (IOException e) {
          cut = true;
          break;
        }
        // Pacing the attack: one byte every 40 ms makes the frame take ~5 s in all.
        Thread.sleep(40);
      }
      if (!cut) {
        assertClosedByServer(s);
      }
    }
    assertServerUp();
  }

  @Test
  @DisplayName("bad magic closes the connection without a reply")
  void badMagic() throws Exception {
    try (Socket s = raw()) {
      byte[] frame = request(1, new Message.ChainRequest());
      frame[0] = 'G';
      s.getOutputStream().write(frame);
      assertClosedByServer(s);
    }
    try (Socket s = raw()) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      assertClosedByServer(s);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("an unknown protocol version gets UNSUPPORTED, then the connection closes")
  void unknownVersion() throws Exception {
    try (Socket s = raw()) {
      s.getOutputStream()
          .write(header(Frames.MAGIC, 2, Frames.KIND_REQUEST, Message.ChainRequest.TAG, 3, 0));
      readError(s.getInputStream(), 3, ErrorCode.UNSUPPORTED);
      assertClosedByServer(s);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("an unknown type gets UNSUPPORTED; its body is skipped and the connection stays")
  void unknownType() throws Exception {
    try (Socket s = raw()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(header(999, 4, 6));
      out.write(new byte[] {1, 2, 3, 4, 5, 6});
      s.getOutputStream().write(out.toByteArray());
      readError(s.getInputStream(), 4, ErrorCode.UNSUPPORTED);
      assertStillServes(s, 5);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("a valid frame followed by garbage: the valid one is answered, then close")
  void validThenGarbage() throws Exception {
    try (Socket s = raw()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Message ping = new Message.WriteReply("ok", 1);
      out.write(request(8, ping));
      out.write("garbage garbage garbage".getBytes());
      s.getOutputStream().write(out.toByteArray());
      MessageCodec.Frame reply = readFrame(s.getInputStream());
      assertEquals(8, reply.header().requestId());
      assertEquals(ping, reply.message());
      assertClosedByServer(s);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("an oversized key or value in a valid frame gets INVALID_REQUEST; connection stays")
  void oversizedKeyAndValue() throws Exception {
    try (Socket s = raw()) {
      s.getOutputStream()
          .write(
              request(
                  1, new ReadRequest("k".repeat(Limits.KEY_BYTES_MAX + 1), ReadMode.STRONG, 0)));
      ErrorReply key = readError(s.getInputStream(), 1, ErrorCode.INVALID_REQUEST);
      assertTrue(key.message().contains("key"), key.message());
      s.getOutputStream().write(request(2, new WriteRequest("k", new byte[1001], false, 0)));
      ErrorReply value = readError(s.getInputStream(), 2, ErrorCode.INVALID_REQUEST);
      assertTrue(value.message().contains("value is 1001 bytes"), value.message());
      assertStillServes(s, 3);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("a malformed one-way message is dropped without a reply; the connection stays")
  void malformedOneWay() throws Exception {
    try (Socket s = raw()) {
      s.getOutputStream()
          .write(
              header(
                  Frames.MAGIC,
                  Frames.PROTOCOL_VERSION,
                  Frames.KIND_ONE_WAY,
                  WriteRequest.TAG,
                  0,
                  3));
      s.getOutputStream().write(new byte[] {0, 0, 0});
      assertStillServes(s, 4);
    }
    assertServerUp();
  }

  @Test
  @DisplayName("a peer that closes in the middle of a frame does not disturb the server")
  void eofMidFrame() throws Exception {
    try (Socket s = raw()) {
      s.getOutputStream().write(Arrays.copyOf(request(1, new Message.ChainRequest()), 7));
    }
    assertServerUp();
  }

  @Test
  @DisplayName("a client that receives a malformed reply fails that request with ProtocolException")
  void malformedReplyToClient() throws Exception {
    try (java.net.ServerSocket fake = fakeServer()) {
      Connection connection = clientTransport.connect("127.0.0.1:" + fake.getLocalPort());
      var future = connection.request(new Message.ChainRequest(), Duration.ofSeconds(10));
      try (Socket peer = fake.accept()) {
        byte[] h = new byte[Frames.HEADER_BYTES];
        new DataInputStream(peer.getInputStream()).readFully(h);
        long id = Frames.requestIdOf(h);
        peer.getOutputStream()
            .write(header(Frames.MAGIC, 1, Frames.KIND_REPLY, Message.WriteReply.TAG, id, 2));
        peer.getOutputStream().write(new byte[] {0, 0});
        try {
          future.get(10, TimeUnit.SECONDS);
          fail("expected a failure");
        } catch (java.util.concurrent.ExecutionException e) {
          assertInstanceOf(ProtocolException.class, e.getCause());
        }
      }
    }
  }

  /** Keeps EOFException imported for readers of readFrame's contract. */
  @SuppressWarnings("unused")
  private static final Class<?> EOF = EOFException.class;
}

package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.Message;
import io.craq.core.message.Message.WriteRequest;
import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A peer that stops reading: the kernel's buffers fill, the rest waits in the bounded outbound
 * queue (the event loop writes it when the socket is writable again), and no caller ever blocks.
 */
class TcpBackpressureTest {
  private static final int VALUE_BYTES = 60 << 10;
  private static final long QUEUE_BYTES_MAX = 8L << 20;
  private final MessageCodec codec = new MessageCodec(TransportConfig.DEFAULT);

  @Test
  @DisplayName(
      "a peer that stops reading fills the queue without blocking the sender; then all "
          + "arrives in order")
  void slowReaderNeverBlocksTheSender() throws Exception {
    TransportConfig config = TransportConfig.DEFAULT.withOutboundQueueBytesMax(QUEUE_BYTES_MAX);
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        TcpTransport transport = new TcpTransport(config)) {
      Connection connection = transport.connect("127.0.0.1:" + listener.getLocalPort());
      connection.send(write(0));
      try (Socket peer = listener.accept()) {
        DataInputStream in = new DataInputStream(peer.getInputStream());
        assertEquals(0, seqOf(readFrame(in))); // connected; from now on the peer reads nothing
        // Far more than the socket buffers and the queue hold together: sends must start to be
        // refused (queue full) instead of blocking.
        int sent =
            assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> {
                  int n = 1;
                  int limit = (int) (4 * QUEUE_BYTES_MAX / VALUE_BYTES) + 1000;
                  for (; n < limit; n++) {
                    try {
                      connection.send(write(n));
                    } catch (QueueFullException e) {
                      return n;
                    }
                  }
                  return n;
                });
        assertTrue(
            sent < (int) (4 * QUEUE_BYTES_MAX / VALUE_BYTES) + 1000,
            "the queue never filled: " + sent + " sends of " + VALUE_BYTES + " bytes accepted");
        assertTrue(sent > QUEUE_BYTES_MAX / VALUE_BYTES / 2, "refused too early: " + sent);
        // (No second send here: the kernel may take more meanwhile, so it could be accepted.)

        // The peer reads again: everything that was accepted arrives, in order, nothing else.
        peer.setSoTimeout((int) TimeUnit.SECONDS.toMillis(20));
        for (int i = 1; i < sent; i++) {
          Message message = readFrame(in);
          assertEquals(i, seqOf(message), "frame " + i);
          assertArrayEquals(value(i), ((WriteRequest) message).value());
        }
        // And the connection still works.
        connection.send(write(sent + 1));
        assertEquals(sent + 1, seqOf(readFrame(in)));
      }
    }
  }

  private static WriteRequest write(int seq) {
    return new WriteRequest("k" + seq, value(seq), false, 0);
  }

  private static byte[] value(int seq) {
    byte[] value = new byte[VALUE_BYTES];
    Arrays.fill(value, (byte) seq);
    return value;
  }

  private static int seqOf(Message message) {
    return Integer.parseInt(((WriteRequest) message).key().substring(1));
  }

  private Message readFrame(DataInputStream in) throws Exception {
    byte[] header = new byte[Frames.HEADER_BYTES];
    in.readFully(header);
    int length = Frames.readInt(header, 16);
    byte[] frame = Arrays.copyOf(header, Frames.HEADER_BYTES + length);
    in.readFully(frame, Frames.HEADER_BYTES, length);
    return codec.decodeFrame(frame).message();
  }
}

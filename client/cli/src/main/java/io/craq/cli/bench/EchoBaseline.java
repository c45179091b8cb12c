package io.craq.cli.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The machine's raw loopback capacity at the same concurrency and message size as the CRAQ run: a
 * trivial echo server on 127.0.0.1 in this JVM (a virtual thread per connection copying bytes back)
 * and {@code --threads} client threads, each with its own socket and {@code --in-flight} fixed-size
 * messages outstanding. Every CRAQ result can then be read as a ratio to it.
 *
 * <p>A message is {@code --value-bytes} + {@link #HEADER_BYTES}, about the size of a write request
 * frame, sent and echoed whole. No framing and no parsing: this is the ceiling, not a model.
 */
final class EchoBaseline implements LoadRunner {
  /** Stands in for the key and the frame header of a CRAQ request. */
  static final int HEADER_BYTES = 32;

  static final int SERVER_BUFFER_BYTES = 64 << 10;

  private final int threads;
  private final int inFlight;
  private final int messageBytes;
  private final int readTimeoutMillis;
  private final Meter echoes = new Meter("echo");
  private final List<Thread> workers = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();
  private ServerSocket server;
  private volatile boolean running;

  EchoBaseline(int threads, int inFlight, int valueBytes, long timeoutMillis) {
    this.threads = threads;
    this.inFlight = inFlight;
    this.messageBytes = valueBytes + HEADER_BYTES;
    this.readTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, timeoutMillis);
  }

  int messageBytes() {
    return messageBytes;
  }

  @Override
  public List<Meter> meters() {
    return List.of(echoes);
  }

  @Override
  public void start() throws IOException {
    server = new ServerSocket(0, threads + 50, InetAddress.getLoopbackAddress());
    running = true;
    Thread.ofPlatform().name("echo-accept").daemon().start(this::acceptLoop);
    for (int t = 0; t < threads; t++) {
      workers.add(Thread.ofPlatform().name("echo-client-" + t).daemon().start(this::clientLoop));
    }
  }

  private void acceptLoop() {
    while (running) {
      try {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
        remember(socket);
        Thread.ofVirtual().start(() -> echo(socket));
      } catch (IOException e) {
        return; // closed by stop()
      }
    }
  }

  private static void echo(Socket socket) {
    byte[] buffer = new byte[SERVER_BUFFER_BYTES];
    try (socket;
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        out.write(buffer, 0, n);
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  /** Keeps {@code inFlight} messages outstanding; replies come back in order. */
  private void clientLoop() {
    byte[] message = new byte[messageBytes];
    ThreadLocalRandom.current().nextBytes(message);
    byte[] reply = new byte[messageBytes];
    long[] sentAt = new long[inFlight];
    long sent = 0;
    long received = 0;
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
      remember(socket);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(readTimeoutMillis);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      while (sent < inFlight) {
        sentAt[(int) (sent++ % inFlight)] = System.nanoTime();
        out.write(message);
      }
      while (received < sent) {
        in.readFully(reply);
        echoes.success(System.nanoTime() - sentAt[(int) (received++ % inFlight)]);
        if (running) {
          sentAt[(int) (sent++ % inFlight)] = System.nanoTime();
          out.write(message);
        }
      }
    } catch (SocketException e) {
      if (running) {
        echoes.failure(e.getClass().getSimpleName());
      }
    } catch (IOException e) {
      echoes.failure(e.getClass().getSimpleName());
    }
  }

  private void remember(Socket socket) {
    synchronized (sockets) {
      sockets.add(socket);
    }
  }

  @Override
  public void stop() throws InterruptedException {
    running = false;
    for (Thread worker : workers) {
      worker.join(TimeUnit.MILLISECONDS.toMillis(readTimeoutMillis) + 1_000);
    }
    try {
      if (server != null) {
        server.close();
      }
    } catch (IOException e) {
      // nothing to do
    }
    synchronized (sockets) {
      for (Socket socket : sockets) {
        try {
          socket.close();
        } catch (IOException e) {
          // nothing to do
        }
      }
      sockets.clear();
    }
  }
}

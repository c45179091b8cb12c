package io.craq.coordinator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on 127.0.0.1 that a test can cut: a network partition between one ZooKeeper
 * client and the ensemble, the others unaffected. While cut, every connection is dropped and new
 * ones are closed as soon as they are accepted.
 */
final class TcpProxy implements AutoCloseable {
  private final int targetPort;
  private final ServerSocket listener;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;

  TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().name("tcp-proxy-accept").start(this::accept);
  }

  /** Where clients connect: 127.0.0.1:PORT. */
  String address() {
    return "127.0.0.1:" + listener.getLocalPort();
  }

  /** Drops every connection and refuses new ones until {@link #restore}. */
  void cut() {
    cut = true;
    for (Socket socket : open) {
      closeQuietly(socket);
    }
    open.clear();
  }

  void restore() {
    cut = false;
  }

  @Override
  public void close() {
    cut();
    closeQuietly(listener);
  }

  private void accept() {
    while (!listener.isClosed()) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (cut) {
        closeQuietly(client);
        continue;
      }
      Socket server;
      try {
        server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      } catch (IOException e) {
        closeQuietly(client);
        continue;
      }
      open.add(client);
      open.add(server);
      pump(client, server);
      pump(server, client);
    }
  }

  private void pump(Socket from, Socket to) {
    Thread.ofPlatform()
        .daemon()
        .name("tcp-proxy-pump")
        .start(() -> {
          byte[] buffer = new byte[8192];
          try (InputStream in = from.getInputStream();
              OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
              out.write(buffer, 0, n);
              out.flush();
            }
          } catch (IOException e) {
            // either side closed: close both below
          } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
          }
        });
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // already closed
    }
  }
}

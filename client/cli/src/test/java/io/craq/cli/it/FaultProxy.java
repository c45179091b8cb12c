package io.craq.cli.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * An in-JVM TCP fault proxy on 127.0.0.1 (netem does not exist in this kernel). It accepts on its
 * own port and forwards every connection to {@code target}. Faults are switchable while it runs:
 *
 * <ul>
 *   <li>{@link #cut()}: every open connection is closed and new ones are closed right after
 *       accepting (the far side sees connection errors);
 *   <li>{@link #blackhole(boolean, boolean)}: bytes in the chosen direction(s) are read and
 *       dropped, connections stay open (a one-way cut as TCP sees it when both are not chosen;
 *       "accept but never forward" when both are);
 *   <li>{@link #delay(long)}: every chunk is held back that long before it is forwarded;
 *   <li>{@link #reset()}: every open connection is reset (RST), new ones pass;
 *   <li>{@link #heal()}: back to forwarding everything at once.
 * </ul>
 *
 * "Upstream" is the direction from the side that connected to the target.
 */
public final class FaultProxy implements AutoCloseable {
  private final String name;
  private final String targetHost;
  private final int targetPort;
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile boolean dropUpstream;
  private volatile boolean dropDownstream;
  private volatile long delayNanos;
  private volatile boolean closed;

  public FaultProxy(String name, String target) throws IOException {
    this.name = name;
    int colon = target.lastIndexOf(':');
    this.targetHost = target.substring(0, colon);
    this.targetPort = Integer.parseInt(target.substring(colon + 1));
    this.server = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("proxy-accept-" + name).start(this::acceptLoop);
  }

  /** The address to dial instead of the target. */
  public String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  public String name() {
    return name;
  }

  public void cut() {
    cut = true;
    closeAll(false);
  }

  public void blackhole(boolean upstream, boolean downstream) {
    dropUpstream = upstream;
    dropDownstream = downstream;
  }

  public void delay(long millis) {
    delayNanos = millis * 1_000_000L;
  }

  public void reset() {
    closeAll(true);
  }

  public void heal() {
    cut = false;
    dropUpstream = false;
    dropDownstream = false;
    delayNanos = 0;
  }

  public boolean faulty() {
    return cut || dropUpstream || dropDownstream || delayNanos > 0;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket downstreamSide;
      try {
        downstreamSide = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (cut) {
        closeQuietly(downstreamSide, false);
        continue;
      }
      Thread.ofVirtual().name("proxy-conn-" + name).start(() -> connect(downstreamSide));
    }
  }

  private void connect(Socket accepted) {
    Socket upstreamSide = new Socket();
    try {
      accepted.setTcpNoDelay(true);
      upstreamSide.setTcpNoDelay(true);
      upstreamSide.connect(new InetSocketAddress(targetHost, targetPort), 3000);
    } catch (IOException e) {
      closeQuietly(accepted, false);
      closeQuietly(upstreamSide, false);
      return;
    }
    sockets.add(accepted);
    sockets.add(upstreamSide);
    if (cut || closed) {
      closePair(accepted, upstreamSide, false);
      return;
    }
    Thread.ofVirtual().start(() -> pump(accepted, upstreamSide, true));
    pump(upstreamSide, accepted, false);
  }

  private void pump(Socket from, Socket to, boolean upstream) {
    byte[] buffer = new byte[64 << 10];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      while (true) {
        int n = in.read(buffer);
        if (n < 0) {
          break;
        }
        long delay = delayNanos;
        if (delay > 0) {
          LockSupport.parkNanos(delay); // the fault itself, not synchronisation
        }
        if (cut) {
          break;
        }
        if (upstream ? dropUpstream : dropDownstream) {
          continue;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // the pair is closed below
    }
    closePair(from, to, false);
  }

  private void closePair(Socket a, Socket b, boolean reset) {
    closeQuietly(a, reset);
    closeQuietly(b, reset);
    sockets.remove(a);
    sockets.remove(b);
  }

  private void closeAll(boolean reset) {
    for (Socket socket : sockets) {
      closeQuietly(socket, reset);
    }
    sockets.clear();
  }

  private static void closeQuietly(Socket socket, boolean reset) {
    try {
      if (reset && !socket.isClosed()) {
        socket.setSoLinger(true, 0);
      }
      socket.close();
    } catch (IOException e) {
      // already gone
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // nothing to do
    }
    closeAll(false);
  }

  @Override
  public String toString() {
    return "proxy " + name + " " + address() + " -> " + targetHost + ":" + targetPort;
  }
}

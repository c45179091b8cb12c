package io.craq.transport;

import io.craq.core.message.Message;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Loopback benchmark, not a test (docs/PROTOCOL.md §7): (a) a raw Java socket echo baseline, (b)
 * the TCP transport one request at a time on one connection, (c) 64 pipelined requests in flight on
 * one connection, (d) 32 connections each doing one request at a time. Prints latency percentiles
 * and request rates, then the two target ratios (of the first transport). (b) to (d) run for each
 * transport of {@code -Dcraq.bench.transports=tcp,netty,tls} (default {@code tcp}).
 *
 * <p>Arguments: {@code [warmupSeconds=2] [measureSeconds=3]}.
 */
public final class TransportBenchmark {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Message REQUEST = new Message.WriteReply("benchmark-key", 12345);

  private record Result(String name, long operations, double seconds, Histogram latency) {
    double rate() {
      return operations / seconds;
    }

    String line() {
      return String.format(
          "%-34s %10.0f req/s   p50 %7.1f us   p99 %7.1f us",
          name,
          rate(),
          latency == null ? Double.NaN : latency.getValueAtPercentile(50) / 1000.0,
          latency == null ? Double.NaN : latency.getValueAtPercentile(99) / 1000.0);
    }
  }

  public static void main(String[] args) throws Exception {
    long warmupNanos = TimeUnit.SECONDS.toNanos(args.length > 0 ? Long.parseLong(args[0]) : 2);
    long measureNanos = TimeUnit.SECONDS.toNanos(args.length > 1 ? Long.parseLong(args[1]) : 3);
    int frameBytes = new MessageCodec(TransportConfig.DEFAULT).encode(REQUEST).length;
    System.out.printf(
        "java %s, %d cores, frame %d bytes%n",
        Runtime.version(), Runtime.getRuntime().availableProcessors(), frameBytes);

    Result echo = rawEcho(frameBytes, warmupNanos, measureNanos);
    System.out.println(echo.line());
    Result serial = null;
    Result pipelined = null;
    for (String kind : kinds()) {
      TransportConfig config = config(kind);
      System.out.println("-- " + kind);
      try (Transport serverSide = open(kind, config);
          Transport clientSide = open(kind, config)) {
        Server server = serverSide.listen("127.0.0.1:0", (m, responder) -> responder.reply(m));
        Connection connection = clientSide.connect(server.address());
        double share = (warmupNanos + measureNanos) / (double) measureNanos;
        long cpu = cpuNanos();
        Result s1 = serial(connection, warmupNanos, measureNanos);
        System.out.println(s1.line() + cpuPerOperation(cpu, s1, share));
        cpu = cpuNanos();
        Result p1 = pipelined(connection, 64, warmupNanos, measureNanos);
        System.out.println(p1.line() + cpuPerOperation(cpu, p1, share));
        cpu = cpuNanos();
        Result many = manyConnections(clientSide, server.address(), 32, warmupNanos, measureNanos);
        System.out.println(many.line() + cpuPerOperation(cpu, many, share));
        if (serial == null) {
          serial = s1;
          pipelined = p1;
        }
      }
    }
    if (serial != null) {
      System.out.printf(
          "(b)/(a) p50 latency ratio: %.2f (target <= 1.5)%n",
          serial.latency().getValueAtPercentile(50)
              / (double) echo.latency().getValueAtPercentile(50));
      System.out.printf(
          "(c)/(b) request rate ratio: %.2f (target >= 5)%n", pipelined.rate() / serial.rate());
    }
  }

  /**
   * The transports to compare, from {@code -Dcraq.bench.transports} (comma-separated): {@code tcp}
   * (the event-loop TcpTransport), {@code netty} (NettyTransport without TLS), {@code tls}
   * (NettyTransport with TLS 1.3 and certificates made for the run). Default: {@code tcp}.
   */
  private static List<String> kinds() {
    return List.of(System.getProperty("craq.bench.transports", "tcp").split(","));
  }

  /** CPU time of this process (both ends of every connection). */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * Process CPU per request since {@code startCpu}, client and server together; warm-up included,
   * its operations estimated from the measured rate ({@code share} = whole run / measured part).
   */
  private static String cpuPerOperation(long startCpu, Result result, double share) {
    double operations = result.operations() * share;
    return String.format("   cpu %6.1f us/req", (cpuNanos() - startCpu) / operations / 1000.0);
  }

  private static java.nio.file.Path pkiDir;
  private static io.craq.transport.security.CertificateTool.Issued node;
  private static io.craq.transport.security.CertificateTool.Ca ca;

  private static TransportConfig config(String kind) throws IOException {
    if (!kind.equals("tls")) {
      return TransportConfig.DEFAULT;
    }
    if (pkiDir == null) {
      pkiDir = java.nio.file.Files.createTempDirectory("craq-bench-pki-");
      ca = io.craq.transport.security.CertificateTool.newCa(pkiDir, "bench-ca");
      java.time.Instant now = java.time.Instant.now();
      node =
          ca.issue(
              pkiDir,
              "bench-node",
              List.of("127.0.0.1"),
              now.minusSeconds(3600),
              now.plus(Duration.ofDays(1)));
    }
    return TransportConfig.DEFAULT.withSecurity(
        io.craq.transport.security.Security.NONE.withTls(
            new io.craq.transport.security.TlsSettings(
                node.certificate(), node.privateKey(), ca.certificate(), null)));
  }

  private static Transport open(String kind, TransportConfig config) {
    return switch (kind) {
      case "tcp" -> new TcpTransport(config);
      case "netty", "tls" -> new NettyTransport(config);
      default -> throw new IllegalArgumentException("unknown transport kind " + kind);
    };
  }

  // --------------------------------------------------------------------- (a) raw socket echo

  private static Result rawEcho(int frameBytes, long warmupNanos, long measureNanos)
      throws Exception {
    Result result;
    try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread echoThread =
          Thread.ofPlatform()
              .daemon()
              .start(() -> {
                try (Socket s = listener.accept()) {
                  s.setTcpNoDelay(true);
                  DataInputStream in = new DataInputStream(s.getInputStream());
                  OutputStream out = s.getOutputStream();
                  byte[] buffer = new byte[frameBytes];
                  while (true) {
                    in.readFully(buffer);
                    out.write(buffer);
                  }
                } catch (IOException e) {
                  // client went away: done
                }
              });
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
        s.setTcpNoDelay(true);
        OutputStream out = s.getOutputStream();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] frame = new MessageCodec(TransportConfig.DEFAULT).encode(REQUEST);
        byte[] reply = new byte[frameBytes];
        Histogram histogram = new Histogram(3);
        long operations = 0;
        long start = System.nanoTime();
        long measureFrom = start + warmupNanos;
        long end = measureFrom + measureNanos;
        long now = start;
        while (now < end) {
          long t0 = System.nanoTime();
          out.write(frame);
          in.readFully(reply);
          now = System.nanoTime();
          if (t0 >= measureFrom) {
            histogram.recordValue(now - t0);
            operations++;
          }
        }
        result =
            new Result(
                "(a) raw socket echo, 1 at a time", operations, measureNanos / 1e9, histogram);
      }
      echoThread.join(1000);
      return result;
    }
  }

  // ------------------------------------------------------------------- (b) transport, serial

  private static Result serial(Connection connection, long warmupNanos, long measureNanos)
      throws Exception {
    Histogram histogram = new Histogram(3);
    long operations = 0;
    long start = System.nanoTime();
    long measureFrom = start + warmupNanos;
    long end = measureFrom + measureNanos;
    long now = start;
    while (now < end) {
      long t0 = System.nanoTime();
      connection.request(REQUEST, TIMEOUT).get();
      now = System.nanoTime();
      if (t0 >= measureFrom) {
        histogram.recordValue(now - t0);
        operations++;
      }
    }
    return new Result("(b) transport, 1 at a time", operations, measureNanos / 1e9, histogram);
  }

  // ----------------------------------------------------------------- (c) transport, pipelined

  private static Result pipelined(
      Connection connection, int inFlight, long warmupNanos, long measureNanos) throws Exception {
    Semaphore permits = new Semaphore(inFlight);
    Histogram histogram = new Histogram(3);
    AtomicLong operations = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + warmupNanos;
    long end = measureFrom + measureNanos;
    while (System.nanoTime() < end) {
      permits.acquire();
      long t0 = System.nanoTime();
      connection
          .request(REQUEST, TIMEOUT)
          .whenComplete((reply, failure) -> {
            long t1 = System.nanoTime();
            if (failure == null && t0 >= measureFrom && t1 <= end) {
              synchronized (histogram) {
                histogram.recordValue(t1 - t0);
              }
              operations.incrementAndGet();
            }
            permits.release();
          });
    }
    permits.acquire(inFlight);
    return new Result(
        "(c) transport, " + inFlight + " in flight",
        operations.get(),
        measureNanos / 1e9,
        histogram);
  }

  // ---------------------------------------------------------------- (d) transport, N conns

  private static Result manyConnections(
      Transport transport, String address, int count, long warmupNanos, long measureNanos)
      throws Exception {
    long start = System.nanoTime();
    long measureFrom = start + warmupNanos;
    long end = measureFrom + measureNanos;
    AtomicLong operations = new AtomicLong();
    Histogram histogram = new Histogram(3);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Connection connection = transport.connect(address);
      threads.add(
          Thread.ofVirtual()
              .start(() -> {
                Histogram local = new Histogram(3);
                long done = 0;
                long now = System.nanoTime();
                try {
                  while (now < end) {
                    long t0 = System.nanoTime();
                    CompletableFuture<Message> f = connection.request(REQUEST, TIMEOUT);
                    f.get();
                    now = System.nanoTime();
                    if (t0 >= measureFrom) {
                      local.recordValue(now - t0);
                      done++;
                    }
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                operations.addAndGet(done);
                synchronized (histogram) {
                  histogram.add(local);
                }
              }));
    }
    for (Thread thread : threads) {
      thread.join();
    }
    return new Result(
        "(d) transport, " + count + " connections",
        operations.get(),
        measureNanos / 1e9,
        histogram);
  }
}

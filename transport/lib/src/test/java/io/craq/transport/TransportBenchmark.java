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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * <p>Each line also gives the process CPU per request (client and server ends together), taken over
 * the measured window only. For comparisons within one run:
 *
 * <ul>
 *   <li>a transport may carry system properties, set while it runs and restored after: {@code
 *       netty@craq.netty.epoll=false} is Netty on NIO;
 *   <li>{@code -Dcraq.bench.rounds=N} runs the list of transports N times, interleaved, then prints
 *       each one's median rate and CPU per request and their ranges;
 *   <li>{@code -Dcraq.bench.cases=cd} runs only some of the cases (b), (c), (d); (a) runs only with
 *       (b), whose latency it is the baseline of.
 * </ul>
 *
 * <p>Arguments: {@code [warmupSeconds=2] [measureSeconds=3]}.
 */
public final class TransportBenchmark {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Message REQUEST = new Message.WriteReply("benchmark-key", 12345);

  /** A case's outcome; {@code cpuNanos} is the process CPU over the measured window. */
  private record Result(
      String name, long operations, double seconds, Histogram latency, long cpuNanos) {
    double rate() {
      return operations / seconds;
    }

    double cpuMicrosPerOperation() {
      return cpuNanos < 0 ? Double.NaN : cpuNanos / (double) operations / 1000.0;
    }

    String line() {
      return String.format(
          "%-34s %10.0f req/s   p50 %7.1f us   p99 %7.1f us   cpu %6.2f us/req",
          name,
          rate(),
          latency == null ? Double.NaN : latency.getValueAtPercentile(50) / 1000.0,
          latency == null ? Double.NaN : latency.getValueAtPercentile(99) / 1000.0,
          cpuMicrosPerOperation());
    }
  }

  public static void main(String[] args) throws Exception {
    long warmupNanos = TimeUnit.SECONDS.toNanos(args.length > 0 ? Long.parseLong(args[0]) : 2);
    long measureNanos = TimeUnit.SECONDS.toNanos(args.length > 1 ? Long.parseLong(args[1]) : 3);
    int rounds = Integer.getInteger("craq.bench.rounds", 1);
    String cases = System.getProperty("craq.bench.cases", "bcd");
    int frameBytes = new MessageCodec(TransportConfig.DEFAULT).encode(REQUEST).length;
    System.out.printf(
        "java %s, %d cores, frame %d bytes%n",
        Runtime.version(), Runtime.getRuntime().availableProcessors(), frameBytes);

    Result echo = null;
    if (cases.contains("b")) {
      echo = rawEcho(frameBytes, warmupNanos, measureNanos);
      System.out.println(echo.line());
    }
    Result serial = null;
    Result pipelined = null;
    Map<String, List<Result>> results = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (String kind : kinds()) {
        System.out.println("-- " + kind + (rounds > 1 ? " (round " + round + ")" : ""));
        Map<String, String> saved = setProperties(kind);
        String base = kind.split("@")[0];
        TransportConfig config = config(base);
        try (Transport serverSide = open(base, config);
            Transport clientSide = open(base, config)) {
          Server server = serverSide.listen("127.0.0.1:0", (m, responder) -> responder.reply(m));
          Connection connection = clientSide.connect(server.address());
          List<Result> mine = results.computeIfAbsent(kind, k -> new ArrayList<>());
          if (cases.contains("b")) {
            Result s1 = serial(connection, warmupNanos, measureNanos);
            System.out.println(s1.line());
            mine.add(s1);
            if (serial == null) {
              serial = s1;
            }
          }
          if (cases.contains("c")) {
            Result p1 = pipelined(connection, 64, warmupNanos, measureNanos);
            System.out.println(p1.line());
            mine.add(p1);
            if (pipelined == null) {
              pipelined = p1;
            }
          }
          if (cases.contains("d")) {
            Result many =
                manyConnections(clientSide, server.address(), 32, warmupNanos, measureNanos);
            System.out.println(many.line());
            mine.add(many);
          }
        } finally {
          restoreProperties(saved);
        }
      }
    }
    if (rounds > 1) {
      summarize(results);
    }
    if (serial != null && echo != null) {
      System.out.printf(
          "(b)/(a) p50 latency ratio: %.2f (target <= 1.5)%n",
          serial.latency().getValueAtPercentile(50)
              / (double) echo.latency().getValueAtPercentile(50));
    }
    if (serial != null && pipelined != null) {
      System.out.printf(
          "(c)/(b) request rate ratio: %.2f (target >= 5)%n", pipelined.rate() / serial.rate());
    }
  }

  /** Per transport and case: the median rate and CPU per request over the rounds, and ranges. */
  private static void summarize(Map<String, List<Result>> results) {
    System.out.println("-- medians over the rounds (min-max)");
    for (var entry : results.entrySet()) {
      Map<String, List<Result>> byCase = new LinkedHashMap<>();
      for (Result r : entry.getValue()) {
        byCase.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(r);
      }
      for (var c : byCase.entrySet()) {
        double[] rates = c.getValue().stream().mapToDouble(Result::rate).sorted().toArray();
        double[] cpus =
            c.getValue().stream().mapToDouble(Result::cpuMicrosPerOperation).sorted().toArray();
        System.out.printf(
            "%-30s %-32s %9.0f req/s (%.0f-%.0f)   cpu %6.2f us/req (%.2f-%.2f)%n",
            entry.getKey(),
            c.getKey(),
            median(rates),
            rates[0],
            rates[rates.length - 1],
            median(cpus),
            cpus[0],
            cpus[cpus.length - 1]);
      }
    }
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Sets the properties a kind carries ({@code kind@name=value@name=value}); the old values. */
  static Map<String, String> setProperties(String kind) {
    Map<String, String> saved = new LinkedHashMap<>();
    String[] parts = kind.split("@");
    for (int i = 1; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected name=value after @ in " + kind);
      }
      String name = parts[i].substring(0, eq);
      saved.put(name, System.getProperty(name));
      System.setProperty(name, parts[i].substring(eq + 1));
    }
    return saved;
  }

  static void restoreProperties(Map<String, String> saved) {
    saved.forEach((name, value) -> {
      if (value == null) {
        System.clearProperty(name);
      } else {
        System.setProperty(name, value);
      }
    });
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
   * The process CPU over {@code [from, to)} (System.nanoTime instants), sampled at both instants by
   * a thread of its own, so that warm-up and set-up do not count.
   */
  private static final class CpuWindow {
    private final long[] samples = {-1, -1};
    private final Thread sampler;

    CpuWindow(long from, long to) {
      sampler =
          Thread.ofPlatform()
              .daemon()
              .start(() -> {
                sleepUntil(from);
                samples[0] = TransportBenchmark.cpuNanos();
                sleepUntil(to);
                samples[1] = TransportBenchmark.cpuNanos();
              });
    }

    private static void sleepUntil(long deadline) {
      for (long left; (left = deadline - System.nanoTime()) > 0; ) {
        java.util.concurrent.locks.LockSupport.parkNanos(left);
      }
    }

    /** Waits for the second sample; the CPU between the two. */
    long measured() throws InterruptedException {
      sampler.join();
      return samples[1] - samples[0];
    }
  }

  private static java.nio.file.Path pkiDir;
  private static io.craq.transport.security.CertificateTool.Issued node;
  private static io.craq.transport.security.CertificateTool.Ca ca;

  static TransportConfig config(String kind) throws IOException {
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
        CpuWindow cpu = new CpuWindow(measureFrom, end);
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
                "(a) raw socket echo, 1 at a time",
                operations,
                measureNanos / 1e9,
                histogram,
                cpu.measured());
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
    CpuWindow cpu = new CpuWindow(measureFrom, end);
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
    return new Result(
        "(b) transport, 1 at a time", operations, measureNanos / 1e9, histogram, cpu.measured());
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
    CpuWindow cpu = new CpuWindow(measureFrom, end);
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
        histogram,
        cpu.measured());
  }

  // ---------------------------------------------------------------- (d) transport, N conns

  private static Result manyConnections(
      Transport transport, String address, int count, long warmupNanos, long measureNanos)
      throws Exception {
    long start = System.nanoTime();
    long measureFrom = start + warmupNanos;
    long end = measureFrom + measureNanos;
    CpuWindow cpu = new CpuWindow(measureFrom, end);
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
        histogram,
        cpu.measured());
  }
}

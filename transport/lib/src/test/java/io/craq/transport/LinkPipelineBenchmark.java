package io.craq.transport;

import io.craq.core.message.Message;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The CPU that the Netty transport's own work costs per message, TLS against plain, without sockets
 * and threads: benchmark, not a test. Two {@link NettyLink}s, a dialing one and an accepted one
 * answering every request with its body, each on an {@link EmbeddedChannel} (their real pipelines:
 * {@link SslHandler} when TLS is on, then the link's frame reader), one thread moving the bytes
 * each writes to the other. What is measured is everything {@link TransportBenchmark} measures
 * except the system calls and the thread hand-offs: queuing, batching, TLS records, reading,
 * decoding, dispatching, completing. The thread's CPU time per request-reply pair is the figure: it
 * is little disturbed by other processes, unlike the socket benchmark's.
 *
 * <p>Each iteration sends {@code burst} requests, then moves bytes until every reply arrived: with
 * a burst of 1 every message is a TLS record of its own (a client's request, a read's reply); with
 * 16 the frames of a burst share a record, as on a busy chain link.
 *
 * <p>Properties: {@code craq.bench.transports} (default {@code netty,tls}; a transport may carry
 * system properties, as in {@link TransportBenchmark}: {@code tls@name=value}), {@code
 * craq.bench.rounds} (default 5, interleaved, then medians), {@code craq.bench.bursts} (default
 * {@code 1,16}), {@code craq.bench.valueBytes} (default 100: requests are writes of such a value).
 * Arguments: {@code [warmupRequests=200000] [measuredRequests=200000]}.
 */
public final class LinkPipelineBenchmark {
  private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

  private LinkPipelineBenchmark() {}

  public static void main(String[] args) throws Exception {
    int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int measured = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
    int rounds = Integer.getInteger("craq.bench.rounds", 5);
    List<String> kinds =
        List.of(System.getProperty("craq.bench.transports", "netty,tls").split(","));
    int[] bursts =
        Arrays.stream(System.getProperty("craq.bench.bursts", "1,16").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    byte[] value = new byte[Integer.getInteger("craq.bench.valueBytes", 100)];
    Message request = new Message.WriteRequest("benchmark-key-000042", value, false, -1);
    System.out.printf(
        "java %s, %d cores; request frame %d bytes%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        new MessageCodec(TransportConfig.DEFAULT).encode(request).length);
    Map<String, List<Double>> cpu = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (String kind : kinds) {
        for (int burst : bursts) {
          double micros = run(kind, burst, request, warmup, measured);
          System.out.printf(
              "round %d  %-40s burst %3d   cpu %6.3f us/req%n", round, kind, burst, micros);
          cpu.computeIfAbsent(kind + "  burst " + burst, k -> new ArrayList<>()).add(micros);
        }
      }
    }
    System.out.println("-- medians over the rounds (min-max), CPU per request-reply pair");
    for (var entry : cpu.entrySet()) {
      double[] sorted =
          entry.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
      int n = sorted.length;
      double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
      System.out.printf(
          "%-52s %6.3f us (%.3f-%.3f)%n", entry.getKey(), median, sorted[0], sorted[n - 1]);
    }
  }

  /** One transport, one burst size: the thread's CPU per request-reply pair, in microseconds. */
  private static double run(String kind, int burst, Message request, int warmup, int measured)
      throws Exception {
    Map<String, String> saved = TransportBenchmark.setProperties(kind);
    String base = kind.split("@")[0];
    try (NettyTransport transport = new NettyTransport(TransportBenchmark.config(base))) {
      Pair pair = new Pair(transport);
      try {
        byte[] frame =
            new MessageCodec(TransportConfig.DEFAULT).encodeFrame(Frames.KIND_REQUEST, 0, request);
        iterate(pair, frame, burst, warmup);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = threads.getCurrentThreadCpuTime();
        int done = iterate(pair, frame, burst, measured);
        return (threads.getCurrentThreadCpuTime() - start) / (double) done / 1000.0;
      } finally {
        pair.close();
      }
    } finally {
      TransportBenchmark.restoreProperties(saved);
    }
  }

  /** Sends {@code count} requests in bursts; the number sent. */
  private static int iterate(Pair pair, byte[] frame, int burst, int count) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    CompletableFuture<Message>[] replies = new CompletableFuture[burst];
    int sent = 0;
    while (sent < count) {
      for (int i = 0; i < burst; i++) {
        replies[i] = pair.client.request(frame.clone(), TIMEOUT_NANOS);
      }
      pair.pump();
      for (int i = 0; i < burst; i++) {
        if (!replies[i].isDone() || replies[i].isCompletedExceptionally()) {
          throw new IllegalStateException("no reply after the bytes were moved: " + replies[i]);
        }
      }
      sent += burst;
    }
    return sent;
  }

  /** A dialing and an accepted link of {@code transport}, on embedded channels, TLS done. */
  private static final class Pair {
    final NettyLink client;
    final NettyLink server;
    final EmbeddedChannel clientChannel;
    final EmbeddedChannel serverChannel;

    Pair(NettyTransport transport) throws Exception {
      TlsContexts.Material material = transport.tls();
      NettyLink[] links = new NettyLink[2];
      clientChannel =
          channel(
              new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                  NettyLink link =
                      new NettyLink(transport, ch.eventLoop(), (m, r) -> {}, "server", false);
                  SslHandler ssl =
                      material == null
                          ? null
                          : material.client.newHandler(ch.alloc(), "127.0.0.1", 1);
                  link.attach(ch);
                  link.install(ch, ssl, material);
                  links[0] = link;
                }
              });
      serverChannel =
          channel(
              new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                  NettyLink link =
                      new NettyLink(
                          transport,
                          ch.eventLoop(),
                          (message, responder) -> responder.reply(message),
                          "client",
                          true);
                  SslHandler ssl = null;
                  if (material == null) {
                    link.admit(transport.admission().plain(), transport.admission());
                  } else {
                    ssl = material.server.newHandler(ch.alloc());
                  }
                  link.attach(ch);
                  link.install(ch, ssl, material);
                  links[1] = link;
                }
              });
      client = links[0];
      server = links[1];
      pump();
    }

    private static EmbeddedChannel channel(ChannelInitializer<Channel> initializer)
        throws Exception {
      EmbeddedChannel channel = new EmbeddedChannel(false, false, initializer);
      channel.register();
      return channel;
    }

    /** Runs both loops' tasks and moves bytes both ways until neither has anything to move. */
    void pump() {
      boolean moved;
      do {
        moved = false;
        clientChannel.runPendingTasks();
        serverChannel.runPendingTasks();
        for (Object out; (out = clientChannel.readOutbound()) != null; ) {
          serverChannel.writeInbound(out);
          moved = true;
        }
        for (Object out; (out = serverChannel.readOutbound()) != null; ) {
          clientChannel.writeInbound(out);
          moved = true;
        }
      } while (moved);
      clientChannel.checkException();
      serverChannel.checkException();
    }

    void close() {
      client.close(new ConnectionClosedException("benchmark done"));
      server.close(new ConnectionClosedException("benchmark done"));
      clientChannel.finishAndReleaseAll();
      serverChannel.finishAndReleaseAll();
    }
  }
}

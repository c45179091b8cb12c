package io.craq.cli.it;

import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.core.message.ReadMode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * A quick load against a running cluster (not a test, not the benchmark tool): each of T threads
 * does blocking writes, then strong reads at random members, for S seconds each.
 *
 * <p>{@code QuickLoad COORDINATOR THREADS SECONDS [KEYS]}; see the README for the command.
 */
public final class QuickLoad {
  private QuickLoad() {}

  public static void main(String[] args) throws Exception {
    String coordinator = args.length > 0 ? args[0] : "127.0.0.1:1234";
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int keys = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
    byte[] value = new byte[100];
    ThreadLocalRandom.current().nextBytes(value);
    try (CraqClient client = CraqClient.connect(ClientConfig.defaults(coordinator))) {
      List<String> members = client.chain().members().stream().map(m -> m.address()).toList();
      double writes =
          run(
              threads,
              seconds,
              () -> client.write("load-" + ThreadLocalRandom.current().nextInt(keys), value));
      double reads =
          run(
              threads,
              seconds,
              () ->
                  client.readFrom(
                      members.get(ThreadLocalRandom.current().nextInt(members.size())),
                      "load-" + ThreadLocalRandom.current().nextInt(keys),
                      ReadMode.STRONG,
                      0));
      System.out.printf(
          "threads %d, %d s each, %d members, 100-byte values: "
              + "writes %.0f/s, strong reads %.0f/s%n",
          threads, seconds, members.size(), writes, reads);
    }
  }

  private static double run(int threads, int seconds, Runnable op) throws InterruptedException {
    LongAdder done = new LongAdder();
    LongAdder failed = new LongAdder();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Thread> workers = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < threads; i++) {
      workers.add(
          Thread.ofPlatform()
              .start(() -> {
                while (System.nanoTime() < end) {
                  try {
                    op.run();
                    done.increment();
                  } catch (RuntimeException e) {
                    failed.increment();
                  }
                }
              }));
    }
    for (Thread worker : workers) {
      worker.join();
    }
    if (failed.sum() > 0) {
      System.out.println("  (" + failed.sum() + " operations failed)");
    }
    return done.sum() / ((System.nanoTime() - start) / 1e9);
  }
}

package io.craq.store;

import io.craq.core.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A small throughput benchmark of both stores (a plain main, not a test): synced puts with 1 and
 * with 100 versions per batch, and gets, with 100-byte values. Run it with {@code
 * store/bin/store-bench [runs]}; see docs/STORES.md.
 */
public final class StoreBenchmark {
  private static final int VALUE_BYTES = 100;
  private static final int SINGLE_PUTS = 2_000;
  private static final int BATCH_VERSIONS = 100;
  private static final int BATCHED_PUTS = 200_000;
  private static final int GETS = 1_000_000;

  private record Figures(
      double singlePutsPerSecond, double batchedPutsPerSecond, double getsPerSecond) {}

  public static void main(String[] args) throws IOException {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Path root = Files.createTempDirectory("craq-store-bench");
    try {
      report("memory", runs, 1, dir -> new MemoryStorer());
      report("lmdb (SYNC)", runs, 10, dir -> LmdbStorer.open(LmdbStorer.Config.defaults(dir)));
    } finally {
      delete(root);
    }
  }

  private static void report(
      String name, int runs, int warmupDivisor, Function<Path, Storer> factory) throws IOException {
    Path warmupDir = Files.createTempDirectory("craq-store-bench-warmup");
    try (Storer store = factory.apply(warmupDir)) {
      measure(store, warmupDivisor); // lets the JIT compile the paths; figures discarded
    } finally {
      delete(warmupDir);
    }
    List<Figures> all = new ArrayList<>();
    for (int run = 1; run <= runs; run++) {
      Path dir = Files.createTempDirectory("craq-store-bench-run");
      try (Storer store = factory.apply(dir)) {
        Figures figures = measure(store, 1);
        all.add(figures);
        System.out.printf(
            Locale.ROOT,
            "%-12s run %d: puts/s 1 per batch %,10.0f | 100 per batch %,10.0f | gets/s %,10.0f%n",
            name,
            run,
            figures.singlePutsPerSecond(),
            figures.batchedPutsPerSecond(),
            figures.getsPerSecond());
      } finally {
        delete(dir);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%-12s min..max: 1/batch %,.0f..%,.0f | 100/batch %,.0f..%,.0f | gets %,.0f..%,.0f%n",
        name,
        min(all, Figures::singlePutsPerSecond),
        max(all, Figures::singlePutsPerSecond),
        min(all, Figures::batchedPutsPerSecond),
        max(all, Figures::batchedPutsPerSecond),
        min(all, Figures::getsPerSecond),
        max(all, Figures::getsPerSecond));
  }

  /** Runs each part once; {@code divisor} shrinks the counts (for the warm-up). */
  private static Figures measure(Storer store, int divisor) {
    int singlePuts = SINGLE_PUTS / divisor;
    int batchedPuts = BATCHED_PUTS / divisor;
    int gets = GETS / divisor;
    byte[] value = new byte[VALUE_BYTES];
    new Random(1).nextBytes(value);
    long start = System.nanoTime();
    for (int i = 0; i < singlePuts; i++) {
      store.apply(new Batch().putDirty(key("s", i), 1, value));
    }
    double single = singlePuts / seconds(start);

    start = System.nanoTime();
    Batch batch = new Batch();
    for (int i = 0; i < batchedPuts; i += BATCH_VERSIONS) {
      batch.clear();
      for (int j = i; j < i + BATCH_VERSIONS; j++) {
        batch.putDirty(key("b", j), 1, value);
      }
      store.apply(batch);
    }
    double batched = batchedPuts / seconds(start);

    Random random = new Random(2);
    long found = 0;
    start = System.nanoTime();
    for (int i = 0; i < gets; i++) {
      if (store.readNewest(key("b", random.nextInt(batchedPuts))) instanceof Newest.Dirty) {
        found++;
      }
    }
    double getsPerSecond = gets / seconds(start);
    if (found != gets) {
      throw new IllegalStateException("benchmark read " + found + " of " + gets + " keys");
    }
    return new Figures(single, batched, getsPerSecond);
  }

  private static String key(String prefix, int i) {
    String key = prefix + "-key-" + i;
    Limits.checkKey(key);
    return key;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static double min(List<Figures> all, java.util.function.ToDoubleFunction<Figures> f) {
    return all.stream().mapToDouble(f).min().orElse(0);
  }

  private static double max(List<Figures> all, java.util.function.ToDoubleFunction<Figures> f) {
    return all.stream().mapToDouble(f).max().orElse(0);
  }

  /** Deletes {@code root} and everything below it; nothing if it does not exist. */
  static void delete(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}

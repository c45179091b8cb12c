package io.craq.store.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Measures what a write-ahead log segment should look like on this disk (a plain main, not a test):
 * one 128-byte record written at the end of the data, then {@code force(false)} ({@code
 * fdatasync}), one at a time, on
 *
 * <ol>
 *   <li><b>zero-filled</b>: a segment preallocated by writing zeros over its whole size, then
 *       {@code force(true)}: every block exists on disk before the first record;
 *   <li><b>sparse</b>: a segment given its size with {@code setLength} (a hole), then {@code
 *       force(true)}: the size is on disk, the blocks are not;
 *   <li><b>growing</b>: an empty file that each record extends;
 *   <li><b>log, 1 per force</b>: {@link WriteAheadLog#append} of one record, then {@link
 *       WriteAheadLog#force()}: the component itself on a zero-filled segment;
 *   <li><b>log, 32 per force</b>: 32 appends, then one force (group commit).
 * </ol>
 *
 * <p>The cases run in turn, {@code craq.wal.bench.rounds} times (default 3), each for {@code
 * craq.wal.bench.seconds} (default 5), so a passing disturbance shows as one odd round instead of
 * one odd case. Each line gives records per second, the median and 99th percentile of one write +
 * force in microseconds, and how long preparing the segment took (the zero-fill is paid once per
 * segment, ideally off the append path). Also printed: the load average, since the disk and the two
 * cores here are shared. Run from the repository root:
 *
 * <pre>{@code
 * bin/test -q -pl store -am -DskipTests     # compiles main and test classes, runs nothing
 * repo=$HOME/.m2/repository                 # the local repository your builds use
 * java -cp store/target/test-classes:store/target/classes:core/target/classes:\
 * $repo/org/slf4j/slf4j-api/2.0.20/slf4j-api-2.0.20.jar \
 *     [-Dcraq.wal.bench.seconds=5] [-Dcraq.wal.bench.rounds=3] [-Dcraq.wal.bench.recordBytes=128] \
 *     [-Dcraq.wal.bench.dir=/some/disk] \
 *     io.craq.store.wal.WalPreallocationBenchmark
 * }</pre>
 *
 * <p>{@code craq.wal.bench.dir} must be on the disk to measure (default {@code java.io.tmpdir}),
 * not on a tmpfs.
 */
public final class WalPreallocationBenchmark {
  private static final int RECORD_BYTES_DEFAULT = 128;
  private static final long SEGMENT_BYTES = 64L << 20;
  private static final int ZERO_CHUNK_BYTES = 1 << 20;
  private static final int GROUP_RECORDS = 32;
  private static final long WARMUP_NANOS = 500_000_000L;

  private WalPreallocationBenchmark() {}

  /** One way to lay out the segment: prepares the file, then appends one record per step. */
  private enum Layout {
    ZERO_FILLED("zero-filled (preallocated)"),
    SPARSE("sparse (setLength)"),
    GROWING("growing"),
    LOG_ONE("WriteAheadLog, 1 record per force"),
    LOG_GROUP("WriteAheadLog, " + GROUP_RECORDS + " records per force");

    final String title;

    Layout(String title) {
      this.title = title;
    }
  }

  /** Sorted per-step latencies and the records per second over the run. */
  private record Result(long[] sortedNanos, double recordsPerSecond, double prepareMillis) {}

  /** Bytes per record, header included ({@code craq.wal.bench.recordBytes}). */
  private static int recordBytes = RECORD_BYTES_DEFAULT;

  public static void main(String[] args) throws IOException {
    recordBytes = Integer.getInteger("craq.wal.bench.recordBytes", RECORD_BYTES_DEFAULT);
    if (recordBytes < WriteAheadLog.RECORD_HEADER_BYTES) {
      throw new IllegalArgumentException(
          "craq.wal.bench.recordBytes must be >= "
              + WriteAheadLog.RECORD_HEADER_BYTES
              + ", got "
              + recordBytes);
    }
    int seconds = Integer.getInteger("craq.wal.bench.seconds", 5);
    int rounds = Integer.getInteger("craq.wal.bench.rounds", 3);
    Path parent =
        Path.of(System.getProperty("craq.wal.bench.dir", System.getProperty("java.io.tmpdir")));
    Path root = Files.createTempDirectory(parent, "craq-wal-bench");
    try {
      System.out.printf(
          Locale.ROOT,
          "WAL segment layouts, %s: %d-byte records, %d s per case, %d rounds, in %s (%s),"
              + " %d CPUs, JDK %s, Linux %s%n",
          Instant.now().truncatedTo(ChronoUnit.SECONDS),
          recordBytes,
          seconds,
          rounds,
          parent,
          Files.getFileStore(root).type(),
          Runtime.getRuntime().availableProcessors(),
          Runtime.version().feature(),
          System.getProperty("os.version"));
      System.out.println("load average before: " + loadAverage());
      for (int round = 1; round <= rounds; round++) {
        for (Layout layout : Layout.values()) {
          Path dir = Files.createDirectory(root.resolve(layout.name() + "-" + round));
          Result result = run(layout, dir, seconds * 1_000_000_000L);
          System.out.printf(
              Locale.ROOT,
              "round %d  %-36s %,8.0f records/s  p50 %6.0f us  p99 %6.0f us  prepare %6.1f ms%n",
              round,
              layout.title,
              result.recordsPerSecond(),
              percentile(result.sortedNanos(), 50) / 1e3,
              percentile(result.sortedNanos(), 99) / 1e3,
              result.prepareMillis());
          delete(dir);
        }
      }
      System.out.println("load average after: " + loadAverage());
    } finally {
      delete(root);
    }
  }

  private static Result run(Layout layout, Path dir, long nanos) throws IOException {
    return switch (layout) {
      case ZERO_FILLED, SPARSE, GROWING -> runFile(layout, dir.resolve("segment"), nanos);
      case LOG_ONE -> runLog(dir, nanos, 1);
      case LOG_GROUP -> runLog(dir, nanos, GROUP_RECORDS);
    };
  }

  private static Result runFile(Layout layout, Path file, long nanos) throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      long prepareStart = System.nanoTime();
      if (layout == Layout.ZERO_FILLED) {
        ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK_BYTES);
        for (long at = 0; at < SEGMENT_BYTES; at += ZERO_CHUNK_BYTES) {
          zeros.clear();
          writeFully(channel, zeros, at);
        }
        channel.force(true);
      } else if (layout == Layout.SPARSE) {
        channel.truncate(0);
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
          raf.setLength(SEGMENT_BYTES);
        }
        channel.force(true);
      }
      double prepareMillis = (System.nanoTime() - prepareStart) / 1e6;
      ByteBuffer record = ByteBuffer.allocateDirect(recordBytes);
      long[] at = {0};
      return measure(
          nanos,
          prepareMillis,
          1,
          () -> {
            record.clear();
            record.putLong(0, at[0]); // different bytes each time, though the disk does not care
            writeFully(channel, record, at[0]);
            at[0] += recordBytes;
            channel.force(false);
          });
    }
  }

  private static Result runLog(Path dir, long nanos, int perForce) {
    long prepareStart = System.nanoTime();
    WriteAheadLog.Config config = WriteAheadLog.Config.defaults(dir);
    try (WriteAheadLog log = WriteAheadLog.open(config, 0, record -> {})) {
      double prepareMillis = (System.nanoTime() - prepareStart) / 1e6;
      byte[] payload = new byte[recordBytes - WriteAheadLog.RECORD_HEADER_BYTES];
      return measure(
          nanos,
          prepareMillis,
          perForce,
          () -> {
            for (int i = 0; i < perForce; i++) {
              log.append(payload);
            }
            log.force();
          });
    }
  }

  /** A timed step: write and force. */
  @FunctionalInterface
  private interface Step {
    void run() throws IOException;
  }

  /**
   * Runs {@code step} untimed for {@link #WARMUP_NANOS}, then timed for {@code nanos}; every step
   * stands for {@code recordsPerStep} records.
   */
  private static Result measure(long nanos, double prepareMillis, int recordsPerStep, Step step) {
    try {
      long warmupEnd = System.nanoTime() + WARMUP_NANOS;
      while (System.nanoTime() < warmupEnd) {
        step.run();
      }
      long[] latencies = new long[1 << 16];
      int steps = 0;
      long start = System.nanoTime();
      long end = start + nanos;
      long now = start;
      while (now < end) {
        long before = now;
        step.run();
        now = System.nanoTime();
        if (steps == latencies.length) {
          latencies = Arrays.copyOf(latencies, steps * 2);
        }
        latencies[steps++] = now - before;
      }
      long[] sorted = Arrays.copyOf(latencies, steps);
      Arrays.sort(sorted);
      return new Result(
          sorted, (double) steps * recordsPerStep * 1e9 / (now - start), prepareMillis);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Nearest-rank percentile of sorted values. */
  private static double percentile(long[] sorted, double percent) {
    int rank = (int) Math.ceil(percent / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      at += channel.write(buffer, at);
    }
  }

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return String.join(" ", Arrays.copyOf(fields, Math.min(3, fields.length))) + " (1/5/15 min)";
    } catch (IOException e) {
      return "unavailable (" + e.getMessage() + ")";
    }
  }

  private static void delete(Path root) throws IOException {
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

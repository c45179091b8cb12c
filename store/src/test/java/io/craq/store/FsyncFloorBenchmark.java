package io.craq.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Locale;

/**
 * Measures the durability floor under one write on this machine (a plain main, not a test): how
 * long one synced step to disk takes, unloaded, one at a time. Each node of a chain does one synced
 * LMDB storage transaction before it passes a write on, so a write through three nodes pays this
 * floor three times, whatever the network costs.
 *
 * <p>Cases, each timed {@code craq.fsync.samples} times (default 500) after a short warm-up, in a
 * temporary directory that is deleted at the end:
 *
 * <ol>
 *   <li>{@code FileChannel.write} of 4 KiB at offset 0 of a preallocated file, then {@code
 *       force(false)} ({@code fdatasync});
 *   <li>the same with {@code force(true)} ({@code fsync}: the inode's times too);
 *   <li>{@link LmdbStorer#apply(Batch)} with {@link Durability#SYNC}, one dirty write of a 100-byte
 *       value per storage transaction (LMDB syncs the data pages, then writes the meta page
 *       synchronously: two waits for the disk);
 *   <li>the same with {@link Durability#NO_SYNC}: the cost without the disk;
 *   <li>the same as 3 with 32 dirty writes in one storage transaction (group commit), also shown
 *       per write;
 *   <li>the same as 3 with {@link Durability#NO_META_SYNC}: one wait for the disk instead of two.
 * </ol>
 *
 * <p>It prints one Markdown table row per case (p50, p90, p99, max in milliseconds, and the mean
 * CPU time of the calling thread per step, user + system: the kernel's share of a sync shows there)
 * and the load average before and after, ready to paste into docs. Figures are only comparable on
 * the same, otherwise idle machine. Run it from the repository root:
 *
 * <pre>{@code
 * . bin/java-env && mvn -B -ntp -q -pl store -am install -DskipTests
 * mvn -B -ntp -q -pl store dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
 *     --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
 *     [-Dcraq.fsync.samples=500] [-Dcraq.fsync.dir=/some/disk] \
 *     -cp store/target/test-classes:store/target/classes:$(cat /tmp/cp.txt) \
 *     io.craq.store.FsyncFloorBenchmark
 * }</pre>
 *
 * <p>{@code craq.fsync.dir} chooses where the temporary directory goes (default {@code
 * java.io.tmpdir}); it must be on the disk to measure, not on a tmpfs.
 */
public final class FsyncFloorBenchmark {
  private static final int SAMPLES_DEFAULT = 500;
  private static final int WARMUP_SAMPLES = 50;
  private static final int PAGE_BYTES = 4096;
  private static final int FILE_BYTES = 1 << 20;
  private static final int VALUE_BYTES = 100;
  private static final int GROUP_WRITES = 32;

  private FsyncFloorBenchmark() {}

  /** One storage step under test: the timed part. */
  @FunctionalInterface
  private interface Step {
    void run() throws IOException;
  }

  /** Prepares sample number {@code sample} outside the timed part; returns what to time. */
  @FunctionalInterface
  private interface Prepared {
    Step prepare(int sample);
  }

  public static void main(String[] args) throws IOException {
    int samples = Integer.getInteger("craq.fsync.samples", SAMPLES_DEFAULT);
    if (samples < 1) {
      throw new IllegalArgumentException("craq.fsync.samples must be >= 1, got " + samples);
    }
    Path parent =
        Path.of(System.getProperty("craq.fsync.dir", System.getProperty("java.io.tmpdir")));
    Path root = Files.createTempDirectory(parent, "craq-fsync-floor");
    String loadBefore = loadAverage();
    try {
      System.out.printf(
          Locale.ROOT,
          "Durability floor, %s: %d samples per case after %d warm-up, in %s (%s), %d CPUs,"
              + " JDK %s, Linux %s%n",
          Instant.now().truncatedTo(ChronoUnit.SECONDS),
          samples,
          WARMUP_SAMPLES,
          parent,
          Files.getFileStore(root).type(),
          Runtime.getRuntime().availableProcessors(),
          Runtime.version().feature(),
          System.getProperty("os.version"));
      System.out.println("load average before: " + loadBefore);
      System.out.println();
      System.out.println(
          "| # | case | writes/txn | p50 ms | p90 ms | p99 ms | max ms"
              + " | p50 ms per write | CPU ms per txn |");
      System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
      row(
          1,
          "FileChannel.write 4 KiB @0 + force(false) (fdatasync)",
          1,
          fileCase(root.resolve("fdatasync.dat"), false, samples));
      row(
          2,
          "FileChannel.write 4 KiB @0 + force(true) (fsync)",
          1,
          fileCase(root.resolve("fsync.dat"), true, samples));
      row(
          3,
          "LmdbStorer.apply, SYNC, 1 dirty 100 B write",
          1,
          lmdbCase(root.resolve("lmdb-sync"), Durability.SYNC, 1, samples));
      row(
          4,
          "LmdbStorer.apply, NO_SYNC, 1 dirty 100 B write",
          1,
          lmdbCase(root.resolve("lmdb-nosync"), Durability.NO_SYNC, 1, samples));
      row(
          5,
          "LmdbStorer.apply, SYNC, " + GROUP_WRITES + " dirty 100 B writes",
          GROUP_WRITES,
          lmdbCase(root.resolve("lmdb-group"), Durability.SYNC, GROUP_WRITES, samples));
      row(
          6,
          "LmdbStorer.apply, NO_META_SYNC, 1 dirty 100 B write",
          1,
          lmdbCase(root.resolve("lmdb-nometasync"), Durability.NO_META_SYNC, 1, samples));
    } finally {
      StoreBenchmark.delete(root);
    }
    System.out.println();
    System.out.println("load average after: " + loadAverage());
  }

  /** Cases 1 and 2: overwrites the first 4 KiB of a preallocated, synced file, then forces. */
  private static double[] fileCase(Path file, boolean metaData, int samples) throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      writeFully(channel, ByteBuffer.allocateDirect(FILE_BYTES), 0);
      channel.force(true); // the blocks exist and are on disk: the loop only overwrites them
      ByteBuffer page = ByteBuffer.allocateDirect(PAGE_BYTES);
      return measure(
          samples,
          sample ->
              () -> {
                page.clear();
                page.putLong(0, sample); // different bytes each time, though the disk does not care
                writeFully(channel, page, 0);
                channel.force(metaData);
              });
    }
  }

  /** Cases 3 to 6: one {@code apply} of {@code writes} new dirty versions per sample. */
  private static double[] lmdbCase(Path directory, Durability durability, int writes, int samples)
      throws IOException {
    byte[] value = new byte[VALUE_BYTES];
    Arrays.fill(value, (byte) 'v');
    LmdbStorer.Config config = LmdbStorer.Config.defaults(directory).withDurability(durability);
    try (LmdbStorer store = LmdbStorer.open(config)) {
      return measure(
          samples,
          sample -> {
            Batch batch = new Batch();
            for (int i = 0; i < writes; i++) {
              batch.putDirty("key-" + sample + "-" + i, 1, value);
            }
            return () -> {
              BatchResult result = store.apply(batch);
              if (result.count(Outcome.APPLIED) != writes) {
                throw new IllegalStateException(
                    "expected " + writes + " applied writes, got " + result.outcomes());
              }
            };
          });
    }
  }

  /**
   * Runs {@link #WARMUP_SAMPLES} untimed steps, then {@code samples} timed ones, one at a time;
   * returns the sorted latencies in milliseconds. Sample numbers never repeat across the two.
   */
  private static double[] measure(int samples, Prepared prepared) throws IOException {
    for (int i = 0; i < WARMUP_SAMPLES; i++) {
      prepared.prepare(samples + i).run();
    }
    double[] millis = new double[samples + 1];
    long cpuNanos = 0;
    for (int i = 0; i < samples; i++) {
      Step step = prepared.prepare(i);
      long cpuStart = THREADS.getCurrentThreadCpuTime();
      long start = System.nanoTime();
      step.run();
      millis[i] = (System.nanoTime() - start) / 1e6;
      cpuNanos += THREADS.getCurrentThreadCpuTime() - cpuStart;
    }
    Arrays.sort(millis, 0, samples);
    millis[samples] = cpuNanos / 1e6 / samples; // last: CPU per step, see row()
    return millis;
  }

  /** The thread's CPU time (user + system on Linux): what a step costs the processor. */
  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  /** {@code measured}: the sorted latencies, then the mean CPU milliseconds per step. */
  private static void row(int number, String name, int writes, double[] measured) {
    double[] sortedMillis = Arrays.copyOf(measured, measured.length - 1);
    double cpuMillis = measured[measured.length - 1];
    double p50 = percentile(sortedMillis, 50);
    System.out.printf(
        Locale.ROOT,
        "| %d | %s | %d | %.3f | %.3f | %.3f | %.3f | %.4f | %.3f |%n",
        number,
        name,
        writes,
        p50,
        percentile(sortedMillis, 90),
        percentile(sortedMillis, 99),
        sortedMillis[sortedMillis.length - 1],
        p50 / writes,
        cpuMillis);
  }

  /** Nearest-rank percentile of sorted values. */
  private static double percentile(double[] sorted, double percent) {
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

  /** The first three fields of /proc/loadavg (1, 5 and 15 minutes), or why they are missing. */
  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return String.join(" ", Arrays.copyOf(fields, Math.min(3, fields.length))) + " (1/5/15 min)";
    } catch (IOException e) {
      return "unavailable (" + e.getMessage() + ")";
    }
  }
}

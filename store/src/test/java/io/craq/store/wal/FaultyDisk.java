package io.craq.store.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A disk that fills up, fails and loses power on request, for the log's {@link FileOpener} seam.
 *
 * <p>Space is a budget of bytes that writes beyond the end of a file use up (overwriting a file's
 * existing bytes, as in a preallocated segment, is free, as on a real disk). When a write needs
 * more than is left, it writes what fits and then fails as the kernel does ("No space left on
 * device").
 *
 * <p>It remembers, per file (by inode, so renames do not matter), which byte ranges were written
 * since the file was last forced, and {@link #powerLoss} damages exactly those: what a machine may
 * lose when it stops with those pages not yet on disk. So a test of the log does not take the log's
 * word for what is durable.
 *
 * <p>Thread-safe: the log's preallocation thread writes through it too.
 */
final class FaultyDisk implements FileOpener {
  static final String NO_SPACE = "No space left on device";

  private final AtomicLong spaceBytes = new AtomicLong(Long.MAX_VALUE);
  private final AtomicBoolean writesFail = new AtomicBoolean();
  private final AtomicBoolean forcesFail = new AtomicBoolean();
  private final AtomicLong failedWrites = new AtomicLong();
  private final CountDownLatch firstFailedWrite = new CountDownLatch(1);

  /** Per file key: ranges {start, end} written since the last force, and the size then. */
  private final Map<Object, List<long[]>> unforced = new HashMap<>();

  private final Map<Object, Long> forcedSize = new HashMap<>();

  /** Bytes files may still grow by; {@code Long.MAX_VALUE} for no limit. */
  void setSpace(long bytes) {
    spaceBytes.set(bytes);
  }

  /** While true, every write writes half its bytes and then fails for want of space. */
  void setWritesFail(boolean fail) {
    writesFail.set(fail);
  }

  /** While true, every force fails with an I/O error. */
  void setForcesFail(boolean fail) {
    forcesFail.set(fail);
  }

  long failedWrites() {
    return failedWrites.get();
  }

  /** Waits until a write has failed (on any thread); false if none did within the time. */
  boolean awaitFailedWrite(long millis) throws InterruptedException {
    return firstFailedWrite.await(millis, TimeUnit.MILLISECONDS);
  }

  private IOException noSpace() {
    failedWrites.incrementAndGet();
    firstFailedWrite.countDown();
    return new IOException(NO_SPACE);
  }

  @Override
  public FileChannel open(Path file, OpenOption... options) throws IOException {
    FileChannel real = FileChannel.open(file, options);
    Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    if (real.size() == 0) {
      forget(key); // a new file (an inode may be reused): nothing of it is written yet
    }
    return new Channel(real, key);
  }

  /**
   * The machine stops: in every file of {@code directory}, each range written since the file was
   * last forced is kept, zeroed in part (pages never stored), or overwritten in part with garbage,
   * and a file that grew since it was forced may lose part of its growth. Call it after the log's
   * files are closed. Afterwards nothing is unforced.
   */
  synchronized void powerLoss(Path directory, Random random) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.toList()) {
        Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        List<long[]> ranges = unforced.get(key);
        if (ranges != null) {
          lose(file, ranges, forcedSize.getOrDefault(key, 0L), random);
        }
      }
    }
    unforced.clear();
    forcedSize.clear();
  }

  private static void lose(Path file, List<long[]> ranges, long sizeForced, Random random)
      throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      for (long[] range : ranges) {
        long size = channel.size();
        long start = Math.min(range[0], size);
        long end = Math.min(range[1], size);
        if (start >= end) {
          continue;
        }
        long from = start + random.nextLong(end - start);
        byte[] damage = new byte[(int) Math.min(end - from, 1 + random.nextInt(4096))];
        switch (random.nextInt(3)) {
          case 0 -> {} // this part reached the disk
          case 1 -> write(channel, damage, from);
          default -> {
            random.nextBytes(damage);
            write(channel, damage, from);
          }
        }
      }
      long size = channel.size();
      if (size > sizeForced && random.nextBoolean()) {
        channel.truncate(sizeForced + random.nextLong(size - sizeForced + 1));
      }
    }
  }

  private static void write(FileChannel channel, byte[] bytes, long position) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    while (buffer.hasRemaining()) {
      channel.write(buffer, position + buffer.position());
    }
  }

  private synchronized void written(Object key, long start, long end) {
    if (end > start) {
      unforced.computeIfAbsent(key, k -> new ArrayList<>()).add(new long[] {start, end});
    }
  }

  private synchronized void forced(Object key, long size) {
    unforced.remove(key);
    forcedSize.put(key, size);
  }

  private synchronized void forget(Object key) {
    unforced.remove(key);
    forcedSize.remove(key);
  }

  /** Takes {@code wanted} bytes of space, or as many as are left; returns how many it took. */
  private long take(long wanted) {
    while (true) {
      long left = spaceBytes.get();
      if (left == Long.MAX_VALUE) {
        return wanted;
      }
      long taken = Math.min(left, wanted);
      if (spaceBytes.compareAndSet(left, left - taken)) {
        return taken;
      }
    }
  }

  private final class Channel extends FileChannel {
    private final FileChannel real;
    private final Object key;

    Channel(FileChannel real, Object key) {
      this.real = real;
      this.key = key;
    }

    @Override
    public int write(ByteBuffer source, long position) throws IOException {
      int wanted = source.remaining();
      if (writesFail.get()) {
        writePart(source, position, wanted / 2);
        throw noSpace();
      }
      long growth = Math.max(0, position + wanted - real.size());
      long granted = take(growth);
      if (granted < growth) {
        writePart(source, position, (int) (wanted - growth + granted));
        throw noSpace();
      }
      int written = real.write(source, position);
      written(key, position, position + written);
      return written;
    }

    private void writePart(ByteBuffer source, long position, int bytes) throws IOException {
      ByteBuffer part = source.slice(source.position(), bytes);
      while (part.hasRemaining()) {
        real.write(part, position + part.position());
      }
      written(key, position, position + bytes);
      source.position(source.position() + bytes);
    }

    @Override
    public int write(ByteBuffer source) throws IOException {
      int written = write(source, real.position());
      real.position(real.position() + written);
      return written;
    }

    @Override
    public long write(ByteBuffer[] sources, int offset, int length) throws IOException {
      long written = 0;
      for (int i = offset; i < offset + length; i++) {
        written += write(sources[i]);
      }
      return written;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (forcesFail.get()) {
        throw new IOException("Input/output error");
      }
      real.force(metaData);
      forced(key, real.size());
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      real.truncate(size);
      return this;
    }

    @Override
    public int read(ByteBuffer target) throws IOException {
      return real.read(target);
    }

    @Override
    public long read(ByteBuffer[] targets, int offset, int length) throws IOException {
      return real.read(targets, offset, length);
    }

    @Override
    public int read(ByteBuffer target, long position) throws IOException {
      return real.read(target, position);
    }

    @Override
    public long position() throws IOException {
      return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      real.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      throw new UnsupportedOperationException("not used by the log");
    }

    @Override
    public long transferFrom(ReadableByteChannel source, long position, long count)
        throws IOException {
      throw new UnsupportedOperationException("not used by the log");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      throw new UnsupportedOperationException("not used by the log");
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      real.close();
    }
  }
}

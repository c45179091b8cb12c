package io.craq.store.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Helpers the log's tests share: payloads that name their record, replay collectors, files. */
final class WalFixture {
  private WalFixture() {}

  /** Small segments, so that a few hundred records span many. */
  static WriteAheadLog.Config smallSegments(Path directory) {
    return WriteAheadLog.Config.defaults(directory)
        .withSegmentBytes(4096)
        .withRecordBytesMax(1 << 20);
  }

  /**
   * A payload of {@code bytes} bytes that depends on {@code sequence} and {@code salt}, so a record
   * replayed with another record's payload, or an older payload under the same number, shows.
   */
  static byte[] payload(long sequence, int bytes, long salt) {
    byte[] payload = new byte[bytes];
    new Random(sequence * 1_000_003L + salt).nextBytes(payload);
    return payload;
  }

  static byte[] payload(long sequence, int bytes) {
    return payload(sequence, bytes, 0);
  }

  /** Collects replayed records. */
  static final class Replay implements Consumer<WriteAheadLog.Record> {
    final List<WriteAheadLog.Record> records = new ArrayList<>();

    @Override
    public void accept(WriteAheadLog.Record record) {
      records.add(record);
    }

    List<Long> sequences() {
      return records.stream().map(WriteAheadLog.Record::sequence).toList();
    }
  }

  /** Opens the log, replaying into a new {@link Replay}; returns both. */
  record Opened(WriteAheadLog log, Replay replay) {}

  static Opened open(WriteAheadLog.Config config, long afterSequence) {
    Replay replay = new Replay();
    return new Opened(WriteAheadLog.open(config, afterSequence, replay), replay);
  }

  static Opened open(WriteAheadLog.Config config, long afterSequence, FileOpener opener) {
    Replay replay = new Replay();
    return new Opened(WriteAheadLog.open(config, afterSequence, replay, opener), replay);
  }

  /** Asserts that {@code replayed} is exactly {@code expected}'s records, in order. */
  static void assertRecords(Map<Long, byte[]> expected, List<WriteAheadLog.Record> replayed) {
    assertEquals(
        List.copyOf(expected.keySet()),
        replayed.stream().map(WriteAheadLog.Record::sequence).toList(),
        "sequence numbers");
    for (WriteAheadLog.Record record : replayed) {
      assertArrayEquals(
          expected.get(record.sequence()),
          record.payloadBytes(),
          "payload of record " + record.sequence());
    }
  }

  /** The segment files in {@code directory}, oldest first. */
  static List<Path> segments(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .filter(file -> SegmentFormat.firstSequenceOf(file) >= 0)
          .sorted(Comparator.comparingLong(SegmentFormat::firstSequenceOf))
          .toList();
    }
  }

  static Path lastSegment(Path directory) throws IOException {
    List<Path> segments = segments(directory);
    return segments.get(segments.size() - 1);
  }

  /** Overwrites bytes of {@code file} at {@code offset}. */
  static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
    try (var channel =
        java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      FileIo.writeFully(channel, ByteBuffer.wrap(bytes), offset);
    }
  }

  static void truncate(Path file, long bytes) throws IOException {
    try (var channel =
        java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      channel.truncate(bytes);
    }
  }

  /** Copies every file of {@code from} into a new directory {@code to}. */
  static void copyDirectory(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        Files.copy(file, to.resolve(file.getFileName()));
      }
    }
  }
}

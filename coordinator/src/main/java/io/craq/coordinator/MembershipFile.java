package io.craq.coordinator;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The coordinator's durable state: the chain configuration (epoch and ordered members) in one small
 * text file, {@code membership} in the data directory. Each write replaces the file atomically
 * (temporary file, fsync, rename, fsync of the directory), so after a crash the file holds either
 * the old or the new configuration, never a mix.
 *
 * <p>Format 1, UTF-8 lines; ids and addresses are URL-encoded so any character survives; the last
 * line is the CRC-32 of every byte before it, so a damaged file is refused, not misread:
 *
 * <pre>
 * craq-coordinator-membership 1
 * epoch 7
 * members 2
 * member JOINED_EPOCH INCARNATION CAUGHT_UP(0|1) ID ADDRESS
 * member ...
 * crc32 0a1b2c3d
 * </pre>
 *
 * <p>Not thread-safe: the coordinator's event loop is its only user.
 */
final class MembershipFile {
  static final String FILE_NAME = "membership";
  static final int FORMAT = 1;
  private static final String HEADER = "craq-coordinator-membership";

  private final Path directory;
  private final Path file;
  private final Path temporary;

  /** Creates {@code directory} if needed. */
  MembershipFile(Path directory) {
    this.directory = directory;
    this.file = directory.resolve(FILE_NAME);
    this.temporary = directory.resolve(FILE_NAME + ".tmp");
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + directory + ": " + e, e);
    }
  }

  Path path() {
    return file;
  }

  /**
   * The stored configuration, or {@link ChainConfig#EMPTY} if none was ever written. A leftover
   * temporary file (a crash during a write) is ignored: the rename never happened.
   *
   * @throws IllegalStateException if the file is damaged or of another format
   * @throws UncheckedIOException if it cannot be read
   */
  ChainConfig read() {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return ChainConfig.EMPTY;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e, e);
    }
    try {
      return decode(text);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "membership file "
              + file
              + " is damaged or not ours ("
              + e.getMessage()
              + "); restore it from a backup or remove it to start an empty chain",
          e);
    }
  }

  /**
   * Replaces the stored configuration; durable when this returns.
   *
   * @throws UncheckedIOException if the disk refuses (the coordinator must then stop)
   */
  void write(ChainConfig config) {
    byte[] bytes = encode(config).getBytes(StandardCharsets.UTF_8);
    try {
      try (FileChannel channel =
          FileChannel.open(
              temporary,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(
          temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      // The rename lives in the directory: without this fsync a crash could bring back the old
      // file after nodes were told the new epoch.
      try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e, e);
    }
  }

  static String encode(ChainConfig config) {
    StringBuilder body = new StringBuilder();
    body.append(HEADER).append(' ').append(FORMAT).append('\n');
    body.append("epoch ").append(config.epoch()).append('\n');
    body.append("members ").append(config.size()).append('\n');
    for (Member m : config.members()) {
      body.append("member ")
          .append(m.joinedEpoch())
          .append(' ')
          .append(m.incarnation())
          .append(' ')
          .append(m.caughtUp() ? 1 : 0)
          .append(' ')
          .append(escape(m.id()))
          .append(' ')
          .append(escape(m.address()))
          .append('\n');
    }
    return body + "crc32 " + crc(body.toString()) + "\n";
  }

  static ChainConfig decode(String text) {
    int crcLine = text.lastIndexOf("crc32 ");
    require(crcLine > 0 && text.endsWith("\n"), "no checksum line");
    String body = text.substring(0, crcLine);
    String stored = text.substring(crcLine + "crc32 ".length(), text.length() - 1);
    require(stored.equals(crc(body)), "checksum mismatch");
    String[] lines = body.split("\n", -1);
    require(lines.length >= 4 && lines[lines.length - 1].isEmpty(), "truncated");
    require(
        lines[0].equals(HEADER + " " + FORMAT),
        "unknown header or format '"
            + lines[0]
            + "' (this coordinator reads format "
            + FORMAT
            + ")");
    long epoch = Long.parseLong(field(lines[1], "epoch"));
    int count = Integer.parseInt(field(lines[2], "members"));
    require(
        count == lines.length - 4,
        "member count " + count + " but " + (lines.length - 4) + " member lines");
    List<Member> members = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      members.add(member(lines[3 + i]));
    }
    return new ChainConfig(epoch, members);
  }

  private static Member member(String line) {
    String[] parts = line.split(" ", -1);
    require(
        parts.length == 6
            && parts[0].equals("member")
            && (parts[3].equals("0") || parts[3].equals("1")),
        "bad member line '" + line + "'");
    return new Member(
        unescape(parts[4]),
        unescape(parts[5]),
        Long.parseLong(parts[1]),
        Long.parseLong(parts[2]),
        parts[3].equals("1"));
  }

  private static String field(String line, String name) {
    require(line.startsWith(name + " "), "expected '" + name + " ...', found '" + line + "'");
    return line.substring(name.length() + 1);
  }

  private static String crc(String text) {
    CRC32 crc = new CRC32();
    crc.update(text.getBytes(StandardCharsets.UTF_8));
    return String.format("%08x", crc.getValue());
  }

  private static String escape(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String unescape(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}

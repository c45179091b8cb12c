package io.craq.coordinator;

import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
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
 * The coordinator's durable state: the chain map (every chain's epoch and ordered members, and the
 * pool of nodes) in one small text file, {@code membership} in the data directory. Each write
 * replaces the file atomically (temporary file, fsync, rename, fsync of the directory), so after a
 * crash the file holds either the old or the new map, never a mix. The ZooKeeper mode keeps the
 * same text in its configuration znode.
 *
 * <p>Format 2, UTF-8 lines; ids and addresses are URL-encoded so any character survives; the last
 * line is the CRC-32 of every byte before it, so a damaged file is refused, not misread:
 *
 * <pre>
 * craq-coordinator-membership 2
 * version 12                      the map's version
 * replicas 3                      members per chain when the pool has enough nodes
 * chains 2                        the chain count, then each chain in order:
 * chain 0
 * epoch 7                         the chain's epoch and members, as format 1 writes its one chain
 * members 2
 * member JOINED_EPOCH INCARNATION CAUGHT_UP(0|1) ID ADDRESS
 * member ...
 * chain 1
 * epoch 3
 * members 0
 * pool 2                          the pool's node count, then one line per node
 * node INCARNATION LEAVING(0|1) ID ADDRESS
 * node ...
 * crc32 0a1b2c3d
 * </pre>
 *
 * <p>Format 1, written before clusters had several chains, is still read: one chain and no pool
 * lines, as a map of that one chain (version = its epoch) whose pool is its members and whose
 * replica count is {@link #FORMAT_1_REPLICAS} (every node joins, as it always did):
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
  static final int FORMAT = 2;

  /** The replica count of a map read from format 1: every node joins the one chain. */
  static final int FORMAT_1_REPLICAS = CoordinatorSettings.defaults().membersMax();

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
   * The stored map, or null if none was ever written. A leftover temporary file (a crash during a
   * write) is ignored: the rename never happened.
   *
   * @throws IllegalStateException if the file is damaged or of another format
   * @throws UncheckedIOException if it cannot be read
   */
  ChainMap read() {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
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
              + "); restore it from a backup or remove it to start an empty cluster",
          e);
    }
  }

  /**
   * Replaces the stored map; durable when this returns.
   *
   * @throws UncheckedIOException if the disk refuses (the coordinator must then stop)
   */
  void write(ChainMap map) {
    byte[] bytes = encode(map).getBytes(StandardCharsets.UTF_8);
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

  /** The map as format 2 text, checksum line included. */
  static String encode(ChainMap map) {
    StringBuilder body = new StringBuilder();
    body.append(HEADER).append(' ').append(FORMAT).append('\n');
    body.append("version ").append(map.version()).append('\n');
    body.append("replicas ").append(map.replicas()).append('\n');
    body.append("chains ").append(map.chainCount()).append('\n');
    for (int i = 0; i < map.chainCount(); i++) {
      body.append("chain ").append(i).append('\n');
      appendChain(body, map.chain(i));
    }
    body.append("pool ").append(map.pool().size()).append('\n');
    for (PoolNode node : map.pool()) {
      body.append("node ")
          .append(node.incarnation())
          .append(' ')
          .append(node.leaving() ? 1 : 0)
          .append(' ')
          .append(escape(node.id()))
          .append(' ')
          .append(escape(node.address()))
          .append('\n');
    }
    return seal(body.toString());
  }

  /** One chain as format 1 wrote its only chain: the epoch, the member count, the members. */
  private static void appendChain(StringBuilder body, ChainConfig config) {
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
  }

  /** A single chain in format 1, as coordinators wrote it before there were several chains. */
  static String encodeFormat1(ChainConfig config) {
    StringBuilder body = new StringBuilder();
    body.append(HEADER).append(" 1\n");
    appendChain(body, config);
    return seal(body.toString());
  }

  /**
   * The map in {@code text}, format 2 or 1.
   *
   * @throws IllegalArgumentException naming what is wrong, if it is damaged or of another format
   */
  static ChainMap decode(String text) {
    int crcLine = text.lastIndexOf("crc32 ");
    require(crcLine > 0 && text.endsWith("\n"), "no checksum line");
    String body = text.substring(0, crcLine);
    String stored = text.substring(crcLine + "crc32 ".length(), text.length() - 1);
    require(stored.equals(crc(body)), "checksum mismatch");
    require(body.endsWith("\n"), "truncated");
    Lines lines = new Lines(body.substring(0, body.length() - 1).split("\n", -1));
    String header = lines.next();
    ChainMap map;
    if (header.equals(HEADER + " " + FORMAT)) {
      map = decodeFormat2(lines);
    } else if (header.equals(HEADER + " 1")) {
      map = decodeFormat1(lines);
    } else {
      throw new IllegalArgumentException(
          "unknown header or format '"
              + header
              + "' (this coordinator reads formats 1 and "
              + FORMAT
              + ")");
    }
    if (lines.hasNext()) {
      throw new IllegalArgumentException(
          "unexpected line '" + lines.peek() + "' after the last section");
    }
    return map;
  }

  private static ChainMap decodeFormat2(Lines lines) {
    long version = parseLong(field(lines.next(), "version"), "version");
    int replicas = parseInt(field(lines.next(), "replicas"), "replicas");
    int count = parseInt(field(lines.next(), "chains"), "chains");
    require(count >= 1, "chain count " + count);
    require(count <= lines.remaining(), "chain count " + count + " but the file is shorter");
    List<ChainConfig> chains = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String line = lines.next();
      require(line.equals("chain " + i), "expected 'chain " + i + "', found '" + line + "'");
      chains.add(chain(lines));
    }
    int poolSize = parseInt(field(lines.next(), "pool"), "pool");
    require(
        poolSize >= 0 && poolSize <= lines.remaining(),
        "pool size " + poolSize + " but " + lines.remaining() + " lines left");
    List<PoolNode> pool = new ArrayList<>(poolSize);
    for (int i = 0; i < poolSize; i++) {
      pool.add(poolNode(lines.next()));
    }
    return new ChainMap(version, replicas, chains, pool);
  }

  private static ChainMap decodeFormat1(Lines lines) {
    ChainConfig config = chain(lines);
    List<PoolNode> pool = new ArrayList<>(config.size());
    for (Member m : config.members()) {
      pool.add(new PoolNode(m.id(), m.address(), m.incarnation(), false));
    }
    return new ChainMap(config.epoch(), FORMAT_1_REPLICAS, List.of(config), pool);
  }

  /** A chain's epoch, member count and member lines. */
  private static ChainConfig chain(Lines lines) {
    long epoch = parseLong(field(lines.next(), "epoch"), "epoch");
    int count = parseInt(field(lines.next(), "members"), "members");
    require(
        count >= 0 && count <= lines.remaining(),
        "member count " + count + " but " + lines.remaining() + " lines left");
    List<Member> members = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      members.add(member(lines.next()));
    }
    return new ChainConfig(epoch, members);
  }

  private static Member member(String line) {
    String[] parts = line.split(" ", -1);
    require(
        parts.length == 6 && parts[0].equals("member") && isFlag(parts[3]),
        "bad member line '" + line + "'");
    return new Member(
        unescape(parts[4]),
        unescape(parts[5]),
        parseLong(parts[1], "joined epoch"),
        parseLong(parts[2], "incarnation"),
        parts[3].equals("1"));
  }

  private static PoolNode poolNode(String line) {
    String[] parts = line.split(" ", -1);
    require(
        parts.length == 5 && parts[0].equals("node") && isFlag(parts[2]),
        "bad pool line '" + line + "'");
    return new PoolNode(
        unescape(parts[3]),
        unescape(parts[4]),
        parseLong(parts[1], "incarnation"),
        parts[2].equals("1"));
  }

  private static boolean isFlag(String s) {
    return s.equals("0") || s.equals("1");
  }

  private static String field(String line, String name) {
    require(line.startsWith(name + " "), "expected '" + name + " ...', found '" + line + "'");
    return line.substring(name.length() + 1);
  }

  private static long parseLong(String s, String what) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad " + what + " '" + s + "'", e);
    }
  }

  private static int parseInt(String s, String what) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad " + what + " '" + s + "'", e);
    }
  }

  private static String seal(String body) {
    return body + "crc32 " + crc(body) + "\n";
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

  /** The lines of a file's body, read in order; running out is "truncated". */
  private static final class Lines {
    private final String[] lines;
    private int next;

    Lines(String[] lines) {
      this.lines = lines;
    }

    boolean hasNext() {
      return next < lines.length;
    }

    int remaining() {
      return lines.length - next;
    }

    String peek() {
      return lines[next];
    }

    String next() {
      require(hasNext(), "truncated");
      return lines[next++];
    }
  }
}

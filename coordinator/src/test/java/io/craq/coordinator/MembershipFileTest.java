package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MembershipFileTest {
  @TempDir Path dir;

  private static final Member N1 = new Member("n1", "10.0.0.1:1235", 3, 1234567890123L, true);
  private static final Member ODD =
      new Member("odd id with spaces ünd %+", "[::1]:7000", 41, 7, false);
  private static final Member N3 = new Member("n3", "10.0.0.3:1235", 5, 99, true);

  /** Three chains (one empty), a pool with a leaving node and an odd id. */
  private static final ChainMap MAP =
      new ChainMap(
          17,
          2,
          List.of(
              new ChainConfig(42, List.of(N1, ODD)),
              ChainConfig.EMPTY,
              new ChainConfig(6, List.of(N3, N1))),
          List.of(
              new PoolNode("n1", "10.0.0.1:1235", 1234567890123L, false),
              new PoolNode("odd id with spaces ünd %+", "[::1]:7000", 7, true),
              new PoolNode("n3", "10.0.0.3:1235", 99, false),
              new PoolNode("n4", "10.0.0.4:1235", 5, false)));

  /** {@code body} with a correct checksum line: only what the test changed is wrong. */
  private static String sealed(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    return body + "crc32 " + String.format("%08x", crc.getValue()) + "\n";
  }

  /** {@code text} with its checksum line dropped, changed by {@code from -> to}, then resealed. */
  private static String edited(String text, String from, String to) {
    String body = text.substring(0, text.lastIndexOf("crc32 "));
    assertTrue(body.contains(from), "the test's edit does not apply: " + from);
    return sealed(body.replace(from, to));
  }

  private ChainMap readRaw(String text) throws Exception {
    Files.writeString(dir.resolve(MembershipFile.FILE_NAME), text);
    return new MembershipFile(dir).read();
  }

  @Test
  @DisplayName(
      "format 2: what is written is read back exactly, every chain with its epoch and members, the"
          + " pool with odd ids and leaving flags")
  void roundTrip() {
    MembershipFile file = new MembershipFile(dir.resolve("data"));
    file.write(MAP);
    assertEquals(MAP, new MembershipFile(dir.resolve("data")).read());
    ChainMap empty = ChainMap.empty(4, 3);
    file.write(empty);
    assertEquals(empty, file.read());
  }

  @Test
  @DisplayName("format 2 text: the header, version, replicas, chains as format 1, pool, CRC last")
  void format2Text() {
    List<String> lines = MembershipFile.encode(MAP).lines().toList();
    assertEquals("craq-coordinator-membership 2", lines.get(0));
    assertEquals("version 17", lines.get(1));
    assertEquals("replicas 2", lines.get(2));
    assertEquals("chains 3", lines.get(3));
    assertEquals(
        List.of("chain 0", "epoch 42", "members 2", "member 3 1234567890123 1 n1 10.0.0.1%3A1235"),
        lines.subList(4, 8));
    assertTrue(lines.contains("node 7 1 odd+id+with+spaces+%C3%BCnd+%25%2B %5B%3A%3A1%5D%3A7000"));
    assertTrue(lines.get(lines.size() - 1).matches("crc32 [0-9a-f]{8}"), lines.toString());
  }

  @Test
  @DisplayName("no file yet means no map (the coordinator starts a new cluster)")
  void absentIsNull() {
    assertNull(new MembershipFile(dir).read());
  }

  @Test
  @DisplayName(
      "format 1 (one chain, no pool) is still read: a one-chain map, version = epoch, whose pool"
          + " is the members and in which every node joins")
  void format1Read() throws Exception {
    ChainConfig chain = new ChainConfig(42, List.of(N1, ODD));
    ChainMap map = readRaw(MembershipFile.encodeFormat1(chain));
    assertEquals(1, map.chainCount());
    assertEquals(chain, map.chain(0));
    assertEquals(42, map.version());
    assertEquals(MembershipFile.FORMAT_1_REPLICAS, map.replicas());
    assertEquals(
        List.of(
            new PoolNode("n1", "10.0.0.1:1235", 1234567890123L, false),
            new PoolNode("odd id with spaces ünd %+", "[::1]:7000", 7, false)),
        map.pool());
    assertEquals(
        ChainMap.empty(1, MembershipFile.FORMAT_1_REPLICAS),
        readRaw(MembershipFile.encodeFormat1(ChainConfig.EMPTY)));
  }

  @Test
  @DisplayName("format 1 as the previous coordinators wrote it, byte for byte")
  void format1Literal() throws Exception {
    String text =
        sealed(
            "craq-coordinator-membership 1\n"
                + "epoch 7\n"
                + "members 1\n"
                + "member 2 55 1 n1 127.0.0.1%3A1235\n");
    ChainMap map = readRaw(text);
    assertEquals(
        new ChainConfig(7, List.of(new Member("n1", "127.0.0.1:1235", 2, 55, true))), map.chain(0));
    assertEquals(List.of(new PoolNode("n1", "127.0.0.1:1235", 55, false)), map.pool());
  }

  @Test
  @DisplayName("a temporary file left by a crash during a write is ignored")
  void leftoverTemporaryIgnored() throws Exception {
    MembershipFile file = new MembershipFile(dir);
    file.write(MAP);
    Files.writeString(dir.resolve(MembershipFile.FILE_NAME + ".tmp"), "craq-coordinator-memb");
    assertEquals(MAP, file.read());
  }

  @Test
  @DisplayName("a damaged file is refused with a message naming it, never misread")
  void damagedRefused() throws Exception {
    MembershipFile file = new MembershipFile(dir);
    file.write(MAP);
    String text = Files.readString(file.path());
    Files.writeString(file.path(), text.replace("epoch 42", "epoch 43"));
    IllegalStateException e = assertThrows(IllegalStateException.class, file::read);
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    assertTrue(e.getMessage().contains(file.path().toString()), e.getMessage());
    Files.writeString(file.path(), text.substring(0, text.length() / 2));
    assertThrows(IllegalStateException.class, file::read);
  }

  @Test
  @DisplayName(
      "a file whose checksum holds but whose counts or lines are wrong is refused, naming the"
          + " problem")
  void inconsistentRefused() throws Exception {
    String text = MembershipFile.encode(MAP);
    record Case(String from, String to, String expected) {}
    for (Case c :
        List.of(
            new Case("chains 3\n", "chains 4\n", "chain 3"),
            new Case("chains 3\n", "chains 2\n", "pool"),
            new Case("members 2\n", "members 3\n", "bad member line"),
            new Case("pool 4\n", "pool 5\n", "pool size 5"),
            new Case("pool 4\n", "pool 3\n", "unexpected line"),
            new Case("chain 1\n", "chain 2\n", "expected 'chain 1'"),
            new Case("node 7 1 ", "node 7 2 ", "bad pool line"),
            new Case("version 17", "version x", "bad version"),
            new Case("replicas 2", "replicas 0", "replicas"))) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class, () -> readRaw(edited(text, c.from(), c.to())), c.from());
      assertTrue(e.getMessage().contains(c.expected()), c + ": " + e.getMessage());
    }
  }

  @Test
  @DisplayName("another format version is refused")
  void otherFormatRefused() throws Exception {
    String text = edited(MembershipFile.encode(MAP), "membership 2", "membership 3");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> readRaw(text));
    assertTrue(e.getMessage().contains("format"), e.getMessage());
  }
}

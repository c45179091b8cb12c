package io.craq.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MembershipFileTest {
  @TempDir Path dir;

  private static final ChainConfig CONFIG =
      new ChainConfig(
          42,
          List.of(
              new Member("n1", "10.0.0.1:1235", 3, 1234567890123L, true),
              new Member("odd id with spaces ünd %+", "[::1]:7000", 41, 7, false)));

  @Test
  @DisplayName("what is written is read back exactly, including odd ids and the caught-up flag")
  void roundTrip() {
    MembershipFile file = new MembershipFile(dir.resolve("data"));
    file.write(CONFIG);
    assertEquals(CONFIG, new MembershipFile(dir.resolve("data")).read());
    file.write(ChainConfig.EMPTY);
    assertEquals(ChainConfig.EMPTY, file.read());
  }

  @Test
  @DisplayName("no file yet means an empty chain at epoch 0")
  void absentIsEmpty() {
    assertEquals(ChainConfig.EMPTY, new MembershipFile(dir).read());
  }

  @Test
  @DisplayName("a temporary file left by a crash during a write is ignored")
  void leftoverTemporaryIgnored() throws Exception {
    MembershipFile file = new MembershipFile(dir);
    file.write(CONFIG);
    Files.writeString(dir.resolve(MembershipFile.FILE_NAME + ".tmp"), "craq-coordinator-memb");
    assertEquals(CONFIG, file.read());
  }

  @Test
  @DisplayName("a damaged file is refused with a message naming it, never misread")
  void damagedRefused() throws Exception {
    MembershipFile file = new MembershipFile(dir);
    file.write(CONFIG);
    String text = Files.readString(file.path());
    Files.writeString(file.path(), text.replace("epoch 42", "epoch 43"));
    IllegalStateException e = assertThrows(IllegalStateException.class, file::read);
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    Files.writeString(file.path(), text.substring(0, text.length() / 2));
    assertThrows(IllegalStateException.class, file::read);
  }

  @Test
  @DisplayName("another format version is refused")
  void otherFormatRefused() throws Exception {
    String text = MembershipFile.encode(CONFIG).replace("membership 1", "membership 2");
    // Re-seal the checksum so only the format is wrong.
    String body = text.substring(0, text.lastIndexOf("crc32 "));
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Files.writeString(
        dir.resolve(MembershipFile.FILE_NAME),
        body + "crc32 " + String.format("%08x", crc.getValue()) + "\n");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> new MembershipFile(dir).read());
    assertTrue(e.getMessage().contains("format"), e.getMessage());
  }
}

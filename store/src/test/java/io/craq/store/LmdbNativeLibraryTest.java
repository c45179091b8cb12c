package io.craq.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The LMDB native library is extracted once per user, not once per JVM. */
class LmdbNativeLibraryTest {
  @TempDir Path dir;

  @Test
  @DisplayName("the bundled library's name follows lmdbjava's rules; none for other platforms")
  void bundledLibraryNames() {
    assertEquals(
        "org/lmdbjava/native/x86_64-linux-gnu.so",
        LmdbNativeLibrary.bundledLibrary("amd64", "Linux"));
    assertEquals(
        "org/lmdbjava/native/aarch64-macos-none.so",
        LmdbNativeLibrary.bundledLibrary("aarch64", "Mac OS X"));
    assertEquals(
        "org/lmdbjava/native/x86_64-windows-gnu.dll",
        LmdbNativeLibrary.bundledLibrary("x86_64", "Windows 11"));
    assertNull(LmdbNativeLibrary.bundledLibrary("riscv64", "Linux"));
    assertNull(LmdbNativeLibrary.bundledLibrary("amd64", "FreeBSD"));
    String here =
        LmdbNativeLibrary.bundledLibrary(
            System.getProperty("os.arch"), System.getProperty("os.name"));
    assumeTrue(here != null, "no bundled library for this platform");
    assertNotNull(getClass().getClassLoader().getResource(here), here);
  }

  @Test
  @DisplayName("installing twice gives one file with the same bytes; a damaged copy is replaced")
  void installOnce() throws IOException {
    Path folder = dir.resolve("lib");
    byte[] library = "not really a library".getBytes(StandardCharsets.UTF_8);
    Path first = LmdbNativeLibrary.install(library, folder, "org/lmdbjava/native/x-linux-gnu.so");
    Path second = LmdbNativeLibrary.install(library, folder, "org/lmdbjava/native/x-linux-gnu.so");
    assertEquals(first, second);
    assertTrue(
        first.getFileName().toString().matches("x-linux-gnu-[0-9a-f]{16}\\.so"), first.toString());
    assertEquals(List.of(first), list(folder));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder)));

    Files.write(first, new byte[] {1, 2, 3});
    assertEquals(first, LmdbNativeLibrary.install(library, folder, "x-linux-gnu.so"));
    assertArrayEquals(library, Files.readAllBytes(first));
    assertEquals(List.of(first), list(folder));
  }

  @Test
  @DisplayName("a folder others may write is not trusted with a library this user will load")
  void sharedFolderRefused() throws IOException {
    Path folder =
        Files.createDirectory(
            dir.resolve("shared"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxr-x")));
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThrows(
        IOException.class,
        () -> LmdbNativeLibrary.install(new byte[] {1}, folder, "x-linux-gnu.so"));
  }

  @Test
  @Timeout(120)
  @DisplayName(
      "JVMs that open LMDB and are killed leave one shared copy of the library in the"
          + " temporary folder, no lmdbjava-native-library-*.so each")
  void killedJvmsLeaveNoLibraryBehind() throws Exception {
    assumeTrue(
        LmdbNativeLibrary.bundledLibrary(
                System.getProperty("os.arch"), System.getProperty("os.name"))
            != null,
        "no bundled library for this platform");
    Path tmp = Files.createDirectory(dir.resolve("tmp"));
    for (int i = 0; i < 2; i++) {
      Process child = startStoreJvm(tmp, dir.resolve("store-" + i));
      try {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line =
            CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return out.readLine();
                      } catch (IOException e) {
                        return e.toString();
                      }
                    })
                .get(60, TimeUnit.SECONDS);
        assertEquals(OpenLmdbStore.OPENED, line);
      } finally {
        // SIGKILL: no shutdown hook, no deleteOnExit.
        child.toHandle().destroyForcibly();
        child.waitFor(30, TimeUnit.SECONDS);
      }
    }
    List<Path> left = list(tmp);
    assertEquals(1, left.size(), left.toString());
    assertTrue(left.get(0).getFileName().toString().startsWith("craq-lmdb-"), left.toString());
    List<Path> libraries = list(left.get(0));
    assertEquals(1, libraries.size(), libraries.toString());
  }

  private static Process startStoreJvm(Path tmp, Path store) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    for (String flag : System.getProperty("craq.jvm.flags", "").split("\\s+")) {
      if (!flag.isBlank()) {
        command.add(flag);
      }
    }
    command.addAll(
        List.of(
            "-Djava.io.tmpdir=" + tmp,
            "-cp",
            System.getProperty("java.class.path"),
            OpenLmdbStore.class.getName(),
            store.toString()));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  private static List<Path> list(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.sorted().toList();
    }
  }

  /** A JVM that opens an LMDB store, says so, and waits to be killed. */
  public static final class OpenLmdbStore {
    static final String OPENED = "opened";

    public static void main(String[] args) throws Exception {
      try (Storer store = LmdbStorer.open(LmdbStorer.Config.defaults(Path.of(args[0])))) {
        System.out.println(OPENED);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
      }
    }
  }
}

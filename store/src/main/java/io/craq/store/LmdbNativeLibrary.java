package io.craq.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives lmdbjava one extracted copy of its native library per user and library build, instead of
 * the fresh temporary file lmdbjava extracts in every JVM, which stays behind whenever the JVM is
 * killed: dozens of {@code lmdbjava-native-library-*.so} in /tmp after one test run.
 *
 * <p>The copy lives in {@code java.io.tmpdir/craq-lmdb-USER/}, a folder only its owner may write,
 * named by the SHA-256 of its bytes, and is handed to lmdbjava through its own system property
 * {@value #NATIVE_LIBRARY_PROPERTY}. A JVM that finds the copy checks its bytes and uses it.
 * Anything unusual (the property already set, an embedded library chosen, an unsupported platform,
 * a folder owned by someone else, no POSIX permissions) leaves lmdbjava's own extraction in charge.
 */
final class LmdbNativeLibrary {
  /** lmdbjava's property: the path of the native library to load instead of its own copy. */
  static final String NATIVE_LIBRARY_PROPERTY = "lmdbjava.native.lib";

  /** lmdbjava's property naming another library bundled in its jar; we leave that case alone. */
  static final String EMBEDDED_LIBRARY_PROPERTY = "lmdbjava.embedded.lib";

  private static final Logger LOG = LoggerFactory.getLogger(LmdbNativeLibrary.class);
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");
  private static boolean decided;

  private LmdbNativeLibrary() {}

  /**
   * Points lmdbjava at the stable copy, extracting it first if needed. Must run before lmdbjava
   * loads its library (its first environment); later calls do nothing. Never throws.
   */
  static synchronized void useStableCopy() {
    if (decided) {
      return;
    }
    decided = true;
    if (System.getProperty(NATIVE_LIBRARY_PROPERTY) != null
        || System.getProperty(EMBEDDED_LIBRARY_PROPERTY) != null
        || !FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      return;
    }
    String resource =
        bundledLibrary(System.getProperty("os.arch", ""), System.getProperty("os.name", ""));
    if (resource == null) {
      return;
    }
    try (InputStream in = LmdbNativeLibrary.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        return;
      }
      Path folder =
          Path.of(
              System.getProperty("java.io.tmpdir"),
              "craq-lmdb-" + System.getProperty("user.name", "user"));
      Path copy = install(in.readAllBytes(), folder, resource);
      System.setProperty(NATIVE_LIBRARY_PROPERTY, copy.toString());
    } catch (IOException | RuntimeException e) {
      LOG.debug("no stable copy of the LMDB library ({}); lmdbjava extracts its own", e.toString());
    }
  }

  /**
   * The resource lmdbjava loads by default on this platform (its TargetName rules: arch, OS, and
   * the gnu toolchain except on macOS), or null where it bundles none.
   */
  static String bundledLibrary(String osArch, String osName) {
    String arch = osArch.toLowerCase(Locale.ROOT);
    String os = osName.toLowerCase(Locale.ROOT);
    String archName =
        arch.startsWith("aarch64")
            ? "aarch64"
            : arch.startsWith("x86_64") || arch.startsWith("amd64") ? "x86_64" : null;
    String target =
        os.startsWith("linux")
            ? "linux-gnu.so"
            : os.startsWith("mac os")
                ? "macos-none.so"
                : os.startsWith("windows") ? "windows-gnu.dll" : null;
    return archName == null || target == null
        ? null
        : "org/lmdbjava/native/" + archName + "-" + target;
  }

  /**
   * Returns the copy of {@code library} in {@code folder}, writing it there first if it is not
   * there with these exact bytes. The name carries the bytes' hash, so different lmdbjava versions
   * never share a file; writing goes through a temporary file and an atomic rename, so a JVM never
   * sees a half-written copy.
   *
   * @throws IOException if the folder is not this user's alone, or cannot be written
   */
  static Path install(byte[] library, Path folder, String resource) throws IOException {
    ensurePrivateFolder(folder);
    byte[] digest = sha256(library);
    String name = Path.of(resource).getFileName().toString();
    int dot = name.lastIndexOf('.');
    Path copy =
        folder.resolve(
            name.substring(0, dot)
                + "-"
                + HexFormat.of().formatHex(digest, 0, 8)
                + name.substring(dot));
    if (Files.isRegularFile(copy, LinkOption.NOFOLLOW_LINKS)
        && Arrays.equals(sha256(Files.readAllBytes(copy)), digest)) {
      return copy;
    }
    Path partial = Files.createTempFile(folder, name, ".partial");
    try {
      Files.write(partial, library);
      Files.move(
          partial, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(partial);
    }
    return copy;
  }

  /** Creates {@code folder} readable and writable by its owner only, or checks that it is. */
  private static void ensurePrivateFolder(Path folder) throws IOException {
    try {
      Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (FileAlreadyExistsException e) {
      // Checked below: another user's folder, or one others may write, must not be trusted.
    }
    String me = System.getProperty("user.name");
    if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)
        || !Files.getOwner(folder).getName().equals(me)
        || !Files.getPosixFilePermissions(folder).equals(OWNER_ONLY)) {
      throw new IOException(folder + " is not a folder only " + me + " may write");
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}

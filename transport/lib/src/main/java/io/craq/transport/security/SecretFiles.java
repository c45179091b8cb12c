package io.craq.transport.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Set;

/**
 * Files that hold secrets (users files, password files, TLS private keys): they must not be
 * readable by anyone but their owner, and their content never appears in a message.
 */
public final class SecretFiles {
  /** The longest password file read: a password or token, not a document. */
  public static final int PASSWORD_BYTES_MAX = 4096;

  private SecretFiles() {}

  /**
   * Checks that {@code file} exists and is readable by its owner only.
   *
   * @param what what the file is, for the message ({@code "--users file"})
   * @throws IllegalArgumentException naming the file, what is wrong and the fix ({@code chmod 600})
   */
  public static void requirePrivate(Path file, String what) {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(what + " " + file + " does not exist");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(what + " " + file + " is not readable");
    }
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view == null) {
      return; // no POSIX permissions on this file system: nothing to check
    }
    Set<PosixFilePermission> permissions;
    try {
      permissions = view.readAttributes().permissions();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          what + " " + file + ": cannot read its permissions: " + e.getMessage(), e);
    }
    if (permissions.contains(PosixFilePermission.GROUP_READ)
        || permissions.contains(PosixFilePermission.OTHERS_READ)
        || permissions.contains(PosixFilePermission.GROUP_WRITE)
        || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IllegalArgumentException(
          what
              + " "
              + file
              + " holds secrets but others may read or change it; run: chmod 600 "
              + file);
    }
  }

  /**
   * The password or token in {@code file}: its bytes without a final line break. The file must be
   * private ({@link #requirePrivate}) and not empty.
   *
   * @throws IllegalArgumentException naming the file and what is wrong, never its content
   */
  public static byte[] readPassword(Path file, String what) {
    requirePrivate(file, what);
    byte[] bytes;
    try {
      if (Files.size(file) > PASSWORD_BYTES_MAX) {
        throw new IllegalArgumentException(
            what + " " + file + " is larger than " + PASSWORD_BYTES_MAX + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + " " + file + " does not exist", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(what + " " + file + ": " + e.getMessage(), e);
    }
    byte[] secret = withoutLineBreak(bytes);
    Arrays.fill(bytes, (byte) 0);
    if (secret.length == 0) {
      throw new IllegalArgumentException(what + " " + file + " is empty");
    }
    return secret;
  }

  /** {@code bytes} without one final {@code \n} or {@code \r\n}. */
  public static byte[] withoutLineBreak(byte[] bytes) {
    int end = bytes.length;
    if (end > 0 && bytes[end - 1] == '\n') {
      end--;
      if (end > 0 && bytes[end - 1] == '\r') {
        end--;
      }
    }
    return Arrays.copyOf(bytes, end);
  }
}

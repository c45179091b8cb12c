package io.craq.store.wal;

import io.craq.store.StoreException;
import io.craq.store.StoreFullException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** File helpers of the log: whole writes and reads, the directory's lock and sync, errors. */
final class FileIo {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);

  /** Held while a log is open, so that a second process cannot write into the same segments. */
  static final String LOCK_NAME = "wal.lock";

  private FileIo() {}

  /**
   * Creates {@code directory} if needed and locks its {@link #LOCK_NAME}; closing the returned
   * channel unlocks it (as does the death of the process).
   *
   * @throws StoreException if another log holds the lock, or I/O fails
   */
  static FileChannel lockDirectory(Path directory) {
    FileChannel lockFile;
    try {
      Files.createDirectories(directory);
      lockFile =
          FileChannel.open(
              directory.resolve(LOCK_NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw translate(directory, "creating the directory and its lock file", e, 0);
    }
    FileLock lock;
    try {
      lock = lockFile.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this JVM
    } catch (IOException e) {
      closeQuietly(lockFile);
      throw translate(directory, "locking " + LOCK_NAME, e, 0);
    }
    if (lock == null) {
      closeQuietly(lockFile);
      throw new StoreException(
          "write-ahead log " + directory + " is in use: another log holds" + " its " + LOCK_NAME);
    }
    return lockFile;
  }

  /**
   * The exception for an I/O failure while doing {@code what}: {@link StoreFullException} when the
   * disk is full (the call appended nothing), else {@link StoreException}.
   */
  static StoreException translate(Path directory, String what, IOException e, long bytesNeeded) {
    if (outOfSpace(directory, e, bytesNeeded)) {
      return new StoreFullException(
          "write-ahead log "
              + directory
              + " is out of disk space ("
              + what
              + "); nothing was appended by this call, and writes resume when space returns",
          e);
    }
    return new StoreException("write-ahead log " + directory + ": " + what + " failed: " + e, e);
  }

  /**
   * Whether {@code e} means the disk is full. The JDK reports ENOSPC only in the message, in the C
   * library's words; when the message says something else the free space decides.
   */
  static boolean outOfSpace(Path directory, IOException e, long bytesNeeded) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = t.getMessage();
      if (message != null
          && (message.contains("No space left on device")
              || message.contains("Disk quota exceeded"))) {
        return true;
      }
    }
    try {
      return Files.getFileStore(directory).getUsableSpace() < Math.max(1, bytesNeeded);
    } catch (IOException | RuntimeException unknown) {
      return false;
    }
  }

  /** Forces the directory, so that a file created, renamed or deleted in it stays so. */
  static void syncDirectory(Path directory) throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  static void writeFully(FileChannel channel, ByteBuffer bytes, long position) throws IOException {
    long at = position;
    while (bytes.hasRemaining()) {
      at += channel.write(bytes, at);
    }
  }

  /** Fills {@code bytes} from {@code position}; the file must hold that many bytes there. */
  static void readFully(FileChannel channel, ByteBuffer bytes, long position, Path file)
      throws IOException {
    long at = position;
    while (bytes.hasRemaining()) {
      int read = channel.read(bytes, at);
      if (read < 0) {
        throw new EOFException(
            "write-ahead log file "
                + file
                + " ended at offset "
                + at
                + " while being read: was it changed meanwhile?");
      }
      at += read;
    }
  }

  static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("closing a write-ahead log file failed: {}", e.toString());
    }
  }

  static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.debug("removing {} failed: {}", file, e.toString());
    }
  }
}

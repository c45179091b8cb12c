package io.craq.store.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the log's files. Every byte the log writes or reads goes through a channel opened here, so
 * tests can hand out channels that fail as a full disk does; production uses {@link #DEFAULT}.
 */
@FunctionalInterface
interface FileOpener {
  FileOpener DEFAULT = FileChannel::open;

  FileChannel open(Path file, OpenOption... options) throws IOException;
}

package io.craq.store;

import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.VersionRecord;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A {@link Batch} as the bytes of one write-ahead log record, and back.
 *
 * <p>Format 1, big-endian: format (1 byte) = 1, operation count (4), then each operation: its kind
 * (1 byte: 1 dirty put, 2 committed put, 3 commit, 4 discard all dirty, 5 discard the dirty
 * versions of one chain's keys), then for puts the key (2-byte length + UTF-8), version (8),
 * tombstone (1 byte, 0 or 1) and value (4-byte length + bytes); for a commit the key and the
 * version; nothing for a discard of all; for a chain's discard the chain (4) and the chain count
 * (4), with {@code 0 <= chain < count <= KeySlots.CHAINS_MAX}. A discard of {@link ChainSlice#ALL}
 * is written as kind 4, so logs written before kind 5 existed replay the same.
 */
final class BatchCodec {
  private static final byte FORMAT = 1;
  private static final byte PUT_DIRTY = 1;
  private static final byte PUT_COMMITTED = 2;
  private static final byte COMMIT = 3;
  private static final byte DISCARD_ALL_DIRTY = 4;
  private static final byte DISCARD_SLICE_DIRTY = 5;

  private BatchCodec() {}

  /** The batch's operations as one record (the log sequence number is not part of it). */
  static byte[] encode(Batch batch) {
    ByteBuffer out = ByteBuffer.allocate(encodedBytes(batch));
    out.put(FORMAT).putInt(batch.size());
    for (Batch.Op op : batch.ops()) {
      switch (op) {
        case Batch.PutDirty put -> putVersion(out.put(PUT_DIRTY), put.record());
        case Batch.PutCommitted put -> putVersion(out.put(PUT_COMMITTED), put.record());
        case Batch.Commit commit -> putKey(out.put(COMMIT), commit.key()).putLong(commit.version());
        case Batch.DiscardAllDirty discard -> {
          if (discard.slice().isAll()) {
            out.put(DISCARD_ALL_DIRTY);
          } else {
            out.put(DISCARD_SLICE_DIRTY)
                .putInt(discard.slice().chain())
                .putInt(discard.slice().chains());
          }
        }
      }
    }
    return out.array();
  }

  /**
   * The batch a record holds.
   *
   * @throws StoreException if the record is not a batch of this format (the log's checksum passed,
   *     so this is a bug or a record from another program, never a torn write)
   */
  static Batch decode(ByteBuffer record) {
    try {
      byte format = record.get();
      if (format != FORMAT) {
        throw new StoreException("log record of unknown batch format " + format);
      }
      int count = record.getInt();
      if (count < 0 || count > record.remaining()) {
        throw new StoreException(
            "log record announces " + count + " operations in " + record.remaining() + " bytes");
      }
      Batch batch = new Batch();
      for (int i = 0; i < count; i++) {
        byte kind = record.get();
        switch (kind) {
          case PUT_DIRTY -> batch.putDirty(version(record));
          case PUT_COMMITTED -> batch.putCommitted(version(record));
          case COMMIT -> batch.commit(key(record), record.getLong());
          case DISCARD_ALL_DIRTY -> batch.discardAllDirty();
          case DISCARD_SLICE_DIRTY -> batch.discardDirty(slice(record));
          default ->
              throw new StoreException("log record holds an operation of unknown kind " + kind);
        }
      }
      if (record.hasRemaining()) {
        throw new StoreException(
            "log record has " + record.remaining() + " bytes after its " + count + " operations");
      }
      return batch;
    } catch (BufferUnderflowException | Limits.InvalidInputException e) {
      throw new StoreException("malformed log record: " + e, e);
    }
  }

  private static int encodedBytes(Batch batch) {
    long bytes = 5;
    for (Batch.Op op : batch.ops()) {
      bytes +=
          switch (op) {
            case Batch.PutDirty put -> versionBytes(put.record());
            case Batch.PutCommitted put -> versionBytes(put.record());
            case Batch.Commit commit -> 1 + 2 + Limits.keyBytes(commit.key()).length + 8;
            case Batch.DiscardAllDirty discard -> discard.slice().isAll() ? 1 : 1 + 4 + 4;
          };
    }
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new Limits.InvalidInputException("batch of " + bytes + " bytes is too large");
    }
    return (int) bytes;
  }

  private static long versionBytes(VersionRecord record) {
    return 1 + 2 + Limits.keyBytes(record.key()).length + 8 + 1 + 4 + record.value().length;
  }

  private static void putVersion(ByteBuffer out, VersionRecord record) {
    putKey(out, record.key())
        .putLong(record.version())
        .put((byte) (record.tombstone() ? 1 : 0))
        .putInt(record.value().length)
        .put(record.value());
  }

  private static ByteBuffer putKey(ByteBuffer out, String key) {
    byte[] bytes = Limits.keyBytes(key);
    return out.putShort((short) bytes.length).put(bytes);
  }

  private static String key(ByteBuffer in) {
    int length = Short.toUnsignedInt(in.getShort());
    if (length > in.remaining()) {
      throw new StoreException("log record: key of " + length + " bytes past its end");
    }
    byte[] bytes = new byte[length];
    in.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static ChainSlice slice(ByteBuffer in) {
    int chain = in.getInt();
    int chains = in.getInt();
    if (chains < 1 || chains > KeySlots.CHAINS_MAX || chain < 0 || chain >= chains) {
      throw new StoreException(
          "log record: discard of chain " + chain + " of " + chains + " chains is not a chain");
    }
    return new ChainSlice(chain, chains);
  }

  private static VersionRecord version(ByteBuffer in) {
    String key = key(in);
    long version = in.getLong();
    byte tombstone = in.get();
    if (tombstone != 0 && tombstone != 1) {
      throw new StoreException("log record: tombstone flag " + tombstone);
    }
    int length = in.getInt();
    if (length < 0 || length > in.remaining()) {
      throw new StoreException("log record: value of " + length + " bytes past its end");
    }
    byte[] value = new byte[length];
    in.get(value);
    return new VersionRecord(key, version, tombstone == 1, value);
  }
}

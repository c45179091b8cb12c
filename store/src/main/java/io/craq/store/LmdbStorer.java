package io.craq.store;

import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyPage;
import io.craq.core.store.KeyPages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable store on LMDB (lmdbjava). One {@link #apply(Batch)} is one LMDB write transaction and,
 * with {@link Durability#SYNC} (the default), one fsync: when it returns, the batch survives a
 * crash of the process or the machine. Reads are LMDB read transactions (snapshots) and never wait
 * for the writer.
 *
 * <p>Layout (format 2), four named databases in one environment:
 *
 * <ul>
 *   <li>{@code keys}: user key (UTF-8, 1..511 bytes, LMDB's key limit) → key id (8 bytes),
 *       committed version (8), newest version (8). Learning a key's committed or newest version is
 *       one lookup. The key id keeps the version table's keys at 16 bytes, so the full 511 bytes
 *       stay available to user keys.
 *   <li>{@code versions}: key id (8, big-endian) + version (8, big-endian) → flags (1 byte, bit 0 =
 *       tombstone) + value. Big-endian makes LMDB's byte order the numeric order.
 *   <li>{@code dirty}: user key → nothing, for every key that holds a dirty version, so that
 *       finding or dropping the dirty versions (all of them, or one chain's) costs the keys that
 *       hold some, not the size of the store.
 *   <li>{@code meta}: {@code format} → 2; {@code nextKeyId} → the next key id to hand out; {@code
 *       logSequence} → the log sequence number of the last batch that carried one.
 * </ul>
 *
 * <p>A store of format 1 (no {@code dirty} table) is upgraded when opened.
 *
 * <p>Opened with {@code MDB_NOTLS} so read transactions are not tied to OS threads (virtual threads
 * may read). {@link Env#readerCheck()} runs at open to free reader slots left by killed processes.
 */
public final class LmdbStorer implements Storer {
  private static final Logger LOG = LoggerFactory.getLogger(LmdbStorer.class);

  /** Storage format this code reads and writes; format 1 is upgraded, others are refused. */
  public static final int FORMAT = 2;

  private static final byte FLAG_TOMBSTONE = 1;
  private static final int META_BYTES = 24;
  private static final byte[] META_FORMAT = "format".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] META_NEXT_KEY_ID = "nextKeyId".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] META_LOG_SEQUENCE = "logSequence".getBytes(StandardCharsets.US_ASCII);
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

  /**
   * Settings of an LMDB store; immutable. Start from {@link #defaults(Path)}.
   *
   * @param directory where the LMDB files live (created if missing)
   * @param mapSizeBytes the LMDB map size: the most the store can ever hold; the file grows only as
   *     needed. When it is full, {@code apply} throws {@link StoreFullException}.
   * @param durability what {@code apply} guarantees on return
   * @param valueBytesMax the largest value accepted
   * @param readersMax the most concurrent read transactions (LMDB reader slots)
   */
  public record Config(
      Path directory, long mapSizeBytes, Durability durability, int valueBytesMax, int readersMax) {
    /** 256 GiB: address space only; the file grows with the data. */
    public static final long MAP_SIZE_BYTES_DEFAULT = 256L << 30;

    /** Enough for a node's reader threads and catch-up scans. */
    public static final int READERS_MAX_DEFAULT = 1024;

    public Config {
      Objects.requireNonNull(directory, "directory");
      Objects.requireNonNull(durability, "durability");
      if (mapSizeBytes < (1L << 20)) {
        throw new IllegalArgumentException("mapSizeBytes must be >= 1 MiB, got " + mapSizeBytes);
      }
      if (valueBytesMax < 0 || valueBytesMax > Integer.MAX_VALUE - 1) {
        throw new IllegalArgumentException("valueBytesMax out of range: " + valueBytesMax);
      }
      if (readersMax < 1) {
        throw new IllegalArgumentException("readersMax must be >= 1, got " + readersMax);
      }
    }

    /** Durable ({@link Durability#SYNC}), 256 GiB map, 1 MiB values, 1024 readers. */
    public static Config defaults(Path directory) {
      return new Config(
          directory,
          MAP_SIZE_BYTES_DEFAULT,
          Durability.SYNC,
          Limits.VALUE_BYTES_MAX_DEFAULT,
          READERS_MAX_DEFAULT);
    }

    public Config withMapSizeBytes(long bytes) {
      return new Config(directory, bytes, durability, valueBytesMax, readersMax);
    }

    public Config withDurability(Durability mode) {
      return new Config(directory, mapSizeBytes, mode, valueBytesMax, readersMax);
    }

    public Config withValueBytesMax(int bytes) {
      return new Config(directory, mapSizeBytes, durability, bytes, readersMax);
    }

    public Config withReadersMax(int readers) {
      return new Config(directory, mapSizeBytes, durability, valueBytesMax, readers);
    }
  }

  /** A key's row in {@code keys}. */
  private record Meta(long keyId, long committed, long newest) {}

  /** Direct buffers LMDB reads keys from; one set per thread. */
  private static final class Buffers {
    final ByteBuffer key = ByteBuffer.allocateDirect(Limits.KEY_BYTES_MAX);
    final ByteBuffer versionKey = ByteBuffer.allocateDirect(16);
    final ByteBuffer meta = ByteBuffer.allocateDirect(META_BYTES);
    final ByteBuffer small = ByteBuffer.allocateDirect(16);

    ByteBuffer key(byte[] bytes) {
      key.clear();
      key.put(bytes).flip();
      return key;
    }

    ByteBuffer versionKey(long keyId, long version) {
      versionKey.clear();
      versionKey.putLong(keyId).putLong(version).flip();
      return versionKey;
    }

    ByteBuffer meta(Meta m) {
      meta.clear();
      meta.putLong(m.keyId()).putLong(m.committed()).putLong(m.newest()).flip();
      return meta;
    }

    ByteBuffer longValue(long value) {
      small.clear();
      small.putLong(value).flip();
      return small;
    }
  }

  private final Config config;
  private final Env<ByteBuffer> env;
  private final Dbi<ByteBuffer> keys;
  private final Dbi<ByteBuffer> versions;
  private final Dbi<ByteBuffer> dirtyKeys;
  private final Dbi<ByteBuffer> meta;
  private final ThreadLocal<Buffers> readBuffers = ThreadLocal.withInitial(Buffers::new);
  private final Buffers writeBuffers = new Buffers();
  private final ReentrantLock writeLock = new ReentrantLock();

  /** Read side: any call using the env; write side: close. So close never pulls the env away. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();

  private boolean closed;
  private long nextKeyId;
  private volatile long logSequence;

  private LmdbStorer(Config config, Env<ByteBuffer> env) {
    this.config = config;
    this.env = env;
    this.keys = env.openDbi("keys", DbiFlags.MDB_CREATE);
    this.versions = env.openDbi("versions", DbiFlags.MDB_CREATE);
    this.dirtyKeys = env.openDbi("dirty", DbiFlags.MDB_CREATE);
    this.meta = env.openDbi("meta", DbiFlags.MDB_CREATE);
    loadOrInitMeta();
  }

  /**
   * Opens (or creates) the store in {@code config.directory()}. Every version committed by an
   * earlier {@code apply} is there; dirty versions are too (a restarting node discards them with
   * {@link Batch#discardAllDirty()}, or one chain's with {@link Batch#discardDirty}).
   *
   * @throws StoreException if the directory cannot be used, is not an LMDB store of this format, or
   *     LMDB fails
   */
  public static LmdbStorer open(Config config) {
    Objects.requireNonNull(config, "config");
    LmdbNativeLibrary.useStableCopy();
    try {
      Files.createDirectories(config.directory());
    } catch (IOException e) {
      throw new StoreException("cannot create store directory " + config.directory(), e);
    }
    Env<ByteBuffer> env;
    try {
      env =
          Env.create()
              .setMapSize(config.mapSizeBytes())
              .setMaxDbs(4)
              .setMaxReaders(config.readersMax())
              .open(config.directory().toFile(), envFlags(config.durability()));
    } catch (LmdbException e) {
      throw new StoreException(
          "cannot open LMDB store in " + config.directory() + ": " + e.getMessage(), e);
    }
    try {
      int stale = env.readerCheck();
      if (stale > 0) {
        LOG.info("store {}: cleared {} stale LMDB reader slots", config.directory(), stale);
      }
      if (env.getMaxKeySize() < Limits.KEY_BYTES_MAX) {
        throw new StoreException(
            "this LMDB build allows keys of "
                + env.getMaxKeySize()
                + " bytes, the store needs "
                + Limits.KEY_BYTES_MAX);
      }
      return new LmdbStorer(config, env);
    } catch (RuntimeException e) {
      env.close();
      if (e instanceof LmdbException lmdb) {
        throw new StoreException(
            "cannot open LMDB store in " + config.directory() + ": " + lmdb.getMessage(), lmdb);
      }
      throw e;
    }
  }

  private static EnvFlags[] envFlags(Durability durability) {
    return switch (durability) {
      case SYNC -> new EnvFlags[] {EnvFlags.MDB_NOTLS};
      case NO_META_SYNC -> new EnvFlags[] {EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOMETASYNC};
      case NO_SYNC -> new EnvFlags[] {EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOSYNC};
    };
  }

  /** Reads the markers into fields; initialises an empty store and upgrades format 1. */
  private void loadOrInitMeta() {
    try (Txn<ByteBuffer> txn = env.txnWrite()) {
      ByteBuffer format = meta.get(txn, writeBuffers.key(META_FORMAT));
      if (format == null) {
        if (keys.stat(txn).entries != 0 || versions.stat(txn).entries != 0) {
          throw new StoreException(
              "store " + config.directory() + " has data but no format marker");
        }
        meta.put(txn, writeBuffers.key(META_FORMAT), writeBuffers.longValue(FORMAT));
        meta.put(txn, writeBuffers.key(META_NEXT_KEY_ID), writeBuffers.longValue(1));
        txn.commit();
        nextKeyId = 1;
        return;
      }
      long found = format.order(ByteOrder.BIG_ENDIAN).getLong(0);
      if (found == 1) {
        long indexed = indexDirtyKeys(txn);
        meta.put(txn, writeBuffers.key(META_FORMAT), writeBuffers.longValue(FORMAT));
        LOG.info(
            "store {}: upgraded from format 1 to {} ({} keys with dirty versions indexed)",
            config.directory(),
            FORMAT,
            indexed);
      } else if (found != FORMAT) {
        throw new StoreException(
            "store "
                + config.directory()
                + " has format "
                + found
                + ", this version reads formats 1 and "
                + FORMAT);
      }
      ByteBuffer next = meta.get(txn, writeBuffers.key(META_NEXT_KEY_ID));
      if (next == null) {
        throw new StoreException("store " + config.directory() + " lacks its nextKeyId marker");
      }
      nextKeyId = next.order(ByteOrder.BIG_ENDIAN).getLong(0);
      ByteBuffer sequence = meta.get(txn, writeBuffers.key(META_LOG_SEQUENCE));
      logSequence =
          sequence == null
              ? Batch.NO_LOG_SEQUENCE
              : sequence.order(ByteOrder.BIG_ENDIAN).getLong(0);
      txn.commit();
    }
  }

  /** Format 1 to 2: fills the {@code dirty} table from the key rows. */
  private long indexDirtyKeys(Txn<ByteBuffer> txn) {
    List<byte[]> dirty = new ArrayList<>();
    try (Cursor<ByteBuffer> cursor = keys.openCursor(txn)) {
      for (boolean positioned = cursor.first(); positioned; positioned = cursor.next()) {
        Meta m = parseMeta(cursor.val());
        if (m.newest() > m.committed()) {
          dirty.add(bytesOf(cursor.key()));
        }
      }
    }
    for (byte[] keyBytes : dirty) {
      dirtyKeys.put(txn, writeBuffers.key(keyBytes), EMPTY);
    }
    return dirty.size();
  }

  private static byte[] bytesOf(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(buffer.position(), bytes);
    return bytes;
  }

  /** The settings this store was opened with. */
  public Config config() {
    return config;
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Newest readNewest(String key) {
    byte[] keyBytes = keyBytes(key);
    return read(() -> {
      Buffers buffers = readBuffers.get();
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        Meta m = meta(txn, buffers, keyBytes);
        if (m == null) {
          return Newest.ABSENT;
        }
        if (m.newest() == m.committed()) {
          return new Newest.Clean(version(txn, buffers, key, m.keyId(), m.committed()));
        }
        return new Newest.Dirty(version(txn, buffers, key, m.keyId(), m.newest()), m.committed());
      }
    });
  }

  @Override
  public Optional<VersionRecord> readVersion(String key, long version) {
    byte[] keyBytes = keyBytes(key);
    return read(() -> {
      Buffers buffers = readBuffers.get();
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        Meta m = meta(txn, buffers, keyBytes);
        if (m == null || version < Math.max(1, m.committed()) || version > m.newest()) {
          return Optional.empty();
        }
        return Optional.ofNullable(version(txn, buffers, key, m.keyId(), version));
      }
    });
  }

  @Override
  public long committedVersion(String key) {
    byte[] keyBytes = keyBytes(key);
    return read(() -> {
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        Meta m = meta(txn, readBuffers.get(), keyBytes);
        return m == null ? NO_VERSION : m.committed();
      }
    });
  }

  @Override
  public VersionRecord committedRecord(String key) {
    byte[] keyBytes = keyBytes(key);
    return read(() -> {
      Buffers buffers = readBuffers.get();
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        Meta m = meta(txn, buffers, keyBytes);
        return m == null || m.committed() == NO_VERSION
            ? null
            : version(txn, buffers, key, m.keyId(), m.committed());
      }
    });
  }

  @Override
  public long logSequence() {
    return read(() -> logSequence);
  }

  /**
   * Every dirty version, in key then version order, read from the {@code dirty} table: the cost
   * follows the dirty versions, not the size of the store. Pages of {@link #STREAM_PAGE_KEYS} keys,
   * each in its own read transaction.
   */
  @Override
  public Stream<VersionRecord> allDirty() {
    Iterator<List<VersionRecord>> pages =
        new Iterator<>() {
          private byte[] after;
          private boolean done;

          @Override
          public boolean hasNext() {
            return !done;
          }

          @Override
          public List<VersionRecord> next() {
            List<VersionRecord> page = new ArrayList<>();
            after = readDirtyPage(after, STREAM_PAGE_KEYS, page);
            done = after == null;
            return page;
          }
        };
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(pages, Spliterator.ORDERED), false)
        .flatMap(List::stream);
  }

  /**
   * Adds the dirty versions of up to {@code keysMax} keys after {@code afterKey} to {@code out};
   * returns the last key read, or null when no dirty key follows.
   */
  private byte[] readDirtyPage(byte[] afterKey, int keysMax, List<VersionRecord> out) {
    return read(() -> {
      Buffers buffers = readBuffers.get();
      try (Txn<ByteBuffer> txn = env.txnRead();
          Cursor<ByteBuffer> dirtyCursor = dirtyKeys.openCursor(txn);
          Cursor<ByteBuffer> versionCursor = versions.openCursor(txn)) {
        boolean positioned;
        if (afterKey == null) {
          positioned = dirtyCursor.first();
        } else {
          positioned = dirtyCursor.get(buffers.key(afterKey), GetOp.MDB_SET_RANGE);
          if (positioned && dirtyCursor.key().equals(buffers.key(afterKey))) {
            positioned = dirtyCursor.next();
          }
        }
        byte[] last = null;
        for (int read = 0; positioned && read < keysMax; read++) {
          last = bytesOf(dirtyCursor.key());
          Meta m = meta(txn, buffers, last);
          String key = new String(last, StandardCharsets.UTF_8);
          out.addAll(keyRecord(versionCursor, buffers, key, m).dirty());
          positioned = dirtyCursor.next();
        }
        return positioned ? last : null;
      }
    });
  }

  @Override
  public long newestVersion(String key) {
    byte[] keyBytes = keyBytes(key);
    return read(() -> {
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        Meta m = meta(txn, readBuffers.get(), keyBytes);
        return m == null ? NO_VERSION : m.newest();
      }
    });
  }

  @Override
  public KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax) {
    MemoryStorer.checkPageBounds(keysMax, bytesSoftMax);
    byte[] afterBytes = afterKey == null ? null : keyBytes(afterKey);
    return read(() -> {
      Buffers buffers = readBuffers.get();
      try (Txn<ByteBuffer> txn = env.txnRead();
          Cursor<ByteBuffer> keyCursor = keys.openCursor(txn);
          Cursor<ByteBuffer> versionCursor = versions.openCursor(txn)) {
        boolean positioned;
        if (afterBytes == null) {
          positioned = keyCursor.first();
        } else {
          positioned = keyCursor.get(buffers.key(afterBytes), GetOp.MDB_SET_RANGE);
          if (positioned && keyCursor.key().equals(buffers.key(afterBytes))) {
            positioned = keyCursor.next();
          }
        }
        List<KeyRecord> records = new ArrayList<>(Math.min(keysMax, 1024));
        long bytes = 0;
        String last = afterKey;
        while (positioned && records.size() < keysMax && bytes < bytesSoftMax) {
          String key = StandardCharsets.UTF_8.decode(keyCursor.key().duplicate()).toString();
          Meta m = parseMeta(keyCursor.val());
          KeyRecord record = keyRecord(versionCursor, buffers, key, m);
          records.add(record);
          bytes += KeyPages.valueBytes(record);
          last = key;
          positioned = keyCursor.next();
        }
        return new KeyPage(records, last, !positioned);
      }
    });
  }

  private KeyRecord keyRecord(Cursor<ByteBuffer> cursor, Buffers buffers, String key, Meta m) {
    VersionRecord committed = null;
    List<VersionRecord> dirty = new ArrayList<>(2);
    boolean positioned = cursor.get(buffers.versionKey(m.keyId(), 0), GetOp.MDB_SET_RANGE);
    while (positioned) {
      ByteBuffer k = cursor.key().order(ByteOrder.BIG_ENDIAN);
      if (k.getLong(0) != m.keyId()) {
        break;
      }
      VersionRecord record = decode(key, k.getLong(8), cursor.val());
      if (record.version() == m.committed()) {
        committed = record;
      } else if (record.version() > m.committed()) {
        dirty.add(record);
      }
      positioned = cursor.next();
    }
    return new KeyRecord(key, committed, dirty);
  }

  // ---------------------------------------------------------------- writes

  @Override
  public BatchResult apply(Batch batch) {
    batch.checkValues(config.valueBytesMax());
    return read(() -> {
      writeLock.lock();
      try {
        return applyLocked(batch);
      } finally {
        writeLock.unlock();
      }
    });
  }

  private BatchResult applyLocked(Batch batch) {
    Buffers buffers = writeBuffers;
    long[] keyId = {nextKeyId};
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    long discarded = 0;
    try (Txn<ByteBuffer> txn = env.txnWrite()) {
      for (Batch.Op op : batch.ops()) {
        switch (op) {
          case Batch.PutDirty put -> outcomes.add(putDirty(txn, buffers, put.record(), keyId));
          case Batch.PutCommitted put ->
              outcomes.add(putCommitted(txn, buffers, put.record(), keyId));
          case Batch.Commit commit ->
              outcomes.add(commitVersion(txn, buffers, commit.key(), commit.version()));
          case Batch.DiscardAllDirty discard -> {
            discarded += discardDirty(txn, buffers, discard.slice());
            outcomes.add(Outcome.APPLIED);
          }
        }
      }
      if (keyId[0] != nextKeyId) {
        meta.put(txn, buffers.key(META_NEXT_KEY_ID), buffers.longValue(keyId[0]));
      }
      if (batch.logSequence() != Batch.NO_LOG_SEQUENCE) {
        meta.put(txn, buffers.key(META_LOG_SEQUENCE), buffers.longValue(batch.logSequence()));
      }
      txn.commit();
    }
    nextKeyId = keyId[0];
    if (batch.logSequence() != Batch.NO_LOG_SEQUENCE) {
      logSequence = batch.logSequence();
    }
    return new BatchResult(outcomes, discarded);
  }

  private Outcome putDirty(
      Txn<ByteBuffer> txn, Buffers buffers, VersionRecord record, long[] nextId) {
    byte[] keyBytes = Limits.keyBytes(record.key());
    Meta m = meta(txn, buffers, keyBytes);
    long version = record.version();
    if (m == null) {
      long id = nextId[0]++;
      putVersion(txn, buffers, id, record);
      writeRow(txn, buffers, keyBytes, null, new Meta(id, NO_VERSION, version));
      return Outcome.APPLIED;
    }
    if (version < m.committed()) {
      return Outcome.STALE;
    }
    ByteBuffer existing = versions.get(txn, buffers.versionKey(m.keyId(), version));
    if (existing != null) {
      return sameContent(existing, record) ? Outcome.DUPLICATE : Outcome.CONFLICT;
    }
    putVersion(txn, buffers, m.keyId(), record);
    if (version > m.newest()) {
      writeRow(txn, buffers, keyBytes, m, new Meta(m.keyId(), m.committed(), version));
    }
    return Outcome.APPLIED;
  }

  private Outcome putCommitted(
      Txn<ByteBuffer> txn, Buffers buffers, VersionRecord record, long[] nextId) {
    byte[] keyBytes = Limits.keyBytes(record.key());
    Meta m = meta(txn, buffers, keyBytes);
    long version = record.version();
    if (m == null) {
      long id = nextId[0]++;
      putVersion(txn, buffers, id, record);
      writeRow(txn, buffers, keyBytes, null, new Meta(id, version, version));
      return Outcome.APPLIED;
    }
    if (version < m.committed()) {
      return Outcome.STALE;
    }
    ByteBuffer existing = versions.get(txn, buffers.versionKey(m.keyId(), version));
    if (existing != null && !sameContent(existing, record)) {
      return Outcome.CONFLICT;
    }
    if (version == m.committed()) {
      return Outcome.DUPLICATE;
    }
    if (existing == null) {
      putVersion(txn, buffers, m.keyId(), record);
    }
    dropOlder(txn, buffers, m.keyId(), version);
    writeRow(
        txn, buffers, keyBytes, m, new Meta(m.keyId(), version, Math.max(version, m.newest())));
    return Outcome.APPLIED;
  }

  private Outcome commitVersion(Txn<ByteBuffer> txn, Buffers buffers, String key, long version) {
    byte[] keyBytes = Limits.keyBytes(key);
    Meta m = meta(txn, buffers, keyBytes);
    if (m == null) {
      LOG.debug("store {}: commit of {}@{} ignored, key unknown", config.directory(), key, version);
      return Outcome.UNKNOWN_VERSION;
    }
    if (version < m.committed()) {
      return Outcome.STALE;
    }
    if (version == m.committed()) {
      return Outcome.DUPLICATE;
    }
    if (versions.get(txn, buffers.versionKey(m.keyId(), version)) == null) {
      LOG.debug(
          "store {}: commit of {}@{} ignored, version unknown", config.directory(), key, version);
      return Outcome.UNKNOWN_VERSION;
    }
    dropOlder(txn, buffers, m.keyId(), version);
    writeRow(txn, buffers, keyBytes, m, new Meta(m.keyId(), version, m.newest()));
    return Outcome.APPLIED;
  }

  /**
   * Drops the dirty versions of the keys of {@code slice}, found through the {@code dirty} table:
   * the cost follows the keys holding dirty versions, not the size of the store.
   */
  private long discardDirty(Txn<ByteBuffer> txn, Buffers buffers, ChainSlice slice) {
    // Collect first, change after: modifying the table under a running cursor is error-prone.
    List<byte[]> dirtyKeyList = new ArrayList<>();
    try (Cursor<ByteBuffer> cursor = dirtyKeys.openCursor(txn)) {
      for (boolean positioned = cursor.first(); positioned; positioned = cursor.next()) {
        byte[] keyBytes = bytesOf(cursor.key());
        if (slice.isAll() || slice.contains(new String(keyBytes, StandardCharsets.UTF_8))) {
          dirtyKeyList.add(keyBytes);
        }
      }
    }
    long discarded = 0;
    for (byte[] keyBytes : dirtyKeyList) {
      Meta m = meta(txn, buffers, keyBytes);
      if (m == null) {
        throw new StoreException(
            "corrupt store " + config.directory() + ": the dirty index lists a key without a row");
      }
      for (long version : versionNumbers(txn, buffers, m.keyId())) {
        if (version > m.committed()) {
          versions.delete(txn, buffers.versionKey(m.keyId(), version));
          discarded++;
        }
      }
      if (m.committed() == NO_VERSION) {
        keys.delete(txn, buffers.key(keyBytes));
        dirtyKeys.delete(txn, buffers.key(keyBytes));
      } else {
        writeRow(txn, buffers, keyBytes, m, new Meta(m.keyId(), m.committed(), m.committed()));
      }
    }
    return discarded;
  }

  /**
   * Writes a key's row, and keeps the {@code dirty} table listing exactly the keys whose newest
   * version is above the committed one.
   *
   * @param before the row it replaces, or null for a new key
   */
  private void writeRow(
      Txn<ByteBuffer> txn, Buffers buffers, byte[] keyBytes, Meta before, Meta after) {
    keys.put(txn, buffers.key(keyBytes), buffers.meta(after));
    boolean wasDirty = before != null && before.newest() > before.committed();
    boolean isDirty = after.newest() > after.committed();
    if (isDirty && !wasDirty) {
      dirtyKeys.put(txn, buffers.key(keyBytes), EMPTY);
    } else if (wasDirty && !isDirty) {
      dirtyKeys.delete(txn, buffers.key(keyBytes));
    }
  }

  /** Deletes every version of {@code keyId} older than {@code version}. */
  private void dropOlder(Txn<ByteBuffer> txn, Buffers buffers, long keyId, long version) {
    for (long old : versionNumbers(txn, buffers, keyId)) {
      if (old < version) {
        versions.delete(txn, buffers.versionKey(keyId, old));
      }
    }
  }

  /** The version numbers stored for {@code keyId}, ascending (a key holds few). */
  private List<Long> versionNumbers(Txn<ByteBuffer> txn, Buffers buffers, long keyId) {
    List<Long> numbers = new ArrayList<>(4);
    try (Cursor<ByteBuffer> cursor = versions.openCursor(txn)) {
      boolean positioned = cursor.get(buffers.versionKey(keyId, 0), GetOp.MDB_SET_RANGE);
      while (positioned) {
        ByteBuffer k = cursor.key().order(ByteOrder.BIG_ENDIAN);
        if (k.getLong(0) != keyId) {
          break;
        }
        numbers.add(k.getLong(8));
        positioned = cursor.next();
      }
    }
    return numbers;
  }

  private void putVersion(Txn<ByteBuffer> txn, Buffers buffers, long keyId, VersionRecord record) {
    byte[] value = record.value();
    ByteBuffer target =
        versions.reserve(txn, buffers.versionKey(keyId, record.version()), 1 + value.length);
    target.put(0, record.tombstone() ? FLAG_TOMBSTONE : 0);
    target.put(1, value);
  }

  private static boolean sameContent(ByteBuffer stored, VersionRecord record) {
    boolean tombstone = (stored.get(0) & FLAG_TOMBSTONE) != 0;
    if (tombstone != record.tombstone() || stored.remaining() - 1 != record.value().length) {
      return false;
    }
    return stored.slice(1, record.value().length).equals(ByteBuffer.wrap(record.value()));
  }

  @Override
  public void sync() {
    read(() -> {
      env.sync(true);
      return null;
    });
  }

  // ---------------------------------------------------------------- helpers

  private Meta meta(Txn<ByteBuffer> txn, Buffers buffers, byte[] keyBytes) {
    ByteBuffer value = keys.get(txn, buffers.key(keyBytes));
    return value == null ? null : parseMeta(value);
  }

  private static Meta parseMeta(ByteBuffer value) {
    ByteBuffer v = value.order(ByteOrder.BIG_ENDIAN);
    if (v.remaining() != META_BYTES) {
      throw new StoreException(
          "corrupt key row: " + v.remaining() + " bytes, expected " + META_BYTES);
    }
    return new Meta(v.getLong(0), v.getLong(8), v.getLong(16));
  }

  private VersionRecord version(
      Txn<ByteBuffer> txn, Buffers buffers, String key, long keyId, long version) {
    ByteBuffer value = versions.get(txn, buffers.versionKey(keyId, version));
    return value == null ? null : decode(key, version, value);
  }

  private static VersionRecord decode(String key, long version, ByteBuffer stored) {
    if (stored.remaining() < 1) {
      throw new StoreException("corrupt version row of " + key + "@" + version);
    }
    byte[] value = new byte[stored.remaining() - 1];
    stored.get(1, value);
    return new VersionRecord(key, version, (stored.get(0) & FLAG_TOMBSTONE) != 0, value);
  }

  private static byte[] keyBytes(String key) {
    Limits.checkKey(key);
    return Limits.keyBytes(key);
  }

  /** Runs {@code action} while the env is open, translating LMDB failures. */
  private <T> T read(Supplier<T> action) {
    lifecycle.readLock().lock();
    try {
      if (closed) {
        throw new StoreException("store " + config.directory() + " is closed");
      }
      return action.get();
    } catch (LmdbException e) {
      throw translate(e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private StoreException translate(LmdbException e) {
    if (e instanceof Env.MapFullException) {
      return new StoreFullException(
          "LMDB store "
              + config.directory()
              + " is full (map size "
              + config.mapSizeBytes()
              + " bytes); nothing of the batch was applied. Raise "
              + "LmdbStorer.Config.mapSizeBytes and reopen",
          e);
    }
    return new StoreException("LMDB store " + config.directory() + " failed: " + e.getMessage(), e);
  }

  @Override
  public int valueBytesMax() {
    return config.valueBytesMax();
  }

  @Override
  public boolean durable() {
    return true;
  }

  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      env.close();
    } finally {
      lifecycle.writeLock().unlock();
    }
  }
}

package io.craq.store;

import io.craq.core.Limits;
import io.craq.core.chain.ChainSlice;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyOrder;
import io.craq.core.store.KeyPage;
import io.craq.core.store.KeyPages;
import io.craq.store.wal.WriteAheadLog;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable store made of a write-ahead log in front of another store (the <em>base</em>, LMDB in a
 * node). {@link #apply} appends the batch to the log as one record and, with {@link
 * Config#syncEachApply()}, forces it to disk (one {@code fdatasync}: group commit is one apply of
 * everything queued); then the batch is visible to reads through an in-memory table of the changes
 * since the last checkpoint. A background <em>checkpoint</em> writes those changes into the base in
 * one storage transaction, synced, tagged with the log sequence number it reaches ({@link
 * Batch#logSequence(long)}); then the log segments it covers are deleted. So the base is written
 * once per checkpoint, not once per write, and only ever holds synced transactions.
 *
 * <p><b>Recovery</b> ({@link #open}) opens the base as of its last checkpoint and replays the log
 * records after it; a torn or corrupt log tail ends the replay at the last good record (the log
 * cuts it off with a warning). What survives a crash is therefore every batch whose apply returned
 * (with syncing), or whose log record reached the disk before the crash (without).
 *
 * <p><b>Reads</b> look at the changes since the last checkpoint (the table being written and, while
 * a checkpoint runs, the one it writes), then at the base. They never wait for the writer or the
 * checkpoint; each key's change becomes visible atomically, as in {@link MemoryStorer}. Values are
 * copied in and out.
 *
 * <p><b>Memory</b> holds the changes since the last checkpoint: about {@link
 * Config#checkpointBytes()}, twice that while a checkpoint runs. If checkpoints cannot keep up,
 * {@code apply} waits for one (back-pressure); if they fail for want of space, {@code apply} throws
 * {@link StoreFullException} until one succeeds, and reads go on.
 *
 * <p>This store keeps its own log position in the base, so batches given to it must not carry a
 * {@link Batch#logSequence(long)}, and {@link #logSequence()} reports none.
 */
public final class LoggedStorer implements Storer {
  private static final Logger LOG = LoggerFactory.getLogger(LoggedStorer.class);

  /**
   * Settings of a logged store; immutable.
   *
   * @param logDirectory where the log segments live (created if missing)
   * @param syncEachApply true: {@code apply} returns once its record is on disk ({@code
   *     fdatasync}); false: once it is in the operating system's cache (a process crash loses
   *     nothing, a power loss may lose the last batches; checkpoints still sync)
   * @param checkpointBytes a checkpoint starts once the changes held in memory reach this much
   * @param checkpointIntervalMillis or once the oldest change held is this old
   * @param segmentBytes size of one log segment file
   */
  public record Config(
      Path logDirectory,
      boolean syncEachApply,
      long checkpointBytes,
      long checkpointIntervalMillis,
      long segmentBytes) {
    public static final long CHECKPOINT_BYTES_DEFAULT = 32L << 20;
    public static final long CHECKPOINT_INTERVAL_MILLIS_DEFAULT = 30_000;
    public static final long SEGMENT_BYTES_DEFAULT = 64L << 20;

    public Config {
      Objects.requireNonNull(logDirectory, "logDirectory");
      if (checkpointBytes < 1 || checkpointIntervalMillis < 1 || segmentBytes < 4096) {
        throw new IllegalArgumentException(
            "checkpointBytes and checkpointIntervalMillis must be "
                + "positive, segmentBytes >= 4096: "
                + checkpointBytes
                + ", "
                + checkpointIntervalMillis
                + ", "
                + segmentBytes);
      }
    }

    /** Syncing each apply; checkpoints every 32 MiB or 30 s; 64 MiB segments. */
    public static Config defaults(Path logDirectory) {
      return new Config(
          logDirectory,
          true,
          CHECKPOINT_BYTES_DEFAULT,
          CHECKPOINT_INTERVAL_MILLIS_DEFAULT,
          SEGMENT_BYTES_DEFAULT);
    }

    public Config withSyncEachApply(boolean sync) {
      return new Config(
          logDirectory, sync, checkpointBytes, checkpointIntervalMillis, segmentBytes);
    }

    public Config withCheckpointBytes(long bytes) {
      return new Config(logDirectory, syncEachApply, bytes, checkpointIntervalMillis, segmentBytes);
    }

    public Config withCheckpointIntervalMillis(long millis) {
      return new Config(logDirectory, syncEachApply, checkpointBytes, millis, segmentBytes);
    }

    public Config withSegmentBytes(long bytes) {
      return new Config(
          logDirectory, syncEachApply, checkpointBytes, checkpointIntervalMillis, bytes);
    }
  }

  /**
   * Counters since open: checkpoints written and the time spent in them, the changes held in memory
   * now, and the log's own figures.
   */
  public record Stats(
      long checkpoints, long checkpointNanos, long memoryBytes, WriteAheadLog.Counters log) {}

  /**
   * A store's changes since a checkpoint: every key's state after them, the slices whose dirty
   * versions they dropped, and an estimate of the memory they hold.
   */
  private static final class Memtable {
    /** Each changed key's state: looked up by hash on every read and write. */
    final ConcurrentHashMap<String, KeyVersions> states = new ConcurrentHashMap<>();

    /** The same keys in order, for pages; a key enters once, after its state. */
    final ConcurrentSkipListSet<String> order = new ConcurrentSkipListSet<>(KeyOrder.INSTANCE);

    /**
     * The slices whose dirty versions these changes dropped, in order; only {@link ChainSlice#ALL}
     * once every key's were dropped. Written under the write lock, read by the checkpoint once the
     * table is frozen.
     */
    final Set<ChainSlice> discardedSlices = new LinkedHashSet<>();

    final long startNanos = System.nanoTime();
    long bytes;
    long lastSequence;

    boolean isEmpty() {
      return lastSequence == 0;
    }

    KeyVersions get(String key) {
      return states.isEmpty() ? null : states.get(key);
    }

    void put(String key, KeyVersions state) {
      if (states.put(key, state) == null) {
        order.add(key);
      }
    }

    /** The key's record, or null if it does not exist (for pages). */
    KeyRecord record(String key) {
      KeyVersions state = states.get(key);
      return state.isEmpty() ? null : copy(state.toRecord(key));
    }

    void discarded(ChainSlice slice) {
      if (discardedSlices.contains(ChainSlice.ALL)) {
        return;
      }
      if (slice.isAll()) {
        discardedSlices.clear();
      }
      discardedSlices.add(slice);
    }

    /**
     * One batch that takes the base from its state before these changes to the state after them:
     * the discards first if there were any (they dropped dirty versions of keys this table may no
     * longer hold), then each key's final state. Every key of a discarded slice that held a dirty
     * version then is in this table, so discarding the whole slice in the base first loses nothing
     * the table does not write back. A checkpoint thus writes each key once, however often it
     * changed: a version written and committed is one put, not a dirty put, a commit and two
     * changes to the base's index of dirty keys.
     */
    Batch checkpointBatch() {
      Batch batch = new Batch();
      discardedSlices.forEach(batch::discardDirty);
      for (String key : order) { // in key order: LMDB inserts in order fastest
        KeyVersions state = states.get(key);
        if (state.committed() != null) {
          batch.putCommitted(state.committed());
        }
        state.dirty().forEach(batch::putDirty);
      }
      return batch.logSequence(lastSequence);
    }
  }

  /** Memory per held change beyond its key and value (object headers, map entries). */
  private static final long CHANGE_OVERHEAD_BYTES = 96;

  private final Storer base;
  private final Config config;
  private final WriteAheadLog log;

  /** Serializes apply and the hand-over of a table to a checkpoint. */
  private final ReentrantLock writeLock = new ReentrantLock();

  private final Condition roomOrCheckpoint = writeLock.newCondition();

  /** Serializes checkpoints. */
  private final ReentrantLock checkpointLock = new ReentrantLock();

  private volatile Memtable active = new Memtable();

  /** The table a running checkpoint writes into the base; null between checkpoints. */
  private volatile Memtable frozen;

  /** Why the last background checkpoint failed for want of space, or null. */
  private volatile StoreFullException checkpointFull;

  private volatile boolean closed;
  private final Thread checkpointer;
  private long checkpoints;
  private long checkpointNanos;

  private LoggedStorer(Storer base, Config config, long afterSequence) {
    this.base = base;
    this.config = config;
    WriteAheadLog.Config logConfig =
        WriteAheadLog.Config.defaults(config.logDirectory())
            .withSegmentBytes(config.segmentBytes());
    this.log =
        WriteAheadLog.open(
            logConfig,
            afterSequence,
            record -> applyToMemory(BatchCodec.decode(record.payload()), record.sequence()));
    this.checkpointer =
        Thread.ofPlatform()
            .daemon()
            .name("craq-checkpoint " + config.logDirectory().getFileName())
            .unstarted(this::runCheckpoints);
  }

  /**
   * Opens the log in front of {@code base} and recovers: the base is as of its last checkpoint, and
   * the log's records after it are replayed into memory, then checkpointed. The logged store owns
   * the base from now on and closes it in {@link #close}.
   *
   * @throws StoreException if the log cannot be opened or is corrupt other than at its tail
   */
  public static LoggedStorer open(Storer base, Config config) {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(config, "config");
    long afterSequence = base.logSequence();
    LoggedStorer store = new LoggedStorer(base, config, afterSequence);
    Memtable replayed = store.active;
    if (replayed.lastSequence > 0) {
      LOG.info(
          "store {}: replayed log records {}..{} over the checkpoint",
          config.logDirectory(),
          afterSequence + 1,
          replayed.lastSequence);
      store.checkpoint();
    }
    store.checkpointer.start();
    return store;
  }

  /** The store in front of which this log sits. */
  public Storer base() {
    return base;
  }

  // ---------------------------------------------------------------- writes

  /** How far an apply takes its log record before it returns. */
  private enum LogWrite {
    /** Forced to disk: survives a power loss. */
    FORCE,
    /** Written to the file: survives a crash of the process. */
    WRITE,
    /** In the log's buffer only: written with the next write or force. */
    BUFFER
  }

  @Override
  public BatchResult apply(Batch batch) {
    return apply(batch, config.syncEachApply() ? LogWrite.FORCE : LogWrite.WRITE);
  }

  /**
   * Appends the batch to the log's buffer only, without a system call: it reaches the disk with the
   * next apply, {@link #sync()} or checkpoint, and a crash before then loses it (and only what was
   * appended after it).
   */
  @Override
  public BatchResult applyWithoutSync(Batch batch) {
    return apply(batch, LogWrite.BUFFER);
  }

  private BatchResult apply(Batch batch, LogWrite write) {
    checkOpen();
    if (batch.logSequence() != Batch.NO_LOG_SEQUENCE) {
      throw new IllegalArgumentException("a logged store keeps its own log position");
    }
    batch.checkValues(base.valueBytesMax());
    writeLock.lock();
    try {
      checkOpen();
      waitForRoom();
      long sequence = log.append(ByteBuffer.wrap(BatchCodec.encode(batch)));
      switch (write) {
        case FORCE -> log.force();
        case WRITE -> log.flush();
        case BUFFER -> {}
      }
      BatchResult result = applyToMemory(batch, sequence);
      if (active.bytes >= config.checkpointBytes()) {
        roomOrCheckpoint.signalAll();
      }
      return result;
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Waits while the changes held in memory are twice the checkpoint size and a checkpoint is on its
   * way; refuses while checkpoints fail for want of space. Caller holds the write lock.
   */
  private void waitForRoom() {
    while (active.bytes >= 2 * config.checkpointBytes()) {
      StoreFullException full = checkpointFull;
      if (full != null) {
        throw new StoreFullException(
            "store "
                + config.logDirectory()
                + " is full: "
                + full.getMessage()
                + "; writes resume once a checkpoint succeeds",
            full);
      }
      roomOrCheckpoint.signalAll();
      try {
        roomOrCheckpoint.await(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException("interrupted while waiting for a checkpoint", e);
      }
      checkOpen();
    }
  }

  /** Applies a logged batch to the table in memory. Caller holds the write lock (or opens). */
  private BatchResult applyToMemory(Batch batch, long sequence) {
    Memtable table = active;
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    long discarded = 0;
    for (Batch.Op op : batch.ops()) {
      switch (op) {
        case Batch.PutDirty put ->
            outcomes.add(
                change(table, put.record().key(), state -> state.putDirty(copy(put.record()))));
        case Batch.PutCommitted put ->
            outcomes.add(
                change(table, put.record().key(), state -> state.putCommitted(copy(put.record()))));
        case Batch.Commit commit ->
            outcomes.add(change(table, commit.key(), state -> state.commit(commit.version())));
        case Batch.DiscardAllDirty discard -> {
          discarded += discardDirty(table, discard.slice());
          outcomes.add(Outcome.APPLIED);
        }
      }
      table.bytes += bytes(op);
    }
    table.lastSequence = sequence;
    return new BatchResult(outcomes, discarded);
  }

  private Outcome change(
      Memtable table, String key, Function<KeyVersions, KeyVersions.Change> operation) {
    KeyVersions.Change change = operation.apply(current(key));
    if (change.outcome() == Outcome.APPLIED) {
      table.put(key, change.after());
    }
    return change.outcome();
  }

  /**
   * Drops the dirty versions of {@code slice}'s keys: the keys holding one are found through the
   * base's index and the tables in memory, so the cost follows the dirty keys, not the store.
   */
  private long discardDirty(Memtable table, ChainSlice slice) {
    Map<String, KeyVersions> dirtyKeys = new TreeMap<>(KeyOrder.INSTANCE);
    try (Stream<VersionRecord> dirty = allDirty()) {
      dirty
          .filter(record -> slice.contains(record.key()))
          .forEach(record -> dirtyKeys.putIfAbsent(record.key(), current(record.key())));
    }
    long discarded = 0;
    for (Map.Entry<String, KeyVersions> entry : dirtyKeys.entrySet()) {
      discarded += entry.getValue().dirty().size();
      KeyVersions kept = entry.getValue().withoutDirty();
      table.put(entry.getKey(), kept.isEmpty() ? KeyVersions.NONE : kept);
    }
    table.discarded(slice);
    return discarded;
  }

  /** What an operation adds to the memory a table holds, roughly. */
  private static long bytes(Batch.Op op) {
    return CHANGE_OVERHEAD_BYTES
        + switch (op) {
          case Batch.PutDirty put -> bytes(put.record());
          case Batch.PutCommitted put -> bytes(put.record());
          case Batch.Commit commit -> commit.key().length();
          case Batch.DiscardAllDirty discard -> 0;
        };
  }

  private static long bytes(VersionRecord record) {
    return record.key().length() + record.value().length;
  }

  @Override
  public void sync() {
    checkOpen();
    writeLock.lock();
    try {
      log.force();
    } finally {
      writeLock.unlock();
    }
  }

  // ---------------------------------------------------------------- checkpoints

  /**
   * Writes every change applied so far into the base, in one synced storage transaction, then
   * deletes the log segments it covers. Blocks until done; runs in the background on its own as
   * well. Does nothing when there is nothing new.
   *
   * @throws StoreFullException if the base has no room (nothing is lost: the changes stay in memory
   *     and in the log, and the next checkpoint tries again)
   */
  public void checkpoint() {
    checkpointLock.lock();
    try {
      Memtable table;
      writeLock.lock();
      try {
        if (frozen == null) {
          if (active.isEmpty()) {
            return;
          }
          log.force(); // a checkpoint only covers records on disk: the log never has a gap
          frozen = active;
          active = new Memtable();
          roomOrCheckpoint.signalAll();
        }
        table = frozen; // a failed checkpoint left it: retry it first
      } finally {
        writeLock.unlock();
      }
      long start = System.nanoTime();
      base.apply(table.checkpointBatch());
      base.sync();
      frozen = null;
      checkpointFull = null;
      checkpoints++;
      checkpointNanos += System.nanoTime() - start;
      log.deleteBefore(table.lastSequence + 1);
      signalRoom();
    } finally {
      checkpointLock.unlock();
    }
  }

  private void signalRoom() {
    writeLock.lock();
    try {
      roomOrCheckpoint.signalAll();
    } finally {
      writeLock.unlock();
    }
  }

  /** The background checkpointer: by size, by age, and again after a failure. */
  private void runCheckpoints() {
    long retryNanos = TimeUnit.SECONDS.toNanos(1);
    while (!closed) {
      try {
        if (!checkpointDue()) {
          continue;
        }
        checkpoint();
      } catch (StoreFullException e) {
        if (checkpointFull == null) {
          LOG.warn(
              "store {}: checkpoint failed, retrying every second; writes are refused "
                  + "once memory holds {} bytes of changes: {}",
              config.logDirectory(),
              2 * config.checkpointBytes(),
              e.getMessage());
        }
        checkpointFull = e;
        sleepQuietly(retryNanos);
      } catch (RuntimeException e) {
        if (!closed) {
          LOG.error(
              "store {}: checkpoint failed; the log keeps every change, a restart " + "replays it",
              config.logDirectory(),
              e);
          sleepQuietly(retryNanos);
        }
      }
    }
  }

  /** Waits up to a tenth of the interval; true if a checkpoint should run now. */
  private boolean checkpointDue() {
    writeLock.lock();
    try {
      Memtable table = active;
      // A frozen table left by a failed checkpoint is due again; one a running checkpoint is
      // writing is not (checking it would start a second checkpoint right after that one).
      boolean failedLeftover = frozen != null && !checkpointLock.isLocked();
      if (!failedLeftover && table.bytes < config.checkpointBytes()) {
        long ageNanos = System.nanoTime() - table.startNanos;
        long intervalNanos = TimeUnit.MILLISECONDS.toNanos(config.checkpointIntervalMillis());
        if (table.isEmpty() || ageNanos < intervalNanos) {
          roomOrCheckpoint.await(Math.max(1, intervalNanos / 10), TimeUnit.NANOSECONDS);
          return false;
        }
      }
      return !closed;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      writeLock.unlock();
    }
  }

  private static void sleepQuietly(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Counters since open (see {@link Stats}). */
  public Stats stats() {
    Memtable frozenTable = frozen;
    return new Stats(
        checkpoints,
        checkpointNanos,
        active.bytes + (frozenTable == null ? 0 : frozenTable.bytes),
        log.counters());
  }

  // ---------------------------------------------------------------- reads

  /** The key's versions after every change applied, from memory or the base. */
  private KeyVersions current(String key) {
    KeyVersions held = held(key);
    return held != null ? held : below(key);
  }

  /** The key's state in the tables in memory, newest first, or null if neither holds it. */
  private KeyVersions held(String key) {
    KeyVersions state = active.get(key); // active before frozen: see the class comment
    if (state != null) {
      return state;
    }
    Memtable frozenTable = frozen;
    return frozenTable == null ? null : frozenTable.get(key);
  }

  /** The key's versions in the base, one lookup per version held. */
  private KeyVersions below(String key) {
    long committed = base.committedVersion(key);
    long newest = base.newestVersion(key);
    if (newest == NO_VERSION) {
      return KeyVersions.NONE;
    }
    VersionRecord clean = committed == NO_VERSION ? null : base.committedRecord(key);
    List<VersionRecord> dirty = new ArrayList<>();
    for (long version = committed + 1; version <= newest; version++) {
      base.readVersion(key, version).ifPresent(dirty::add);
    }
    return new KeyVersions(clean, dirty);
  }

  @Override
  public Newest readNewest(String key) {
    KeyVersions held = heldChecked(key);
    if (held == null) {
      return base.readNewest(key);
    }
    if (held.isEmpty()) {
      return Newest.ABSENT;
    }
    if (held.dirty().isEmpty()) {
      return new Newest.Clean(copy(held.committed()));
    }
    return new Newest.Dirty(
        copy(held.dirty().get(held.dirty().size() - 1)), held.committedVersion());
  }

  @Override
  public Optional<VersionRecord> readVersion(String key, long version) {
    KeyVersions held = heldChecked(key);
    return held == null
        ? base.readVersion(key, version)
        : Optional.ofNullable(copy(held.find(version)));
  }

  @Override
  public long committedVersion(String key) {
    KeyVersions held = heldChecked(key);
    return held == null ? base.committedVersion(key) : held.committedVersion();
  }

  @Override
  public VersionRecord committedRecord(String key) {
    KeyVersions held = heldChecked(key);
    return held == null ? base.committedRecord(key) : copy(held.committed());
  }

  @Override
  public long newestVersion(String key) {
    KeyVersions held = heldChecked(key);
    return held == null ? base.newestVersion(key) : held.newestVersion();
  }

  private KeyVersions heldChecked(String key) {
    checkOpen();
    Limits.checkKey(key);
    return held(key);
  }

  @Override
  public KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax) {
    checkOpen();
    MemoryStorer.checkPageBounds(keysMax, bytesSoftMax);
    Memtable activeTable = active; // tables before the base, active first: see held()
    Memtable frozenTable = frozen;
    KeyPage page = base.readKeys(afterKey, keysMax, bytesSoftMax);
    if (frozenTable != null) {
      page = overlay(page, afterKey, frozenTable, keysMax, bytesSoftMax);
    }
    return overlay(page, afterKey, activeTable, keysMax, bytesSoftMax);
  }

  private static KeyPage overlay(
      KeyPage below, String afterKey, Memtable table, int keysMax, long bytesSoftMax) {
    return KeyPages.overlay(below, afterKey, table.order, table::record, keysMax, bytesSoftMax);
  }

  /**
   * Every dirty version, in key then version order: those of the base (found through its own
   * index), except where memory holds newer state, and those memory holds.
   */
  @Override
  public Stream<VersionRecord> allDirty() {
    checkOpen();
    Memtable activeTable = active;
    Memtable frozenTable = frozen;
    TreeMap<String, List<VersionRecord>> byKey = new TreeMap<>(KeyOrder.INSTANCE);
    try (Stream<VersionRecord> below = base.allDirty()) {
      below.forEach(r -> byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r));
    }
    for (Memtable table :
        frozenTable == null ? List.of(activeTable) : List.of(frozenTable, activeTable)) {
      table.states.forEach((key, state) -> {
        if (state.dirty().isEmpty()) {
          byKey.remove(key);
        } else {
          byKey.put(key, state.dirty().stream().map(LoggedStorer::copy).toList());
        }
      });
    }
    return byKey.values().stream().flatMap(List::stream);
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public long logSequence() {
    checkOpen();
    return Batch.NO_LOG_SEQUENCE;
  }

  @Override
  public int valueBytesMax() {
    return base.valueBytesMax();
  }

  @Override
  public boolean durable() {
    return base.durable();
  }

  /**
   * Checkpoints what memory holds (so the next open has nothing to replay), then closes the log and
   * the base. If the checkpoint fails, the log still holds every change. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    signalRoom();
    try {
      checkpointer.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      checkpointWhileClosing();
    } catch (RuntimeException e) {
      LOG.warn(
          "store {}: no checkpoint at close ({}); the next open replays the log",
          config.logDirectory(),
          e.toString());
    } finally {
      log.close();
      base.close();
    }
  }

  /**
   * Closes as a crashed process leaves things (for tests): no checkpoint, the log holds what was
   * written to it, the base what the last checkpoint gave it.
   */
  void closeWithoutCheckpoint() {
    if (closed) {
      return;
    }
    closed = true;
    signalRoom();
    try {
      checkpointer.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    checkpointLock.lock(); // a checkpoint still running finishes first
    try {
      log.close();
      base.close();
    } finally {
      checkpointLock.unlock();
    }
  }

  private void checkpointWhileClosing() {
    writeLock.lock(); // waits for a running apply
    writeLock.unlock();
    checkpoint();
  }

  private void checkOpen() {
    if (closed) {
      throw new StoreException("store " + config.logDirectory() + " is closed");
    }
  }

  private static VersionRecord copy(VersionRecord record) {
    return record == null
        ? null
        : new VersionRecord(
            record.key(),
            record.version(),
            record.tombstone(),
            Arrays.copyOf(record.value(), record.value().length));
  }

  private static KeyRecord copy(KeyRecord record) {
    return new KeyRecord(
        record.key(),
        copy(record.committed()),
        record.dirty().stream().map(LoggedStorer::copy).toList());
  }
}

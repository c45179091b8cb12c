package io.craq.store;

import io.craq.core.message.KeyRecord;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyPage;
import io.craq.core.store.StoreView;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Versioned key storage of one CRAQ node: per key, the newest committed (clean) version and every
 * newer dirty version (CRAQ §2.3). The Java counterpart of go-craq's {@code Storer}, plus group
 * commit ({@link #apply(Batch)}), bounded catch-up pages and close/reopen.
 *
 * <p><b>Versions.</b> A version is a {@link VersionRecord}: key, number {@code >= 1}, tombstone
 * flag, value (empty for a tombstone). Tombstones are kept like any committed version, so that
 * catch-up cannot resurrect a deleted key.
 *
 * <p><b>Key order.</b> Scans and streams return keys in ascending order of their UTF-8 bytes
 * (unsigned), which is the order of Unicode code points.
 *
 * <p><b>Thread-safety.</b> Every method may be called from any thread. Reads run concurrently with
 * each other and with {@code apply}; concurrent {@code apply} calls are serialized. A read sees
 * each storage transaction either completely or not at all in the LMDB store; the in-memory store
 * makes each key's change visible atomically. Call {@code apply} from platform threads (LMDB's
 * write lock belongs to an OS thread).
 *
 * <p><b>Crashes.</b> A durable store applies each batch atomically across a crash: after a reopen,
 * all of a batch is there or none of it. A node stores the versions of a multi-key write in one
 * batch, so this is what keeps such a write whole when every copy crashes at once.
 *
 * <p><b>Blocking.</b> {@code apply} blocks until the storage transaction is done and, for a durable
 * store, flushed as its {@link Durability} says. Reads do not wait for writers.
 *
 * <p><b>Failures.</b> Bad input (empty key, key over {@link io.craq.core.Limits#KEY_BYTES_MAX}
 * bytes, value over {@link #valueBytesMax()}, null value, version below 1) throws {@link
 * io.craq.core.Limits.InvalidInputException} and changes nothing. A failing storage throws {@link
 * StoreException} (unchecked; {@link StoreFullException} when out of room), after which the node
 * should stop. Using a closed store throws {@link StoreException}.
 */
public interface Storer extends StoreView, AutoCloseable {

  /** Keys per page the default streams read at a time. */
  int STREAM_PAGE_KEYS = 1024;

  /** Soft bound on value bytes per page the default streams read at a time. */
  long STREAM_PAGE_BYTES = 4L << 20;

  // ---------------------------------------------------------------- reads of one key

  /**
   * The newest version of {@code key}: absent, clean or dirty (go-craq's {@code Read}).
   *
   * @throws io.craq.core.Limits.InvalidInputException if the key is invalid
   */
  Newest readNewest(String key);

  /**
   * Version {@code version} of {@code key} if the store holds it, clean or dirty (go-craq's {@code
   * ReadVersion}).
   */
  Optional<VersionRecord> readVersion(String key, long version);

  /**
   * The newest committed version number of {@code key}, or {@link #NO_VERSION}. Cheap: one lookup,
   * no value is read. A committed tombstone counts.
   */
  @Override
  long committedVersion(String key);

  /**
   * The highest version number held for {@code key}, clean or dirty, or {@link #NO_VERSION}. The
   * head assigns the next version from it (CRAQ §2.3). Cheap: one lookup.
   */
  long newestVersion(String key);

  /** The newest committed version of {@code key} with its value, if any. */
  default Optional<VersionRecord> readCommitted(String key) {
    return Optional.ofNullable(committedRecord(key));
  }

  /**
   * The newest committed version of {@code key} with its value, or null (what {@link
   * #readCommitted} returns, without the Optional). The default looks the version up, then reads
   * it; a store that can do both in one lookup or snapshot should.
   */
  @Override
  default VersionRecord committedRecord(String key) {
    long version = committedVersion(key);
    return version == NO_VERSION ? null : readVersion(key, version).orElse(null);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Applies every operation of {@code batch} in one storage transaction (group commit). All or
   * nothing: if it throws, no operation was applied.
   *
   * <p><b>Durability on return:</b> for a durable store, everything the batch did is on disk as its
   * {@link Durability} says ({@link Durability#SYNC}: fsynced, survives power loss). For the
   * in-memory store, nothing is durable.
   *
   * @return one {@link Outcome} per operation; only {@link Outcome#APPLIED} changed anything
   * @throws io.craq.core.Limits.InvalidInputException if a value is over {@link #valueBytesMax()}
   *     (checked before anything is changed)
   * @throws StoreException if the storage fails; nothing was applied
   */
  BatchResult apply(Batch batch);

  /**
   * As {@link #apply}, except that the batch need not be durable on return: it becomes durable with
   * the next {@code apply} or {@link #sync()}, and a crash before then may lose it, and then every
   * batch applied after it as well (never a batch without those before it). Reads see it at once. A
   * store without a cheaper way to do this applies as usual (the default).
   */
  default BatchResult applyWithoutSync(Batch batch) {
    return apply(batch);
  }

  /** Writes one dirty version in its own storage transaction (go-craq's {@code Write}). */
  default Outcome writeDirty(String key, long version, byte[] value) {
    return apply(new Batch().putDirty(key, version, value)).outcome(0);
  }

  /** Commits one version in its own storage transaction (go-craq's {@code Commit}). */
  default Outcome commit(String key, long version) {
    return apply(new Batch().commit(key, version)).outcome(0);
  }

  /**
   * Forces every applied storage transaction to disk, whatever the {@link Durability}. No-op for
   * the in-memory store.
   */
  void sync();

  /**
   * The log sequence number of the last applied batch that carried one ({@link
   * Batch#logSequence(long)}), or {@link Batch#NO_LOG_SEQUENCE}. A durable store keeps it with the
   * batch, atomically: after a crash and a reopen it matches the batches that survived. This is how
   * a write-ahead log in front of the store ({@link LoggedStorer}) knows where its replay starts.
   */
  long logSequence();

  // ---------------------------------------------------------------- catch-up

  /**
   * Reads up to {@code keysMax} keys that sort after {@code afterKey} (from the first key when
   * null), each with its committed version and all its dirty versions with values. The page stops
   * early, after at least one key, once its values reach {@code bytesSoftMax}. Each page is a
   * consistent snapshot; successive pages are not one snapshot (a key written between two pages
   * appears if it sorts after the resume key).
   *
   * @throws IllegalArgumentException if {@code keysMax < 1} or {@code bytesSoftMax < 1}
   */
  @Override
  KeyPage readKeys(String afterKey, int keysMax, long bytesSoftMax);

  /**
   * Every key after {@code afterKey} (from the start when null), lazily, one page of {@link
   * #STREAM_PAGE_KEYS} keys at a time: memory use is bounded by a page, whatever the size of the
   * store. No resources are held between pages, so closing the stream is optional.
   */
  default Stream<KeyRecord> records(String afterKey) {
    return StreamSupport.stream(new PageSpliterator(this, afterKey), false);
  }

  /** Every committed version, in key order (go-craq's {@code AllCommitted}), lazily. */
  default Stream<VersionRecord> allCommitted() {
    return records(null).map(KeyRecord::committed).filter(Objects::nonNull);
  }

  /** Every dirty version, in key then version order (go-craq's {@code AllDirty}), lazily. */
  default Stream<VersionRecord> allDirty() {
    return records(null).flatMap(r -> r.dirty().stream());
  }

  /**
   * Every committed version whose key is not in {@code known} or is newer than {@code
   * known.get(key)} (go-craq's {@code AllNewerCommitted}), lazily.
   *
   * @param known for each key, the newest version the asking node has
   */
  default Stream<VersionRecord> allNewerCommitted(Map<String, Long> known) {
    Objects.requireNonNull(known, "known");
    return allCommitted().filter(v -> v.version() > known.getOrDefault(v.key(), NO_VERSION));
  }

  /**
   * Every dirty version whose key is not in {@code known} or is newer than {@code known.get(key)}
   * (go-craq's {@code AllNewerDirty}), lazily.
   */
  default Stream<VersionRecord> allNewerDirty(Map<String, Long> known) {
    Objects.requireNonNull(known, "known");
    return allDirty().filter(v -> v.version() > known.getOrDefault(v.key(), NO_VERSION));
  }

  // ---------------------------------------------------------------- lifecycle

  /** The largest value this store accepts, in bytes. */
  int valueBytesMax();

  /** True if versions survive {@link #close()} and a reopen of the same location. */
  boolean durable();

  /**
   * Releases the store. Waits for a running {@code apply} to finish; afterwards every call throws
   * {@link StoreException}. Idempotent.
   */
  @Override
  void close();

  /** Lazily pages through {@link #readKeys}; holds one page at a time. */
  final class PageSpliterator extends Spliterators.AbstractSpliterator<KeyRecord> {
    private final Storer store;
    private String afterKey;
    private Spliterator<KeyRecord> page = Spliterators.emptySpliterator();
    private boolean done;

    PageSpliterator(Storer store, String afterKey) {
      super(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT);
      this.store = store;
      this.afterKey = afterKey;
    }

    @Override
    public boolean tryAdvance(Consumer<? super KeyRecord> action) {
      while (true) {
        if (page.tryAdvance(action)) {
          return true;
        }
        if (done) {
          return false;
        }
        KeyPage next = store.readKeys(afterKey, STREAM_PAGE_KEYS, STREAM_PAGE_BYTES);
        page = next.records().spliterator();
        afterKey = next.resumeAfterKey();
        done = next.done();
      }
    }
  }
}

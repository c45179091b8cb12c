package io.craq.store;

import io.craq.core.message.VersionRecord;
import java.util.Objects;

/**
 * The newest version a store holds for one key (the answer to go-craq's {@code Read}): the key is
 * absent, its newest version is clean, or its newest version is dirty. A deleted key whose
 * tombstone is committed is {@link Clean} with {@code record().tombstone() == true}, never {@link
 * Absent}: the tombstone must keep winning over older versions held elsewhere.
 */
public sealed interface Newest {

  /** The store holds no version of the key. */
  record Absent() implements Newest {}

  /** The newest version is committed (clean): a strong read may return it (CRAQ §2.3). */
  record Clean(VersionRecord record) implements Newest {
    public Clean {
      Objects.requireNonNull(record, "record");
    }
  }

  /**
   * The newest version is dirty. A strong read must ask the tail which version is committed and
   * return that one with {@link Storer#readVersion}.
   *
   * @param record the newest dirty version
   * @param committedVersion the newest committed version held, or {@link Storer#NO_VERSION}
   */
  record Dirty(VersionRecord record, long committedVersion) implements Newest {
    public Dirty {
      Objects.requireNonNull(record, "record");
    }
  }

  /** The single {@link Absent} instance. */
  Newest ABSENT = new Absent();
}

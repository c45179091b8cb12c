package io.craq.core.node;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of one node's event counters, each counted since the {@link NodeMachine} was created
 * (the process start) and never decreasing. The machine counts every event in the one place it
 * happens, without clocks, so counts are deterministic. Meanings (also in docs/CLIENT.md):
 *
 * <p>Reads: every {@code ReadRequest} is counted exactly once, when it is answered, in one of
 * {@link #readsClean}, {@link #readsAfterQuery}, {@link #readsDirty} or {@link #readsRefused}
 * (reads still waiting for the tail are in none yet).
 *
 * @param readsClean reads answered from local state with a committed (clean) version, without
 *     asking the tail: a key with no dirty version (or an absent key) in any mode, any read at the
 *     tail, and eventual/bounded reads whose newest version is clean (CRAQ §2.3)
 * @param readsAfterQuery reads of a dirty key answered after a version query to the tail (strong
 *     reads, and bounded reads beyond their bound; CRAQ §2.3)
 * @param readsDirty eventual or bounded reads answered with a dirty version without asking the tail
 *     (CRAQ §2.4)
 * @param readsRefused reads answered with an error: not serving (not a member, catching up, no
 *     lease), invalid key, too many reads waiting, or the version query failed or timed out
 * @param versionQueriesSent version query messages sent to the tail (one batches many reads)
 * @param versionQueryKeysSent keys asked about in them (one per read waiting for the tail)
 * @param versionQueriesServed version queries this node answered as the tail
 * @param versionQueryKeysServed keys answered in them
 * @param versionQueriesRefused version queries refused (stale epoch, not the tail, no lease)
 * @param writesAccepted client writes and deletes this node numbered as the head (refused writes
 *     are not counted)
 * @param versionsCommitted versions that became this node's clean version: commits from the
 *     successor, versions stored at the tail, commits a new tail makes, and committed versions
 *     taken over during catch-up. A commit of version v also retires older dirty versions, which
 *     are not counted again
 * @param propagationsReceived propagate messages from the predecessor acted on (right epoch and
 *     sender)
 * @param propagatedVersionsReceived versions in them that were new here and were stored (duplicates
 *     and resends of versions held already are not counted)
 * @param versionsResent versions sent to the successor again because no commit came back within the
 *     retransmit timeout (lost messages; a chain that is only slow adapts its timeout)
 * @param multiWritesCommitted multi-key writes this node committed as the tail (each once, in the
 *     step that committed all its versions)
 * @param catchUpPagesReceived catch-up pages from the predecessor applied while this node caught up
 *     on a chain it joined (right epoch and request; a late or repeated page is not counted)
 * @param catchUpKeysReceived keys in those pages: what a join or a move copied to this node (a key
 *     it already held at the same or a newer version is counted too: it was sent)
 */
public record NodeCounters(
    long readsClean,
    long readsAfterQuery,
    long readsDirty,
    long readsRefused,
    long versionQueriesSent,
    long versionQueryKeysSent,
    long versionQueriesServed,
    long versionQueryKeysServed,
    long versionQueriesRefused,
    long writesAccepted,
    long versionsCommitted,
    long propagationsReceived,
    long propagatedVersionsReceived,
    long versionsResent,
    long catchUpPagesReceived,
    long catchUpKeysReceived,
    long multiWritesCommitted) {

  public static final String READS_CLEAN = "reads_clean";
  public static final String READS_AFTER_QUERY = "reads_after_query";
  public static final String READS_DIRTY = "reads_dirty";
  public static final String READS_REFUSED = "reads_refused";
  public static final String VERSION_QUERIES_SENT = "version_queries_sent";
  public static final String VERSION_QUERY_KEYS_SENT = "version_query_keys_sent";
  public static final String VERSION_QUERIES_SERVED = "version_queries_served";
  public static final String VERSION_QUERY_KEYS_SERVED = "version_query_keys_served";
  public static final String VERSION_QUERIES_REFUSED = "version_queries_refused";
  public static final String WRITES_ACCEPTED = "writes_accepted";
  public static final String VERSIONS_COMMITTED = "versions_committed";
  public static final String PROPAGATIONS_RECEIVED = "propagations_received";
  public static final String PROPAGATED_VERSIONS_RECEIVED = "propagated_versions_received";
  public static final String VERSIONS_RESENT = "versions_resent";
  public static final String CATCH_UP_PAGES_RECEIVED = "catch_up_pages_received";
  public static final String MULTI_WRITES_COMMITTED = "multi_writes_committed";
  public static final String CATCH_UP_KEYS_RECEIVED = "catch_up_keys_received";

  /** Every counter name, in the order of {@link #toMap()}. */
  public static final List<String> NAMES =
      List.of(
          READS_CLEAN,
          READS_AFTER_QUERY,
          READS_DIRTY,
          READS_REFUSED,
          VERSION_QUERIES_SENT,
          VERSION_QUERY_KEYS_SENT,
          VERSION_QUERIES_SERVED,
          VERSION_QUERY_KEYS_SERVED,
          VERSION_QUERIES_REFUSED,
          WRITES_ACCEPTED,
          VERSIONS_COMMITTED,
          PROPAGATIONS_RECEIVED,
          PROPAGATED_VERSIONS_RECEIVED,
          VERSIONS_RESENT,
          CATCH_UP_PAGES_RECEIVED,
          CATCH_UP_KEYS_RECEIVED,
          MULTI_WRITES_COMMITTED);

  /** All zero: a machine that has seen nothing yet. */
  public static final NodeCounters ZERO = new Tally().snapshot();

  /** The counters by name, in {@link #NAMES} order (unmodifiable); what a StatsReply carries. */
  public Map<String, Long> toMap() {
    Map<String, Long> map = new LinkedHashMap<>();
    map.put(READS_CLEAN, readsClean);
    map.put(READS_AFTER_QUERY, readsAfterQuery);
    map.put(READS_DIRTY, readsDirty);
    map.put(READS_REFUSED, readsRefused);
    map.put(VERSION_QUERIES_SENT, versionQueriesSent);
    map.put(VERSION_QUERY_KEYS_SENT, versionQueryKeysSent);
    map.put(VERSION_QUERIES_SERVED, versionQueriesServed);
    map.put(VERSION_QUERY_KEYS_SERVED, versionQueryKeysServed);
    map.put(VERSION_QUERIES_REFUSED, versionQueriesRefused);
    map.put(WRITES_ACCEPTED, writesAccepted);
    map.put(VERSIONS_COMMITTED, versionsCommitted);
    map.put(PROPAGATIONS_RECEIVED, propagationsReceived);
    map.put(PROPAGATED_VERSIONS_RECEIVED, propagatedVersionsReceived);
    map.put(VERSIONS_RESENT, versionsResent);
    map.put(CATCH_UP_PAGES_RECEIVED, catchUpPagesReceived);
    map.put(CATCH_UP_KEYS_RECEIVED, catchUpKeysReceived);
    map.put(MULTI_WRITES_COMMITTED, multiWritesCommitted);
    return Collections.unmodifiableMap(map);
  }

  /** These counters and {@code other} added up (the counters of a node's machines, say). */
  public NodeCounters plus(NodeCounters other) {
    return new NodeCounters(
        readsClean + other.readsClean,
        readsAfterQuery + other.readsAfterQuery,
        readsDirty + other.readsDirty,
        readsRefused + other.readsRefused,
        versionQueriesSent + other.versionQueriesSent,
        versionQueryKeysSent + other.versionQueryKeysSent,
        versionQueriesServed + other.versionQueriesServed,
        versionQueryKeysServed + other.versionQueryKeysServed,
        versionQueriesRefused + other.versionQueriesRefused,
        writesAccepted + other.writesAccepted,
        versionsCommitted + other.versionsCommitted,
        propagationsReceived + other.propagationsReceived,
        propagatedVersionsReceived + other.propagatedVersionsReceived,
        versionsResent + other.versionsResent,
        catchUpPagesReceived + other.catchUpPagesReceived,
        catchUpKeysReceived + other.catchUpKeysReceived,
        multiWritesCommitted + other.multiWritesCommitted);
  }

  /** Reads answered so far, refused ones included. */
  public long readsAnswered() {
    return readsClean + readsAfterQuery + readsDirty + readsRefused;
  }

  /** The mutable counters inside a machine: plain fields, one thread, no clocks. */
  static final class Tally {
    long readsClean;
    long readsAfterQuery;
    long readsDirty;
    long readsRefused;
    long versionQueriesSent;
    long versionQueryKeysSent;
    long versionQueriesServed;
    long versionQueryKeysServed;
    long versionQueriesRefused;
    long writesAccepted;
    long versionsCommitted;
    long propagationsReceived;
    long propagatedVersionsReceived;
    long versionsResent;
    long catchUpPagesReceived;
    long multiWritesCommitted;
    long catchUpKeysReceived;

    NodeCounters snapshot() {
      return new NodeCounters(
          readsClean,
          readsAfterQuery,
          readsDirty,
          readsRefused,
          versionQueriesSent,
          versionQueryKeysSent,
          versionQueriesServed,
          versionQueryKeysServed,
          versionQueriesRefused,
          writesAccepted,
          versionsCommitted,
          propagationsReceived,
          propagatedVersionsReceived,
          versionsResent,
          catchUpPagesReceived,
          catchUpKeysReceived,
          multiWritesCommitted);
    }
  }
}

package io.craq.core.message;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every message of the CRAQ protocol. Each record has a fixed wire {@link #tag()} that is never
 * reused; codecs dispatch with an exhaustive {@code switch}, so a new type is a compile error until
 * every codec and handler knows it.
 *
 * <p>Tags 1-19: client requests and replies. 20-39: node to node. 40-59: node/client and
 * coordinator. 60: the envelope that names a chain ({@link Chained}). Client requests travel as
 * transport requests and are answered with a reply message or {@link ErrorReply}; node-to-node
 * messages are one-way and carry the sender's epoch and id, with correlation ids inside the message
 * where an answer is expected.
 */
public sealed interface Message
    permits Message.NodeRequest,
        Message.NodeMessage,
        Message.CoordinatorRequest,
        Message.Reply,
        Message.MapRequest,
        Message.NodeHello,
        Message.AuthRequest,
        Message.Chained {

  /** The fixed wire tag of this message type. */
  int tag();

  // ---------------------------------------------------------------- families
  // A handler switches over its family without a default branch: a new message type of the
  // family is a compile error in every handler until it is handled.

  /** A request a node answers (from a client, or forwarded by the coordinator). */
  sealed interface NodeRequest extends Message
      permits WriteRequest,
          MultiWriteRequest,
          IncrementRequest,
          AppendRequest,
          ReadRequest,
          ReadAllRequest,
          ChainRequest,
          StatsRequest {}

  /** A one-way message a node acts on: from a peer, or pushed by the coordinator. */
  sealed interface NodeMessage extends Message permits PeerMessage, CoordinatorPush {}

  /** A one-way message between the nodes of a chain; carries the sender's epoch and id. */
  sealed interface PeerMessage extends NodeMessage
      permits Propagate,
          Commit,
          Durable,
          VersionQuery,
          VersionReply,
          CatchUpRequest,
          CatchUpBatch {}

  /** What the coordinator tells a node: a new configuration, or its answer to a heartbeat. */
  sealed interface CoordinatorPush extends NodeMessage permits ConfigPush, HeartbeatReply {}

  /**
   * A request the coordinator's state machine answers (writes sent to the coordinator are forwarded
   * to the head by its driver, as {@link NodeRequest}s).
   */
  sealed interface CoordinatorRequest extends Message
      permits JoinRequest, Heartbeat, LeaveRequest, ChainRequest {}

  /** The answer to a request. */
  sealed interface Reply extends Message
      permits WriteReply,
          MultiWriteReply,
          UpdateReply,
          ReadReply,
          ReadAllReply,
          ErrorReply,
          ChainReply,
          StatsReply,
          HeartbeatReply,
          MapReply,
          AuthReply {}

  /** Version constant for {@link WriteRequest#expectedVersion()}: write unconditionally. */
  long ANY_VERSION = -1;

  // ---------------------------------------------------------------- client <-> node / coordinator

  /**
   * A write or delete. {@code expectedVersion} makes it conditional (CRAQ §4.1 test-and-set): it
   * applies only if the key's committed version equals it ({@code 0} = key absent or deleted) and
   * no dirty version is outstanding; {@link #ANY_VERSION} writes unconditionally.
   */
  record WriteRequest(String key, byte[] value, boolean delete, long expectedVersion)
      implements NodeRequest {
    public static final int TAG = 1;

    public WriteRequest {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public int tag() {
      return TAG;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WriteRequest w
          && key.equals(w.key)
          && Arrays.equals(value, w.value)
          && delete == w.delete
          && expectedVersion == w.expectedVersion;
    }

    @Override
    public int hashCode() {
      return Objects.hash(key, delete, expectedVersion) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "WriteRequest["
          + key
          + (delete ? " delete" : " " + value.length + " bytes")
          + (expectedVersion == ANY_VERSION ? "" : " if-version " + expectedVersion)
          + "]";
    }
  }

  /** A write or delete committed as {@code version}. */
  record WriteReply(String key, long version) implements Reply {
    public static final int TAG = 2;

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * A multi-key write of keys that share one chain (CRAQ §4.2 single-chain mini-transaction): every
   * write applies, or none does. The head takes it as one step and gives each key its next version;
   * the tail commits those versions together. Each write may be conditional on its key's version
   * ({@link WriteRequest#expectedVersion()}); if any condition fails, nothing is written and the
   * answer is {@link ErrorCode#VERSION_MISMATCH} naming the key. Keys must be distinct, at most
   * {@link io.craq.core.Limits#MULTI_WRITE_KEYS_MAX}, and of one chain (a shared {@code {hash tag}}
   * makes sure of it); keys of different chains are refused with {@link ErrorCode#INVALID_REQUEST}.
   */
  record MultiWriteRequest(List<WriteRequest> writes) implements NodeRequest {
    public static final int TAG = 12;

    public MultiWriteRequest {
      writes = List.copyOf(writes);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** A multi-key write committed: each key's version, in the order of the request. */
  record MultiWriteReply(List<KeyVersion> versions) implements Reply {
    public static final int TAG = 13;

    public MultiWriteReply {
      versions = List.copyOf(versions);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * CRAQ §4.1 read-modify-write: adds {@code delta} to the key's integer value, atomically at the
   * head. The head reads the key's newest version (dirty included; absent or deleted counts as 0),
   * parses it as a signed 64-bit decimal integer as Redis does (no spaces, no '+', no leading
   * zeros, no "-0", at most 20 bytes), and writes the sum as a new version, in decimal. Answered
   * with {@link UpdateReply} (the new integer) once that version is committed; a value that is not
   * such an integer, or a sum that overflows, is refused with {@link ErrorCode#NOT_AN_INTEGER}.
   */
  record IncrementRequest(String key, long delta) implements NodeRequest {
    public static final int TAG = 14;

    public IncrementRequest {
      Objects.requireNonNull(key, "key");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * CRAQ §4.1 read-modify-write: appends {@code suffix} to the key's value, atomically at the head.
   * The head writes the newest version's value (dirty included; absent or deleted counts as empty)
   * followed by {@code suffix} as a new version. Answered with {@link UpdateReply} (the new length
   * in bytes) once that version is committed; a result over the value limit is refused with {@link
   * ErrorCode#INVALID_REQUEST}.
   */
  record AppendRequest(String key, byte[] suffix) implements NodeRequest {
    public static final int TAG = 15;

    public AppendRequest {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(suffix, "suffix");
    }

    @Override
    public int tag() {
      return TAG;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof AppendRequest a && key.equals(a.key) && Arrays.equals(suffix, a.suffix);
    }

    @Override
    public int hashCode() {
      return key.hashCode() * 31 + Arrays.hashCode(suffix);
    }

    @Override
    public String toString() {
      return "AppendRequest[" + key + " " + suffix.length + " bytes]";
    }
  }

  /**
   * An increment or append committed as {@code version}: {@code result} is the new integer for an
   * {@link IncrementRequest}, the new value's length in bytes for an {@link AppendRequest}.
   */
  record UpdateReply(String key, long version, long result) implements Reply {
    public static final int TAG = 16;

    public UpdateReply {
      Objects.requireNonNull(key, "key");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** A read in the given mode; {@code bound} is the allowed number of dirty versions (BOUNDED). */
  record ReadRequest(String key, ReadMode mode, long bound) implements NodeRequest {
    public static final int TAG = 3;

    public ReadRequest {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(mode, "mode");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * The answer to a read. {@code found} is false when the key was never written or its newest
   * readable version is a delete (then {@code version} is the delete's version, or 0). {@code
   * dirty} is true only for eventual and bounded reads that returned a dirty version.
   */
  record ReadReply(String key, boolean found, long version, byte[] value, boolean dirty)
      implements Reply {
    public static final int TAG = 4;

    public ReadReply {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public int tag() {
      return TAG;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ReadReply r
          && key.equals(r.key)
          && found == r.found
          && version == r.version
          && Arrays.equals(value, r.value)
          && dirty == r.dirty;
    }

    @Override
    public int hashCode() {
      return Objects.hash(key, found, version, dirty) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "ReadReply["
          + key
          + (found ? "@" + version + " " + value.length + " bytes" : " absent")
          + (dirty ? " dirty" : "")
          + "]";
    }
  }

  /** One page of all committed keys after {@code afterKey} ("" = from the start), in key order. */
  record ReadAllRequest(String afterKey, int limit) implements NodeRequest {
    public static final int TAG = 5;

    public ReadAllRequest {
      Objects.requireNonNull(afterKey, "afterKey");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** A page of committed, non-deleted keys; {@code more} says whether another page follows. */
  record ReadAllReply(List<VersionRecord> entries, boolean more) implements Reply {
    public static final int TAG = 6;

    public ReadAllReply {
      entries = List.copyOf(entries);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** A refused request: a code, a human message and an optional hint (e.g. the head's address). */
  record ErrorReply(ErrorCode code, String message, String hint) implements Reply {
    public static final int TAG = 7;

    public ErrorReply {
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(hint, "hint");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** Asks the coordinator (or any node) for the current chain configuration. */
  record ChainRequest() implements NodeRequest, CoordinatorRequest {
    public static final int TAG = 8;

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** The current chain configuration. */
  record ChainReply(ChainConfig config) implements Reply {
    public static final int TAG = 9;

    public ChainReply {
      Objects.requireNonNull(config, "config");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** Asks a node for its event counters; the coordinator refuses it (UNSUPPORTED). */
  record StatsRequest() implements NodeRequest {
    public static final int TAG = 10;

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * A node's event counters since it started, by name (in the node's order), with its id, epoch and
   * role ({@code head}, {@code middle}, {@code tail}, {@code head+tail}, {@code catching-up} or
   * {@code outside}). At most {@link #COUNTERS_MAX} counters; names are 1 to {@link
   * #COUNTER_NAME_BYTES_MAX} printable ASCII characters without spaces; values are >= 0.
   */
  record StatsReply(String nodeId, long epoch, String role, Map<String, Long> counters)
      implements Reply {
    public static final int TAG = 11;
    public static final int COUNTERS_MAX = 64;
    public static final int COUNTER_NAME_BYTES_MAX = 64;

    public StatsReply {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(counters, "counters");
      if (counters.size() > COUNTERS_MAX) {
        throw new IllegalArgumentException(counters.size() + " counters, at most " + COUNTERS_MAX);
      }
      Map<String, Long> copy = new LinkedHashMap<>();
      for (Map.Entry<String, Long> e : counters.entrySet()) {
        checkCounterName(e.getKey());
        Long value = Objects.requireNonNull(e.getValue(), "counter value");
        if (value < 0) {
          throw new IllegalArgumentException("counter " + e.getKey() + " is negative: " + value);
        }
        copy.put(e.getKey(), value);
      }
      counters = Collections.unmodifiableMap(copy);
    }

    /** Refuses a name that is empty, too long, or not printable ASCII without spaces. */
    public static void checkCounterName(String name) {
      Objects.requireNonNull(name, "counter name");
      if (name.isEmpty() || name.length() > COUNTER_NAME_BYTES_MAX) {
        throw new IllegalArgumentException(
            "counter name must be 1 to " + COUNTER_NAME_BYTES_MAX + " characters: '" + name + "'");
      }
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        if (c <= ' ' || c > '~') {
          throw new IllegalArgumentException(
              "counter name must be printable ASCII without " + "spaces: '" + name + "'");
        }
      }
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  // ------------------------------------------------------------------------------ node <-> node

  /** Versions sent down the chain, oldest first per key (CRAQ §2.3). */
  record Propagate(long epoch, String from, List<VersionRecord> versions) implements PeerMessage {
    public static final int TAG = 20;

    public Propagate {
      Objects.requireNonNull(from, "from");
      versions = List.copyOf(versions);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** Commits sent up the chain: each version is now committed, older ones may be dropped. */
  record Commit(long epoch, String from, List<KeyVersion> versions) implements PeerMessage {
    public static final int TAG = 21;

    public Commit {
      Objects.requireNonNull(from, "from");
      versions = List.copyOf(versions);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * Sent down the chain: each version (sent earlier in a {@link Propagate}) is now durable in the
   * sender's store and in the store of every node above it. A node forwards a version before its
   * own store has made it durable, so the tail commits a version only when it has made it durable
   * itself and this message says every node above has too.
   */
  record Durable(long epoch, String from, List<KeyVersion> versions) implements PeerMessage {
    public static final int TAG = 26;

    public Durable {
      Objects.requireNonNull(from, "from");
      versions = List.copyOf(versions);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** Asks the tail for its committed version of each key (CRAQ §2.3, dirty read). */
  record VersionQuery(long epoch, String from, long queryId, List<String> keys)
      implements PeerMessage {
    public static final int TAG = 22;

    public VersionQuery {
      Objects.requireNonNull(from, "from");
      keys = List.copyOf(keys);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * The tail's answer to a {@link VersionQuery}: committed versions (0 = none) in query order if
   * {@code error} is null, else why it refused (not the tail in that epoch, no lease, ...).
   */
  record VersionReply(
      long epoch, String from, long queryId, List<KeyVersion> versions, ErrorCode error)
      implements PeerMessage {
    public static final int TAG = 23;

    public VersionReply {
      Objects.requireNonNull(from, "from");
      versions = List.copyOf(versions);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** Asks a neighbour for the state of up to {@code keysMax} keys after {@code afterKey}. */
  record CatchUpRequest(long epoch, String from, long requestId, String afterKey, int keysMax)
      implements PeerMessage {
    public static final int TAG = 24;

    public CatchUpRequest {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(afterKey, "afterKey");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** One bounded page of catch-up state; {@code done} when no key follows the last one. */
  record CatchUpBatch(long epoch, String from, long requestId, List<KeyRecord> keys, boolean done)
      implements PeerMessage {
    public static final int TAG = 25;

    public CatchUpBatch {
      Objects.requireNonNull(from, "from");
      keys = List.copyOf(keys);
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  // ------------------------------------------------------------------- node/client <-> coordinator

  /**
   * A node asks to join the chain (or re-join after a restart). {@code position} is the index it
   * wants (0 = head); {@code -1} or anything past the end means the tail. {@code incarnation}
   * differs for every start of the node process, so a duplicated request is told apart from a
   * restart.
   */
  record JoinRequest(String nodeId, String address, int position, long incarnation)
      implements CoordinatorRequest {
    public static final int TAG = 40;

    public JoinRequest {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(address, "address");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * A node tells the coordinator it is alive and whether it has caught up; {@code seq} matches the
   * reply to the request.
   */
  record Heartbeat(String nodeId, long epoch, long seq, boolean caughtUp)
      implements CoordinatorRequest {
    public static final int TAG = 41;

    public Heartbeat {
      Objects.requireNonNull(nodeId, "nodeId");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * The coordinator's answer to a heartbeat or join: the current configuration and whether the node
   * is a member (only a member's lease is renewed).
   */
  record HeartbeatReply(String nodeId, long seq, boolean member, ChainConfig config)
      implements Reply, CoordinatorPush {
    public static final int TAG = 42;

    public HeartbeatReply {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(config, "config");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * Asks the coordinator to remove a node from the chain at once, for a planned removal. No process
   * sends it on its own today (a stopping node does not; it is removed when its heartbeats stop);
   * the membership fault suite sends it before stopping a node.
   */
  record LeaveRequest(String nodeId) implements CoordinatorRequest {
    public static final int TAG = 43;

    public LeaveRequest {
      Objects.requireNonNull(nodeId, "nodeId");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** The coordinator pushes a new configuration to a node. */
  record ConfigPush(ChainConfig config) implements CoordinatorPush {
    public static final int TAG = 44;

    public ConfigPush {
      Objects.requireNonNull(config, "config");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  // ---------------------------------------------------------------- authentication

  /**
   * Authenticates the connection it arrives on as {@code user} with the password or token {@code
   * secret}. The transport answers it itself, before any later message of the connection is
   * handled: {@link AuthReply} on success, {@link ErrorReply} with {@link
   * ErrorCode#UNAUTHENTICATED} otherwise. The secret never appears in {@link #toString()}.
   */
  record AuthRequest(String user, byte[] secret) implements Message {
    public static final int TAG = 17;

    public AuthRequest {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(secret, "secret");
    }

    @Override
    public int tag() {
      return TAG;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof AuthRequest a && user.equals(a.user) && Arrays.equals(secret, a.secret);
    }

    @Override
    public int hashCode() {
      return user.hashCode() * 31 + Arrays.hashCode(secret);
    }

    @Override
    public String toString() {
      return "AuthRequest[" + user + " (secret hidden)]";
    }
  }

  /** The connection is now authenticated as {@code user}, whose role is {@code role}. */
  record AuthReply(String user, String role) implements Reply {
    public static final int TAG = 18;

    public AuthReply {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(role, "role");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  // ---------------------------------------------------------------- many chains

  /**
   * Asks the coordinator (or any node) for the cluster's chain map; answered with {@link MapReply}.
   */
  record MapRequest() implements Message {
    public static final int TAG = 45;

    @Override
    public int tag() {
      return TAG;
    }
  }

  /** The cluster's chain map, as the answering process knows it. */
  record MapReply(ChainMap map) implements Reply {
    public static final int TAG = 46;

    public MapReply {
      Objects.requireNonNull(map, "map");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * A node process tells the coordinator it is alive and where it listens: it joins the pool the
   * chains are placed on, and stays in it while these keep coming. {@code incarnation} differs for
   * every start of the process; {@code mapVersion} is the newest map the node knows. Answered with
   * {@link MapReply}.
   */
  record NodeHello(String nodeId, String address, long incarnation, long mapVersion)
      implements Message {
    public static final int TAG = 47;

    public NodeHello {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(address, "address");
    }

    @Override
    public int tag() {
      return TAG;
    }
  }

  /**
   * A message of one chain: node-to-node traffic, a node's join, heartbeat or leave for that chain,
   * the coordinator's configuration pushes, and a client's read-all or chain request aimed at one
   * chain. Each chain runs the protocol on its own (its own epoch and members), so every message
   * that belongs to a chain travels in this envelope. Replies are never wrapped (the requester
   * knows what it asked), and client reads and writes need no envelope (the key names its chain).
   * Envelopes do not nest.
   */
  record Chained(int chain, Message message) implements Message {
    public static final int TAG = 60;

    public Chained {
      Objects.requireNonNull(message, "message");
      if (chain < 0) {
        throw new IllegalArgumentException("chain must be >= 0: " + chain);
      }
      if (message instanceof Chained) {
        throw new IllegalArgumentException("envelopes do not nest");
      }
    }

    @Override
    public int tag() {
      return TAG;
    }
  }
}

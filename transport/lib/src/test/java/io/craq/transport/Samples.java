package io.craq.transport;

import io.craq.core.Limits;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.AppendRequest;
import io.craq.core.message.Message.AuthReply;
import io.craq.core.message.Message.AuthRequest;
import io.craq.core.message.Message.CatchUpBatch;
import io.craq.core.message.Message.CatchUpRequest;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.Commit;
import io.craq.core.message.Message.ConfigPush;
import io.craq.core.message.Message.Durable;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.Heartbeat;
import io.craq.core.message.Message.HeartbeatReply;
import io.craq.core.message.Message.IncrementRequest;
import io.craq.core.message.Message.JoinRequest;
import io.craq.core.message.Message.LeaveRequest;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.Propagate;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.UpdateReply;
import io.craq.core.message.Message.VersionQuery;
import io.craq.core.message.Message.VersionReply;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Example messages of every type, fixed or seeded-random, for codec and transport tests. */
public final class Samples {
  private Samples() {}

  private static final MessageCodec CODEC = new MessageCodec(TransportConfig.DEFAULT);

  /** True if {@code a} and {@code b} encode to the same bytes (equality for any message). */
  public static boolean sameMessage(Message a, Message b) {
    return Arrays.equals(CODEC.encode(a), CODEC.encode(b));
  }

  /** One message of every type, with non-trivial contents. */
  public static List<Message> all() {
    return all(new Random(42));
  }

  /** One random message of every type. */
  public static List<Message> all(Random random) {
    List<Message> list = new ArrayList<>();
    for (int tag : tags()) {
      list.add(random(random, tag));
    }
    return list;
  }

  /** Every wire tag in use. */
  public static int[] tags() {
    return new int[] {
      WriteRequest.TAG,
      WriteReply.TAG,
      MultiWriteRequest.TAG,
      MultiWriteReply.TAG,
      IncrementRequest.TAG,
      AppendRequest.TAG,
      UpdateReply.TAG,
      AuthRequest.TAG,
      AuthReply.TAG,
      ReadRequest.TAG,
      ReadReply.TAG,
      ReadAllRequest.TAG,
      ReadAllReply.TAG,
      ErrorReply.TAG,
      ChainRequest.TAG,
      ChainReply.TAG,
      StatsRequest.TAG,
      StatsReply.TAG,
      Propagate.TAG,
      Commit.TAG,
      Durable.TAG,
      VersionQuery.TAG,
      VersionReply.TAG,
      CatchUpRequest.TAG,
      CatchUpBatch.TAG,
      JoinRequest.TAG,
      Heartbeat.TAG,
      HeartbeatReply.TAG,
      LeaveRequest.TAG,
      ConfigPush.TAG,
      MapRequest.TAG,
      MapReply.TAG,
      NodeHello.TAG,
      Chained.TAG
    };
  }

  public static Message random(Random r) {
    int[] tags = tags();
    return random(r, tags[r.nextInt(tags.length)]);
  }

  public static Message random(Random r, int tag) {
    return switch (tag) {
      case WriteRequest.TAG -> new WriteRequest(key(r), bytes(r), r.nextBoolean(), r.nextLong());
      case WriteReply.TAG -> new WriteReply(key(r), r.nextLong());
      case MultiWriteRequest.TAG -> new MultiWriteRequest(writes(r));
      case MultiWriteReply.TAG -> new MultiWriteReply(keyVersions(r));
      case IncrementRequest.TAG -> new IncrementRequest(key(r), r.nextLong());
      case AppendRequest.TAG -> new AppendRequest(key(r), bytes(r));
      case UpdateReply.TAG -> new UpdateReply(key(r), r.nextLong(), r.nextLong());
      case AuthRequest.TAG -> new AuthRequest(key(r), bytes(r));
      case AuthReply.TAG -> new AuthReply(key(r), key(r));
      case ReadRequest.TAG ->
          new ReadRequest(
              key(r), ReadMode.values()[r.nextInt(ReadMode.values().length)], r.nextLong());
      case ReadReply.TAG ->
          new ReadReply(key(r), r.nextBoolean(), r.nextLong(), bytes(r), r.nextBoolean());
      case ReadAllRequest.TAG -> new ReadAllRequest(r.nextBoolean() ? "" : key(r), r.nextInt());
      case ReadAllReply.TAG -> new ReadAllReply(versions(r), r.nextBoolean());
      case ErrorReply.TAG ->
          new ErrorReply(
              ErrorCode.values()[r.nextInt(ErrorCode.values().length)], text(r), text(r));
      case ChainRequest.TAG -> new ChainRequest();
      case ChainReply.TAG -> new ChainReply(config(r));
      case StatsRequest.TAG -> new StatsRequest();
      case StatsReply.TAG ->
          new StatsReply(
              text(r), r.nextLong() & Long.MAX_VALUE, ROLES[r.nextInt(ROLES.length)], counters(r));
      case Propagate.TAG -> new Propagate(r.nextLong(), text(r), versions(r));
      case Commit.TAG -> new Commit(r.nextLong(), text(r), keyVersions(r));
      case Durable.TAG -> new Durable(r.nextLong(), text(r), keyVersions(r));
      case VersionQuery.TAG ->
          new VersionQuery(r.nextLong(), text(r), r.nextLong(), List.of(key(r), key(r)));
      case VersionReply.TAG ->
          new VersionReply(
              r.nextLong(),
              text(r),
              r.nextLong(),
              keyVersions(r),
              r.nextBoolean() ? null : ErrorCode.NOT_TAIL);
      case CatchUpRequest.TAG ->
          new CatchUpRequest(
              r.nextLong(), text(r), r.nextLong(), r.nextBoolean() ? "" : key(r), r.nextInt());
      case CatchUpBatch.TAG ->
          new CatchUpBatch(
              r.nextLong(),
              text(r),
              r.nextLong(),
              List.of(new KeyRecord(key(r), r.nextBoolean() ? version(r) : null, versions(r))),
              r.nextBoolean());
      case JoinRequest.TAG -> new JoinRequest(text(r), text(r), r.nextInt(), r.nextLong());
      case Heartbeat.TAG -> new Heartbeat(text(r), r.nextLong(), r.nextLong(), r.nextBoolean());
      case HeartbeatReply.TAG ->
          new HeartbeatReply(text(r), r.nextLong(), r.nextBoolean(), config(r));
      case LeaveRequest.TAG -> new LeaveRequest(text(r));
      case ConfigPush.TAG -> new ConfigPush(config(r));
      case MapRequest.TAG -> new MapRequest();
      case MapReply.TAG -> new MapReply(map(r));
      case NodeHello.TAG -> new NodeHello(text(r), text(r), r.nextLong(), r.nextLong());
      case Chained.TAG ->
          new Chained(
              r.nextInt(3) == 0 ? r.nextInt() & Integer.MAX_VALUE : r.nextInt(8),
              random(r, innerTag(r)));
      default -> throw new IllegalArgumentException("no sample for tag " + tag);
    };
  }

  /** A random tag of a message that may travel in a {@link Chained}: any but Chained itself. */
  static int innerTag(Random r) {
    int[] tags = tags();
    int tag;
    do {
      tag = tags[r.nextInt(tags.length)];
    } while (tag == Chained.TAG);
    return tag;
  }

  private static final String[] ROLES = {
    "head", "middle", "tail", "head+tail", "catching-up", "outside"
  };

  private static final String[] COUNTER_NAMES = {
    "reads_clean",
    "reads_after_query",
    "x",
    "version_query_keys_sent",
    "a.b-c/d~!",
    "c".repeat(StatsReply.COUNTER_NAME_BYTES_MAX)
  };

  /** Up to all of {@link #COUNTER_NAMES}, in random order, with random non-negative values. */
  static Map<String, Long> counters(Random r) {
    Map<String, Long> counters = new LinkedHashMap<>();
    for (int i = r.nextInt(COUNTER_NAMES.length + 1); i > 0; i--) {
      counters.put(
          COUNTER_NAMES[r.nextInt(COUNTER_NAMES.length)],
          r.nextBoolean() ? r.nextInt(1000) : r.nextLong() & Long.MAX_VALUE);
    }
    return counters;
  }

  private static final String[] WORDS = {"a", "key", "clé", "ключ", "键", "🔑", "x y", "0"};

  static String key(Random r) {
    StringBuilder sb = new StringBuilder();
    int parts = 1 + r.nextInt(4);
    for (int i = 0; i < parts; i++) {
      sb.append(WORDS[r.nextInt(WORDS.length)]);
    }
    return sb.toString();
  }

  static String text(Random r) {
    return r.nextInt(4) == 0 ? "" : key(r);
  }

  static byte[] bytes(Random r) {
    byte[] b = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(100)];
    r.nextBytes(b);
    return b;
  }

  /** A version of a single-key write, or one in four times of a multi-key write (grouped). */
  static VersionRecord version(Random r) {
    boolean tombstone = r.nextInt(4) == 0;
    String key = key(r);
    long version = r.nextLong();
    byte[] value = tombstone ? new byte[0] : bytes(r);
    if (r.nextInt(4) != 0) {
      return new VersionRecord(key, version, tombstone, value);
    }
    // The group holds this version and 1 to 15 others (rarely the most a group may have).
    int size = r.nextInt(8) == 0 ? Limits.MULTI_WRITE_KEYS_MAX : 2 + r.nextInt(3);
    List<KeyVersion> group = new ArrayList<>();
    for (int i = 1; i < size; i++) {
      group.add(new KeyVersion(key(r) + i, r.nextLong()));
    }
    group.add(r.nextInt(size), new KeyVersion(key, version));
    return new VersionRecord(key, version, tombstone, value, group);
  }

  /** The writes of a multi-key write: 1 to 4, or rarely the most one may have. */
  static List<WriteRequest> writes(Random r) {
    int count = r.nextInt(8) == 0 ? Limits.MULTI_WRITE_KEYS_MAX : 1 + r.nextInt(4);
    List<WriteRequest> writes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      writes.add(new WriteRequest(key(r) + i, bytes(r), r.nextBoolean(), r.nextLong()));
    }
    return writes;
  }

  static List<VersionRecord> versions(Random r) {
    List<VersionRecord> list = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      list.add(version(r));
    }
    return list;
  }

  static List<KeyVersion> keyVersions(Random r) {
    List<KeyVersion> list = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      list.add(new KeyVersion(key(r), r.nextLong()));
    }
    return list;
  }

  static ChainConfig config(Random r) {
    List<Member> members = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      members.add(new Member("n" + i, "127.0.0.1:" + (7000 + i), i, 100 + i, i % 2 == 0));
    }
    return new ChainConfig(r.nextLong() & Long.MAX_VALUE, members);
  }

  /** A map of 1 to 5 random chains over a pool of up to 4 nodes. */
  static ChainMap map(Random r) {
    List<ChainConfig> chains = new ArrayList<>();
    for (int i = 1 + r.nextInt(5); i > 0; i--) {
      chains.add(config(r));
    }
    List<PoolNode> pool = new ArrayList<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      pool.add(new PoolNode(text(r), "127.0.0.1:" + (7000 + i), r.nextLong(), r.nextBoolean()));
    }
    return new ChainMap(r.nextLong() & Long.MAX_VALUE, 1 + r.nextInt(5), chains, pool);
  }
}

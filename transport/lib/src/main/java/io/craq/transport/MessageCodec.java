package io.craq.transport;

import io.craq.core.Limits;
import io.craq.core.chain.KeySlots;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hand-written binary encoding of every {@link Message} (body layouts in docs/PROTOCOL.md §3) and
 * of whole frames. Stateless and thread-safe.
 *
 * <p>Encoding checks only that the frame fits in {@code frameBytesMax}; decoding validates
 * everything (lengths and counts against the bytes that remain, keys with {@code Limits.checkKey},
 * values against {@code valueBytesMax}, enum codes, no trailing bytes) and refuses bad input with
 * {@link ProtocolException}, never with another exception.
 */
public final class MessageCodec {
  /** Largest non-key text field (ids, addresses, error messages, hints), in UTF-8 bytes. */
  public static final int TEXT_BYTES_MAX = 64 << 10;

  private static final int STRING_BYTES_MIN = 4;

  /** Bits of a version's flags byte (once a tombstone boolean, which bit 0 still is). */
  private static final int FLAG_TOMBSTONE = 1;

  private static final int FLAG_GROUPED = 2;
  private static final int KEY_BYTES_MIN = 5;
  private static final int VERSION_RECORD_BYTES_MIN = KEY_BYTES_MIN + 8 + 1 + 4;
  private static final int KEY_VERSION_BYTES_MIN = KEY_BYTES_MIN + 8;
  private static final int KEY_RECORD_BYTES_MIN = KEY_BYTES_MIN + 1 + 4;
  private static final int MEMBER_BYTES_MIN = 2 * STRING_BYTES_MIN + 17;
  private static final int COUNTER_BYTES_MIN = STRING_BYTES_MIN + 1 + 8;
  private static final int CHAIN_CONFIG_BYTES_MIN = 8 + 4;
  private static final int POOL_NODE_BYTES_MIN = 2 * STRING_BYTES_MIN + 8 + 1;

  /**
   * Frames are encoded into one buffer per platform thread (virtual threads, which may be many and
   * short-lived, get a small fresh one), reused, and copied out at their exact size: a frame of
   * many versions (a propagate carrying a batch) no longer grows a fresh buffer by doubling and
   * copying, which cost about 5% of a node's Java CPU under a write load.
   */
  private static final int SCRATCH_BYTES = 64 << 10;

  /** A scratch buffer grown past this by a large frame is dropped after that frame. */
  private static final int SCRATCH_KEEP_BYTES_MAX = 1 << 20;

  private final ThreadLocal<ByteWriter> scratch;
  private final int frameBytesMax;
  private final int valueBytesMax;

  public MessageCodec(TransportConfig config) {
    this.frameBytesMax = config.frameBytesMax();
    this.scratch = ThreadLocal.withInitial(() -> new ByteWriter(SCRATCH_BYTES, frameBytesMax));
    this.valueBytesMax = config.valueBytesMax();
  }

  /** A decoded frame. */
  public record Frame(Frames.Header header, Message message) {}

  // ------------------------------------------------------------------------------------ frames

  /**
   * Encodes a whole frame: header and body.
   *
   * @throws MessageTooLargeException if it exceeds {@code frameBytesMax}
   */
  public byte[] encodeFrame(int kind, long requestId, Message message) {
    if (Thread.currentThread().isVirtual()) {
      return encodeFrame(kind, requestId, message, new ByteWriter(256, frameBytesMax));
    }
    ByteWriter out = scratch.get();
    out.reset();
    try {
      return encodeFrame(kind, requestId, message, out);
    } finally {
      if (out.capacity() > SCRATCH_KEEP_BYTES_MAX) {
        scratch.remove(); // one large frame does not pin a large buffer to the thread
      }
    }
  }

  private byte[] encodeFrame(int kind, long requestId, Message message, ByteWriter out) {
    out.skip(Frames.HEADER_BYTES);
    encodeBody(message, out);
    byte[] frame = out.copy();
    Frames.writeHeader(frame, kind, message.tag(), requestId, frame.length - Frames.HEADER_BYTES);
    return frame;
  }

  /**
   * Decodes exactly one whole frame (no bytes before or after it).
   *
   * @throws ProtocolException if it is malformed in any way
   */
  public Frame decodeFrame(byte[] frame) {
    if (frame.length < Frames.HEADER_BYTES) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          true,
          "truncated header: " + frame.length + " of " + Frames.HEADER_BYTES + " bytes");
    }
    Frames.Header header = Frames.parseHeader(frame, 0, frameBytesMax);
    int available = frame.length - Frames.HEADER_BYTES;
    if (available < header.bodyLength()) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          true,
          "truncated body: " + available + " of " + header.bodyLength() + " bytes");
    }
    if (available > header.bodyLength()) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          true,
          (available - header.bodyLength()) + " bytes after the frame");
    }
    return new Frame(
        header, decodeBody(header.type(), frame, Frames.HEADER_BYTES, header.bodyLength()));
  }

  /** Encodes {@code message} as a one-way frame. */
  public byte[] encode(Message message) {
    return encodeFrame(Frames.KIND_ONE_WAY, 0, message);
  }

  /** Decodes a whole frame made by {@link #encode} (or any kind) and returns its message. */
  public Message decode(byte[] frame) {
    return decodeFrame(frame).message();
  }

  // ---------------------------------------------------------------------------------- encoding

  private void encodeBody(Message message, ByteWriter out) {
    switch (message) {
      case WriteRequest m -> {
        out.string(m.key());
        out.bytes(m.value());
        out.bool(m.delete());
        out.i64(m.expectedVersion());
      }
      case WriteReply m -> {
        out.string(m.key());
        out.i64(m.version());
      }
      case MultiWriteRequest m -> {
        out.i32(m.writes().size());
        for (WriteRequest w : m.writes()) {
          out.string(w.key());
          out.bytes(w.value());
          out.bool(w.delete());
          out.i64(w.expectedVersion());
        }
      }
      case MultiWriteReply m -> {
        out.i32(m.versions().size());
        m.versions().forEach(v -> keyVersion(v, out));
      }
      case IncrementRequest m -> {
        out.string(m.key());
        out.i64(m.delta());
      }
      case AppendRequest m -> {
        out.string(m.key());
        out.bytes(m.suffix());
      }
      case UpdateReply m -> {
        out.string(m.key());
        out.i64(m.version());
        out.i64(m.result());
      }
      case AuthRequest m -> {
        out.string(m.user());
        out.bytes(m.secret());
      }
      case AuthReply m -> {
        out.string(m.user());
        out.string(m.role());
      }
      case ReadRequest m -> {
        out.string(m.key());
        out.u8(m.mode().code);
        out.i64(m.bound());
      }
      case ReadReply m -> {
        out.string(m.key());
        out.bool(m.found());
        out.i64(m.version());
        out.bytes(m.value());
        out.bool(m.dirty());
      }
      case ReadAllRequest m -> {
        out.string(m.afterKey());
        out.i32(m.limit());
      }
      case ReadAllReply m -> {
        out.i32(m.entries().size());
        m.entries().forEach(v -> versionRecord(v, out));
        out.bool(m.more());
      }
      case ErrorReply m -> {
        out.u8(m.code().code);
        out.string(m.message());
        out.string(m.hint());
      }
      case ChainRequest m -> {}
      case ChainReply m -> chainConfig(m.config(), out);
      case StatsRequest m -> {}
      case StatsReply m -> {
        out.string(m.nodeId());
        out.i64(m.epoch());
        out.string(m.role());
        out.i32(m.counters().size());
        m.counters()
            .forEach((name, value) -> {
              out.string(name);
              out.i64(value);
            });
      }
      case Propagate m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i32(m.versions().size());
        m.versions().forEach(v -> versionRecord(v, out));
      }
      case Commit m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i32(m.versions().size());
        m.versions().forEach(v -> keyVersion(v, out));
      }
      case Durable m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i32(m.versions().size());
        m.versions().forEach(v -> keyVersion(v, out));
      }
      case VersionQuery m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i64(m.queryId());
        out.i32(m.keys().size());
        m.keys().forEach(out::string);
      }
      case VersionReply m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i64(m.queryId());
        out.i32(m.versions().size());
        m.versions().forEach(v -> keyVersion(v, out));
        out.u8(m.error() == null ? 0 : m.error().code);
      }
      case CatchUpRequest m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i64(m.requestId());
        out.string(m.afterKey());
        out.i32(m.keysMax());
      }
      case CatchUpBatch m -> {
        epochAndSender(m.epoch(), m.from(), out);
        out.i64(m.requestId());
        out.i32(m.keys().size());
        m.keys().forEach(k -> keyRecord(k, out));
        out.bool(m.done());
      }
      case JoinRequest m -> {
        out.string(m.nodeId());
        out.string(m.address());
        out.i32(m.position());
        out.i64(m.incarnation());
      }
      case Heartbeat m -> {
        out.string(m.nodeId());
        out.i64(m.epoch());
        out.i64(m.seq());
        out.bool(m.caughtUp());
      }
      case HeartbeatReply m -> {
        out.string(m.nodeId());
        out.i64(m.seq());
        out.bool(m.member());
        chainConfig(m.config(), out);
      }
      case LeaveRequest m -> out.string(m.nodeId());
      case ConfigPush m -> chainConfig(m.config(), out);
      case MapRequest m -> {}
      case MapReply m -> chainMap(m.map(), out);
      case NodeHello m -> {
        out.string(m.nodeId());
        out.string(m.address());
        out.i64(m.incarnation());
        out.i64(m.mapVersion());
      }
      case Chained m -> {
        out.i32(m.chain());
        out.u16(m.message().tag());
        encodeBody(m.message(), out);
      }
    }
  }

  private static void epochAndSender(long epoch, String from, ByteWriter out) {
    out.i64(epoch);
    out.string(from);
  }

  private static void versionRecord(VersionRecord v, ByteWriter out) {
    out.string(v.key());
    out.i64(v.version());
    out.u8((v.tombstone() ? FLAG_TOMBSTONE : 0) | (v.grouped() ? FLAG_GROUPED : 0));
    out.bytes(v.value());
    if (v.grouped()) {
      out.i32(v.group().size());
      v.group().forEach(k -> keyVersion(k, out));
    }
  }

  private static void keyVersion(KeyVersion v, ByteWriter out) {
    out.string(v.key());
    out.i64(v.version());
  }

  private static void keyRecord(KeyRecord k, ByteWriter out) {
    out.string(k.key());
    out.bool(k.committed() != null);
    if (k.committed() != null) {
      versionRecord(k.committed(), out);
    }
    out.i32(k.dirty().size());
    k.dirty().forEach(v -> versionRecord(v, out));
  }

  private static void chainConfig(ChainConfig config, ByteWriter out) {
    out.i64(config.epoch());
    out.i32(config.members().size());
    for (Member member : config.members()) {
      out.string(member.id());
      out.string(member.address());
      out.i64(member.joinedEpoch());
      out.i64(member.incarnation());
      out.bool(member.caughtUp());
    }
  }

  private static void chainMap(ChainMap map, ByteWriter out) {
    out.i64(map.version());
    out.i32(map.replicas());
    out.i32(map.chains().size());
    map.chains().forEach(c -> chainConfig(c, out));
    out.i32(map.pool().size());
    for (PoolNode node : map.pool()) {
      out.string(node.id());
      out.string(node.address());
      out.i64(node.incarnation());
      out.bool(node.leaving());
    }
  }

  // ---------------------------------------------------------------------------------- decoding

  /** True if {@code type} is a known message tag. */
  public static boolean knownType(int type) {
    return switch (type) {
      case WriteRequest.TAG,
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
          Chained.TAG ->
          true;
      default -> false;
    };
  }

  /**
   * Decodes the body of a message of wire type {@code type} from {@code bytes[offset, offset +
   * length)}.
   *
   * @throws ProtocolException (non-fatal) if the type is unknown or the body is malformed
   */
  public Message decodeBody(int type, byte[] bytes, int offset, int length) {
    if (!knownType(type)) {
      throw new ProtocolException(ErrorCode.UNSUPPORTED, false, "unknown message type " + type);
    }
    ByteReader in = new ByteReader(bytes, offset, length);
    Message message;
    try {
      message = decodeKnown(type, in);
    } catch (ProtocolException e) {
      throw e;
    } catch (RuntimeException e) {
      // A record constructor refused a value (for example a negative epoch).
      throw ProtocolException.invalid("invalid " + typeName(type) + ": " + e.getMessage());
    }
    in.end();
    return message;
  }

  private Message decodeKnown(int type, ByteReader in) {
    return switch (type) {
      case WriteRequest.TAG ->
          new WriteRequest(in.key("key"), value(in), in.bool("delete"), in.i64("expectedVersion"));
      case WriteReply.TAG -> new WriteReply(in.key("key"), in.i64("version"));
      case MultiWriteRequest.TAG -> new MultiWriteRequest(multiWrites(in));
      case MultiWriteReply.TAG -> new MultiWriteReply(keyVersions(in));
      case IncrementRequest.TAG -> new IncrementRequest(in.key("key"), in.i64("delta"));
      case AppendRequest.TAG -> new AppendRequest(in.key("key"), value(in));
      case UpdateReply.TAG -> new UpdateReply(in.key("key"), in.i64("version"), in.i64("result"));
      case AuthRequest.TAG ->
          new AuthRequest(text(in, "user"), in.bytes("secret", AUTH_SECRET_BYTES_MAX));
      case AuthReply.TAG -> new AuthReply(text(in, "user"), text(in, "role"));
      case ReadRequest.TAG -> new ReadRequest(in.key("key"), readMode(in), in.i64("bound"));
      case ReadReply.TAG ->
          new ReadReply(
              in.key("key"), in.bool("found"), in.i64("version"), value(in), in.bool("dirty"));
      case ReadAllRequest.TAG -> new ReadAllRequest(optionalKey(in, "afterKey"), in.i32("limit"));
      case ReadAllReply.TAG -> new ReadAllReply(versionRecords(in), in.bool("more"));
      case ErrorReply.TAG ->
          new ErrorReply(errorCode(in, false), text(in, "message"), text(in, "hint"));
      case ChainRequest.TAG -> new ChainRequest();
      case ChainReply.TAG -> new ChainReply(chainConfig(in));
      case StatsRequest.TAG -> new StatsRequest();
      case StatsReply.TAG ->
          new StatsReply(text(in, "nodeId"), in.i64("epoch"), text(in, "role"), counters(in));
      case Propagate.TAG -> new Propagate(in.i64("epoch"), text(in, "from"), versionRecords(in));
      case Commit.TAG -> new Commit(in.i64("epoch"), text(in, "from"), keyVersions(in));
      case Durable.TAG -> new Durable(in.i64("epoch"), text(in, "from"), keyVersions(in));
      case VersionQuery.TAG ->
          new VersionQuery(in.i64("epoch"), text(in, "from"), in.i64("queryId"), keys(in));
      case VersionReply.TAG ->
          new VersionReply(
              in.i64("epoch"),
              text(in, "from"),
              in.i64("queryId"),
              keyVersions(in),
              errorCode(in, true));
      case CatchUpRequest.TAG ->
          new CatchUpRequest(
              in.i64("epoch"),
              text(in, "from"),
              in.i64("requestId"),
              optionalKey(in, "afterKey"),
              in.i32("keysMax"));
      case CatchUpBatch.TAG ->
          new CatchUpBatch(
              in.i64("epoch"),
              text(in, "from"),
              in.i64("requestId"),
              keyRecords(in),
              in.bool("done"));
      case JoinRequest.TAG ->
          new JoinRequest(
              text(in, "nodeId"), text(in, "address"), in.i32("position"), in.i64("incarnation"));
      case Heartbeat.TAG ->
          new Heartbeat(text(in, "nodeId"), in.i64("epoch"), in.i64("seq"), in.bool("caughtUp"));
      case HeartbeatReply.TAG ->
          new HeartbeatReply(text(in, "nodeId"), in.i64("seq"), in.bool("member"), chainConfig(in));
      case LeaveRequest.TAG -> new LeaveRequest(text(in, "nodeId"));
      case ConfigPush.TAG -> new ConfigPush(chainConfig(in));
      case MapRequest.TAG -> new MapRequest();
      case MapReply.TAG -> new MapReply(chainMap(in));
      case NodeHello.TAG ->
          new NodeHello(
              text(in, "nodeId"), text(in, "address"), in.i64("incarnation"), in.i64("mapVersion"));
      case Chained.TAG -> chained(in);
      default ->
          throw new ProtocolException(ErrorCode.UNSUPPORTED, false, "unknown message type " + type);
    };
  }

  /**
   * An envelope: the chain, then the inner message's tag and body, which takes the rest of the
   * frame. The inner message may be of any known type but {@link Chained}: envelopes do not nest.
   */
  private Message chained(ByteReader in) {
    int chain = in.i32("chain");
    if (chain < 0) {
      throw ProtocolException.invalid("chain must be >= 0: " + chain);
    }
    int tag = in.u16("inner message type");
    if (tag == Chained.TAG) {
      throw ProtocolException.invalid("envelopes do not nest: a Chained inside a Chained");
    }
    if (!knownType(tag)) {
      throw ProtocolException.invalid("unknown inner message type " + tag + " in a Chained");
    }
    return new Chained(chain, decodeKnown(tag, in));
  }

  private static String typeName(int type) {
    return "message type " + type;
  }

  /** A password or token longer than this is refused before it is read. */
  static final int AUTH_SECRET_BYTES_MAX = 4096;

  private byte[] value(ByteReader in) {
    return in.bytes("value", valueBytesMax);
  }

  private static String text(ByteReader in, String what) {
    return in.string(what, TEXT_BYTES_MAX);
  }

  /** A key, or "" meaning "from the start". */
  private static String optionalKey(ByteReader in, String what) {
    String key = in.string(what, io.craq.core.Limits.KEY_BYTES_MAX);
    if (!key.isEmpty()) {
      try {
        io.craq.core.Limits.checkKey(key);
      } catch (io.craq.core.Limits.InvalidInputException e) {
        throw ProtocolException.invalid(what + ": " + e.getMessage());
      }
    }
    return key;
  }

  private static ReadMode readMode(ByteReader in) {
    int code = in.u8("mode");
    ReadMode mode = ReadMode.ofCode(code);
    if (mode == null) {
      throw ProtocolException.invalid("unknown read mode " + code);
    }
    return mode;
  }

  /** An error code; 0 means "none" where {@code optional}. */
  private static ErrorCode errorCode(ByteReader in, boolean optional) {
    int code = in.u8("error code");
    if (optional && code == 0) {
      return null;
    }
    ErrorCode error = ErrorCode.ofCode(code);
    if (error == null) {
      throw ProtocolException.invalid("unknown error code " + code);
    }
    return error;
  }

  private VersionRecord versionRecord(ByteReader in) {
    String key = in.key("key");
    long version = in.i64("version");
    int flags = in.u8("version flags");
    if ((flags & ~(FLAG_TOMBSTONE | FLAG_GROUPED)) != 0) {
      throw ProtocolException.invalid("version flags: unknown bits in " + flags);
    }
    byte[] value = value(in);
    if ((flags & FLAG_GROUPED) == 0) {
      return new VersionRecord(key, version, (flags & FLAG_TOMBSTONE) != 0, value);
    }
    List<KeyVersion> group = keyVersions(in);
    if (group.size() < 2 || group.size() > Limits.MULTI_WRITE_KEYS_MAX) {
      throw ProtocolException.invalid(
          "a multi-key write's group has 2 to "
              + Limits.MULTI_WRITE_KEYS_MAX
              + " versions, not "
              + group.size());
    }
    if (!group.contains(new KeyVersion(key, version))) {
      throw ProtocolException.invalid(
          "the group of " + key + "@" + version + " does not contain that version");
    }
    return new VersionRecord(key, version, (flags & FLAG_TOMBSTONE) != 0, value, group);
  }

  private List<VersionRecord> versionRecords(ByteReader in) {
    int count = in.count("versions", VERSION_RECORD_BYTES_MIN);
    List<VersionRecord> list = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      list.add(versionRecord(in));
    }
    return list;
  }

  private List<WriteRequest> multiWrites(ByteReader in) {
    int count = in.count("writes", KEY_BYTES_MIN + 4 + 1 + 8);
    if (count > Limits.MULTI_WRITE_KEYS_MAX) {
      throw ProtocolException.invalid(
          "a multi-key write has at most " + Limits.MULTI_WRITE_KEYS_MAX + " keys, not " + count);
    }
    List<WriteRequest> list = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      list.add(
          new WriteRequest(in.key("key"), value(in), in.bool("delete"), in.i64("expectedVersion")));
    }
    return list;
  }

  private static List<KeyVersion> keyVersions(ByteReader in) {
    int count = in.count("key versions", KEY_VERSION_BYTES_MIN);
    List<KeyVersion> list = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      list.add(new KeyVersion(in.key("key"), in.i64("version")));
    }
    return list;
  }

  private static List<String> keys(ByteReader in) {
    int count = in.count("keys", KEY_BYTES_MIN);
    List<String> list = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      list.add(in.key("key"));
    }
    return list;
  }

  private List<KeyRecord> keyRecords(ByteReader in) {
    int count = in.count("key records", KEY_RECORD_BYTES_MIN);
    List<KeyRecord> list = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String key = in.key("key");
      VersionRecord committed = in.bool("has committed") ? versionRecord(in) : null;
      list.add(new KeyRecord(key, committed, versionRecords(in)));
    }
    return list;
  }

  /**
   * At most {@link StatsReply#COUNTERS_MAX} named counters: the count and each name's length are
   * checked before anything is allocated, a name must be printable ASCII, names are distinct.
   */
  private static Map<String, Long> counters(ByteReader in) {
    int count = in.count("counters", COUNTER_BYTES_MIN);
    if (count > StatsReply.COUNTERS_MAX) {
      throw ProtocolException.invalid(
          "counters: " + count + " counters, the limit is " + StatsReply.COUNTERS_MAX);
    }
    Map<String, Long> counters = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String name = in.string("counter name", StatsReply.COUNTER_NAME_BYTES_MAX);
      try {
        StatsReply.checkCounterName(name);
      } catch (IllegalArgumentException e) {
        throw ProtocolException.invalid(e.getMessage());
      }
      long value = in.i64("counter value");
      if (counters.put(name, value) != null) {
        throw ProtocolException.invalid("counter " + name + " appears twice");
      }
    }
    return counters;
  }

  private static ChainConfig chainConfig(ByteReader in) {
    long epoch = in.i64("epoch");
    int count = in.count("members", MEMBER_BYTES_MIN);
    List<Member> members = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      members.add(
          new Member(
              text(in, "member id"),
              text(in, "member address"),
              in.i64("member joinedEpoch"),
              in.i64("member incarnation"),
              in.bool("member caughtUp")));
    }
    return new ChainConfig(epoch, members);
  }

  /**
   * A chain map: the chain count is checked against {@link KeySlots#CHAINS_MAX} and both counts
   * against the bytes that remain before anything is allocated.
   */
  private static ChainMap chainMap(ByteReader in) {
    long version = in.i64("map version");
    if (version < 0) {
      throw ProtocolException.invalid("map version must be >= 0: " + version);
    }
    int replicas = in.i32("replicas");
    if (replicas < 1) {
      throw ProtocolException.invalid("replicas must be >= 1: " + replicas);
    }
    int chainCount = in.count("chains", CHAIN_CONFIG_BYTES_MIN);
    if (chainCount < 1 || chainCount > KeySlots.CHAINS_MAX) {
      throw ProtocolException.invalid(
          "chains: the chain count must be between 1 and "
              + KeySlots.CHAINS_MAX
              + ": "
              + chainCount);
    }
    List<ChainConfig> chains = new ArrayList<>(chainCount);
    for (int i = 0; i < chainCount; i++) {
      chains.add(chainConfig(in));
    }
    int poolCount = in.count("pool nodes", POOL_NODE_BYTES_MIN);
    List<PoolNode> pool = new ArrayList<>(poolCount);
    for (int i = 0; i < poolCount; i++) {
      pool.add(
          new PoolNode(
              text(in, "pool node id"),
              text(in, "pool node address"),
              in.i64("pool node incarnation"),
              in.bool("pool node leaving")));
    }
    return new ChainMap(version, replicas, chains, pool);
  }
}

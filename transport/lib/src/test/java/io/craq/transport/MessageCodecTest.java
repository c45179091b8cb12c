package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyRecord;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.Chained;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.NodeHello;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.StatsReply;
import io.craq.core.message.Message.StatsRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  private final MessageCodec codec = new MessageCodec(TransportConfig.DEFAULT);

  @Test
  @DisplayName("every message type has a sample, and the sample tags are distinct")
  void samplesCoverEveryType() {
    Set<Class<?>> sampled = new HashSet<>();
    Set<Integer> tags = new HashSet<>();
    for (Message m : Samples.all()) {
      sampled.add(m.getClass());
      assertTrue(tags.add(m.tag()), "duplicate tag " + m.tag());
      assertTrue(MessageCodec.knownType(m.tag()));
    }
    assertEquals(messageTypes(Message.class), sampled);
  }

  /** The record types under a sealed family, through its sub-families. */
  private static Set<Class<?>> messageTypes(Class<?> type) {
    if (!type.isSealed()) {
      return Set.of(type);
    }
    Set<Class<?>> types = new HashSet<>();
    for (Class<?> sub : type.getPermittedSubclasses()) {
      types.addAll(messageTypes(sub));
    }
    return types;
  }

  @Test
  @DisplayName("every message survives encode then decode, for many seeded random contents")
  void roundTripRandom() {
    long seed = Long.getLong("craq.seed", System.nanoTime());
    System.out.println(
        "MessageCodecTest.roundTripRandom seed=" + seed + " (replay: -Dcraq.seed=" + seed + ")");
    Random random = new Random(seed);
    for (int i = 0; i < 2000; i++) {
      Message m = Samples.random(random);
      byte[] frame = codec.encodeFrame(Frames.KIND_REQUEST, i, m);
      MessageCodec.Frame decoded = codec.decodeFrame(frame);
      assertTrue(Samples.sameMessage(m, decoded.message()), () -> "seed " + seed + ": " + m);
      assertEquals(m.getClass(), decoded.message().getClass());
      assertEquals(i, decoded.header().requestId());
      assertEquals(Frames.KIND_REQUEST, decoded.header().kind());
    }
  }

  @Test
  @DisplayName(
      "the Heartbeat example of docs/PROTOCOL.md §3 is byte for byte what the codec writes")
  void documentedExample() {
    byte[] expected =
        java.util.HexFormat.of()
            .parseHex(
                "43524151"
                    + "01"
                    + "00"
                    + "0029"
                    + "0000000000000000"
                    + "00000017"
                    + "000000026e31"
                    + "0000000000000003"
                    + "0000000000000007"
                    + "01");
    assertEquals(
        java.util.HexFormat.of().formatHex(expected),
        java.util.HexFormat.of().formatHex(codec.encode(new Message.Heartbeat("n1", 3, 7, true))));
  }

  @Test
  @DisplayName("records with byte arrays decode equal to the original")
  void byteArrayRecordsEqual() {
    WriteRequest w = new WriteRequest("k", new byte[] {1, 2, 3}, false, Message.ANY_VERSION);
    assertEquals(w, codec.decode(codec.encode(w)));
  }

  @Test
  @DisplayName("every strict prefix of every frame is refused with ProtocolException only")
  void truncationRefused() {
    for (Message m : Samples.all()) {
      byte[] frame = codec.encode(m);
      for (int n = 0; n < frame.length; n++) {
        byte[] prefix = Arrays.copyOf(frame, n);
        assertThrows(ProtocolException.class, () -> codec.decodeFrame(prefix), m + " prefix " + n);
      }
      // Same body, but the header claims the prefix length: body-level truncation.
      for (int n = 0; n < frame.length - Frames.HEADER_BYTES; n++) {
        byte[] cut = Arrays.copyOf(frame, Frames.HEADER_BYTES + n);
        Frames.writeInt(cut, 16, n);
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decodeFrame(cut));
        assertFalse(e.fatal(), "a short body inside an intact frame is not fatal");
      }
    }
  }

  @Test
  @DisplayName("a key over Limits.KEY_BYTES_MAX is refused")
  void oversizedKey() {
    byte[] frame =
        codec.encode(new ReadRequest("k".repeat(Limits.KEY_BYTES_MAX + 1), ReadMode.STRONG, 0));
    ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(frame));
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    assertTrue(e.getMessage().contains("limit"), e.getMessage());
    codec.decode(
        codec.encode(new ReadRequest("k".repeat(Limits.KEY_BYTES_MAX), ReadMode.STRONG, 0)));
  }

  @Test
  @DisplayName("an empty key is refused")
  void emptyKey() {
    byte[] frame = codec.encode(new ReadRequest("", ReadMode.STRONG, 0));
    assertThrows(ProtocolException.class, () -> codec.decode(frame));
  }

  @Test
  @DisplayName("a value over valueBytesMax is refused; one at the limit passes")
  void oversizedValue() {
    MessageCodec small = new MessageCodec(TransportConfig.DEFAULT.withValueBytesMax(100));
    small.decode(small.encode(new WriteRequest("k", new byte[100], false, 0)));
    byte[] frame = small.encode(new WriteRequest("k", new byte[101], false, 0));
    ProtocolException e = assertThrows(ProtocolException.class, () -> small.decode(frame));
    assertTrue(e.getMessage().contains("value is 101 bytes"), e.getMessage());
  }

  @Test
  @DisplayName("a message larger than frameBytesMax cannot be encoded")
  void encodeTooLarge() {
    MessageCodec small = new MessageCodec(TransportConfig.DEFAULT.withFrameBytesMax(1000));
    assertThrows(
        MessageTooLargeException.class,
        () -> small.encode(new WriteRequest("k", new byte[1000], false, 0)));
  }

  @Test
  @DisplayName(
      "frames encoded one after another on a thread are each exact: a large frame, a "
          + "refused one, then a small one carry nothing of each other")
  void reusedEncodingBuffer() {
    MessageCodec limited =
        new MessageCodec(
            TransportConfig.DEFAULT.withFrameBytesMax(4 << 20).withValueBytesMax(4 << 20));
    byte[] big = new byte[2 << 20];
    java.util.Arrays.fill(big, (byte) 7);
    WriteRequest large = new WriteRequest("large", big, false, 0);
    WriteRequest small = new WriteRequest("s", new byte[] {1, 2, 3}, false, 0);
    byte[] smallAlone = limited.encode(small);
    assertEquals(large, limited.decode(limited.encode(large)));
    assertThrows(
        MessageTooLargeException.class,
        () -> limited.encode(new WriteRequest("k", new byte[4 << 20], false, 0)));
    byte[] smallAfter = limited.encode(small);
    assertArrayEquals(smallAlone, smallAfter);
    assertEquals(small, limited.decode(smallAfter));
    byte[][] onVirtual = new byte[1][];
    Thread thread = Thread.ofVirtual().start(() -> onVirtual[0] = limited.encode(small));
    assertDoesNotThrow(() -> thread.join());
    assertArrayEquals(smallAlone, onVirtual[0]);
  }

  @Test
  @DisplayName(
      "unknown enum codes, bad booleans, bad UTF-8, huge counts and trailing bytes are refused")
  void badFields() {
    byte[] read = codec.encode(new ReadRequest("k", ReadMode.STRONG, 0));
    int modeOffset = Frames.HEADER_BYTES + 4 + 1;
    read[modeOffset] = 9;
    assertRefused(read, "unknown read mode 9");

    byte[] error = codec.encode(new Message.ErrorReply(ErrorCode.BUSY, "m", "h"));
    error[Frames.HEADER_BYTES] = (byte) 200;
    assertRefused(error, "unknown error code 200");

    byte[] write = codec.encode(new WriteRequest("k", new byte[0], false, 0));
    write[Frames.HEADER_BYTES + 4 + 1 + 4] = 2; // the delete flag
    assertRefused(write, "boolean");

    byte[] utf = codec.encode(new ReadRequest("ab", ReadMode.STRONG, 0));
    utf[Frames.HEADER_BYTES + 4] = (byte) 0xc3;
    utf[Frames.HEADER_BYTES + 5] = (byte) 0x28;
    assertRefused(utf, "UTF-8");

    byte[] commit = codec.encode(new Message.Commit(1, "n", List.of()));
    Frames.writeInt(commit, commit.length - 4, Integer.MAX_VALUE);
    assertRefused(commit, "cannot fit");
    Frames.writeInt(commit, commit.length - 4, -1);
    assertRefused(commit, "negative count");

    byte[] chain = codec.encode(new Message.ChainRequest());
    byte[] longer = Arrays.copyOf(chain, chain.length + 1);
    Frames.writeInt(longer, 16, 1);
    assertRefused(longer, "unexpected bytes");

    byte[] negativeEpoch =
        codec.encode(new Message.ConfigPush(io.craq.core.message.ChainConfig.EMPTY));
    Frames.writeLong(negativeEpoch, Frames.HEADER_BYTES, -5);
    assertRefused(negativeEpoch, "epoch");
  }

  @Test
  @DisplayName("bad magic, version, kind and lengths in the header are fatal")
  void badHeaders() {
    byte[] good = codec.encode(new Message.ChainRequest());
    byte[] magic = good.clone();
    magic[0] = 'X';
    assertFatal(magic, "magic");
    byte[] version = good.clone();
    version[4] = 2;
    ProtocolException e = assertFatal(version, "version");
    assertEquals(ErrorCode.UNSUPPORTED, e.code());
    byte[] kind = good.clone();
    kind[5] = 3;
    assertFatal(kind, "kind");
    for (int length :
        new int[] {
          -1,
          Integer.MIN_VALUE,
          Integer.MAX_VALUE,
          TransportConfig.FRAME_BYTES_MAX_DEFAULT - Frames.HEADER_BYTES + 1
        }) {
      byte[] bad = good.clone();
      Frames.writeInt(bad, 16, length);
      assertFatal(bad, "length");
    }
    byte[] type = good.clone();
    type[6] = 0x7f;
    ProtocolException unknown = assertThrows(ProtocolException.class, () -> codec.decode(type));
    assertEquals(ErrorCode.UNSUPPORTED, unknown.code());
    assertFalse(unknown.fatal(), "an unknown type can be skipped");
  }

  @Test
  @DisplayName(
      "StatsRequest and StatsReply have tags 10 and 11 and round-trip, counter order "
          + "and values kept")
  void statsRoundTrip() {
    assertEquals(10, new StatsRequest().tag());
    assertEquals(11, StatsReply.TAG);
    byte[] request = codec.encodeFrame(Frames.KIND_REQUEST, 9, new StatsRequest());
    assertEquals(Frames.HEADER_BYTES, request.length, "a StatsRequest has an empty body");
    assertEquals(new StatsRequest(), codec.decode(request));

    Map<String, Long> counters = new LinkedHashMap<>();
    counters.put("reads_clean", 12L);
    counters.put("reads_after_query", 0L);
    counters.put("a", Long.MAX_VALUE);
    StatsReply reply = new StatsReply("n1", 7, "head+tail", counters);
    StatsReply decoded = (StatsReply) codec.decode(codec.encodeFrame(Frames.KIND_REPLY, 9, reply));
    assertEquals(reply, decoded);
    assertEquals(
        List.of("reads_clean", "reads_after_query", "a"), List.copyOf(decoded.counters().keySet()));
    assertEquals(Long.MAX_VALUE, decoded.counters().get("a"));

    Map<String, Long> full = new LinkedHashMap<>();
    for (int i = 0; i < StatsReply.COUNTERS_MAX; i++) {
      full.put("c" + i + "_" + "x".repeat(50), (long) i);
    }
    StatsReply largest = new StatsReply("n", 0, "tail", full);
    assertEquals(largest, codec.decode(codec.encode(largest)));
  }

  @Test
  @DisplayName(
      "a StatsReply is refused past 64 counters, with a bad or repeated counter name, "
          + "or a negative value; bounds are checked before allocating")
  void statsBadInput() {
    List<Map.Entry<String, Long>> tooMany = new java.util.ArrayList<>();
    for (int i = 0; i <= StatsReply.COUNTERS_MAX; i++) {
      tooMany.add(Map.entry("c" + i, 1L));
    }
    assertRefused(statsFrame(tooMany), "the limit is 64");
    assertRefused(
        statsFrame(
            List.of(
                Map.entry("ok", 1L),
                Map.entry("n".repeat(StatsReply.COUNTER_NAME_BYTES_MAX + 1), 1L))),
        "limit is 64");
    assertRefused(statsFrame(List.of(Map.entry("", 1L), Map.entry("ok", 1L))), "1 to 64");
    // Names are never empty, so a counter takes at least 13 bytes: one of 12 cannot fit.
    assertRefused(statsFrame(List.of(Map.entry("", 1L))), "cannot fit");
    assertRefused(statsFrame(List.of(Map.entry("two words", 1L))), "printable ASCII");
    assertRefused(statsFrame(List.of(Map.entry("clé", 1L))), "printable ASCII");
    assertRefused(statsFrame(List.of(Map.entry("tab	", 1L))), "printable ASCII");
    assertRefused(statsFrame(List.of(Map.entry("x", 1L), Map.entry("x", 2L))), "twice");
    assertRefused(statsFrame(List.of(Map.entry("x", -1L))), "negative");

    // A huge count with few bytes behind it is refused before a map is sized for it.
    byte[] huge = statsFrame(List.of());
    Frames.writeInt(huge, huge.length - 4, Integer.MAX_VALUE);
    assertRefused(huge, "cannot fit");

    byte[] request = codec.encode(new StatsRequest());
    byte[] longer = Arrays.copyOf(request, request.length + 1);
    Frames.writeInt(longer, 16, 1);
    assertRefused(longer, "unexpected bytes");

    // The frame of a valid reply decodes; the same through the record constructor is refused.
    codec.decode(statsFrame(List.of(Map.entry("x", 0L))));
    Map<String, Long> sixtyFive = new LinkedHashMap<>();
    tooMany.forEach(e -> sixtyFive.put(e.getKey(), e.getValue()));
    assertThrows(IllegalArgumentException.class, () -> new StatsReply("n", 1, "head", sixtyFive));
  }

  @Test
  @DisplayName(
      "the tag after the client messages (stats, multi-key writes, increment and append,"
          + " authentication) is unknown: skipped with UNSUPPORTED, not fatal")
  void tagAfterClientMessagesUnknown() {
    assertEquals(StatsReply.TAG + 1, MultiWriteRequest.TAG);
    assertEquals(MultiWriteReply.TAG + 1, Message.IncrementRequest.TAG);
    assertEquals(Message.UpdateReply.TAG + 1, Message.AuthRequest.TAG);
    assertFalse(MessageCodec.knownType(Message.AuthReply.TAG + 1));
    byte[] frame = codec.encode(new StatsRequest());
    frame[6] = 0;
    frame[7] = (byte) (Message.AuthReply.TAG + 1);
    ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(frame));
    assertEquals(ErrorCode.UNSUPPORTED, e.code());
    assertFalse(e.fatal());
  }

  @Test
  @DisplayName("the chain map messages have tags 45, 46, 47 and 60; a MapRequest has an empty body")
  void chainMapTags() {
    assertEquals(45, new MapRequest().tag());
    assertEquals(46, MapReply.TAG);
    assertEquals(47, NodeHello.TAG);
    assertEquals(60, Chained.TAG);
    byte[] request = codec.encodeFrame(Frames.KIND_REQUEST, 3, new MapRequest());
    assertEquals(Frames.HEADER_BYTES, request.length);
    assertEquals(new MapRequest(), codec.decode(request));
    for (int tag : new int[] {48, 59, 61}) {
      assertFalse(MessageCodec.knownType(tag), "tag " + tag);
    }
  }

  @Test
  @DisplayName("a NodeHello and a MapReply round-trip with every field kept")
  void chainMapRoundTrip() {
    NodeHello hello = new NodeHello("n1", "127.0.0.1:7001", 1234, 0);
    assertEquals(hello, codec.decode(codec.encodeFrame(Frames.KIND_REQUEST, 1, hello)));
    NodeHello extreme = new NodeHello("", "", Long.MIN_VALUE, Long.MAX_VALUE);
    assertEquals(extreme, codec.decode(codec.encode(extreme)));

    ChainMap map =
        new ChainMap(
            9,
            2,
            List.of(
                new ChainConfig(
                    4,
                    List.of(
                        new Member("n1", "127.0.0.1:7001", 1, 11, true),
                        new Member("n2", "127.0.0.1:7002", 3, 12, false))),
                ChainConfig.EMPTY,
                new ChainConfig(1, List.of(new Member("n3", "127.0.0.1:7003", 1, 13, true)))),
            List.of(
                new PoolNode("n1", "127.0.0.1:7001", 11, false),
                new PoolNode("n2", "127.0.0.1:7002", 12, true),
                new PoolNode("n3", "127.0.0.1:7003", 13, false)));
    MapReply reply = new MapReply(map);
    assertEquals(reply, codec.decode(codec.encodeFrame(Frames.KIND_REPLY, 1, reply)));
    MapReply empty = new MapReply(ChainMap.empty(1, 1));
    assertEquals(empty, codec.decode(codec.encode(empty)));
  }

  @Test
  @DisplayName(
      "a map of the most chains, each with 5 members, over 64 nodes fits the default frame")
  void largestMapFits() {
    List<PoolNode> pool = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      pool.add(new PoolNode("node-" + i, "host-" + i + ".example.org:7000", i, i % 7 == 0));
    }
    List<ChainConfig> chains = new ArrayList<>();
    for (int c = 0; c < KeySlots.CHAINS_MAX; c++) {
      List<Member> members = new ArrayList<>();
      for (int j = 0; j < 5; j++) {
        PoolNode node = pool.get((c + j * 13) % pool.size());
        members.add(new Member(node.id(), node.address(), c, node.incarnation(), j != 4));
      }
      chains.add(new ChainConfig(c + 1, members));
    }
    MapReply reply = new MapReply(new ChainMap(Long.MAX_VALUE, 5, chains, pool));
    byte[] frame = codec.encode(reply);
    assertTrue(frame.length < TransportConfig.FRAME_BYTES_MAX_DEFAULT, frame.length + " bytes");
    assertEquals(reply, codec.decode(frame));
  }

  @Test
  @DisplayName(
      "a Chained carries every other message type: its body is the chain, the inner tag and the "
          + "inner body exactly as the inner message alone")
  void chainedCarriesEveryType() {
    int carried = 0;
    for (Message inner : Samples.all()) {
      if (inner instanceof Chained) {
        continue;
      }
      for (int chain : new int[] {0, 7, KeySlots.CHAINS_MAX - 1, Integer.MAX_VALUE}) {
        Chained envelope = new Chained(chain, inner);
        byte[] frame = codec.encodeFrame(Frames.KIND_REQUEST, 5, envelope);
        byte[] alone = codec.encode(inner);
        ByteWriter prefix = new ByteWriter(16, 16);
        prefix.i32(chain);
        prefix.u16(inner.tag());
        byte[] expected =
            concat(
                Arrays.copyOf(frame, Frames.HEADER_BYTES),
                prefix.toByteArray(),
                Arrays.copyOfRange(alone, Frames.HEADER_BYTES, alone.length));
        assertArrayEquals(expected, frame, inner.toString());
        Message decoded = codec.decode(frame);
        Chained back = assertInstanceOf(Chained.class, decoded);
        assertEquals(chain, back.chain());
        assertTrue(Samples.sameMessage(inner, back.message()), inner.toString());
        carried++;
      }
    }
    assertEquals(4 * (Samples.tags().length - 1), carried);
  }

  @Test
  @DisplayName("the Chained example of docs/PROTOCOL.md §3 is byte for byte what the codec writes")
  void documentedChainedExample() {
    String expected =
        "43524151"
            + "01"
            + "00"
            + "003c"
            + "0000000000000000"
            + "0000001d"
            + "00000002"
            + "0029"
            + "000000026e31"
            + "0000000000000003"
            + "0000000000000007"
            + "01";
    assertEquals(
        expected,
        HexFormat.of()
            .formatHex(codec.encode(new Chained(2, new Message.Heartbeat("n1", 3, 7, true)))));
  }

  @Test
  @DisplayName("an error reply with WRONG_CHAIN (code 12) round-trips; its hint is the map version")
  void wrongChainCode() {
    assertEquals(12, ErrorCode.WRONG_CHAIN.code);
    Message.ErrorReply reply =
        new Message.ErrorReply(ErrorCode.WRONG_CHAIN, "key k is on chain 3", "17");
    byte[] frame = codec.encode(reply);
    assertEquals(12, frame[Frames.HEADER_BYTES]);
    assertEquals(reply, codec.decode(frame));
  }

  @Test
  @DisplayName(
      "a nested envelope, an unknown or truncated inner tag, a negative chain, and trailing bytes "
          + "after the inner body are refused, not fatal")
  void chainedBadInput() {
    Message heartbeat = new Message.Heartbeat("n1", 3, 7, true);
    assertRefused(chainedFrame(1, Chained.TAG, codec.encode(new Chained(2, heartbeat))), "nest");
    assertRefused(chainedFrame(1, Chained.TAG, new byte[Frames.HEADER_BYTES]), "nest");
    assertRefused(chainedFrame(1, 999, codec.encode(heartbeat)), "unknown inner message type 999");
    assertRefused(chainedFrame(1, 0, codec.encode(new MapRequest())), "unknown inner");
    assertRefused(chainedFrame(-1, Message.Heartbeat.TAG, codec.encode(heartbeat)), "chain");
    assertRefused(
        chainedFrame(Integer.MIN_VALUE, Message.Heartbeat.TAG, codec.encode(heartbeat)), "chain");

    byte[] good = chainedFrame(1, Message.Heartbeat.TAG, codec.encode(heartbeat));
    assertEquals(new Chained(1, heartbeat), codec.decode(good));
    byte[] longer = Arrays.copyOf(good, good.length + 1);
    Frames.writeInt(longer, 16, longer.length - Frames.HEADER_BYTES);
    assertRefused(longer, "unexpected bytes");
    byte[] emptyInner =
        chainedFrame(1, MapRequest.TAG, Arrays.copyOf(codec.encode(new MapRequest()), 21));
    assertRefused(emptyInner, "unexpected bytes");

    // Only the chain and one byte of the inner tag.
    byte[] cut = Arrays.copyOf(good, Frames.HEADER_BYTES + 5);
    Frames.writeInt(cut, 16, 5);
    assertRefused(cut, "inner message type");
    // A malformed inner body is refused like the same body alone.
    byte[] badInner = good.clone();
    badInner[badInner.length - 1] = 2; // the heartbeat's caughtUp flag
    assertRefused(badInner, "boolean");
  }

  @Test
  @DisplayName(
      "a chain map is refused with no chains or more than KeySlots.CHAINS_MAX, replicas below 1, "
          + "a negative version, or counts that cannot fit")
  void chainMapBadInput() {
    assertEquals(new MapReply(ChainMap.empty(1, 1)), codec.decode(mapFrame(0, 1, 1, 0)));
    codec.decode(mapFrame(0, 1, KeySlots.CHAINS_MAX, 0));
    assertRefused(mapFrame(0, 1, 0, 0), "between 1 and 1024: 0");
    assertRefused(mapFrame(0, 1, KeySlots.CHAINS_MAX + 1, 0), "between 1 and 1024: 1025");
    assertRefused(mapFrame(0, 0, 1, 0), "replicas");
    assertRefused(mapFrame(0, -3, 1, 0), "replicas");
    assertRefused(mapFrame(-1, 1, 1, 0), "version");
    assertRefused(mapFrame(Long.MIN_VALUE, 1, 1, 0), "version");

    // Counts are checked against the bytes that remain before a list is sized for them.
    byte[] chains = mapFrame(0, 1, 1, 0);
    Frames.writeInt(chains, Frames.HEADER_BYTES + 12, Integer.MAX_VALUE);
    assertRefused(chains, "cannot fit");
    Frames.writeInt(chains, Frames.HEADER_BYTES + 12, -1);
    assertRefused(chains, "negative count");
    byte[] pool = mapFrame(0, 1, 1, 0);
    Frames.writeInt(pool, pool.length - 4, Integer.MAX_VALUE);
    assertRefused(pool, "cannot fit");
    byte[] onePool = mapFrame(0, 1, 1, 1);
    onePool[onePool.length - 1] = 2; // the pool node's leaving flag
    assertRefused(onePool, "boolean");
    byte[] trailing = Arrays.copyOf(onePool, onePool.length + 3);
    trailing[onePool.length - 1] = 1;
    Frames.writeInt(trailing, 16, trailing.length - Frames.HEADER_BYTES);
    assertRefused(trailing, "unexpected bytes");

    // The same checks hold inside an envelope.
    byte[] inner = mapFrame(0, 1, 0, 0);
    assertRefused(chainedFrame(4, MapReply.TAG, inner), "between 1 and 1024: 0");
  }

  @Test
  @DisplayName(
      "MultiWriteRequest and MultiWriteReply have tags 12 and 13 and round-trip with every"
          + " write's delete flag and condition, up to the most keys a write may have")
  void multiWriteRoundTrip() {
    assertEquals(12, MultiWriteRequest.TAG);
    assertEquals(13, MultiWriteReply.TAG);
    List<WriteRequest> writes = new ArrayList<>();
    List<KeyVersion> versions = new ArrayList<>();
    for (int i = 0; i < Limits.MULTI_WRITE_KEYS_MAX; i++) {
      writes.add(
          new WriteRequest(
              "user:{42}:" + i,
              i % 3 == 0 ? new byte[0] : new byte[] {(byte) i},
              i % 3 == 0,
              i % 2 == 0 ? Message.ANY_VERSION : i));
      versions.add(new KeyVersion("user:{42}:" + i, 100 + i));
    }
    MultiWriteRequest request = new MultiWriteRequest(writes);
    assertEquals(request, codec.decode(codec.encode(request)));
    MultiWriteRequest one = new MultiWriteRequest(writes.subList(0, 1));
    assertEquals(one, codec.decode(codec.encode(one)));
    MultiWriteReply reply = new MultiWriteReply(versions);
    assertEquals(reply, codec.decode(codec.encodeFrame(Frames.KIND_REPLY, 3, reply)));
  }

  @Test
  @DisplayName(
      "IncrementRequest, AppendRequest and UpdateReply have tags 14, 15 and 16 and round-trip"
          + " with extreme deltas and results, an empty suffix and one of the largest value size;"
          + " NOT_AN_INTEGER is error code 13")
  void readModifyWriteRoundTrip() {
    assertEquals(14, Message.IncrementRequest.TAG);
    assertEquals(15, Message.AppendRequest.TAG);
    assertEquals(16, Message.UpdateReply.TAG);
    assertEquals(13, ErrorCode.NOT_AN_INTEGER.code);
    assertTrue(ErrorCode.NOT_AN_INTEGER.definite());
    for (long n : new long[] {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE}) {
      Message.IncrementRequest increment = new Message.IncrementRequest("counter:{7}", n);
      assertEquals(increment, codec.decode(codec.encode(increment)));
      Message.UpdateReply reply = new Message.UpdateReply("counter:{7}", 3, n);
      assertEquals(reply, codec.decode(codec.encodeFrame(Frames.KIND_REPLY, 9, reply)));
    }
    Message.AppendRequest empty = new Message.AppendRequest("log", new byte[0]);
    assertEquals(empty, codec.decode(codec.encode(empty)));
    Message.AppendRequest largest =
        new Message.AppendRequest("log", new byte[TransportConfig.DEFAULT.valueBytesMax()]);
    assertEquals(largest, codec.decode(codec.encode(largest)));
    Message.ErrorReply error =
        new Message.ErrorReply(
            ErrorCode.NOT_AN_INTEGER, "value is not an integer or out of range", "");
    assertEquals(error, codec.decode(codec.encodeFrame(Frames.KIND_REPLY, 4, error)));
  }

  @Test
  @DisplayName("an AppendRequest whose suffix is over the value limit is refused, not fatal")
  void appendOverValueLimitRefused() {
    Message.AppendRequest tooLarge =
        new Message.AppendRequest("log", new byte[TransportConfig.DEFAULT.valueBytesMax() + 1]);
    byte[] frame = codec.encode(tooLarge);
    ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(frame));
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    assertFalse(e.fatal());
  }

  @Test
  @DisplayName(
      "a version's flags byte: a single-key version encodes as the old tombstone boolean (0 or"
          + " 1); a grouped one sets bit 1 and its group follows the value, kept in order")
  void groupedVersionRoundTrip() {
    VersionRecord plain = new VersionRecord("k", 5, false, new byte[] {7});
    VersionRecord tombstone = new VersionRecord("k", 6, true, new byte[0]);
    List<KeyVersion> group =
        List.of(new KeyVersion("{u}a", 4), new KeyVersion("{u}b", 9), new KeyVersion("{u}c", 1));
    VersionRecord grouped = new VersionRecord("{u}b", 9, true, new byte[0], group);
    // Propagate(epoch, from "n", versions): the first version's flags byte follows its key and
    // version, after the epoch (8), from (4 + 1), the count (4), the key (4 + 1) and version (8).
    int flagsAt = Frames.HEADER_BYTES + 8 + 5 + 4 + 5 + 8;
    assertEquals(0, propagate(plain)[flagsAt]);
    assertEquals(1, propagate(tombstone)[flagsAt]);
    byte[] frame = propagate(new VersionRecord("k", 6, true, new byte[0], group.subList(0, 2)));
    assertEquals(3, frame[flagsAt], "tombstone and grouped");

    for (VersionRecord v : List.of(plain, tombstone, grouped)) {
      Message.Propagate decoded = (Message.Propagate) codec.decode(propagate(v));
      assertEquals(List.of(v), decoded.versions());
      assertEquals(v.group(), decoded.versions().get(0).group());
    }
    Message.CatchUpBatch batch =
        new Message.CatchUpBatch(
            1, "n", 2, List.of(new KeyRecord("{u}b", grouped, List.of(grouped))), true);
    assertEquals(batch, codec.decode(codec.encode(batch)));
  }

  @Test
  @DisplayName(
      "refused: more writes than a multi-key write may have (before allocating), unknown bits in"
          + " a version's flags, a group without its own version, a group of 1 or of 17")
  void multiWriteBadInput() {
    assertRefused(multiWriteFrame(Limits.MULTI_WRITE_KEYS_MAX + 1), "at most 16 keys, not 17");
    codec.decode(multiWriteFrame(Limits.MULTI_WRITE_KEYS_MAX));
    byte[] huge = multiWriteFrame(1);
    Frames.writeInt(huge, Frames.HEADER_BYTES, Integer.MAX_VALUE);
    assertRefused(huge, "cannot fit");
    byte[] badDelete = multiWriteFrame(1);
    // The only write: key "k0" (4 + 2), value "v" (4 + 1), then its delete flag.
    badDelete[Frames.HEADER_BYTES + 4 + 6 + 5] = 2;
    assertRefused(badDelete, "boolean");

    KeyVersion own = new KeyVersion("{u}a", 3);
    KeyVersion other = new KeyVersion("{u}b", 8);
    for (int flags : new int[] {4, 0x80, 0xff, 5}) {
      assertRefused(propagateFrame(flags, List.of()), "unknown bits in " + flags);
    }
    codec.decode(propagateFrame(2, List.of(own, other)));
    codec.decode(propagateFrame(3, List.of(other, own)));
    assertRefused(
        propagateFrame(2, List.of(other, new KeyVersion("{u}a", 4))),
        "does not contain that version");
    assertRefused(propagateFrame(2, List.of(own)), "2 to 16 versions, not 1");
    assertRefused(propagateFrame(2, List.of()), "2 to 16 versions, not 0");
    List<KeyVersion> seventeen = new ArrayList<>(List.of(own));
    for (int i = 0; i < Limits.MULTI_WRITE_KEYS_MAX; i++) {
      seventeen.add(new KeyVersion("{u}x" + i, i));
    }
    assertRefused(propagateFrame(2, seventeen), "2 to 16 versions, not 17");
    codec.decode(propagateFrame(2, seventeen.subList(0, Limits.MULTI_WRITE_KEYS_MAX)));
    byte[] hugeGroup = propagateFrame(2, List.of(own, other));
    // The group's count is the last field but its two entries (4 + 4 + 8 each).
    Frames.writeInt(hugeGroup, hugeGroup.length - 2 * 16 - 4, Integer.MAX_VALUE);
    assertRefused(hugeGroup, "cannot fit");
  }

  private byte[] propagate(VersionRecord version) {
    return codec.encode(new Message.Propagate(1, "n", List.of(version)));
  }

  /** A MultiWriteRequest frame of {@code count} writes, written field by field. */
  private static byte[] multiWriteFrame(int count) {
    ByteWriter out = new ByteWriter(256, 1 << 20);
    out.skip(Frames.HEADER_BYTES);
    out.i32(count);
    for (int i = 0; i < count; i++) {
      out.string("k" + i);
      out.bytes("v".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      out.bool(false);
      out.i64(Message.ANY_VERSION);
    }
    byte[] frame = out.toByteArray();
    Frames.writeHeader(
        frame, Frames.KIND_REQUEST, MultiWriteRequest.TAG, 1, frame.length - Frames.HEADER_BYTES);
    return frame;
  }

  /**
   * A Propagate frame of one version of key "{u}a" at 3 with an empty value, written field by field
   * with the flags byte {@code flags} and, if bit 1 is set, {@code group}.
   */
  private static byte[] propagateFrame(int flags, List<KeyVersion> group) {
    ByteWriter out = new ByteWriter(256, 1 << 20);
    out.skip(Frames.HEADER_BYTES);
    out.i64(1);
    out.string("n");
    out.i32(1);
    out.string("{u}a");
    out.i64(3);
    out.u8(flags);
    out.bytes(new byte[0]);
    if ((flags & 2) != 0) {
      out.i32(group.size());
      for (KeyVersion v : group) {
        out.string(v.key());
        out.i64(v.version());
      }
    }
    byte[] frame = out.toByteArray();
    Frames.writeHeader(
        frame, Frames.KIND_ONE_WAY, Message.Propagate.TAG, 0, frame.length - Frames.HEADER_BYTES);
    return frame;
  }

  @Test
  @DisplayName(
      "every message type has a committed fuzz seed, a valid frame of that type that re-encodes"
          + " to itself")
  void fuzzSeedOfEveryType() throws IOException {
    Path directory =
        Path.of("src/test/resources/io/craq/transport/MessageCodecFuzzTestInputs/decodeFrame");
    MessageCodec fuzzCodec =
        new MessageCodec(
            TransportConfig.DEFAULT.withFrameBytesMax(1 << 16).withValueBytesMax(1024));
    for (int tag : Samples.tags()) {
      Path file = directory.resolve(FuzzSeeds.fileName(tag));
      assertTrue(Files.exists(file), file + " is missing: run FuzzSeeds (see its Javadoc)");
      byte[] seed = Files.readAllBytes(file);
      MessageCodec.Frame frame = fuzzCodec.decodeFrame(seed);
      assertEquals(tag, frame.message().tag(), file.toString());
      assertArrayEquals(
          seed,
          fuzzCodec.encodeFrame(
              frame.header().kind(), frame.header().requestId(), frame.message()));
    }
  }

  /** A Chained frame around the body of {@code innerFrame}, with any chain and inner tag. */
  private static byte[] chainedFrame(int chain, int innerTag, byte[] innerFrame) {
    ByteWriter out = new ByteWriter(256, 1 << 20);
    out.skip(Frames.HEADER_BYTES);
    out.i32(chain);
    out.u16(innerTag);
    byte[] frame =
        concat(
            out.toByteArray(),
            Arrays.copyOfRange(innerFrame, Frames.HEADER_BYTES, innerFrame.length));
    Frames.writeHeader(
        frame, Frames.KIND_ONE_WAY, Chained.TAG, 0, frame.length - Frames.HEADER_BYTES);
    return frame;
  }

  /**
   * A MapReply frame written field by field: {@code chains} empty chains and {@code poolNodes}
   * nodes that are not leaving, so it can hold what the record would refuse.
   */
  private static byte[] mapFrame(long version, int replicas, int chains, int poolNodes) {
    ByteWriter out = new ByteWriter(256, 1 << 20);
    out.skip(Frames.HEADER_BYTES);
    out.i64(version);
    out.i32(replicas);
    out.i32(chains);
    for (int i = 0; i < chains; i++) {
      out.i64(0);
      out.i32(0);
    }
    out.i32(poolNodes);
    for (int i = 0; i < poolNodes; i++) {
      out.string("n" + i);
      out.string("127.0.0.1:" + (7000 + i));
      out.i64(i);
      out.bool(false);
    }
    byte[] frame = out.toByteArray();
    Frames.writeHeader(
        frame, Frames.KIND_REPLY, MapReply.TAG, 1, frame.length - Frames.HEADER_BYTES);
    return frame;
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    byte[] all = new byte[length];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, all, at, part.length);
      at += part.length;
    }
    return all;
  }

  /** A StatsReply frame written field by field, so it can hold what the record would refuse. */
  private static byte[] statsFrame(List<Map.Entry<String, Long>> counters) {
    ByteWriter out = new ByteWriter(256, 1 << 20);
    out.skip(Frames.HEADER_BYTES);
    out.string("n1");
    out.i64(3);
    out.string("tail");
    out.i32(counters.size());
    for (Map.Entry<String, Long> e : counters) {
      out.string(e.getKey());
      out.i64(e.getValue());
    }
    byte[] frame = out.toByteArray();
    Frames.writeHeader(
        frame, Frames.KIND_REPLY, StatsReply.TAG, 1, frame.length - Frames.HEADER_BYTES);
    return frame;
  }

  private void assertRefused(byte[] frame, String fragment) {
    ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(frame));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertFalse(e.fatal());
  }

  private ProtocolException assertFatal(byte[] frame, String fragment) {
    ProtocolException e = assertThrows(ProtocolException.class, () -> codec.decode(frame));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertTrue(e.fatal());
    return e;
  }
}

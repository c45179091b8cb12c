package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the frame decoder: any bytes either decode to a message that re-encodes to exactly the
 * same bytes (the encoding is canonical) or are refused with {@link ProtocolException}; nothing
 * else may escape. The committed inputs under {@code MessageCodecFuzzTestInputs/} replay in the
 * normal test run; {@code JAZZER_FUZZ=1} runs a campaign (docs/PROTOCOL.md §6).
 */
class MessageCodecFuzzTest {
  private static final MessageCodec CODEC =
      new MessageCodec(TransportConfig.DEFAULT.withFrameBytesMax(1 << 16).withValueBytesMax(1024));

  @FuzzTest(maxDuration = "5m")
  void decodeFrame(byte[] data) {
    MessageCodec.Frame frame;
    try {
      frame = CODEC.decodeFrame(data);
    } catch (ProtocolException e) {
      return; // refused: the expected outcome for most inputs
    }
    byte[] again =
        CODEC.encodeFrame(frame.header().kind(), frame.header().requestId(), frame.message());
    assertArrayEquals(data, again, () -> "not canonical: " + frame.message());
  }
}

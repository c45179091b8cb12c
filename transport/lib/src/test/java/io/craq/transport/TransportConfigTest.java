package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.Limits;
import org.junit.jupiter.api.Test;

class TransportConfigTest {
  @Test
  void defaultsFitTheLargestValue() {
    TransportConfig config = TransportConfig.DEFAULT;
    assertEquals(Limits.VALUE_BYTES_MAX_DEFAULT, config.valueBytesMax());
    assertTrue(config.frameBytesMax() >= config.valueBytesMax() + Limits.KEY_BYTES_MAX + 64);
  }

  @Test
  void dialTrafficClassIsUnsetByDefaultAndKeptByOtherWithers() {
    assertEquals(
        TransportConfig.DIAL_TRAFFIC_CLASS_NONE, TransportConfig.DEFAULT.dialTrafficClass());
    TransportConfig marked =
        TransportConfig.DEFAULT.withDialTrafficClass(TransportConfig.TRAFFIC_CLASS_LOW_DELAY);
    assertEquals(0x10, marked.dialTrafficClass());
    assertEquals(
        0x10,
        marked
            .withFrameBytesMax(1 << 22)
            .withValueBytesMax(1 << 20)
            .withAcceptedConnectionsMax(8)
            .dialTrafficClass());
  }

  @Test
  void invalidSettingsAreRefused() {
    TransportConfig d = TransportConfig.DEFAULT;
    assertThrows(IllegalArgumentException.class, () -> d.withFrameBytesMax(10));
    assertThrows(IllegalArgumentException.class, () -> d.withReadDeadlineMillis(0));
    assertThrows(IllegalArgumentException.class, () -> d.withOutboundQueueMessagesMax(0));
    assertThrows(IllegalArgumentException.class, () -> d.withInFlightRequestsMax(-1));
    assertThrows(IllegalArgumentException.class, () -> d.withConnectTimeoutMillis(0));
    assertThrows(IllegalArgumentException.class, () -> d.withDialTrafficClass(256));
    assertThrows(IllegalArgumentException.class, () -> d.withDialTrafficClass(-2));
    assertThrows(IllegalArgumentException.class, () -> d.withValueBytesMax(d.frameBytesMax() + 1));
    assertThrows(IllegalArgumentException.class, () -> d.withOutboundQueueBytesMax(1));
  }
}

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
  void invalidSettingsAreRefused() {
    TransportConfig d = TransportConfig.DEFAULT;
    assertThrows(IllegalArgumentException.class, () -> d.withFrameBytesMax(10));
    assertThrows(IllegalArgumentException.class, () -> d.withReadDeadlineMillis(0));
    assertThrows(IllegalArgumentException.class, () -> d.withOutboundQueueMessagesMax(0));
    assertThrows(IllegalArgumentException.class, () -> d.withInFlightRequestsMax(-1));
    assertThrows(IllegalArgumentException.class, () -> d.withConnectTimeoutMillis(0));
    assertThrows(IllegalArgumentException.class, () -> d.withValueBytesMax(d.frameBytesMax() + 1));
    assertThrows(IllegalArgumentException.class, () -> d.withOutboundQueueBytesMax(1));
  }
}

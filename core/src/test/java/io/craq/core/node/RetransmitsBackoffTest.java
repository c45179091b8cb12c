package io.craq.core.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.craq.core.message.KeyVersion;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The retransmit timeout's backoff when commits came back within the tick they were sent. */
class RetransmitsBackoffTest {
  @Test
  @DisplayName(
      "Round trips shorter than a tick (measured 0) still let the backoff double the timeout up"
          + " to its maximum, and backing off further stays within bounds")
  void zeroRoundTripBacksOff() {
    int base = 20;
    Retransmits retransmits = new Retransmits(base);
    KeyVersion id = new KeyVersion("k", 1);
    retransmits.sent(id, 100);
    retransmits.done(id, 100, true); // acknowledged in the same tick: a round trip of 0
    assertEquals(base, retransmits.timeoutTicks());
    retransmits.backOff();
    assertEquals(2L * base, retransmits.timeoutTicks());
    long max = (long) base * NodeMachine.RETRANSMIT_TIMEOUT_FACTOR_MAX;
    for (int i = 0; i < 200; i++) {
      retransmits.backOff(); // used to trip "retransmit backoff 65 without bound"
    }
    assertEquals(max, retransmits.timeoutTicks());
  }
}

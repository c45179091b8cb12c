package io.craq.transport.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Ticks counted from a hand-moved monotonic clock. */
class TickClockTest {
  private static final long MILLI = 1_000_000L;

  @Test
  @DisplayName("whole ticks since creation, and the time to the next one, whatever the start")
  void ticks() {
    AtomicLong now = new AtomicLong(-123 * MILLI); // nanoTime may be negative
    TickClock clock = new TickClock(now::get, 50);
    assertEquals(0, clock.ticks());
    assertEquals(50 * MILLI, clock.nanosUntilNextTick());
    now.addAndGet(49 * MILLI);
    assertEquals(0, clock.ticks());
    assertEquals(MILLI, clock.nanosUntilNextTick());
    now.addAndGet(MILLI);
    assertEquals(1, clock.ticks());
    assertEquals(50 * MILLI, clock.nanosUntilNextTick());
    now.addAndGet(1_000 * MILLI);
    assertEquals(21, clock.ticks());
  }

  @Test
  @DisplayName("a tick of zero or less is refused")
  void badTick() {
    assertThrows(IllegalArgumentException.class, () -> new TickClock(System::nanoTime, 0));
  }
}

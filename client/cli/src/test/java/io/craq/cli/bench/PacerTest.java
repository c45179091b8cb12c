package io.craq.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The rate limiter of the mixed workload, driven with made-up times (no clock, no sleeping). */
class PacerTest {
  private static final long SECOND = 1_000_000_000L;
  private static final long START = 5 * SECOND;

  @Test
  @DisplayName("the n-th operation is due n / rate seconds after the start")
  void dueAtRate() {
    Pacer pacer = new Pacer(100, START, 1.0);
    assertEquals(0, pacer.take(START));
    assertEquals(0, pacer.take(START + SECOND / 100 - 1));
    assertEquals(1, pacer.take(START + SECOND / 100));
    assertEquals(49, pacer.take(START + SECOND / 2));
    assertEquals(50, pacer.take(START + SECOND));
    assertEquals(100, pacer.taken());
    assertEquals(0, pacer.dropped());
  }

  @Test
  @DisplayName("over any whole number of seconds exactly rate x seconds are taken")
  void totalMatchesRate() {
    Pacer pacer = new Pacer(333, START, 1.0);
    long total = 0;
    for (long t = START; t <= START + 10 * SECOND; t += 7_000_001L) {
      total += pacer.take(t);
    }
    total += pacer.take(START + 10 * SECOND);
    assertEquals(3330, total);
  }

  @Test
  @DisplayName("before the start nothing is due, and the wait is until the first operation")
  void beforeStart() {
    Pacer pacer = new Pacer(10, START, 1.0);
    assertEquals(0, pacer.take(START - SECOND));
    assertEquals(SECOND / 10 + SECOND, pacer.nanosUntilNext(START - SECOND));
    assertEquals(0, pacer.nanosUntilNext(START + SECOND));
  }

  @Test
  @DisplayName(
      "a caller that stalled sends at most the catch-up window and counts the rest as dropped")
  void stallDropsBacklog() {
    Pacer pacer = new Pacer(1000, START, 0.1);
    assertEquals(100, pacer.take(START + 3 * SECOND));
    assertEquals(2900, pacer.dropped());
    assertEquals(1, pacer.take(START + 3 * SECOND + SECOND / 1000));
  }

  @Test
  @DisplayName("a rate below one per second still paces")
  void slowRate() {
    Pacer pacer = new Pacer(0.5, START, 10);
    assertEquals(0, pacer.take(START + SECOND));
    assertEquals(1, pacer.take(START + 2 * SECOND));
    assertEquals(2 * SECOND, pacer.nanosUntilNext(START + 2 * SECOND));
  }

  @Test
  void refusesNonPositiveRates() {
    assertThrows(IllegalArgumentException.class, () -> new Pacer(0, START, 1));
    assertThrows(IllegalArgumentException.class, () -> new Pacer(-1, START, 1));
    assertThrows(IllegalArgumentException.class, () -> new Pacer(Double.NaN, START, 1));
    assertThrows(IllegalArgumentException.class, () -> new Pacer(1, START, 0));
  }
}

package io.craq.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.craq.core.message.ReadMode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The consistency of a read as written on a command line. */
class ReadConsistencyTest {
  @Test
  @DisplayName("consistency values parse to read modes")
  void consistencyParsing() {
    assertEquals(ReadConsistency.STRONG, ReadConsistency.parse("strong"));
    assertEquals(new ReadConsistency(ReadMode.EVENTUAL, 0), ReadConsistency.parse("EVENTUAL"));
    assertEquals(new ReadConsistency(ReadMode.BOUNDED, 3), ReadConsistency.parse("bounded:3"));
    assertEquals("bounded:3", ReadConsistency.parse("bounded:3").toString());
    assertThrows(IllegalArgumentException.class, () -> ReadConsistency.parse("bounded:-3"));
  }
}

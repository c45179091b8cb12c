package io.craq.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AddressesTest {
  @Test
  void hostAndPort() {
    assertEquals(new Addresses.HostPort("127.0.0.1", 7000), Addresses.parse("127.0.0.1:7000"));
    assertEquals(new Addresses.HostPort("", 7000), Addresses.parse(":7000"));
    assertEquals(new Addresses.HostPort("::1", 0), Addresses.parse("[::1]:0"));
    assertEquals("127.0.0.1", Addresses.parse(":1").dialAddress().getHostString());
    assertEquals(true, Addresses.parse(":1").bindAddress().getAddress().isAnyLocalAddress());
  }

  @Test
  void malformed() {
    for (String bad :
        new String[] {"", "host", "host:", "host:x", "host:70000", "::1:80", "host:-1"}) {
      assertThrows(IllegalArgumentException.class, () -> Addresses.parse(bad), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> Addresses.parse(null));
  }
}

package io.craq.node.redis;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reply values and how they are written. A reply is one of: {@link Simple} (status line), {@link
 * Err} (error line), {@link Long} (integer), {@code byte[]} (bulk string), {@code null} (null bulk
 * string), {@link List} (array), {@link Map} (a map in RESP3, a flat array of keys and values in
 * RESP2), or {@link #NULL_ARRAY}.
 */
final class Resp {
  private Resp() {}

  /** A status reply such as {@code +OK}. */
  record Simple(String text) {}

  /**
   * An error reply; {@code text} starts with its code, such as {@code ERR} or {@code WRONGTYPE}.
   */
  record Err(String text) {}

  /** The null array ({@code *-1} in RESP2, {@code _} in RESP3). */
  static final Object NULL_ARRAY = new Object();

  static final Simple OK = new Simple("OK");
  static final Simple PONG = new Simple("PONG");

  static Err err(String message) {
    return new Err("ERR " + message);
  }

  static byte[] bulk(String text) {
    return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A map that keeps insertion order, from alternating keys and values. */
  static Map<Object, Object> map(Object... keysAndValues) {
    Map<Object, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  static List<Object> array(Object... elements) {
    return java.util.Arrays.asList(elements);
  }
}

package io.craq.check;

import java.util.Objects;

/**
 * The arguments of an operation. Values are strings; {@code null} means absent. Tests should write
 * unique values so that a read tells exactly which write it saw.
 *
 * @param kind what to do
 * @param value the value to write ({@link OpKind#WRITE}, {@link OpKind#CAS}, {@link
 *     OpKind#WRITE_IF_VERSION}), to append ({@link OpKind#APPEND}), or the delta to add in decimal
 *     ({@link OpKind#INCREMENT}); {@code null} otherwise
 * @param expected for {@link OpKind#CAS}: the value the key must hold ({@code null} = absent)
 * @param expectedVersion for {@link OpKind#WRITE_IF_VERSION}: the version the key must have (0 =
 *     never written); {@link #NO_VERSION} otherwise
 */
public record Input(OpKind kind, String value, String expected, long expectedVersion) {
  /** Marks "no expected version" in {@link #expectedVersion}. */
  public static final long NO_VERSION = -1;

  public Input {
    Objects.requireNonNull(kind, "kind");
    switch (kind) {
      case READ, DELETE -> require(value == null && expected == null, kind + " takes no value");
      case WRITE, APPEND -> require(value != null && expected == null, kind + " needs a value");
      case INCREMENT ->
          require(
              value != null && expected == null && isLong(value),
              "INCREMENT needs a delta, a 64-bit integer: " + value);
      case CAS -> require(value != null, "CAS needs a new value");
      case WRITE_IF_VERSION ->
          require(
              value != null && expected == null && expectedVersion >= 0,
              "WRITE_IF_VERSION needs a value and an expected version >= 0");
    }
    if (kind != OpKind.WRITE_IF_VERSION) {
      require(expectedVersion == NO_VERSION, kind + " takes no expected version");
    }
  }

  public static Input read() {
    return new Input(OpKind.READ, null, null, NO_VERSION);
  }

  public static Input write(String value) {
    return new Input(OpKind.WRITE, value, null, NO_VERSION);
  }

  public static Input delete() {
    return new Input(OpKind.DELETE, null, null, NO_VERSION);
  }

  /** Sets {@code newValue} if the key holds {@code expected} ({@code null} = absent). */
  public static Input cas(String expected, String newValue) {
    return new Input(OpKind.CAS, newValue, expected, NO_VERSION);
  }

  /** Sets {@code value} if the key's current version is {@code expectedVersion}. */
  public static Input writeIfVersion(long expectedVersion, String value) {
    return new Input(OpKind.WRITE_IF_VERSION, value, null, expectedVersion);
  }

  public static Input append(String suffix) {
    return new Input(OpKind.APPEND, suffix, null, NO_VERSION);
  }

  /** Adds {@code delta} to the key's integer value; its {@link #value} is the delta in decimal. */
  public static Input increment(long delta) {
    return new Input(OpKind.INCREMENT, Long.toString(delta), null, NO_VERSION);
  }

  /**
   * The delta of an {@link OpKind#INCREMENT}.
   *
   * @throws IllegalStateException for any other kind
   */
  public long delta() {
    if (kind != OpKind.INCREMENT) {
      throw new IllegalStateException(kind + " has no delta");
    }
    return Long.parseLong(value);
  }

  private static boolean isLong(String text) {
    try {
      Long.parseLong(text);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Short form for messages: {@code WRITE "x"}, {@code CAS "a"->"b"}, {@code READ}. */
  public String describe() {
    return switch (kind) {
      case READ, DELETE -> kind.name();
      case WRITE, APPEND -> kind + " " + quote(value);
      case INCREMENT -> "INCREMENT " + value;
      case CAS -> "CAS " + quote(expected) + "->" + quote(value);
      case WRITE_IF_VERSION -> "WRITE_IF_VERSION v" + expectedVersion + " " + quote(value);
    };
  }

  static String quote(String value) {
    return value == null ? "absent" : '"' + value + '"';
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}

package io.craq.check;

/**
 * What an operation that completed {@link Outcome#OK} returned.
 *
 * @param value for {@link OpKind#READ}: the value read ({@code null} = absent); for {@link
 *     OpKind#INCREMENT}: the new integer in decimal, or {@code null} when the store reported none;
 *     {@code null} for every other kind
 * @param version the key's version the store reported (the version read, or the version the write
 *     created), or {@link #UNKNOWN_VERSION} when it reported none; checked when present
 * @param applied for {@link OpKind#CAS} and {@link OpKind#WRITE_IF_VERSION}: {@code false} when the
 *     store answered that the condition did not hold (the operation happened and changed nothing).
 *     {@code true} for every other kind. A conditional write whose outcome the store does not
 *     report this way can be recorded as {@link Outcome#FAIL} instead.
 */
public record Output(String value, long version, boolean applied) {
  /** Marks "no version reported" in {@link #version}. */
  public static final long UNKNOWN_VERSION = -1;

  public Output {
    if (version < UNKNOWN_VERSION) {
      throw new IllegalArgumentException("version must be >= 0 or UNKNOWN_VERSION: " + version);
    }
  }

  /** A read that saw {@code value} ({@code null} = absent). */
  public static Output read(String value) {
    return new Output(value, UNKNOWN_VERSION, true);
  }

  /** A read that saw {@code value} at {@code version}. */
  public static Output read(String value, long version) {
    return new Output(value, version, true);
  }

  /** A write, delete or conditional write that took effect. */
  public static Output done() {
    return new Output(null, UNKNOWN_VERSION, true);
  }

  /** A write, delete or conditional write that took effect and created {@code version}. */
  public static Output done(long version) {
    return new Output(null, version, true);
  }

  /** An increment that made the key's value {@code value}. */
  public static Output incremented(long value) {
    return new Output(Long.toString(value), UNKNOWN_VERSION, true);
  }

  /** An increment that made the key's value {@code value} at {@code version}. */
  public static Output incremented(long value, long version) {
    return new Output(Long.toString(value), version, true);
  }

  /** A conditional write whose condition did not hold. */
  public static Output notApplied() {
    return new Output(null, UNKNOWN_VERSION, false);
  }

  String describe(OpKind kind) {
    String versionText = version == UNKNOWN_VERSION ? "" : " @v" + version;
    return switch (kind) {
      case READ -> Input.quote(value) + versionText;
      case INCREMENT -> (value == null ? "done" : value) + versionText;
      default -> (applied ? "done" : "not applied") + versionText;
    };
  }
}

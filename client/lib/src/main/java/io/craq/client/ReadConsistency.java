package io.craq.client;

import io.craq.core.message.ReadMode;
import java.util.Locale;
import java.util.Objects;

/**
 * A read mode with its bound, as written on the command line: {@code strong}, {@code eventual} or
 * {@code bounded:N} (N = the number of dirty versions the read may return, CRAQ §2.4).
 */
public record ReadConsistency(ReadMode mode, long bound) {
  public static final ReadConsistency STRONG = new ReadConsistency(ReadMode.STRONG, 0);

  public ReadConsistency {
    Objects.requireNonNull(mode, "mode");
    if (bound < 0) {
      throw new IllegalArgumentException("bound must be >= 0: " + bound);
    }
  }

  /**
   * Parses {@code strong}, {@code eventual} or {@code bounded:N} (case-insensitive).
   *
   * @throws IllegalArgumentException with a message naming the accepted forms
   */
  public static ReadConsistency parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("strong")) {
      return STRONG;
    }
    if (t.equals("eventual")) {
      return new ReadConsistency(ReadMode.EVENTUAL, 0);
    }
    if (t.startsWith("bounded:")) {
      String number = t.substring("bounded:".length());
      long bound;
      try {
        bound = Long.parseLong(number);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "'" + text + "': the bound must be a whole number of" + " versions, e.g. bounded:2");
      }
      if (bound < 0) {
        throw new IllegalArgumentException("'" + text + "': the bound must be >= 0");
      }
      return new ReadConsistency(ReadMode.BOUNDED, bound);
    }
    throw new IllegalArgumentException(
        "'" + text + "' is not a consistency; use strong, eventual or bounded:N");
  }

  @Override
  public String toString() {
    return mode == ReadMode.BOUNDED ? "bounded:" + bound : mode.name().toLowerCase(Locale.ROOT);
  }
}

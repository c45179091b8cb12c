package io.craq.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * One version of a key as a read returned it. {@code dirty} is true only for eventual and bounded
 * reads that returned a version not yet committed at the tail (CRAQ §2.4); strong reads and {@link
 * CraqClient#readAll} always return committed versions. The value array is not copied: do not
 * modify it.
 */
public record Versioned(String key, long version, byte[] value, boolean dirty) {
  public Versioned {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  /** The value decoded as UTF-8 (malformed bytes become U+FFFD). */
  public String valueAsString() {
    return new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Versioned that
        && version == that.version
        && dirty == that.dirty
        && key.equals(that.key)
        && Arrays.equals(value, that.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, version, dirty) * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    String shown =
        value.length <= 32 ? Base64.getEncoder().encodeToString(value) : value.length + " bytes";
    return "Versioned[" + key + "@" + version + (dirty ? " dirty " : " ") + shown + "]";
  }
}

package io.craq.core.message;

import java.util.Objects;

/** A key and one of its versions, without the value: commits and version-query answers. */
public record KeyVersion(String key, long version) {
  public KeyVersion {
    Objects.requireNonNull(key, "key");
  }
}

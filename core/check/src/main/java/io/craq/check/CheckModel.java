package io.craq.check;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The sequential models a history file can be checked against, by the name the command takes. */
public enum CheckModel {
  /**
   * A versioned register per key ({@link RegisterModel}): read, write, delete, cas and cas-version,
   * with the versions the store reports checked when present. The model of CRAQ's keys, of the
   * fault suites' histories and of Jepsen's single-register logs.
   */
  REGISTER(new RegisterModel()),
  /**
   * A string per key with get, put, append, delete and incr ({@link KvModel}); versions are not
   * modelled.
   */
  KV(new KvModel());

  private final Model<?> model;

  CheckModel(Model<?> model) {
    this.model = model;
  }

  public Model<?> model() {
    return model;
  }

  /** The name the command takes: {@code register}, {@code kv}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The model called {@code name}, in any case.
   *
   * @throws IllegalArgumentException naming the models there are
   */
  public static CheckModel parse(String name) {
    for (CheckModel model : values()) {
      if (model.label().equalsIgnoreCase(name.strip())) {
        return model;
      }
    }
    throw new IllegalArgumentException(
        "unknown model '"
            + name
            + "'; one of: "
            + Arrays.stream(values()).map(CheckModel::label).collect(Collectors.joining(", ")));
  }
}

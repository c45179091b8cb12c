package io.craq.cli.common;

import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;

/**
 * How the option mixins of this package share their values between {@code craq} and its
 * subcommands. Each command that takes the options mixes them in (so they may come before or after
 * the subcommand's name); a value is looked up in the mixin of the command itself, then in its
 * parent's, and so on, by the mixin's type: the option given nearest to the subcommand wins.
 */
final class Mixins {
  private Mixins() {}

  /**
   * The value {@code field} has in the nearest mixin of {@code type}, starting at {@code command}
   * and going up its parents; null if no such mixin has it.
   */
  static <M, V> V nearest(CommandSpec command, Class<M> type, Function<M, V> field) {
    for (CommandSpec spec = command; spec != null; spec = spec.parent()) {
      for (CommandSpec mixin : spec.mixins().values()) {
        if (type.isInstance(mixin.userObject())) {
          V value = field.apply(type.cast(mixin.userObject()));
          if (value != null) {
            return value;
          }
        }
      }
    }
    return null;
  }
}

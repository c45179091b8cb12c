package io.craq.cli.common;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --json}: structured output on stdout. A mixin of {@code craq} and of each subcommand that
 * prints results, so the flag may come before or after the subcommand's name.
 */
public final class JsonOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  /** Null when not given to this command (then a parent's counts). */
  @Option(
      names = "--json",
      description = "Structured output on stdout: JSON, one object per" + " line.")
  Boolean json;

  /** Whether {@code --json} was given to the command or to one of its parents. */
  public boolean enabled() {
    return Boolean.TRUE.equals(Mixins.nearest(mixee, JsonOption.class, o -> o.json));
  }
}

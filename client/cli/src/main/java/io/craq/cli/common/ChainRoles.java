package io.craq.cli.common;

import io.craq.core.message.ChainConfig;

/** A member's place in the chain as the tool prints it. */
public final class ChainRoles {
  private ChainRoles() {}

  /** {@code head}, {@code middle}, {@code tail}, or {@code head+tail} for a chain of one. */
  public static String of(ChainConfig chain, int index) {
    if (chain.size() == 1) {
      return "head+tail";
    }
    return index == 0 ? "head" : index == chain.size() - 1 ? "tail" : "middle";
  }
}

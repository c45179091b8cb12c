package io.craq.core.coordinator;

/**
 * Tunables of the coordinator's state machine, in ticks.
 *
 * @param failureTimeoutTicks a member not heard from for this long is removed; must exceed every
 *     node's lease ({@code NodeSettings.leaseTicks}) so a cut-off node has stopped serving first
 * @param membersMax the longest chain accepted
 */
public record CoordinatorSettings(int failureTimeoutTicks, int membersMax) {
  public CoordinatorSettings {
    if (failureTimeoutTicks <= 0) {
      throw new IllegalArgumentException("failureTimeoutTicks must be positive");
    }
    if (membersMax <= 0) {
      throw new IllegalArgumentException("membersMax must be positive");
    }
  }

  /** Defaults for a 50 ms tick: 2 s failure timeout, chains of up to 64 nodes. */
  public static CoordinatorSettings defaults() {
    return new CoordinatorSettings(40, 64);
  }
}

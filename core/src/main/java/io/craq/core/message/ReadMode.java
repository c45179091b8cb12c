package io.craq.core.message;

/** How fresh a read must be (CRAQ §2.4). Wire codes are fixed and never reused. */
public enum ReadMode {
  /** Linearizable: never a dirty version; a dirty key costs a version query to the tail. */
  STRONG(0),
  /** The newest version the node holds, even if dirty. */
  EVENTUAL(1),
  /**
   * The newest version, dirty allowed if it is at most {@code bound} versions newer than the newest
   * committed version the node knows; otherwise as {@link #STRONG}.
   */
  BOUNDED(2);

  public final int code;

  ReadMode(int code) {
    this.code = code;
  }

  /** The mode for a wire code, or null if unknown. */
  public static ReadMode ofCode(int code) {
    for (ReadMode mode : values()) {
      if (mode.code == code) {
        return mode;
      }
    }
    return null;
  }
}

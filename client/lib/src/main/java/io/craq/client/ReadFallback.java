package io.craq.client;

/**
 * Hears that a read went on at another member because the member it tried first could not answer
 * (unreachable, timed out, not serving). Strong reads are linearizable at every member (CRAQ §2.3),
 * so the answer is as good; a caller may still want to say so, as the {@code craq} command does on
 * stderr. Called at most once per read or scan, on the calling thread, and only when another member
 * did answer.
 */
@FunctionalInterface
public interface ReadFallback {
  /** Says nothing. */
  ReadFallback IGNORE = (firstTried, reason, answeredBy) -> {};

  /**
   * @param firstTried the address the read went to first
   * @param reason why it did not answer there
   * @param answeredBy the address of the member that answered
   */
  void answeredElsewhere(String firstTried, String reason, String answeredBy);
}

package io.craq.check;

import java.time.Duration;

/**
 * The verdict on one key.
 *
 * @param key the key
 * @param verdict the verdict
 * @param operations how many operations were checked (failed ones are dropped before checking)
 * @param elapsed how long the search took
 * @param explanation for {@link Verdict#ILLEGAL}: the longest linearizable prefix found and the
 *     operation that could not be placed after it; for {@link Verdict#UNKNOWN}: how far it got;
 *     empty for {@link Verdict#LINEARIZABLE}
 */
public record KeyResult(
    String key, Verdict verdict, int operations, Duration elapsed, String explanation) {}

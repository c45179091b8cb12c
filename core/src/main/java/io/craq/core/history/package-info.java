/**
 * Histories of client operations and the linearizability checker that judges them (TESTING.md,
 * "Histories" and "The checker").
 *
 * <ul>
 *   <li>{@link io.craq.core.history.HistoryRecorder}: clients record each operation's invoke and
 *       completion ({@code ok}, {@code fail}, {@code info}) against an injectable clock.
 *   <li>{@link io.craq.core.history.History} / {@link io.craq.core.history.Operation}: what was
 *       recorded; {@link io.craq.core.history.HistoryLog} writes and reads it as a Jepsen-style log
 *       (and reads the reference histories in {@code ../shared/histories}).
 *   <li>{@link io.craq.core.history.LinearizabilityChecker}: per key, the Wing &amp; Gong / Lowe
 *       search against a {@link io.craq.core.history.Model} ({@link
 *       io.craq.core.history.RegisterModel} for the store, {@link io.craq.core.history.KvModel}
 *       for the kv reference files), giving a {@link io.craq.core.history.CheckReport}.
 * </ul>
 *
 * <p>Pure code: no threads, sockets or disk except the log reader and writer's streams.
 */
package io.craq.core.history;

/**
 * Histories of client operations and the linearizability checker that judges them: what clients
 * record (every operation's invoke, completion and outcome: {@code ok}, {@code fail} or {@code
 * info}), and the search, key by key, for an order of the operations consistent with real time and
 * a sequential model.
 *
 * <ul>
 *   <li>{@link io.craq.check.HistoryRecorder}: clients record each operation's invoke and
 *       completion against an injectable clock.
 *   <li>{@link io.craq.check.History} / {@link io.craq.check.Operation}: what was recorded; {@link
 *       io.craq.check.HistoryLog} writes and reads it as a Jepsen-style log (and reads Jepsen's
 *       register and kv logs).
 *   <li>{@link io.craq.check.LinearizabilityChecker}: per key, the Wing &amp; Gong / Lowe search
 *       against a {@link io.craq.check.Model} ({@link io.craq.check.RegisterModel} for a versioned
 *       register such as a CRAQ key, {@link io.craq.check.KvModel} for Jepsen's kv histories),
 *       giving a {@link io.craq.check.CheckReport}.
 *   <li>{@link io.craq.check.TransactionChecker}: multi-key writes (one operation per key, linked
 *       by a transaction id) are all or nothing, judged from the orders of writes every
 *       linearization of a key agrees on.
 * </ul>
 *
 * <p>A library of its own, so that the protocol library ({@code craq-core}) keeps no file I/O,
 * clocks or locks: it depends on nothing of the project, and the tests that record histories (the
 * deterministic simulation, the fault suites on real processes) use it in test scope.
 */
package io.craq.check;

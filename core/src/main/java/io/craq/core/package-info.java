/**
 * The CRAQ protocol (Terrace and Freedman, USENIX ATC 2009) as pure, deterministic code: no
 * sockets, threads, clocks, randomness or disk. Drivers in the {@code node} and {@code coordinator}
 * modules feed inputs in and perform the effects that come out.
 *
 * <h2>Glossary</h2>
 *
 * <ul>
 *   <li><b>chain</b>: the ordered list of nodes every write passes through, head first.
 *   <li><b>head</b>: the first node; it assigns versions to writes. <b>tail</b>: the last node; a
 *       version is committed when the tail has stored it.
 *   <li><b>successor</b> / <b>predecessor</b>: the next node towards the tail / towards the head.
 *   <li><b>version</b>: a per-key number (1, 2, 3 ...) the head assigns to each write or delete.
 *   <li><b>dirty</b>: a version a node stores but does not yet know to be committed. <b>clean</b>:
 *       the newest version a node knows is committed.
 *   <li><b>commit</b>: always the CRAQ commit (a version becomes clean), never a storage
 *       transaction; those are called <i>batches</i> here.
 *   <li><b>epoch</b>: the number of a chain configuration; it grows with every change of
 *       membership. A node never acts on a message from an older epoch.
 *   <li><b>lease</b>: how long a node may serve strong reads after the coordinator last heard from
 *       it; shorter than the failure timeout, so a cut-off node stops before the chain moves on
 *       without it.
 * </ul>
 */
package io.craq.core;

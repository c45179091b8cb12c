/**
 * The {@code craq-node} executable. {@link io.craq.node.NodeMain} parses the command line; {@link
 * io.craq.node.NodeServer} is the thin driver around the pure {@link
 * io.craq.core.node.NodeMachine}: an event-loop thread with bounded inboxes, the clock caught up
 * before every input, and a store thread that makes store changes durable in the background with
 * group commit (one {@code Storer.apply} for everything queued), reporting back to the machine, so
 * the members of a chain sync a write in parallel.
 */
package io.craq.node;

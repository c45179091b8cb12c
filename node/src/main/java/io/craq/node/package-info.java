/**
 * The {@code craq-node} executable. {@link io.craq.node.NodeMain} parses the command line;
 * {@link io.craq.node.NodeServer} is the thin driver around the pure
 * {@link io.craq.core.node.NodeMachine}: one event-loop thread, a bounded inbox, the clock caught
 * up before every input, group commit (one {@code Storer.apply} per batch of inputs) and
 * persist-before-send.
 */
package io.craq.node;

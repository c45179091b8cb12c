/**
 * The {@code craq-node} executable: wires the core replication state machine to a store and a
 * transport, runs the event loop and group commit. Not built yet: see the executables issue.
 */
package io.craq.node;

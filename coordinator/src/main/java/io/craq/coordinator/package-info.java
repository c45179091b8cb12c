/**
 * The {@code craq-coordinator} executable. {@link io.craq.coordinator.CoordinatorMain} parses the
 * command line; {@link io.craq.coordinator.CoordinatorServer} drives the pure {@link
 * io.craq.core.coordinator.CoordinatorMachine} on one thread, writes each new chain configuration
 * atomically to the membership file before pushing it, and forwards client writes to the head.
 */
package io.craq.coordinator;

/**
 * The {@code craq-coordinator} executable. {@link io.craq.coordinator.CoordinatorMain} parses the
 * command line; {@link io.craq.coordinator.CoordinatorServer} drives a {@link
 * io.craq.core.coordinator.CoordinatorReplica} (the pure {@link
 * io.craq.core.coordinator.CoordinatorMachine} while it leads) on one thread, makes each new chain
 * configuration durable before pushing it, and forwards client writes to the head. The
 * configuration lives in a membership file (one coordinator, {@code FileConfigStore}) or in
 * ZooKeeper, shared by several coordinators that elect a leader ({@code ZooKeeperConfigStore}).
 */
package io.craq.coordinator;

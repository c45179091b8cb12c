/**
 * Small pieces every process built on a {@link io.craq.transport.Transport} needs: a tick clock
 * over the monotonic clock, a responder as the state machines' client reference, a
 * rate-limited warning for expected network trouble, the {@code --config} properties file of
 * the command lines, and the shutdown hook with its slow-exit watchdog. Shared by the node and the coordinator.
 */
package io.craq.transport.process;

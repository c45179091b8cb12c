/**
 * Small pieces the executables built on a {@link io.craq.transport.Transport} share: a tick clock
 * over the monotonic clock, a responder as the state machines' client reference, the command-line
 * conventions and the {@code --config} properties file, and the shutdown hook with its slow-exit
 * watchdog. Used by the node, the coordinator and the {@code craq} tool; a module of its own so
 * that whoever depends on the transport does not get picocli with it.
 */
package io.craq.transport.process;

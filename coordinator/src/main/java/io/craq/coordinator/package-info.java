/**
 * The {@code craq-coordinator} executable: persists chain membership and epoch, detects failed
 * nodes by heartbeat and pushes new configurations. Not built yet: see the executables issue.
 */
package io.craq.coordinator;

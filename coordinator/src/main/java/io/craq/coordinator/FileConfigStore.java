package io.craq.coordinator;

import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainConfig;
import java.nio.file.Path;

/**
 * The file mode: the only coordinator there is, its configuration in the {@link MembershipFile}. It
 * leads from the start with a lease that never ends, resumes the stored epoch as it is (nobody to
 * fence), and is never fenced or frozen: a write the disk refuses stops the coordinator.
 */
final class FileConfigStore implements ConfigStore {
  private final MembershipFile file;
  private final CoordinatorReplica replica;
  private volatile ChainConfig stored;

  /**
   * Reads the membership file in {@code directory} (created if missing).
   *
   * @throws IllegalStateException if the file is damaged
   * @throws java.io.UncheckedIOException if it cannot be read
   */
  FileConfigStore(Path directory, CoordinatorSettings machine) {
    this.file = new MembershipFile(directory);
    this.stored = file.read();
    // The session length is irrelevant with a lease that never ends: nothing waits it out.
    this.replica = new CoordinatorReplica(machine, CoordinatorReplica.FOREVER, 1);
  }

  @Override
  public CoordinatorReplica replica() {
    return replica;
  }

  @Override
  public void start(String advertisedAddress) {
    replica.lead(stored, false, 0);
  }

  @Override
  public void poll(long clockTick) {}

  @Override
  public boolean persist(ChainConfig config) {
    file.write(config);
    stored = config;
    replica.persisted(config);
    return true;
  }

  @Override
  public void release() {
    throw new IllegalStateException(
        "the only coordinator stepped down; its lease never ends, so this cannot happen");
  }

  @Override
  public ChainConfig stored() {
    return stored;
  }

  @Override
  public String describe() {
    return file.path().toString();
  }

  @Override
  public void close() {}
}

package io.craq.coordinator;

import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainMap;
import java.nio.file.Path;

/**
 * The file mode: the only coordinator there is, its chain map in the {@link MembershipFile}. It
 * leads from the start with a lease that never ends, resumes the stored map as it is (nobody to
 * fence), and is never fenced or frozen: a write the disk refuses stops the coordinator.
 */
final class FileConfigStore implements ConfigStore {
  private final MembershipFile file;
  private final CoordinatorReplica replica;
  private volatile ChainMap stored;

  /**
   * Reads the membership file in {@code directory} (created if missing); without one, a new cluster
   * of {@code machine.chains()} empty chains.
   *
   * @throws IllegalStateException if the file is damaged
   * @throws java.io.UncheckedIOException if it cannot be read
   * @throws ChainCountException if the file holds another number of chains
   */
  FileConfigStore(Path directory, CoordinatorSettings machine) {
    this.file = new MembershipFile(directory);
    ChainMap read = file.read();
    this.stored =
        read == null
            ? ChainMap.empty(machine.chains(), machine.replicas())
            : StoredMaps.resume(read, machine, file.path().toString());
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
  public boolean persist(ChainMap map) {
    file.write(map);
    stored = map;
    replica.persisted(map);
    return true;
  }

  @Override
  public void release() {
    throw new IllegalStateException(
        "the only coordinator stepped down; its lease never ends, so this cannot happen");
  }

  @Override
  public ChainMap stored() {
    return stored;
  }

  @Override
  public String describe() {
    return file.path().toString();
  }

  @Override
  public void close() {}
}

package io.craq.coordinator;

import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.message.ChainMap;

/**
 * Where the coordinators keep the chain map, and which of them leads: the membership file of a
 * single coordinator ({@link FileConfigStore}), or ZooKeeper shared by several ({@link
 * ZooKeeperConfigStore}). It drives the {@link CoordinatorReplica}: tells it when to lead, when its
 * lease is confirmed, when to freeze or stand by.
 *
 * <p>Called on the coordinator's event loop only (and {@link #stored} from anywhere). What the
 * store learns on other threads waits in a queue until the next {@link #poll}, so the replica is
 * only ever touched by the loop.
 */
interface ConfigStore extends AutoCloseable {
  /** The replica this store drives, built with the store's lease and session. */
  CoordinatorReplica replica();

  /**
   * Leads at once (the only coordinator) or enters the election.
   *
   * @param advertisedAddress where nodes and clients reach this coordinator; what standbys redirect
   *     to
   */
  void start(String advertisedAddress);

  /**
   * Feeds what the store reported since the last call into the replica (leadership, connection
   * state, lease confirmations) and starts the store requests now due. {@code clockTick} is now on
   * the real clock.
   */
  void poll(long clockTick);

  /**
   * Makes {@code map} durable before anything of the same drain is sent (persist-before-send).
   * False: it is not known to be durable; the replica was told why (fenced or frozen) and the
   * drain's sends and replies must be dropped.
   */
  boolean persist(ChainMap map);

  /** The replica stepped down on its own: leave the election and enter it again. */
  void release();

  /**
   * The newest map this process read from the store or wrote to it (any thread); a new cluster's
   * empty map before anything was written.
   */
  ChainMap stored();

  /** Where the configuration lives, for logs: a file name, a ZooKeeper connect string. */
  String describe();

  @Override
  void close();
}

/**
 * Local clusters: a coordinator and nodes as child JVMs on 127.0.0.1 ({@link
 * io.craq.cli.cluster.LocalProcesses}), the one launcher that {@code craq bench --spawn}, {@code
 * bin/craq-cluster} (through {@code craq await-chain}) and the process-level tests use; and a local
 * ZooKeeper ensemble ({@link io.craq.cli.cluster.ZooKeeperEnsemble}) for {@code craq cluster
 * --zookeeper} and the tests. Depends on the client library and on {@code common}, not on the other
 * packages of the tool.
 */
package io.craq.cli.cluster;

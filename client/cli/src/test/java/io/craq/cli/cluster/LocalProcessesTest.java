package io.craq.cli.cluster;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.cli.common.ExitCodes;
import io.craq.client.FakeEndpoint;
import io.craq.client.FakeServersTest;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import io.craq.core.message.PoolNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher of local clusters and its readiness wait, against a fake coordinator. */
class LocalProcessesTest extends FakeServersTest {
  private static Member member(String id, boolean caughtUp) {
    return new Member(id, "127.0.0.1:1", 1, 1, caughtUp);
  }

  @Test
  @DisplayName(
      "the jars of a built project run with the LMDB flags and each child's own flags;"
          + " a missing jar is refused before anything starts")
  void jarCommandLines(@TempDir Path home) throws IOException {
    assertThrows(IOException.class, () -> LocalProcesses.jars(home));
    for (Role role : Role.values()) {
      Files.createDirectories(home.resolve(role.jar()).getParent());
      Files.writeString(home.resolve(role.jar()), "");
    }
    List<String> command = LocalProcesses.jars(home).command(Role.NODE, "n2");
    assertTrue(command.get(0).endsWith("/bin/java"), command.toString());
    assertTrue(command.containsAll(LocalProcesses.jvmFlags()), command.toString());
    assertEquals(
        List.of("-jar", home.resolve("node/target/craq-node.jar").toString()),
        command.subList(command.size() - 2, command.size()));
    assertEquals(
        List.of("-Xmx1g", "-XX:StartFlightRecording=filename=/tmp/n2.jfr"),
        LocalProcesses.childJavaOptions(
            " -Xmx1g  -XX:StartFlightRecording=filename=/tmp/%name.jfr", "n2"));
    assertEquals(
        List.of(
            "--id",
            "n1",
            "-a",
            "127.0.0.1:2",
            "-p",
            "127.0.0.1:3",
            "-c",
            "127.0.0.1:1",
            "-f",
            home.resolve("n1").toString()),
        LocalProcesses.nodeArgs(
            "n1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:1", home.resolve("n1")));
  }

  private static boolean ready(int nodes, ChainConfig chain) {
    return LocalProcesses.caughtUp(nodes).ready(FakeEndpoint.singleChainMap(chain));
  }

  /** A map of {@code chains} whose pool is every member, R = {@code replicas}. */
  private static ChainMap map(int replicas, ChainConfig... chains) {
    return new ChainMap(9, replicas, List.of(chains), FakeEndpoint.poolOf(List.of(chains)));
  }

  @Test
  @DisplayName(
      "one chain that every node joins is ready with exactly N members, all caught up; with R"
          + " replicas, min(R, N)")
  void readiness() {
    assertTrue(ready(2, chain(1, member("a", true), member("b", true))));
    assertFalse(ready(2, chain(1, member("a", true), member("b", false))));
    assertFalse(ready(2, chain(1, member("a", true))));
    assertFalse(ready(1, ChainConfig.EMPTY));
    ChainConfig two = chain(1, member("a", true), member("b", true));
    ChainMap twoOfThree =
        new ChainMap(
            3,
            2,
            List.of(two),
            List.of(
                new PoolNode("a", "127.0.0.1:1", 1, false),
                new PoolNode("b", "127.0.0.1:1", 1, false),
                new PoolNode("c", "127.0.0.1:1", 1, false)));
    assertTrue(LocalProcesses.caughtUp(3).ready(twoOfThree));
    assertFalse(LocalProcesses.caughtUp(4).ready(twoOfThree), "the map lists 3 nodes of 4");
  }

  @Test
  @DisplayName(
      "several chains: ready when every chain has min(R, N) members, all caught up, and no"
          + " more; the error says how many chains are there")
  void readinessOfSeveralChains() {
    Member a = member("a", true);
    Member b = member("b", true);
    Member c = member("c", true);
    Member d = member("d", true);
    ChainMap formed =
        map(3, chain(1, a, b, c), chain(1, b, c, d), chain(1, c, d, a), chain(1, d, a, b));
    assertTrue(LocalProcesses.caughtUp(4).ready(formed));
    assertFalse(LocalProcesses.caughtUp(5).ready(formed));
    ChainMap catchingUp =
        map(3, chain(1, a, b, c), chain(1, b, c, member("d", false)), chain(1, c, d, a));
    assertFalse(LocalProcesses.caughtUp(4).ready(catchingUp));
    assertEquals(
        "4 node(s); 2 of 3 chains with 3 caught-up member(s)",
        LocalProcesses.caughtUp(4).progress(catchingUp));
    assertFalse(
        LocalProcesses.caughtUp(4).ready(map(3, chain(1, a, b, c), chain(1, b, c, d, a))),
        "a chain with an extra member is still moving");
    assertTrue(LocalProcesses.caughtUp(2).ready(map(3, chain(1, a, b), chain(1, b, a))));
  }

  @Test
  @DisplayName(
      "craq await-chain: exit 0 once the chain is ready; 3 after --wait-seconds, or at"
          + " once when a watched process is not running")
  void awaitChain() throws Exception {
    chainRef.set(chain(1, member("n1", true), member("n2", false)));
    long started = System.nanoTime();
    CraqRun late =
        CraqRun.of(
            "await-chain", "-c", coordinator.address(), "--nodes", "2", "--wait-seconds", "1");
    assertEquals(ExitCodes.UNAVAILABLE, late.exitCode(), late.err());
    assertTrue(late.err().contains("2 member(s), 1 caught up"), late.err());
    assertTrue(System.nanoTime() - started >= Duration.ofSeconds(1).toNanos());

    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    CraqRun watched =
        CraqRun.of(
            "await-chain",
            "-c",
            coordinator.address(),
            "--nodes",
            "2",
            "--wait-seconds",
            "30",
            "--watch",
            Long.toString(ProcessHandle.current().pid()),
            "--watch",
            Long.toString(gone.pid()));
    assertEquals(ExitCodes.UNAVAILABLE, watched.exitCode(), watched.err());
    assertTrue(watched.err().contains("process " + gone.pid() + " exited"), watched.err());

    chainRef.set(chain(2, member("n1", true), member("n2", true)));
    CraqRun ready =
        CraqRun.of(
            "await-chain",
            "-c",
            coordinator.address(),
            "--nodes",
            "2",
            "--watch",
            Long.toString(ProcessHandle.current().pid()));
    assertEquals(ExitCodes.OK, ready.exitCode(), ready.err());
    assertFalse(CraqRun.of("--help").out().contains("await-chain"));
  }
}

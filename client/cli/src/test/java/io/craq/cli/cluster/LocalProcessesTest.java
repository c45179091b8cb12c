package io.craq.cli.cluster;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.cluster.LocalProcesses.Role;
import io.craq.cli.common.ExitCodes;
import io.craq.client.FakeServersTest;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
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

  @Test
  @DisplayName("a chain is ready with exactly N members, all caught up")
  void readiness() {
    assertTrue(LocalProcesses.caughtUp(2).ready(chain(1, member("a", true), member("b", true))));
    assertFalse(LocalProcesses.caughtUp(2).ready(chain(1, member("a", true), member("b", false))));
    assertFalse(LocalProcesses.caughtUp(2).ready(chain(1, member("a", true))));
    assertFalse(LocalProcesses.caughtUp(1).ready(ChainConfig.EMPTY));
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

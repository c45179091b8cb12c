package io.craq.cli.common;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.client.FakeEndpoint;
import io.craq.client.FakeServersTest;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code -c A,B,...}: a list of coordinators, checked address by address, of which the command
 * follows the one that leads; a standby's NOT_LEADER never reaches the user when another
 * coordinator can answer, and "no leader now" is one line and exit 3.
 */
class CoordinatorListOptionTest extends FakeServersTest {
  private FakeEndpoint fake(java.util.function.Function<Message, Message> behaviour) {
    FakeEndpoint fake = new FakeEndpoint(transport, behaviour);
    nodes.add(fake);
    return fake;
  }

  private FakeEndpoint standby(String leader) {
    return fake(m ->
        new ErrorReply(
            ErrorCode.NOT_LEADER,
            leader.isEmpty()
                ? "no coordinator leads now; retry later"
                : "this coordinator stands by; the leader is at " + leader,
            leader));
  }

  /** A member holding k = v. */
  private FakeEndpoint member() {
    byte[] value = "v".getBytes(StandardCharsets.UTF_8);
    FakeEndpoint node =
        fake(m ->
            m instanceof ReadRequest
                ? new Message.ReadReply("k", true, 1, value, false)
                : new ErrorReply(ErrorCode.UNSUPPORTED, "fake", ""));
    chainRef.set(chain(1, node.member("n1")));
    return node;
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1:1,no-port", "127.0.0.1:1,,127.0.0.1:2", ":1,:1", ":1,h:70000"})
  @DisplayName("a bad entry in -c is a usage error (exit 2) in one line naming it")
  void badListIsUsageError(String list) {
    CraqRun r = CraqRun.of("-c", list, "read", "k");
    r.assertUsageError("-c/--coordinator: ");
    String reason = r.errLines().get(0);
    assertTrue(
        reason.contains("'no-port'")
            || reason.contains("empty coordinator address in '127.0.0.1:1,,127.0.0.1:2'")
            || reason.contains("':1' is listed twice")
            || reason.contains("'h:70000'"),
        reason);
  }

  @Test
  @DisplayName("a standby first in -c redirects the command to the leader: no error shown")
  void followsTheLeader() {
    member();
    FakeEndpoint standby = standby(coordinator.address());
    CraqRun r = CraqRun.of("-c", standby.address() + "," + coordinator.address(), "read", "k");
    assertEquals(ExitCodes.OK, r.exitCode(), r.err());
    assertEquals("v\n", r.out());
    assertEquals("", r.err());
    assertEquals(1, standby.received().size());
  }

  @Test
  @DisplayName("a coordinator in -c that cannot be reached is passed over: no error shown")
  void passesOverUnreachable() {
    member();
    FakeEndpoint dead = standby("");
    String deadAddress = dead.address();
    dead.stop();
    CraqRun r = CraqRun.of("-c", deadAddress + "," + coordinator.address(), "read", "k");
    assertEquals(ExitCodes.OK, r.exitCode(), r.err());
    assertEquals("v\n", r.out());
    assertEquals("", r.err());
  }

  @Test
  @DisplayName("when no coordinator leads: one line saying so, exit 3 (unavailable)")
  void noLeaderNow() {
    FakeEndpoint a = standby("");
    FakeEndpoint b = standby("");
    for (List<String> command : List.of(List.of("read", "k"), List.of("chain"))) {
      List<String> args = new java.util.ArrayList<>(List.of("-c", a.address() + "," + b.address()));
      args.addAll(command);
      CraqRun r = CraqRun.of(args.toArray(String[]::new));
      assertEquals(ExitCodes.UNAVAILABLE, r.exitCode(), r.err());
      assertEquals(1, r.errLines().size(), r.err());
      assertTrue(r.err().startsWith("craq: "), r.err());
      assertTrue(r.err().contains("no coordinator leads now"), r.err());
      assertFalse(r.err().contains("ErrorReply"), r.err());
    }
  }

  @Test
  @DisplayName("--help describes -c as a list")
  void helpShowsList() {
    CraqRun r = CraqRun.of("read", "--help");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().contains("--coordinator=ADDRESS[,ADDRESS...]"), r.out());
  }
}

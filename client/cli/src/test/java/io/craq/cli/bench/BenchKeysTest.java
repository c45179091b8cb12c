package io.craq.cli.bench;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.CraqRun;
import io.craq.cli.common.ExitCodes;
import io.craq.client.FakeEndpoint;
import io.craq.client.FakeNode;
import io.craq.client.FakeServersTest;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.WriteRequest;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code craq bench -c ADDRESS} against a user's cluster: what it leaves behind. */
class BenchKeysTest extends FakeServersTest {
  private CraqRun craq(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("-c", coordinator.address()));
    all.addAll(List.of(args));
    return CraqRun.of(all.toArray(String[]::new));
  }

  private void oneNodeChain() {
    oneNodeChain(new FakeNode(chainRef::get));
  }

  private void oneNodeChain(Function<Message, Message> behaviour) {
    FakeEndpoint node = new FakeEndpoint(transport, behaviour);
    nodes.add(node);
    chainRef.set(chain(1, node.member("n1")));
  }

  private CraqRun bench(String... extra) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "bench",
                "--duration",
                "300ms",
                "--warmup",
                "0",
                "--threads",
                "1",
                "--keys",
                "20",
                "--workload",
                "write"));
    args.addAll(List.of(extra));
    return craq(args.toArray(String[]::new));
  }

  @Test
  @DisplayName("bench deletes its keys at the end: the user's data is as before")
  void keysAreDeleted() {
    oneNodeChain();
    craq("write", "mine", "kept");
    CraqRun run = bench();
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().contains("deleted the bench keys craq-bench/"), run.err());
    assertEquals("mine\tkept\n", craq("readall").out());
  }

  @Test
  @DisplayName("--keep-keys leaves them: named craq-bench/RUNID/N, with printable values")
  void keepKeys() {
    oneNodeChain();
    CraqRun run = bench("--keep-keys", "--value-bytes", "50");
    assertEquals(0, run.exitCode(), run.err());
    List<String> lines = craq("readall").out().lines().toList();
    assertEquals(20, lines.size(), lines.toString());
    for (String line : lines) {
      assertTrue(line.matches("craq-bench/[0-9a-f]{6}/\\d+\t[a-z0-9]{50}"), line);
    }
  }

  @Test
  @DisplayName("a head refusing writes for a moment (no lease yet) does not fail the preload")
  void preloadRetriesPassingRefusals() {
    FakeNode store = new FakeNode(chainRef::get);
    AtomicInteger refusals = new AtomicInteger(30);
    oneNodeChain(message ->
        message instanceof WriteRequest && refusals.getAndDecrement() > 0
            ? new ErrorReply(ErrorCode.UNAVAILABLE, "no lease", "")
            : store.apply(message));
    CraqRun run = bench("--keep-keys");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(refusals.get() < 0, "every refusal was answered by a retry");
    assertEquals(20, craq("readall").out().lines().count());
  }

  @Test
  @DisplayName("writes the head rejects for good end the run with one line saying why")
  void preloadFailureIsOneLine() {
    FakeNode store = new FakeNode(chainRef::get);
    oneNodeChain(message ->
        message instanceof WriteRequest write && write.key().startsWith("craq-bench/")
            ? new ErrorReply(ErrorCode.INVALID_REQUEST, "no", "")
            : store.apply(message));
    CraqRun run = bench();
    assertEquals(ExitCodes.UNAVAILABLE, run.exitCode(), run.err());
    assertTrue(run.err().contains("preload: 20 write(s) failed: {INVALID_REQUEST=20}"), run.err());
    assertFalse(run.err().contains("\tat "), run.err());
  }
}

package io.craq.client;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The craq command: parsing, output and exit codes, against fake servers on 127.0.0.1. */
class CraqMainTest extends FakeServersTest {
  /** One run of the command with captured streams. */
  record Run(int exitCode, String out, String err) {}

  /** Runs the craq command with {@code args}, capturing stdout and stderr (shared by tests). */
  static Run run(String... args) {
    CommandLine commandLine = CraqMain.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int code = commandLine.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** Runs against the fake coordinator, reading from {@code node} unless args say otherwise. */
  private Run craq(String... args) {
    List<String> all = new ArrayList<>(List.of("-c", coordinator.address(),
        "--timeout-millis", "2000"));
    if (!nodes.isEmpty()) {
      all.addAll(List.of("-n", nodes.get(0).address()));
    }
    all.addAll(List.of(args));
    return run(all.toArray(String[]::new));
  }

  private FakeEndpoint node(Function<Message, Message> behaviour) {
    FakeEndpoint node = new FakeEndpoint(transport, behaviour);
    nodes.add(node);
    return node;
  }

  /** A single-node chain backed by a map. */
  private FakeEndpoint storeNode() {
    FakeEndpoint node = node(new FakeNode(chainRef::get));
    chainRef.set(chain(1, node.member("n1")));
    return node;
  }

  // ----------------------------------------------------------------------------------- usage

  @Test
  @DisplayName("no subcommand: usage on stderr, exit code 2")
  void noArguments() {
    Run r = run();
    assertEquals(ExitCodes.USAGE, r.exitCode());
    assertTrue(r.err().contains("Usage: craq"), r.err());
    assertEquals("", r.out());
  }

  @ParameterizedTest
  @ValueSource(strings = {"--bogus", "frobnicate", "read", "write", "write onlykey", "delete",
      "read a b", "--timeout-millis 0 read k", "--timeout-millis x read k",
      "write --if-version -1 k v", "-c nohostport read k", "-n 127.0.0.1:99999 read k"})
  @DisplayName("command-line misuse prints usage and exits 2")
  void misuseIsUsageError(String line) {
    Run r = run(line.split(" "));
    assertEquals(ExitCodes.USAGE, r.exitCode(), r.err());
    assertTrue(r.err().contains("Usage: craq"), r.err());
    assertEquals("", r.out());
  }

  @ParameterizedTest
  @ValueSource(strings = {"foo", "bounded", "bounded:", "bounded:-1", "bounded:x", "strongest", ""})
  @DisplayName("a bad --consistency is refused as a usage error")
  void badConsistency(String value) {
    Run r = run("read", "k", "--consistency", value);
    assertEquals(ExitCodes.USAGE, r.exitCode(), r.err());
    assertTrue(r.err().contains("--consistency"), r.err());
  }

  @Test
  @DisplayName("consistency values parse to read modes")
  void consistencyParsing() {
    assertEquals(ReadConsistency.STRONG, ReadConsistency.parse("strong"));
    assertEquals(new ReadConsistency(ReadMode.EVENTUAL, 0), ReadConsistency.parse("EVENTUAL"));
    assertEquals(new ReadConsistency(ReadMode.BOUNDED, 3), ReadConsistency.parse("bounded:3"));
    assertEquals("bounded:3", ReadConsistency.parse("bounded:3").toString());
    assertThrows(IllegalArgumentException.class, () -> ReadConsistency.parse("bounded:-3"));
  }

  @Test
  @DisplayName("--help and --version exit 0 on stdout")
  void helpAndVersion() {
    Run help = run("--help");
    assertEquals(0, help.exitCode());
    assertTrue(help.out().contains("Exit codes:"), help.out());
    assertTrue(help.out().contains("ambiguous write"), help.out());
    Run version = run("--version");
    assertEquals(0, version.exitCode());
    assertTrue(version.out().startsWith("craq "), version.out());
  }

  // ------------------------------------------------------------------------- behaviour

  @Test
  @DisplayName("`craq write hello \"world\"` then `craq read hello` prints world (go-craq README)")
  void writeThenRead() {
    storeNode();
    Run write = craq("write", "hello", "world");
    assertEquals(0, write.exitCode(), write.err());
    assertEquals("1\n", write.out());

    Run read = craq("read", "hello");
    assertEquals(0, read.exitCode(), read.err());
    assertEquals("world\n", read.out());
    assertEquals("", read.err());
  }

  @Test
  @DisplayName("several value words are joined with single spaces, as go-craq does")
  void multiWordValue() {
    FakeEndpoint node = storeNode();
    assertEquals(0, craq("write", "k", "hello", "big", "world").exitCode());
    WriteRequest sent = node.received(WriteRequest.class).get(0);
    assertEquals("hello big world", new String(sent.value(), StandardCharsets.UTF_8));
    assertEquals("hello big world\n", craq("read", "k").out());
  }

  @Test
  @DisplayName("global options work after the subcommand too, and reads go to --node")
  void globalOptionsAfterSubcommand() {
    FakeEndpoint a = node(m -> new Message.ReadReply("k", true, 1,
        "from-a".getBytes(StandardCharsets.UTF_8), false));
    FakeEndpoint b = node(m -> new Message.ReadReply("k", true, 1,
        "from-b".getBytes(StandardCharsets.UTF_8), false));
    chainRef.set(chain(1, a.member("a"), b.member("b")));

    Run r = run("read", "k", "-c", coordinator.address(), "-n", b.address(),
        "--consistency", "eventual");
    assertEquals("from-b\n", r.out(), r.err());
    assertEquals(new ReadRequest("k", ReadMode.EVENTUAL, 0),
        b.received(ReadRequest.class).get(0));
    assertTrue(a.received().isEmpty());
  }

  @Test
  @DisplayName("--any-node reads from a chain member learned from the coordinator")
  void anyNode() {
    FakeEndpoint member = node(m -> new Message.ReadReply("k", true, 1,
        "v".getBytes(StandardCharsets.UTF_8), false));
    chainRef.set(chain(1, member.member("a")));
    Run r = run("-c", coordinator.address(), "-n", "127.0.0.1:1", "--any-node", "read", "k");
    assertEquals("v\n", r.out(), r.err());
  }

  @Test
  @DisplayName("reading an absent or deleted key exits 1 with nothing on stdout")
  void notFound() {
    storeNode();
    Run absent = craq("read", "nope");
    assertEquals(ExitCodes.NOT_FOUND, absent.exitCode());
    assertEquals("", absent.out());
    assertTrue(absent.err().contains("not found"), absent.err());

    craq("write", "k", "v");
    Run delete = craq("delete", "k");
    assertEquals(0, delete.exitCode(), delete.err());
    assertEquals("2\n", delete.out());
    assertEquals(ExitCodes.NOT_FOUND, craq("read", "k").exitCode());
  }

  @Test
  @DisplayName("--json gives one object per line with the value as text and base64")
  void jsonOutput() {
    storeNode();
    assertEquals("{\"key\":\"k\",\"version\":1}\n", craq("--json", "write", "k", "a\"b").out());
    assertEquals("{\"key\":\"k\",\"found\":true,\"version\":1,\"value\":\"a\\\"b\","
        + "\"valueBase64\":\"YSJi\",\"dirty\":false}\n", craq("--json", "read", "k").out());
    Run missing = craq("--json", "read", "x");
    assertEquals(ExitCodes.NOT_FOUND, missing.exitCode());
    assertEquals("{\"key\":\"x\",\"found\":false}\n", missing.out());
    assertEquals("{\"key\":\"k\",\"version\":1,\"value\":\"a\\\"b\",\"valueBase64\":\"YSJi\"}\n",
        craq("--json", "readall").out());
  }

  @Test
  @DisplayName("readall prints KEY<TAB>VALUE lines in key order")
  void readAll() {
    storeNode();
    craq("write", "b", "two");
    craq("write", "a", "one", "and", "more");
    Run r = craq("readall");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("a\tone and more\nb\ttwo\n", r.out());
  }

  @Test
  @DisplayName("--if-version writes conditionally; a mismatch exits 5")
  void conditionalWrite() {
    storeNode();
    assertEquals("1\n", craq("write", "--if-version", "0", "k", "v1").out());
    assertEquals("2\n", craq("write", "--if-version", "1", "k", "v2").out());
    Run stale = craq("write", "--if-version", "1", "k", "v3");
    assertEquals(ExitCodes.VERSION_MISMATCH, stale.exitCode());
    assertTrue(stale.err().contains("expected version 1"), stale.err());
    assertEquals("v2\n", craq("read", "k").out());
  }

  @Test
  @DisplayName("an ambiguous write exits 4, an unavailable chain 3, an invalid request 6")
  void failureExitCodes() {
    FakeEndpoint head = node(m -> m instanceof WriteRequest w && w.key().equals("bad")
        ? new ErrorReply(ErrorCode.INVALID_REQUEST, "refused", "")
        : new ErrorReply(ErrorCode.AMBIGUOUS, "chain changed under the write", ""));
    chainRef.set(chain(1, head.member("a")));

    Run ambiguous = craq("write", "k", "v");
    assertEquals(ExitCodes.AMBIGUOUS_WRITE, ambiguous.exitCode());
    assertTrue(ambiguous.err().contains("unknown outcome"), ambiguous.err());
    assertEquals("", ambiguous.out());

    assertEquals(ExitCodes.INVALID_REQUEST, craq("write", "bad", "v").exitCode());
    assertEquals(ExitCodes.INVALID_REQUEST,
        craq("write", "x".repeat(600), "v").exitCode(), "client-side key limit");

    chainRef.set(new ChainConfig(2, List.of()));
    Run empty = craq("write", "k", "v");
    assertEquals(ExitCodes.UNAVAILABLE, empty.exitCode());
    assertTrue(empty.err().contains("no members"), empty.err());
  }

  @Test
  @DisplayName("a read with no node reachable exits 3")
  void readUnavailable() {
    String dead = coordinator.address();
    coordinator.stop();
    Run r = run("-c", dead, "-n", dead, "--timeout-millis", "500", "read", "k");
    assertEquals(ExitCodes.UNAVAILABLE, r.exitCode());
    assertTrue(r.err().startsWith("craq: "), r.err());
  }

  @Test
  @DisplayName("chain lists members head first with roles and health")
  void chainCommand() {
    FakeEndpoint head = node(new FakeNode(chainRef::get));
    FakeEndpoint middle = node(new FakeNode(() -> chain(6, head.member("n1"))));
    FakeEndpoint tail = node(new FakeNode(chainRef::get));
    chainRef.set(chain(7, head.member("n1"), middle.member("n2"), tail.member("n3")));
    tail.stop();

    Run r = craq("chain");
    assertEquals(0, r.exitCode(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals("epoch 7, 3 members", lines[0]);
    assertTrue(lines[1].matches("head\\s+n1\\s+\\S+\\s+reachable, epoch 7"), lines[1]);
    assertTrue(lines[2].matches(
        "middle\\s+n2\\s+\\S+\\s+reachable, epoch 6 \\(behind\\) \\(not a member in its own view\\)"),
        lines[2]);
    assertTrue(lines[3].matches("tail\\s+n3\\s+\\S+\\s+unreachable: .*"), lines[3]);

    Run json = craq("--json", "chain");
    assertTrue(json.out().startsWith("{\"epoch\":7,\"members\":[{\"id\":\"n1\",\"address\":\""
        + head.address() + "\",\"role\":\"head\",\"caughtUp\":true,\"reachable\":true,\"epoch\":7,"
        + "\"memberInOwnView\":true},"), json.out());
    assertTrue(json.out().contains("\"role\":\"tail\",\"caughtUp\":true,\"reachable\":false,\"error\":"), json.out());
  }

  @Test
  @DisplayName("a plain new CommandLine(new CraqMain()) maps failures to the same exit codes")
  void plainCommandLineKeepsExitCodes() {
    chainRef.set(new ChainConfig(2, List.of()));
    CommandLine plain = new CommandLine(new CraqMain());
    StringWriter err = new StringWriter();
    plain.setErr(new PrintWriter(err, true));
    plain.setOut(new PrintWriter(new StringWriter(), true));
    assertEquals(ExitCodes.UNAVAILABLE,
        plain.execute("-c", coordinator.address(), "write", "k", "v"));
    assertTrue(err.toString().startsWith("craq: "), err.toString());
    assertEquals(ExitCodes.USAGE, new CommandLine(new CraqMain()).execute("read"));
  }

  @Test
  @DisplayName("the exit-code mapping")
  void exitCodeMapping() {
    assertEquals(4, ExitCodes.of(new AmbiguousWriteException("k", "m", null, null)));
    assertEquals(5, ExitCodes.of(new VersionMismatchException("k", 1, 2, "m")));
    assertEquals(6, ExitCodes.of(new InvalidRequestException("m")));
    assertEquals(3, ExitCodes.of(new UnavailableException("m")));
    assertEquals(3, ExitCodes.of(new CraqException("m")));
    assertEquals(70, ExitCodes.of(new IllegalStateException("bug")));
    assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "70"),
        List.copyOf(ExitCodes.descriptions().keySet()));
  }
}

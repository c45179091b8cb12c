package io.craq.cli;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.cli.commands.ReadCommand;
import io.craq.cli.commands.WriteCommand;
import io.craq.cli.common.ExitCodes;
import io.craq.client.AmbiguousWriteException;
import io.craq.client.CraqException;
import io.craq.client.FakeChainNode;
import io.craq.client.FakeEndpoint;
import io.craq.client.FakeNode;
import io.craq.client.FakeServersTest;
import io.craq.client.InvalidRequestException;
import io.craq.client.UnavailableException;
import io.craq.client.VersionMismatchException;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.PoolNode;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The craq command: parsing, output and exit codes, against fake servers on 127.0.0.1. */
class CraqMainTest extends FakeServersTest {
  private static CraqRun run(String... args) {
    return CraqRun.of(args);
  }

  private static CraqRun runWithInput(byte[] stdin, String... args) {
    return CraqRun.withInput(stdin, args);
  }

  private static void assertUsageError(CraqRun run, String reasonPart) {
    run.assertUsageError(reasonPart);
  }

  /** Runs against the fake coordinator, reading from {@code node} unless args say otherwise. */
  private CraqRun craq(String... args) {
    List<String> all =
        new ArrayList<>(List.of("-c", coordinator.address(), "--timeout-millis", "2000"));
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
  @DisplayName("no subcommand: a usage error that names the subcommands")
  void noArguments() {
    assertUsageError(
        run(),
        "missing subcommand; one of: write, read, delete, mwrite, incr, append, readall, chain");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--bogus",
        "frobnicate",
        "read",
        "write",
        "write onlykey",
        "delete",
        "read a b",
        "--timeout-millis 0 read k",
        "--timeout-millis x read k",
        "write --if-version -1 k v",
        "-c nohostport read k",
        "-n 127.0.0.1:99999 read k",
        "--value-max-bytes -1 write k v"
      })
  @DisplayName("command-line misuse: the reason and one hint line on stderr, exit 2")
  void misuseIsUsageError(String line) {
    assertUsageError(run(line.split(" ")), "");
  }

  @Test
  @DisplayName("a mistyped subcommand gets a suggestion besides the reason and the hint")
  void suggestion() {
    CraqRun r = run("readal");
    assertUsageError(r, "'readal'");
    assertTrue(r.err().contains("Did you mean: craq readall"), r.err());
    assertTrue(r.err().endsWith("Try 'craq --help' for more information.\n"), r.err());
  }

  @ParameterizedTest
  @ValueSource(strings = {"foo", "bounded", "bounded:", "bounded:-1", "bounded:x", "strongest", ""})
  @DisplayName("a bad --consistency is refused as a usage error")
  void badConsistency(String value) {
    CraqRun r = run("read", "k", "--consistency", value);
    assertEquals(ExitCodes.USAGE, r.exitCode(), r.err());
    assertTrue(r.err().contains("--consistency"), r.err());
  }

  @Test
  @DisplayName(
      "--help, `craq help` and `craq help COMMAND` exit 0 on stdout; --version's format"
          + " is the one craq-node and craq-coordinator print")
  void helpAndVersion() {
    CraqRun help = run("--help");
    assertEquals(0, help.exitCode());
    assertTrue(help.out().contains("Exit codes:"), help.out());
    assertTrue(help.out().contains("ambiguous write"), help.out());
    assertEquals(help.out(), run("help").out());
    CraqRun helpRead = run("help", "read");
    assertEquals(0, helpRead.exitCode(), helpRead.err());
    assertEquals(run("read", "--help").out(), helpRead.out());
    assertTrue(helpRead.out().startsWith("Usage: craq read"), helpRead.out());
    assertUsageError(run("help", "nope"), "nope");
    CraqRun version = run("--version");
    assertEquals(0, version.exitCode());
    assertTrue(version.out().matches("craq \\S.*\\RJava \\S+ \\(.+\\)\\R"), version.out());
  }

  @Test
  @DisplayName(
      "a run builds only the subcommand its arguments name; help, --help and a"
          + " misspelt name get all of them")
  void onlyTheNamedSubcommandIsBuilt() {
    assertEquals(
        Set.of("read"),
        CraqMain.forArguments(new String[] {"-c", ":1", "read", "write"})
            .getSubcommands()
            .keySet());
    assertEquals(
        Set.of("write"),
        CraqMain.forArguments(new String[] {"write", "--", "read"}).getSubcommands().keySet());
    Set<String> all = CraqMain.newCommandLine().getSubcommands().keySet();
    assertEquals(
        List.of(
            "write",
            "read",
            "delete",
            "mwrite",
            "incr",
            "append",
            "readall",
            "chain",
            "leave",
            "stats",
            "user",
            "check",
            "bench",
            "plot",
            "paper-summary",
            "cluster",
            "await-chain",
            "tls-init",
            "help"),
        List.copyOf(all));
    for (String[] args :
        List.of(
            new String[] {"--help"},
            new String[] {"help", "read"},
            new String[] {"raed"},
            new String[0])) {
      assertEquals(all, CraqMain.forArguments(args).getSubcommands().keySet());
    }
  }

  // ------------------------------------------------------------------------- behaviour

  @Test
  @DisplayName("`craq write hello \"world\"` then `craq read hello` prints world (go-craq README)")
  void writeThenRead() {
    storeNode();
    CraqRun write = craq("write", "hello", "world");
    assertEquals(0, write.exitCode(), write.err());
    assertEquals("1\n", write.out());

    CraqRun read = craq("read", "hello");
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
    FakeEndpoint a =
        node(m ->
            new Message.ReadReply("k", true, 1, "from-a".getBytes(StandardCharsets.UTF_8), false));
    FakeEndpoint b =
        node(m ->
            new Message.ReadReply("k", true, 1, "from-b".getBytes(StandardCharsets.UTF_8), false));
    chainRef.set(chain(1, a.member("a"), b.member("b")));

    CraqRun r =
        run(
            "read",
            "k",
            "-c",
            coordinator.address(),
            "-n",
            b.address(),
            "--consistency",
            "eventual");
    assertEquals("from-b\n", r.out(), r.err());
    assertEquals(new ReadRequest("k", ReadMode.EVENTUAL, 0), b.received(ReadRequest.class).get(0));
    assertTrue(a.received().isEmpty());
  }

  @Test
  @DisplayName("--any-node reads from a chain member learned from the coordinator")
  void anyNode() {
    FakeEndpoint member =
        node(m -> new Message.ReadReply("k", true, 1, "v".getBytes(StandardCharsets.UTF_8), false));
    chainRef.set(chain(1, member.member("a")));
    CraqRun r = run("-c", coordinator.address(), "-n", "127.0.0.1:1", "--any-node", "read", "k");
    assertEquals("v\n", r.out(), r.err());
  }

  @Test
  @DisplayName("reading an absent or deleted key exits 1 with nothing on stdout")
  void notFound() {
    storeNode();
    CraqRun absent = craq("read", "nope");
    assertEquals(ExitCodes.NOT_FOUND, absent.exitCode());
    assertEquals("", absent.out());
    assertTrue(absent.err().contains("not found"), absent.err());

    craq("write", "k", "v");
    CraqRun delete = craq("delete", "k");
    assertEquals(0, delete.exitCode(), delete.err());
    assertEquals("2\n", delete.out());
    assertEquals(ExitCodes.NOT_FOUND, craq("read", "k").exitCode());
  }

  @Test
  @DisplayName("--json gives one object per line with the value as text and base64")
  void jsonOutput() {
    storeNode();
    assertEquals("{\"key\":\"k\",\"version\":1}\n", craq("--json", "write", "k", "a\"b").out());
    assertEquals(
        "{\"key\":\"k\",\"found\":true,\"version\":1,\"value\":\"a\\\"b\","
            + "\"valueBase64\":\"YSJi\",\"dirty\":false}\n",
        craq("--json", "read", "k").out());
    CraqRun missing = craq("--json", "read", "x");
    assertEquals(ExitCodes.NOT_FOUND, missing.exitCode());
    assertEquals("{\"key\":\"x\",\"found\":false}\n", missing.out());
    assertEquals(
        "{\"key\":\"k\",\"version\":1,\"value\":\"a\\\"b\",\"valueBase64\":\"YSJi\"}\n",
        craq("--json", "readall").out());
  }

  @Test
  @DisplayName("readall prints KEY<TAB>VALUE lines in key order")
  void readAll() {
    storeNode();
    craq("write", "b", "two");
    craq("write", "a", "one", "and", "more");
    CraqRun r = craq("readall");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("a\tone and more\nb\ttwo\n", r.out());
  }

  @Test
  @DisplayName("readall escapes tabs, newlines, backslashes and non-UTF-8 bytes: one line per key")
  void readAllEscapes() {
    storeNode();
    byte[] value = {'a', '\t', 'b', '\n', 'c', '\\', 0, (byte) 0xff, (byte) 0xc3, (byte) 0xa9};
    assertEquals(
        0,
        runWithInput(
                value,
                "-c",
                coordinator.address(),
                "-n",
                nodes.get(0).address(),
                "write",
                "tab\tkey",
                "-")
            .exitCode());
    CraqRun r = craq("readall");
    assertEquals("tab\\tkey\ta\\tb\\nc\\\\\\x00\\xff\u00e9\n", r.out());
  }

  @Test
  @DisplayName(
      "readall is strong by default: it refuses when strong reads do (a node without"
          + " its lease); --consistency eventual answers")
  void readAllIsStrongByDefault() {
    FakeEndpoint leaseless =
        node(m ->
            switch (m) {
              case Message.ReadAllRequest scan ->
                  new Message.ReadAllReply(
                      List.of(
                          new VersionRecord("k", 1, false, "v".getBytes(StandardCharsets.UTF_8))),
                      false);
              case ReadRequest read when read.mode() == ReadMode.STRONG ->
                  new ErrorReply(ErrorCode.UNAVAILABLE, "no lease", "");
              case ReadRequest read ->
                  new Message.ReadReply("k", true, 1, "v".getBytes(StandardCharsets.UTF_8), false);
              default -> new ErrorReply(ErrorCode.UNSUPPORTED, "fake", "");
            });
    chainRef.set(chain(1, leaseless.member("a")));
    CraqRun strongRead = craq("read", "k");
    CraqRun strongScan = craq("readall");
    assertEquals(ExitCodes.UNAVAILABLE, strongRead.exitCode(), strongRead.err());
    assertEquals(ExitCodes.UNAVAILABLE, strongScan.exitCode(), strongScan.err());
    assertTrue(strongScan.err().contains("no lease"), strongScan.err());
    assertEquals("", strongScan.out());

    CraqRun eventual = craq("readall", "--consistency", "eventual");
    assertEquals(0, eventual.exitCode(), eventual.err());
    assertEquals("k\tv\n", eventual.out());
    assertTrue(
        leaseless.received(ReadRequest.class).stream()
            .anyMatch(read -> read.mode() == ReadMode.EVENTUAL));
  }

  // ------------------------------------------------------------------- values from files

  @Test
  @DisplayName(
      "write KEY - takes the value from stdin byte for byte; read --output writes"
          + " the exact bytes (to a file, or with - to stdout)")
  void valuesFromStdinAndToFiles(@TempDir Path dir) throws Exception {
    FakeEndpoint node = storeNode();
    byte[] value = new byte[300_000]; // larger than one Linux argument (128 KiB)
    new Random(7).nextBytes(value);
    CraqRun write = runWithInput(value, "-c", coordinator.address(), "write", "bin", "-");
    assertEquals(0, write.exitCode(), write.err());
    assertArrayEquals(value, node.received(WriteRequest.class).get(0).value());

    Path out = dir.resolve("out.bin");
    CraqRun read = craq("read", "bin", "--output", out.toString());
    assertEquals(0, read.exitCode(), read.err());
    assertEquals("", read.out());
    assertArrayEquals(value, Files.readAllBytes(out));
    assertArrayEquals(value, craq("read", "bin", "--output", "-").raw());

    CraqRun absent = craq("read", "nope", "--output", dir.resolve("absent").toString());
    assertEquals(ExitCodes.NOT_FOUND, absent.exitCode());
    assertFalse(Files.exists(dir.resolve("absent")));
  }

  @Test
  @DisplayName("write --file PATH writes the file's bytes; a lone '-' among words is text")
  void valueFromFile(@TempDir Path dir) throws Exception {
    FakeEndpoint node = storeNode();
    Path file = dir.resolve("value.bin");
    byte[] bytes = {0, 1, 2, (byte) 0xfe, '\n'};
    Files.write(file, bytes);
    assertEquals("1\n", craq("write", "--file", file.toString(), "k").out());
    assertArrayEquals(bytes, node.received(WriteRequest.class).get(0).value());
    assertEquals(0, craq("write", "k2", "a", "-", "b").exitCode());
    assertEquals(
        "a - b",
        new String(node.received(WriteRequest.class).get(1).value(), StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName(
      "a value over --value-max-bytes from stdin or a file is refused (exit 6) before"
          + " anything is sent; VALUE with --file, or neither, is a usage error")
  void valueLimits(@TempDir Path dir) throws Exception {
    FakeEndpoint node = storeNode();
    CraqRun big =
        runWithInput(
            new byte[11],
            "-c",
            coordinator.address(),
            "--value-max-bytes",
            "10",
            "write",
            "k",
            "-");
    assertEquals(ExitCodes.INVALID_REQUEST, big.exitCode(), big.err());
    assertTrue(big.err().contains("larger than 10 bytes (--value-max-bytes)"), big.err());
    Path file = dir.resolve("big");
    Files.write(file, new byte[11]);
    assertEquals(
        ExitCodes.INVALID_REQUEST,
        craq("--value-max-bytes", "10", "write", "k", "--file", file.toString()).exitCode());
    assertEquals(
        0,
        runWithInput(
                new byte[10],
                "-c",
                coordinator.address(),
                "--value-max-bytes",
                "10",
                "write",
                "k",
                "-")
            .exitCode());
    assertEquals(1, node.received(WriteRequest.class).size());

    assertUsageError(craq("write", "k", "v", "--file", file.toString()), "not both");
    assertUsageError(craq("write", "k"), "missing the value");
    assertUsageError(craq("write", "k", "--file", dir.resolve("none").toString()), "no such file");
  }

  @Test
  @DisplayName("--if-version writes conditionally; a mismatch exits 5")
  void conditionalWrite() {
    storeNode();
    assertEquals("1\n", craq("write", "--if-version", "0", "k", "v1").out());
    assertEquals("2\n", craq("write", "--if-version", "1", "k", "v2").out());
    CraqRun stale = craq("write", "--if-version", "1", "k", "v3");
    assertEquals(ExitCodes.VERSION_MISMATCH, stale.exitCode());
    assertTrue(stale.err().contains("expected version 1"), stale.err());
    assertEquals("v2\n", craq("read", "k").out());
  }

  @Test
  @DisplayName(
      "mwrite writes every key at once and prints KEY<TAB>VERSION per key, puts then deletes;"
          + " --json prints one object per key")
  void multiWrite() {
    storeNode();
    craq("write", "{u}gone", "x");
    CraqRun r = craq("mwrite", "{u}a", "one two", "{u}b", "2", "--delete", "{u}gone");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("{u}a\t1\n{u}b\t1\n{u}gone\t2\n", r.out());
    assertEquals("", r.err());
    assertEquals("one two\n", craq("read", "{u}a").out());
    assertEquals(ExitCodes.NOT_FOUND, craq("read", "{u}gone").exitCode());
    assertEquals(
        "{\"key\":\"{u}a\",\"version\":2}\n{\"key\":\"{u}b\",\"version\":2,\"deleted\":true}\n",
        craq("--json", "mwrite", "{u}a", "v", "--delete", "{u}b").out());
  }

  @Test
  @DisplayName(
      "mwrite --if-version KEY=N makes the whole write conditional: a stale version exits 5"
          + " naming the key, and nothing is written")
  void conditionalMultiWrite() {
    storeNode();
    assertEquals(0, craq("mwrite", "{u}a", "1", "{u}b", "1").exitCode());
    CraqRun stale =
        craq(
            "mwrite", "--if-version", "{u}a=1", "--if-version", "{u}b=0", "{u}a", "2", "{u}b", "2");
    assertEquals(ExitCodes.VERSION_MISMATCH, stale.exitCode());
    assertEquals(
        List.of(
            "craq: multi-key write of keys '{u}a', '{u}b': conditional write of key '{u}b'"
                + " expected version 0: key {u}b is at version 1"),
        stale.errLines());
    assertEquals("", stale.out());
    assertEquals("1\n", craq("read", "{u}a").out());
    CraqRun fresh =
        craq(
            "mwrite",
            "--if-version",
            "{u}a=1",
            "{u}a",
            "2",
            "--delete",
            "{u}b",
            "--if-version",
            "{u}b=1");
    assertEquals("{u}a\t2\n{u}b\t2\n", fresh.out(), fresh.err());
  }

  @Test
  @DisplayName(
      "mwrite of keys on different chains exits 6 with one line naming two keys, their chains"
          + " and the hash-tag remedy; nothing is sent to a node")
  void multiWriteAcrossChains() {
    FakeNode store = new FakeNode(chainRef::get);
    List<FakeEndpoint> fakes = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      fakes.add(node(new FakeChainNode("n" + i, this::currentMap, store)));
    }
    List<ChainConfig> chains =
        List.of(
            new ChainConfig(1, List.of(fakes.get(0).member("n1"))),
            new ChainConfig(1, List.of(fakes.get(1).member("n2"))));
    mapRef.set(new ChainMap(3, 1, chains, FakeEndpoint.poolOf(chains)));
    String k0 = keyOfChain(0, 2, "key");
    String k1 = keyOfChain(1, 2, "key");

    CraqRun r = run("-c", coordinator.address(), "mwrite", k0, "v", k1, "v");

    assertEquals(ExitCodes.INVALID_REQUEST, r.exitCode(), r.err());
    assertEquals(
        List.of(
            "craq: keys '"
                + k0
                + "' (chain 0) and '"
                + k1
                + "' (chain 1) are on different chains: a multi-key write takes the keys of one"
                + " chain; give them a shared {hash tag}, as in user:{42}:name and"
                + " user:{42}:mail"),
        r.errLines());
    assertTrue(fakes.stream().allMatch(f -> f.received().isEmpty()), "nothing sent");
    CraqRun tagged = run("-c", coordinator.address(), "mwrite", "{x}" + k0, "v", "{x}" + k1, "v");
    assertEquals(0, tagged.exitCode(), tagged.err());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mwrite",
        "mwrite k",
        "mwrite a 1 b",
        "mwrite --if-version a a 1",
        "mwrite --if-version a=-1 a 1",
        "mwrite --if-version =1 a 1",
        "mwrite --if-version a=x a 1",
        "mwrite --if-version b=1 a 1",
        "mwrite --if-version a=1 --if-version a=2 a 1",
        "mwrite --delete"
      })
  @DisplayName("mwrite misuse is a usage error (exit 2), before anything is sent")
  void multiWriteMisuse(String line) {
    List<String> args = new ArrayList<>(List.of("-c", coordinator.address()));
    args.addAll(List.of(line.split(" ")));
    assertUsageError(run(args.toArray(String[]::new)), "");
    assertTrue(coordinator.received().isEmpty());
  }

  @Test
  @DisplayName("mwrite refuses repeated keys and more keys than the limit with exit 6")
  void multiWriteBounds() {
    storeNode();
    CraqRun twice = craq("mwrite", "a", "1", "--delete", "a");
    assertEquals(ExitCodes.INVALID_REQUEST, twice.exitCode());
    assertEquals(
        List.of("craq: key 'a' is twice in the multi-key write: its keys must be distinct"),
        twice.errLines());
    List<String> many = new ArrayList<>(List.of("mwrite"));
    for (int i = 0; i <= io.craq.core.Limits.MULTI_WRITE_KEYS_MAX; i++) {
      many.addAll(List.of("{m}" + i, "v"));
    }
    CraqRun tooMany = craq(many.toArray(String[]::new));
    assertEquals(ExitCodes.INVALID_REQUEST, tooMany.exitCode());
    assertTrue(tooMany.err().contains("at most 16 keys, not 17"), tooMany.err());
    CraqRun help = run("help", "mwrite");
    assertEquals(0, help.exitCode(), help.err());
    assertTrue(help.out().startsWith("Usage: craq mwrite"), help.out());
    assertTrue(help.out().contains("{hash tag}"), help.out());
  }

  @Test
  @DisplayName(
      "incr adds N (default 1, negative allowed) and prints the new integer; append prints the"
          + " new length; the value reads back; --json gives key and value or length")
  void incrementAndAppend() {
    storeNode();
    assertEquals("1\n", craq("incr", "n").out());
    assertEquals("11\n", craq("incr", "n", "10").out());
    CraqRun down = craq("incr", "n", "-20");
    assertEquals(0, down.exitCode(), down.err());
    assertEquals("-9\n", down.out());
    assertEquals("-9\n", craq("read", "n").out());
    assertEquals("{\"key\":\"n\",\"value\":-8}\n", craq("--json", "incr", "n").out());

    assertEquals("5\n", craq("append", "log", "hello").out());
    assertEquals("14\n", craq("append", "log", "big", "world").out(), "words joined");
    assertEquals("hellobig world\n", craq("read", "log").out());
    assertEquals("{\"key\":\"log\",\"length\":15}\n", craq("--json", "append", "log", "!").out());
    CraqRun fromStdin =
        runWithInput(
            new byte[] {0, 1, 2},
            "-c",
            coordinator.address(),
            "-n",
            nodes.get(0).address(),
            "append",
            "bin",
            "-");
    assertEquals("3\n", fromStdin.out(), fromStdin.err());
  }

  @Test
  @DisplayName(
      "incr of a value that is not an integer, or that would overflow, exits 7 with one line"
          + " giving the reason; a bad N or a missing key is a usage error")
  void incrementRefusals() {
    storeNode();
    craq("write", "s", "abc");
    CraqRun notInteger = craq("incr", "s");
    assertEquals(ExitCodes.NOT_AN_INTEGER, notInteger.exitCode());
    assertEquals("", notInteger.out());
    assertTrue(
        notInteger
            .err()
            .matches(
                "craq: increment of key 's' refused by \\S+: value is not an"
                    + " integer or out of range\\R"),
        notInteger.err());
    craq("write", "max", "9223372036854775807");
    CraqRun overflow = craq("incr", "max");
    assertEquals(ExitCodes.NOT_AN_INTEGER, overflow.exitCode());
    assertTrue(overflow.err().endsWith("increment or decrement would overflow\n"), overflow.err());
    assertEquals("9223372036854775807\n", craq("read", "max").out(), "nothing written");
    assertUsageError(run("incr"), "");
    assertUsageError(run("incr", "k", "1.5"), "N must be a 64-bit decimal integer");
    assertUsageError(run("incr", "k", "+1"), "N must be a 64-bit decimal integer");
    assertUsageError(run("incr", "k", "1", "2"), "");
    assertUsageError(run("append", "k"), "missing the value");
  }

  @Test
  @DisplayName("an ambiguous write exits 4, an unavailable chain 3, an invalid request 6")
  void failureExitCodes() {
    FakeEndpoint head =
        node(m ->
            m instanceof WriteRequest w && w.key().equals("bad")
                ? new ErrorReply(ErrorCode.INVALID_REQUEST, "refused", "")
                : new ErrorReply(ErrorCode.AMBIGUOUS, "chain changed under the write", ""));
    chainRef.set(chain(1, head.member("a")));

    CraqRun ambiguous = craq("write", "k", "v");
    assertEquals(ExitCodes.AMBIGUOUS_WRITE, ambiguous.exitCode());
    assertTrue(ambiguous.err().contains("unknown outcome"), ambiguous.err());
    assertEquals("", ambiguous.out());

    assertEquals(ExitCodes.INVALID_REQUEST, craq("write", "bad", "v").exitCode());
    assertEquals(
        ExitCodes.INVALID_REQUEST,
        craq("write", "x".repeat(600), "v").exitCode(),
        "client-side key limit");

    chainRef.set(new ChainConfig(2, List.of()));
    CraqRun empty = craq("write", "k", "v");
    assertEquals(ExitCodes.UNAVAILABLE, empty.exitCode());
    assertTrue(empty.err().contains("no members"), empty.err());
  }

  @Test
  @DisplayName("a read with no node reachable exits 3")
  void readUnavailable() {
    String dead = coordinator.address();
    coordinator.stop();
    CraqRun r = run("-c", dead, "-n", dead, "--timeout-millis", "500", "read", "k");
    assertEquals(ExitCodes.UNAVAILABLE, r.exitCode());
    assertTrue(r.err().startsWith("craq: "), r.err());
  }

  // ----------------------------------------------------------- which node a read goes to

  /** A node holding one key, k = {@code value}. */
  private FakeEndpoint valueNode(String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    return node(m ->
        switch (m) {
          case Message.ReadAllRequest scan ->
              new Message.ReadAllReply(List.of(new VersionRecord("k", 1, false, bytes)), false);
          case ReadRequest read -> new Message.ReadReply("k", true, 1, bytes, false);
          default -> new ErrorReply(ErrorCode.UNSUPPORTED, "fake", "");
        });
  }

  @Test
  @DisplayName("without -n, a read goes to a member of the chain -c names (not to :1235)")
  void readWithoutNodeGoesToTheChainOfC() {
    FakeEndpoint member = valueNode("from-chain");
    chainRef.set(chain(1, member.member("a")));
    CraqRun r = run("-c", coordinator.address(), "read", "k");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("from-chain\n", r.out());
    assertEquals("", r.err());
    assertEquals(1, member.received(ReadRequest.class).size());
  }

  @Test
  @DisplayName("-n naming a node outside the chain of -c is refused (exit 2), listing the members")
  void nodeOutsideTheChainIsRefused() {
    FakeEndpoint member = valueNode("in");
    FakeEndpoint stranger = valueNode("out");
    chainRef.set(chain(1, member.member("a")));
    CraqRun r = run("-c", coordinator.address(), "-n", stranger.address(), "read", "k");
    assertUsageError(
        r,
        "-n "
            + stranger.address()
            + " is not a member of the chain at"
            + " coordinator "
            + coordinator.address()
            + " (members: a "
            + member.address()
            + "); leave out -n");
    assertTrue(stranger.received(ReadRequest.class).isEmpty());
    assertUsageError(
        run("-c", coordinator.address(), "-n", stranger.address(), "readall"), "is not a member");
  }

  @Test
  @DisplayName("-n :PORT is the member at 127.0.0.1:PORT")
  void nodeGivenAsPortOnly() {
    FakeEndpoint member = valueNode("v");
    chainRef.set(chain(1, member.member("a")));
    String port = member.address().substring(member.address().lastIndexOf(':'));
    CraqRun r = run("-c", coordinator.address(), "-n", port, "read", "k");
    assertEquals("v\n", r.out(), r.err());
  }

  @Test
  @DisplayName("-n naming a member that is down: another member answers, and stderr says so")
  void deadNodeFallsBackToAnotherMember() {
    FakeEndpoint dead = valueNode("never");
    FakeEndpoint alive = valueNode("alive");
    chainRef.set(chain(1, dead.member("a"), alive.member("b")));
    dead.stop();
    CraqRun r = run("-c", coordinator.address(), "-n", dead.address(), "read", "k");
    assertEquals(0, r.exitCode(), r.err());
    assertEquals("alive\n", r.out());
    assertEquals(1, r.errLines().size(), r.err());
    assertTrue(r.err().startsWith("craq: " + dead.address() + " could not answer ("), r.err());
    assertTrue(r.err().endsWith("); read from " + alive.address() + " instead\n"), r.err());

    CraqRun all = run("-c", coordinator.address(), "-n", dead.address(), "readall");
    assertEquals(0, all.exitCode(), all.err());
    assertEquals("k\talive\n", all.out());
    assertTrue(all.err().contains("read from " + alive.address() + " instead"), all.err());
  }

  @Test
  @DisplayName("without -n, every read succeeds while one member of the chain is down")
  void randomMemberDownIsSkipped() {
    FakeEndpoint dead = valueNode("never");
    FakeEndpoint alive = valueNode("alive");
    chainRef.set(chain(1, dead.member("a"), alive.member("b")));
    dead.stop();
    for (int i = 0; i < 8; i++) {
      CraqRun r = run("-c", coordinator.address(), "read", "k");
      assertEquals(0, r.exitCode(), r.err());
      assertEquals("alive\n", r.out());
    }
  }

  @Test
  @DisplayName(
      "chain with one chain: a one-row table of chains, then each node with its health in its"
          + " own view, then whether the chain is moving")
  void chainCommand() {
    FakeEndpoint head = node(new FakeNode(chainRef::get));
    FakeEndpoint middle = node(new FakeNode(() -> chain(6, head.member("n1"))));
    FakeEndpoint tail = node(new FakeNode(chainRef::get));
    chainRef.set(chain(7, head.member("n1"), middle.member("n2"), tail.member("n3")));
    tail.stop();

    CraqRun r = craq("chain");
    assertEquals(ExitCodes.UNAVAILABLE, r.exitCode(), r.err());
    assertEquals(List.of("craq: 1 of 3 members did not answer"), r.errLines());
    String[] lines = r.out().split("\n", -1);
    assertEquals("map version 7, 1 chain, 3 nodes", lines[0]);
    assertEquals("CHAIN  SLOTS    EPOCH  MEMBERS (head first, * catching up)", lines[1]);
    assertEquals("0      0-16383  7      n1 n2 n3", lines[2]);
    assertEquals("", lines[3]);
    assertTrue(lines[4].matches("NODE\\s+ADDRESS\\s+HEADS\\s+CHAINS\\s+STATUS"), lines[4]);
    assertTrue(lines[5].matches("n1\\s+\\S+\\s+1\\s+1\\s+reachable, epoch 7"), lines[5]);
    assertTrue(
        lines[6].matches(
            "n2\\s+\\S+\\s+0\\s+1\\s+reachable, epoch 6 \\(behind\\) \\(not a member in its"
                + " own view\\)"),
        lines[6]);
    assertTrue(lines[7].matches("n3\\s+\\S+\\s+0\\s+1\\s+unreachable: .*"), lines[7]);
    assertEquals("", lines[8]);
    assertEquals("the chain is not moving", lines[9]);
    assertEquals(11, lines.length, r.out());

    CraqRun json = craq("--json", "chain");
    assertTrue(
        json.out()
            .startsWith(
                "{\"mapVersion\":7,\"replicas\":3,\"epoch\":7,\"members\":[{\"id\":\"n1\","
                    + "\"address\":\""
                    + head.address()
                    + "\",\"role\":\"head\",\"caughtUp\":true,\"reachable\":true,\"epoch\":7,"
                    + "\"memberInOwnView\":true},"),
        json.out());
    assertTrue(
        json.out().contains("\"role\":\"tail\",\"caughtUp\":true,\"reachable\":false,\"error\":"),
        json.out());
    assertTrue(
        json.out()
            .contains(
                "\"chains\":[{\"chain\":0,\"firstSlot\":0,\"endSlot\":16384,\"epoch\":7,"
                    + "\"members\":[\"n1\",\"n2\",\"n3\"],\"catchingUp\":[]}]"),
        json.out());
    assertTrue(json.out().endsWith(",\"moving\":[]}\n"), json.out());
  }

  @Test
  @DisplayName(
      "chain with several chains: each chain's slots, epoch and members (* catching up), each"
          + " node's heads, chains, leaving and health, and which chains are moving")
  void chainTableOfSeveralChains() {
    List<FakeEndpoint> fakes = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      String id = "n" + i;
      fakes.add(node(new FakeChainNode(id, this::currentMap, new FakeNode(chainRef::get))));
    }
    Member n1 = fakes.get(0).member("n1");
    Member n2 = fakes.get(1).member("n2");
    Member n3 = fakes.get(2).member("n3");
    Member n4 = fakes.get(3).member("n4").withCaughtUp(false);
    List<ChainConfig> chains =
        List.of(
            new ChainConfig(5, List.of(n1, n2, n3)),
            new ChainConfig(7, List.of(n2, n3, n4)),
            new ChainConfig(4, List.of(n3, n1, n2, fakes.get(3).member("n4"))),
            new ChainConfig(4, List.of(n1, n2, n3)));
    List<PoolNode> pool = new ArrayList<>(FakeEndpoint.poolOf(chains));
    pool.set(2, pool.get(2).withLeaving(true));
    mapRef.set(new ChainMap(12, 3, chains, pool));
    fakes.get(3).stop();

    CraqRun r = craq("chain");
    assertEquals(ExitCodes.UNAVAILABLE, r.exitCode(), r.err());
    assertEquals(List.of("craq: 1 of 4 nodes did not answer"), r.errLines());
    String[] lines = r.out().split("\n", -1);
    assertEquals("map version 12, 4 chains of 3 replicas, 4 nodes", lines[0]);
    assertEquals("CHAIN  SLOTS        EPOCH  MEMBERS (head first, * catching up)", lines[1]);
    assertEquals("0      0-4095       5      n1 n2 n3", lines[2]);
    assertEquals("1      4096-8191    7      n2 n3 n4*", lines[3]);
    assertEquals("2      8192-12287   4      n3 n1 n2 n4", lines[4]);
    assertEquals("3      12288-16383  4      n1 n2 n3", lines[5]);
    assertEquals("", lines[6]);
    int width = fakes.get(0).address().length();
    String format = "%-4s  %-" + width + "s  %-5s  %-6s  %s";
    assertEquals(String.format(format, "NODE", "ADDRESS", "HEADS", "CHAINS", "STATUS"), lines[7]);
    assertEquals(
        String.format(format, "n1", n1.address(), 2, 3, "reachable, map version 12"), lines[8]);
    assertEquals(
        String.format(format, "n2", n2.address(), 1, 4, "reachable, map version 12"), lines[9]);
    assertEquals(
        String.format(format, "n3", n3.address(), 1, 4, "leaving, reachable, map version 12"),
        lines[10]);
    assertTrue(
        lines[11].startsWith(String.format(format, "n4", n4.address(), 0, 2, "unreachable: ")),
        lines[11]);
    assertEquals("", lines[12]);
    assertEquals("2 chains are moving: 1, 2", lines[13]);
    assertEquals(15, lines.length, r.out());

    CraqRun json = craq("--json", "chain");
    assertTrue(json.out().startsWith("{\"mapVersion\":12,\"replicas\":3,\"chains\":["), json.out());
    assertTrue(
        json.out()
            .contains(
                "{\"chain\":1,\"firstSlot\":4096,\"endSlot\":8192,\"epoch\":7,"
                    + "\"members\":[\"n2\",\"n3\",\"n4\"],\"catchingUp\":[\"n4\"]}"),
        json.out());
    assertTrue(
        json.out()
            .contains(
                "{\"id\":\"n3\",\"address\":\""
                    + n3.address()
                    + "\",\"heads\":1,\"memberOf\":4,\"leaving\":true,\"reachable\":true,"
                    + "\"mapVersion\":12}"),
        json.out());
    assertTrue(json.out().endsWith(",\"moving\":[1,2]}\n"), json.out());
  }

  @Test
  @DisplayName(
      "write, read and readall across chains: each key at its chain's head, readall in key"
          + " order; -n names any node of the cluster, and a stranger is refused")
  void severalChains() {
    List<FakeEndpoint> fakes = new ArrayList<>();
    FakeNode store = new FakeNode(chainRef::get);
    for (int i = 1; i <= 3; i++) {
      fakes.add(node(new FakeChainNode("n" + i, this::currentMap, store)));
    }
    Member n1 = fakes.get(0).member("n1");
    Member n2 = fakes.get(1).member("n2");
    Member n3 = fakes.get(2).member("n3");
    List<ChainConfig> chains =
        List.of(
            new ChainConfig(1, List.of(n1, n2)),
            new ChainConfig(1, List.of(n2, n3)),
            new ChainConfig(1, List.of(n3, n1)));
    mapRef.set(new ChainMap(3, 2, chains, FakeEndpoint.poolOf(chains)));
    TreeMap<String, String> keys = new TreeMap<>();
    for (int i = 0; i < 12; i++) {
      keys.put("key" + i, "value " + i);
    }
    StringBuilder expected = new StringBuilder();
    for (Map.Entry<String, String> e : keys.entrySet()) {
      CraqRun write = run("-c", coordinator.address(), "write", e.getKey(), e.getValue());
      assertEquals("1\n", write.out(), write.err());
      expected.append(e.getKey()).append('\t').append(e.getValue()).append('\n');
    }
    for (int i = 0; i < 3; i++) {
      assertFalse(
          fakes.get(i).received(WriteRequest.class).isEmpty(), "n" + (i + 1) + " took writes");
    }

    CraqRun all = run("-c", coordinator.address(), "-n", fakes.get(0).address(), "readall");
    assertEquals(0, all.exitCode(), all.err());
    assertEquals(expected.toString(), all.out());
    assertEquals("", all.err());
    for (Map.Entry<String, String> e : keys.entrySet()) {
      CraqRun read = run("-c", coordinator.address(), "read", e.getKey());
      assertEquals(e.getValue() + "\n", read.out(), read.err());
    }

    FakeEndpoint stranger = valueNode("out");
    assertUsageError(
        run("-c", coordinator.address(), "-n", stranger.address(), "read", "key1"),
        "-n " + stranger.address() + " is not a node of the cluster at coordinator ");
  }

  @Test
  @DisplayName("chain is a health check: exit 0 when every member answers, 3 without members")
  void chainHealth() {
    FakeEndpoint a = node(new FakeNode(chainRef::get));
    FakeEndpoint b = node(new FakeNode(chainRef::get));
    chainRef.set(chain(3, a.member("n1"), b.member("n2")));
    CraqRun healthy = craq("chain");
    assertEquals(0, healthy.exitCode(), healthy.err());
    assertEquals("", healthy.err());

    chainRef.set(new ChainConfig(4, List.of()));
    CraqRun empty = craq("chain");
    assertEquals(ExitCodes.UNAVAILABLE, empty.exitCode());
    assertEquals(
        "map version 4, 1 chain, 0 nodes (no node has joined)\n"
            + "CHAIN  SLOTS    EPOCH  MEMBERS (head first, * catching up)\n"
            + "0      0-16383  4      (none)\n"
            + "\n"
            + "the chain is not moving\n",
        empty.out());
    assertTrue(empty.err().contains("no members"), empty.err());

    a.stop();
    b.stop();
    chainRef.set(chain(5, a.member("n1"), b.member("n2")));
    assertEquals(ExitCodes.UNAVAILABLE, craq("chain").exitCode());
  }

  @Test
  @DisplayName(
      "a command line built without craq's handlers (picocli's own) maps failures to"
          + " the same exit codes")
  void plainCommandLineKeepsExitCodes() {
    chainRef.set(new ChainConfig(2, List.of()));
    CommandLine plain =
        new CommandLine(new CraqMain())
            .addSubcommand(new WriteCommand())
            .addSubcommand(new ReadCommand());
    StringWriter err = new StringWriter();
    plain.setErr(new PrintWriter(err, true));
    plain.setOut(new PrintWriter(new StringWriter(), true));
    assertEquals(
        ExitCodes.UNAVAILABLE, plain.execute("-c", coordinator.address(), "write", "k", "v"));
    assertTrue(err.toString().startsWith("craq: "), err.toString());
    assertEquals(ExitCodes.USAGE, plain.execute("read"));
  }

  @Test
  @DisplayName("the exit-code mapping")
  void exitCodeMapping() {
    assertEquals(4, ExitCodes.of(new AmbiguousWriteException("k", "m", null, null)));
    assertEquals(5, ExitCodes.of(new VersionMismatchException("k", 1, 2, "m")));
    assertEquals(6, ExitCodes.of(new InvalidRequestException("m")));
    assertEquals(7, ExitCodes.of(new io.craq.client.NotAnIntegerException("m", "r")));
    assertEquals(3, ExitCodes.of(new UnavailableException("m")));
    assertEquals(3, ExitCodes.of(new CraqException("m")));
    assertEquals(8, ExitCodes.of(new io.craq.client.NotAuthenticatedException("m", null)));
    assertEquals(9, ExitCodes.of(new io.craq.client.PermissionDeniedException("m")));
    assertEquals(70, ExitCodes.of(new IllegalStateException("bug")));
    assertEquals(
        List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "70"),
        List.copyOf(ExitCodes.descriptions().keySet()));
  }
}

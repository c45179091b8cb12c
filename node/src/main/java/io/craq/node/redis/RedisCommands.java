package io.craq.node.redis;

import io.craq.core.Int64Text;
import io.craq.core.Limits;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.ReadMode;
import io.craq.core.message.VersionRecord;
import io.craq.core.store.KeyOrder;
import io.craq.transport.security.LinkSession;
import io.craq.transport.security.Principal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The commands of the Redis port: what each one asks of the chains ({@link ChainAccess}) and how
 * its answer is shaped. {@link #dispatch} never blocks: it returns a future of the reply value (see
 * {@link Resp}); the connection writes replies in the order the commands came.
 */
final class RedisCommands {
  /** Conditional writes that lose a race to another write are retried this often, then refused. */
  static final int CONDITIONAL_ATTEMPTS_MAX = 16;

  /** Keys a SCAN page or DBSIZE asks a chain for at once. */
  static final int SCAN_PAGE_KEYS_MAX = 1000;

  /** The values one MGET returns, at most, in bytes; more is refused with an error. */
  static final int MGET_REPLY_BYTES_MAX = 64 << 20;

  /** Keys an MGET reads at once. */
  static final int MGET_WINDOW = 64;

  /** Cursors a node remembers (oldest forgotten first); each one is a key. */
  static final int CURSORS_MAX = 10_000;

  /** The Redis version whose commands and replies this port follows, for clients that ask. */
  static final String REDIS_VERSION = "7.2.0";

  /** A command's name, arity (Redis's: negative = at least), flags, first key, last key, step. */
  record Spec(
      String name,
      int arity,
      List<String> flags,
      int firstKey,
      int lastKey,
      int step,
      String group,
      String summary) {}

  static final Map<String, Spec> SPECS = specs();

  private static Map<String, Spec> specs() {
    Map<String, Spec> m = new LinkedHashMap<>();
    List<String> read = List.of("readonly", "fast");
    List<String> write = List.of("write");
    List<String> none = List.of("fast");
    add(m, "get", 2, read, 1, 1, 1, "string", "Returns the value of a key (a strong read).");
    add(m, "mget", -2, read, 1, -1, 1, "string", "Returns the values of keys.");
    add(m, "exists", -2, read, 1, -1, 1, "keyspace", "Counts the given keys that exist.");
    add(m, "strlen", 2, read, 1, 1, 1, "string", "Returns the length of a value.");
    add(m, "ttl", 2, read, 1, 1, 1, "keyspace", "-1 for a key (no expiry exists), -2 if absent.");
    add(m, "pttl", 2, read, 1, 1, 1, "keyspace", "As TTL, in milliseconds.");
    add(m, "set", -3, write, 1, 1, 1, "string", "Sets a key (NX, XX and GET supported).");
    add(m, "getset", 3, write, 1, 1, 1, "string", "Sets a key and returns its old value.");
    add(m, "getdel", 2, write, 1, 1, 1, "string", "Deletes a key and returns its value.");
    add(m, "del", -2, write, 1, -1, 1, "keyspace", "Deletes keys; returns how many existed.");
    add(m, "mset", -3, write, 1, -1, 2, "string", "Sets keys of one chain atomically.");
    add(m, "incr", 2, write, 1, 1, 1, "string", "Adds 1 to an integer value, at the head.");
    add(m, "incrby", 3, write, 1, 1, 1, "string", "Adds to an integer value, at the head.");
    add(m, "decr", 2, write, 1, 1, 1, "string", "Subtracts 1 from an integer value.");
    add(m, "decrby", 3, write, 1, 1, 1, "string", "Subtracts from an integer value.");
    add(m, "append", 3, write, 1, 1, 1, "string", "Appends to a value, at the head.");
    add(m, "ping", -1, none, 0, 0, 0, "connection", "Answers PONG.");
    add(m, "echo", 2, none, 0, 0, 0, "connection", "Returns its argument.");
    add(m, "select", 2, none, 0, 0, 0, "connection", "Only database 0 exists.");
    add(m, "quit", -1, none, 0, 0, 0, "connection", "Closes the connection.");
    add(m, "auth", -2, none, 0, 0, 0, "connection", "Authenticates the connection.");
    add(m, "hello", -1, none, 0, 0, 0, "connection", "Chooses RESP2 or RESP3.");
    add(m, "client", -2, none, 0, 0, 0, "connection", "SETNAME, GETNAME, ID, SETINFO, INFO.");
    add(m, "info", -1, List.of(), 0, 0, 0, "server", "Server, replication, stats, keyspace.");
    add(m, "dbsize", 1, List.of("readonly"), 0, 0, 0, "server", "Keys of this node's chains.");
    add(m, "scan", -2, List.of("readonly"), 0, 0, 0, "keyspace", "Iterates this node's keys.");
    add(m, "config", -2, List.of(), 0, 0, 0, "server", "CONFIG GET of fixed answers.");
    add(m, "command", -1, List.of(), 0, 0, 0, "server", "Describes the commands.");
    return Map.copyOf(m);
  }

  private static void add(
      Map<String, Spec> m,
      String name,
      int arity,
      List<String> flags,
      int first,
      int last,
      int step,
      String group,
      String summary) {
    m.put(name, new Spec(name, arity, flags, first, last, step, group, summary));
  }

  /** What {@code CONFIG GET} answers: what redis-benchmark and redis-cli ask for at start. */
  private final Map<String, String> config;

  private final ChainAccess access;
  private final RedisServer server;
  private final int valueBytesMax;
  private final AtomicLong nextCursor = new AtomicLong(1);
  private final LinkedHashMap<Long, String> cursors = new LinkedHashMap<>();

  RedisCommands(ChainAccess access, RedisServer server, int valueBytesMax) {
    this.access = access;
    this.server = server;
    this.valueBytesMax = valueBytesMax;
    Map<String, String> c = new LinkedHashMap<>();
    c.put("save", "");
    c.put("appendonly", "no");
    c.put("appendfsync", "no");
    c.put("databases", "1");
    c.put("maxmemory", "0");
    c.put("maxmemory-policy", "noeviction");
    c.put("maxclients", Integer.toString(RedisServer.CONNECTIONS_MAX));
    c.put("timeout", "0");
    c.put("proto-max-bulk-len", Integer.toString(valueBytesMax + Limits.KEY_BYTES_MAX));
    c.put("cluster-enabled", "no");
    this.config = Map.copyOf(c);
  }

  /** How a command is ordered with the connection's earlier commands. */
  private enum Kind {
    /** Touches no key: answered at once. */
    NONE,
    /** Reads keys: starts once the connection's earlier writes completed. */
    READ,
    /**
     * One write request: sent once earlier reads completed, right after earlier writes (the node's
     * queue keeps their order; forwarding waits for the previous write).
     */
    WRITE,
    /** Reads, then writes: starts once every earlier command completed. */
    READ_WRITE
  }

  private static Kind kind(String name, int args) {
    return switch (name) {
      case "get", "mget", "exists", "strlen", "ttl", "pttl", "dbsize", "scan" -> Kind.READ;
      case "set" -> args == 3 ? Kind.WRITE : Kind.READ_WRITE;
      case "mset", "incr", "decr", "incrby", "decrby", "append" -> Kind.WRITE;
      case "getset", "getdel", "del" -> Kind.READ_WRITE;
      default -> Kind.NONE;
    };
  }

  private static final CompletableFuture<Object> DONE = CompletableFuture.completedFuture(null);

  /** How many stored values the reply to {@code args} (name first) may return. */
  static int valuesReturned(List<byte[]> args) {
    byte[] name = args.get(0);
    if (is(name, "get") || is(name, "getset") || is(name, "getdel")) {
      return 1;
    }
    if (is(name, "mget")) {
      return args.size() - 1;
    }
    return is(name, "set") && args.size() > 3 ? 1 : 0; // SET ... GET
  }

  /** True if {@code name} is {@code lower} (lowercase letters) in any case; allocates nothing. */
  private static boolean is(byte[] name, String lower) {
    if (name.length != lower.length()) {
      return false;
    }
    for (int i = 0; i < name.length; i++) {
      if ((name[i] | 0x20) != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The reply to {@code args} (name first) on {@code connection}; never blocks. A connection's
   * commands take effect in the order they came, as on Redis: a read sees the connection's earlier
   * writes, a write does not overtake its earlier reads, and writes apply in order.
   */
  CompletableFuture<Object> dispatch(RedisConnection connection, List<byte[]> args) {
    String name = new String(args.get(0), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
    boolean guarded = server.authenticationRequired();
    if (guarded
        && connection.session.principal() == null
        && !name.equals("auth")
        && !name.equals("hello")
        && !name.equals("quit")) {
      return done(NOAUTH); // nothing else is answered, not even which commands exist
    }
    Spec spec = SPECS.get(name);
    if (spec == null) {
      return done(unknownCommand(args));
    }
    int n = args.size();
    if (spec.arity() > 0 ? n != spec.arity() : n < -spec.arity()) {
      return done(Resp.err("wrong number of arguments for '" + name + "' command"));
    }
    if (guarded && !name.equals("auth") && !name.equals("hello") && !name.equals("quit")) {
      Resp.Err refused = refusal(connection.session, spec);
      if (refused != null) {
        return done(refused);
      }
    }
    RedisConnection c = connection;
    CompletableFuture<?> previousWrite = c.lastWrite;
    CompletableFuture<Object> reply;
    switch (kind(name, n)) {
      case NONE -> reply = start(c, name, args, DONE);
      case READ -> {
        reply = startAfter(previousWrite, () -> start(c, name, args, DONE));
        c.readsSinceWrite.add(reply);
      }
      case WRITE -> {
        // After the reads since the last write, and after the last write reached the node: a
        // write that reads first (DEL, SET NX ...) writes only at its end, and one that waits for
        // it must not let the next write reach the node before it.
        c.readsSinceWrite.add(c.lastWriteIssued);
        CompletableFuture<Void> issued = new CompletableFuture<>();
        reply =
            startAfter(
                readsSinceWrite(c),
                () -> {
                  try {
                    return start(c, name, args, previousWrite);
                  } finally {
                    issued.complete(null);
                  }
                });
        reply = countedWrite(reply);
        c.lastWrite = reply;
        c.lastWriteIssued = issued;
        c.readsSinceWrite.clear();
      }
      case READ_WRITE -> {
        c.readsSinceWrite.add(previousWrite);
        reply = countedWrite(startAfter(readsSinceWrite(c), () -> start(c, name, args, DONE)));
        c.lastWrite = reply;
        c.lastWriteIssued = reply;
        c.readsSinceWrite.clear();
      }
      default -> throw new IllegalStateException();
    }
    return reply;
  }

  static final Resp.Err NOAUTH = new Resp.Err("NOAUTH Authentication required.");

  static final Resp.Err WRONGPASS =
      new Resp.Err("WRONGPASS invalid username-password pair or user is disabled.");

  /** What the role table is asked about a command that writes, and one that reads or describes. */
  private static final Message WRITE_PROBE =
      new WriteRequest("", new byte[0], false, Message.ANY_VERSION);

  private static final Message READ_PROBE = new ReadRequest("", ReadMode.STRONG, 0);

  /**
   * Null if {@code session}'s user may run {@code spec}'s command, else the error line: the node's
   * role table decides (writes need readwrite, everything else read), before anything is asked of
   * the node or forwarded through the port's client, and a user since removed from the users file
   * must authenticate again.
   */
  private Resp.Err refusal(LinkSession session, Spec spec) {
    Message probe = spec.flags().contains("write") ? WRITE_PROBE : READ_PROBE;
    ErrorReply refusal = server.authorization().refusal(session, probe);
    if (refusal == null) {
      return null;
    }
    if (refusal.code() == ErrorCode.PERMISSION_DENIED) {
      return new Resp.Err(
          "NOPERM this user has no permissions to run the '" + spec.name() + "' command");
    }
    return NOAUTH;
  }

  /**
   * AUTH [user] password: the one-argument form is the user named {@code default}. Without a users
   * file, as Redis without a password: the one-argument form is refused, {@code default} with any
   * password accepted.
   */
  private CompletableFuture<Object> auth(RedisConnection c, List<byte[]> a) {
    if (a.size() > 3) {
      return done(Resp.err("syntax error"));
    }
    String user = a.size() == 2 ? "default" : new String(a.get(1), StandardCharsets.UTF_8);
    return authenticate(c, user, a.get(a.size() - 1), a.size() == 2, () -> Resp.OK, () -> {});
  }

  /**
   * Checks {@code user}'s password; on success the connection becomes that user and the reply is
   * {@code then}'s, else {@code WRONGPASS} after {@code refused} ran. A password that needs the
   * slow hash is checked off the event loop ({@link io.craq.transport.security.PasswordChecks}):
   * the connection reads no further command until it is answered ({@link
   * RedisConnection#authInFlight}), and the outcome is applied on its loop.
   */
  private CompletableFuture<Object> authenticate(
      RedisConnection c,
      String user,
      byte[] password,
      boolean oneArg,
      Supplier<Object> then,
      Runnable refused) {
    if (!server.authenticationRequired()) {
      if (oneArg) {
        return done(
            Resp.err(
                "AUTH <password> called without any password configured for the default user."
                    + " Are you sure your configuration is correct?"));
      }
      if (!user.equals("default")) {
        refused.run();
        return done(WRONGPASS);
      }
      return done(then.get());
    }
    CompletableFuture<Principal> check = server.authenticate(c, user, password);
    if (check.isDone()) {
      return done(authenticated(c, check.join(), then, refused));
    }
    CompletableFuture<Object> reply =
        check.thenApplyAsync(principal -> authenticated(c, principal, then, refused), c.loop());
    c.authInFlight = reply;
    return reply;
  }

  /** On the loop: the outcome of a password check ({@code principal} null if refused). */
  private static Object authenticated(
      RedisConnection c, Principal principal, Supplier<Object> then, Runnable refused) {
    if (principal == null) {
      refused.run();
      return WRONGPASS;
    }
    c.authenticated(new LinkSession(null, principal));
    return then.get();
  }

  /** {@code reply}, completing once the write is counted (before what waits for it runs). */
  private CompletableFuture<Object> countedWrite(CompletableFuture<Object> reply) {
    return reply.whenComplete((r, e) -> writesCompleted.incrementAndGet());
  }

  private static CompletableFuture<?> readsSinceWrite(RedisConnection c) {
    List<CompletableFuture<?>> reads = c.readsSinceWrite;
    reads.removeIf(CompletableFuture::isDone);
    if (reads.isEmpty()) {
      return DONE;
    }
    return CompletableFuture.allOf(
        reads.stream().map(f -> f.handle((r, e) -> null)).toArray(CompletableFuture[]::new));
  }

  private static CompletableFuture<Object> startAfter(
      CompletableFuture<?> barrier, java.util.function.Supplier<CompletableFuture<Object>> start) {
    if (barrier.isDone()) {
      return start.get();
    }
    return barrier.handle((r, e) -> null).thenCompose(ignored -> start.get());
  }

  private CompletableFuture<Object> start(
      RedisConnection c, String name, List<byte[]> args, CompletableFuture<?> forwardAfter) {
    try {
      return run(c, name, args, forwardAfter).exceptionally(RedisCommands::errorReply);
    } catch (RedisException e) {
      return done(e.reply());
    } catch (RuntimeException e) {
      return done(ChainAccess.translate(e).reply());
    }
  }

  private static Object errorReply(Throwable failure) {
    return ChainAccess.translate(failure).reply();
  }

  private static CompletableFuture<Object> done(Object reply) {
    return CompletableFuture.completedFuture(reply);
  }

  private static Resp.Err unknownCommand(List<byte[]> args) {
    StringBuilder b = new StringBuilder("unknown command '");
    b.append(printable(args.get(0), 128)).append("', with args beginning with: ");
    for (int i = 1; i < args.size() && i <= 8; i++) {
      b.append('\'').append(printable(args.get(i), 64)).append("' ");
    }
    return Resp.err(b.toString());
  }

  /** At most {@code max} bytes of {@code bytes} for an error line, control bytes as '?'. */
  private static String printable(byte[] bytes, int max) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(bytes.length, max); i++) {
      int c = bytes[i] & 0xff;
      b.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
    }
    return b.toString();
  }

  private CompletableFuture<Object> run(
      RedisConnection c, String name, List<byte[]> a, CompletableFuture<?> forwardAfter) {
    ChainAccess access = c.access; // the client's session: the node applies its role table too
    return switch (name) {
      case "get" -> access.read(key(a.get(1))).thenApply(v -> v.found() ? v.value() : null);
      case "mget" -> mget(access, a);
      case "exists" -> exists(access, a);
      case "strlen" -> access.read(key(a.get(1))).thenApply(v -> (Object) (long) v.value().length);
      case "ttl", "pttl" ->
          access.read(key(a.get(1))).thenApply(v -> (Object) (v.found() ? -1L : -2L));
      case "set" -> set(access, a, forwardAfter);
      case "getset" -> setConditional(access, key(a.get(1)), value(a.get(2)), Cond.ANY, true, 1);
      case "getdel" ->
          delete(access, key(a.get(1)), 1).thenApply(v -> v.found() ? v.value() : null);
      case "del" -> del(access, a);
      case "mset" -> mset(access, a, forwardAfter);
      case "incr", "decr", "incrby", "decrby", "append" ->
          readModifyWrite(access, name, a, forwardAfter);
      case "ping" -> done(a.size() == 1 ? Resp.PONG : a.size() == 2 ? a.get(1) : wrongArgs(name));
      case "echo" -> done(a.get(1));
      case "select" -> done(select(a.get(1)));
      case "quit" -> {
        c.closeAfterReply();
        yield done(Resp.OK);
      }
      case "auth" -> auth(c, a);
      case "hello" -> hello(c, a);
      case "client" -> done(client(c, a));
      case "info" -> info(c, a);
      case "dbsize" -> dbsize().thenApply(n -> (Object) n);
      case "scan" -> scan(a);
      case "config" -> done(config(a));
      case "command" -> done(command(a));
      default -> throw new IllegalStateException("no handler for " + name);
    };
  }

  private static Resp.Err wrongArgs(String name) {
    return Resp.err("wrong number of arguments for '" + name + "' command");
  }

  // ------------------------------------------------------------------------ keys and values

  /**
   * The store's key for a Redis key: keys are strings of UTF-8 in this store, so a key that is not
   * valid UTF-8 is refused (mapping bytes to text would make two keys one); empty keys and keys
   * over {@link Limits#KEY_BYTES_MAX} bytes too.
   */
  static String key(byte[] bytes) {
    String key;
    boolean ascii = true;
    for (byte b : bytes) {
      if (b < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      if (bytes.length == 0 || bytes.length > Limits.KEY_BYTES_MAX) {
        throw RedisException.err(
            "invalid key: "
                + (bytes.length == 0
                    ? "key must not be empty"
                    : "key is "
                        + bytes.length
                        + " bytes of UTF-8, the limit is "
                        + Limits.KEY_BYTES_MAX));
      }
      return new String(bytes, StandardCharsets.US_ASCII); // ASCII: one byte a char, no surrogate
    } else {
      try {
        key =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
      } catch (CharacterCodingException e) {
        throw RedisException.err("invalid key: keys must be valid UTF-8 in this store");
      }
    }
    try {
      Limits.checkKey(key);
    } catch (Limits.InvalidInputException e) {
      throw RedisException.err("invalid key: " + e.getMessage());
    }
    return key;
  }

  private byte[] value(byte[] value) {
    if (value.length > valueBytesMax) {
      throw RedisException.err(
          "value is " + value.length + " bytes, the limit is " + valueBytesMax + " bytes");
    }
    return value;
  }

  // ----------------------------------------------------------------------------------- reads

  /**
   * MGET: the keys' strong reads, {@link #MGET_WINDOW} at a time, refused with an error naming the
   * limit as soon as the values read add up to more than {@link #MGET_REPLY_BYTES_MAX} bytes, so an
   * MGET of many large values holds at most the limit and one window's values, never the whole.
   */
  private CompletableFuture<Object> mget(ChainAccess access, List<byte[]> a) {
    List<String> keys = new ArrayList<>(a.size() - 1);
    for (int i = 1; i < a.size(); i++) {
      keys.add(key(a.get(i)));
    }
    return mgetFrom(access, keys, 0, new ArrayList<>(keys.size()), 0);
  }

  private CompletableFuture<Object> mgetFrom(
      ChainAccess access, List<String> keys, int from, List<Object> values, long bytes) {
    int to = Math.min(keys.size(), from + MGET_WINDOW);
    List<CompletableFuture<ChainAccess.Value>> reads = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      reads.add(access.read(keys.get(i)));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenCompose(ignored -> {
          long total = bytes;
          for (var read : reads) {
            ChainAccess.Value v = read.join();
            values.add(v.found() ? v.value() : null);
            total += v.value().length;
          }
          if (total > MGET_REPLY_BYTES_MAX) {
            return done(
                Resp.err(
                    "MGET reply over "
                        + MGET_REPLY_BYTES_MAX
                        + " bytes (the limit of one MGET's values here); ask for fewer keys at a"
                        + " time"));
          }
          return to == keys.size() ? done(values) : mgetFrom(access, keys, to, values, total);
        });
  }

  private CompletableFuture<Object> exists(ChainAccess access, List<byte[]> a) {
    List<CompletableFuture<ChainAccess.Value>> reads = new ArrayList<>();
    for (int i = 1; i < a.size(); i++) {
      reads.add(access.read(key(a.get(i))));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(ignored -> (Object) reads.stream().filter(r -> r.join().found()).count());
  }

  // ---------------------------------------------------------------------------------- writes

  enum Cond {
    ANY,
    NX,
    XX
  }

  private CompletableFuture<Object> set(
      ChainAccess access, List<byte[]> a, CompletableFuture<?> forwardAfter) {
    String key = key(a.get(1));
    byte[] value = value(a.get(2));
    Cond cond = Cond.ANY;
    boolean get = false;
    for (int i = 3; i < a.size(); i++) {
      String option = new String(a.get(i), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
      switch (option) {
        case "NX", "XX" -> {
          Cond wanted = option.equals("NX") ? Cond.NX : Cond.XX;
          if (cond != Cond.ANY && cond != wanted) {
            throw new RedisException("ERR syntax error");
          }
          cond = wanted;
        }
        case "GET" -> get = true;
        case "EX", "PX", "EXAT", "PXAT", "KEEPTTL" ->
            throw RedisException.err("expiry is not supported: keys in this store never expire");
        default -> throw new RedisException("ERR syntax error");
      }
    }
    if (cond == Cond.ANY && !get) {
      return access
          .write(key, value, false, Message.ANY_VERSION, forwardAfter)
          .thenApply(v -> Resp.OK);
    }
    return setConditional(access, key, value, cond, get, 1);
  }

  /**
   * SET with its options. NX without GET is one conditional write on "absent" (version 0); the rest
   * reads the key (strongly), then writes if its version is still the one read: a write of the key
   * in between makes the write fail, and the command starts again, at most {@link
   * #CONDITIONAL_ATTEMPTS_MAX} times.
   */
  private CompletableFuture<Object> setConditional(
      ChainAccess access, String key, byte[] value, Cond cond, boolean get, int attempt) {
    if (cond == Cond.ANY && !get) {
      return access.write(key, value, false, Message.ANY_VERSION).thenApply(v -> Resp.OK);
    }
    if (cond == Cond.NX && !get) {
      return this.<Object>onMismatch(
          access.write(key, value, false, 0).thenApply(v -> Resp.OK),
          () ->
              access
                  .read(key)
                  .thenCompose(now ->
                      now.found()
                          ? done(null)
                          : retry(
                              key,
                              attempt,
                              () -> setConditional(access, key, value, cond, get, attempt + 1))));
    }
    return access
        .read(key)
        .thenCompose(old -> {
          Object oldReply = get ? (old.found() ? old.value() : null) : null;
          if ((cond == Cond.NX && old.found()) || (cond == Cond.XX && !old.found())) {
            return done(oldReply);
          }
          long expected = old.found() ? old.version() : 0;
          return onMismatch(
              access
                  .write(key, value, false, expected)
                  .thenApply(v -> get ? oldReply : (Object) Resp.OK),
              () ->
                  retry(
                      key,
                      attempt,
                      () -> setConditional(access, key, value, cond, get, attempt + 1)));
        });
  }

  /**
   * Deletes {@code key} and returns the value it had: a strong read, then a delete conditional on
   * the version read (0 if absent). The delete is written even for an absent key, as every delete
   * of this store is (a tombstone version), so DEL counts as one write whatever it finds.
   */
  private CompletableFuture<ChainAccess.Value> delete(ChainAccess access, String key, int attempt) {
    return access
        .read(key)
        .thenCompose(old ->
            onMismatch(
                access
                    .write(key, new byte[0], true, old.found() ? old.version() : 0)
                    .thenApply(v -> old),
                () -> retry(key, attempt, () -> delete(access, key, attempt + 1))));
  }

  private CompletableFuture<Object> del(ChainAccess access, List<byte[]> a) {
    List<String> keys = new ArrayList<>();
    for (int i = 1; i < a.size(); i++) {
      keys.add(key(a.get(i)));
    }
    List<CompletableFuture<ChainAccess.Value>> deletes = new ArrayList<>();
    for (String key : new java.util.LinkedHashSet<>(keys)) {
      deletes.add(delete(access, key, 1));
    }
    return CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new))
        .thenApply(ignored -> (Object) deletes.stream().filter(d -> d.join().found()).count());
  }

  private CompletableFuture<Object> mset(
      ChainAccess access, List<byte[]> a, CompletableFuture<?> forwardAfter) {
    if (a.size() % 2 != 1) {
      return done(wrongArgs("mset"));
    }
    Map<String, byte[]> values = new LinkedHashMap<>();
    for (int i = 1; i < a.size(); i += 2) {
      values.put(key(a.get(i)), value(a.get(i + 1)));
    }
    if (values.size() > Limits.MULTI_WRITE_KEYS_MAX) {
      throw RedisException.err(
          "MSET takes at most "
              + Limits.MULTI_WRITE_KEYS_MAX
              + " keys here (it is one atomic multi-key write), not "
              + values.size());
    }
    List<WriteRequest> writes = new ArrayList<>();
    values.forEach((k, v) -> writes.add(new WriteRequest(k, v, false, Message.ANY_VERSION)));
    return access.multiWrite(writes, forwardAfter).thenApply(v -> Resp.OK);
  }

  /**
   * INCR, INCRBY, DECR, DECRBY and APPEND: one increment or append applied at the head of the key's
   * chain on its newest value (CRAQ's read-modify-write), answered with the new integer or length.
   * The node's refusals carry Redis's own wording (not an integer, overflow).
   */
  private CompletableFuture<Object> readModifyWrite(
      ChainAccess access, String name, List<byte[]> a, CompletableFuture<?> forwardAfter) {
    String key = key(a.get(1));
    if (name.equals("append")) {
      return access.update(key, 0, value(a.get(2)), forwardAfter).thenApply(n -> (Object) n);
    }
    long delta =
        switch (name) {
          case "incr" -> 1;
          case "decr" -> -1;
          default -> {
            long by = integerArgument(a.get(2));
            if (name.equals("decrby")) {
              if (by == Long.MIN_VALUE) {
                throw RedisException.err("decrement would overflow");
              }
              by = -by;
            }
            yield by;
          }
        };
    return access.update(key, delta, null, forwardAfter).thenApply(n -> (Object) n);
  }

  /** A command's integer argument, read as Redis reads one. */
  private static long integerArgument(byte[] argument) {
    try {
      return Int64Text.parse(argument);
    } catch (NumberFormatException e) {
      throw RedisException.err(Int64Text.NOT_AN_INTEGER);
    }
  }

  /** {@code write}, or {@code onMismatch} if it failed because the key's version moved. */
  private <T> CompletableFuture<T> onMismatch(
      CompletableFuture<T> write, java.util.function.Supplier<CompletableFuture<T>> onMismatch) {
    return write.exceptionallyCompose(failure -> {
      RedisException e = ChainAccess.translate(failure);
      if (e instanceof RedisException.VersionMismatch) {
        return onMismatch.get();
      }
      return CompletableFuture.failedFuture(e);
    });
  }

  /** Runs {@code again} after a short pause that grows with {@code attempt}, or gives up. */
  private static <T> CompletableFuture<T> retry(
      String key, int attempt, java.util.function.Supplier<CompletableFuture<T>> again) {
    if (attempt >= CONDITIONAL_ATTEMPTS_MAX) {
      return CompletableFuture.failedFuture(
          RedisException.err(
              "key '"
                  + key
                  + "' kept changing under a conditional write ("
                  + attempt
                  + " attempts); retry"));
    }
    return CompletableFuture.supplyAsync(
            () -> null,
            CompletableFuture.delayedExecutor(Math.min(50, attempt * 2L), TimeUnit.MILLISECONDS))
        .thenCompose(ignored -> again.get());
  }

  // ----------------------------------------------------------------------------- connection

  private static Object select(byte[] db) {
    String index = new String(db, StandardCharsets.ISO_8859_1);
    if (index.equals("0")) {
      return Resp.OK;
    }
    return Resp.err("DB index is out of range (this store has only database 0)");
  }

  private CompletableFuture<Object> hello(RedisConnection c, List<byte[]> a) {
    if (a.size() == 1) {
      return done(
          server.authenticationRequired() && c.session.principal() == null
              ? NOAUTH
              : helloReply(c));
    }
    String version = new String(a.get(1), StandardCharsets.ISO_8859_1);
    if (!version.equals("2") && !version.equals("3")) {
      return done(new Resp.Err("NOPROTO unsupported protocol version (2 and 3 are supported)"));
    }
    String name = null;
    String user = null;
    byte[] password = null;
    int i = 2;
    while (i < a.size()) {
      String option = new String(a.get(i), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
      if (option.equals("SETNAME") && i + 1 < a.size()) {
        name = new String(a.get(i + 1), StandardCharsets.UTF_8);
        Object refused = checkName(name);
        if (refused != null) {
          return done(refused);
        }
        i += 2;
      } else if (option.equals("AUTH") && i + 2 < a.size()) {
        user = new String(a.get(i + 1), StandardCharsets.UTF_8);
        password = a.get(i + 2);
        i += 3;
      } else {
        return done(Resp.err("syntax error in HELLO option '" + printable(a.get(i), 64) + "'"));
      }
    }
    int protocol = Integer.parseInt(version);
    String newName = name;
    if (user == null) {
      if (server.authenticationRequired() && c.session.principal() == null) {
        return done(
            new Resp.Err(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise"
                    + " the HELLO <proto> AUTH <user> <pass> option can be used to authenticate"
                    + " the client and select the RESP protocol version at the same time"));
      }
      return done(helloApplied(c, protocol, newName));
    }
    // The reply is written in the protocol asked for (the connection reads nothing more until
    // the password is checked); a refusal, an error line in either protocol, restores it.
    int previous = c.protocol;
    c.protocol = protocol;
    return authenticate(
        c,
        user,
        password,
        false,
        () -> helloApplied(c, protocol, newName),
        () -> c.protocol = previous);
  }

  private Object helloApplied(RedisConnection c, int protocol, String name) {
    c.protocol = protocol;
    if (name != null) {
      c.name = name;
    }
    return helloReply(c);
  }

  private Object helloReply(RedisConnection c) {
    return Resp.map(
        Resp.bulk("server"),
        Resp.bulk("redis"),
        Resp.bulk("version"),
        Resp.bulk(REDIS_VERSION),
        Resp.bulk("proto"),
        (long) c.protocol,
        Resp.bulk("id"),
        c.id,
        Resp.bulk("mode"),
        Resp.bulk("standalone"),
        Resp.bulk("role"),
        Resp.bulk("master"),
        Resp.bulk("modules"),
        List.of());
  }

  private static Object checkName(String name) {
    for (int i = 0; i < name.length(); i++) {
      char ch = name.charAt(i);
      if (ch < '!' || ch > '~') {
        return Resp.err("Client names cannot contain spaces, newlines or special characters.");
      }
    }
    return null;
  }

  private Object client(RedisConnection c, List<byte[]> a) {
    String sub = new String(a.get(1), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
    switch (sub) {
      case "SETNAME" -> {
        if (a.size() != 3) {
          return wrongArgs("client|setname");
        }
        String name = new String(a.get(2), StandardCharsets.UTF_8);
        Object refused = checkName(name);
        if (refused != null) {
          return refused;
        }
        c.name = name.isEmpty() ? null : name;
        return Resp.OK;
      }
      case "GETNAME" -> {
        return c.name == null ? null : Resp.bulk(c.name);
      }
      case "ID" -> {
        return c.id;
      }
      case "SETINFO" -> {
        return a.size() == 4 ? Resp.OK : wrongArgs("client|setinfo");
      }
      case "INFO" -> {
        return Resp.bulk(c.describe() + "\n");
      }
      default -> {
        return Resp.err(
            "unknown subcommand '"
                + printable(a.get(1), 64)
                + "'. CLIENT takes SETNAME, GETNAME, ID, SETINFO and INFO here.");
      }
    }
  }

  // -------------------------------------------------------------------------------- server

  private Object config(List<byte[]> a) {
    String sub = new String(a.get(1), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
    if (!sub.equals("GET")) {
      return Resp.err(
          "CONFIG "
              + printable(a.get(1), 32)
              + " is not supported: this port's settings are craq-node's command-line flags");
    }
    if (a.size() < 3) {
      return wrongArgs("config|get");
    }
    Map<Object, Object> found = new LinkedHashMap<>();
    for (int i = 2; i < a.size(); i++) {
      String pattern = new String(a.get(i), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
      config.entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .filter(e -> Glob.matches(pattern, e.getKey()))
          .forEach(e -> found.put(e.getKey(), e.getValue()));
    }
    Map<Object, Object> reply = new LinkedHashMap<>();
    found.forEach((k, v) -> reply.put(Resp.bulk((String) k), Resp.bulk((String) v)));
    return reply;
  }

  private static Object command(List<byte[]> a) {
    if (a.size() == 1) {
      List<Object> all = new ArrayList<>();
      SPECS.values().stream()
          .sorted(java.util.Comparator.comparing(Spec::name))
          .forEach(s -> all.add(info(s)));
      return all;
    }
    String sub = new String(a.get(1), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
    switch (sub) {
      case "COUNT" -> {
        return (long) SPECS.size();
      }
      case "INFO" -> {
        List<Object> infos = new ArrayList<>();
        for (int i = 2; i < a.size(); i++) {
          Spec s =
              SPECS.get(new String(a.get(i), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT));
          infos.add(s == null ? Resp.NULL_ARRAY : info(s));
        }
        return infos;
      }
      case "DOCS" -> {
        Map<Object, Object> docs = new LinkedHashMap<>();
        List<Spec> wanted = new ArrayList<>();
        if (a.size() == 2) {
          SPECS.values().stream()
              .sorted(java.util.Comparator.comparing(Spec::name))
              .forEach(wanted::add);
        } else {
          for (int i = 2; i < a.size(); i++) {
            Spec s =
                SPECS.get(
                    new String(a.get(i), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT));
            if (s != null) {
              wanted.add(s);
            }
          }
        }
        for (Spec s : wanted) {
          docs.put(
              Resp.bulk(s.name()),
              Resp.map(
                  Resp.bulk("summary"),
                  Resp.bulk(s.summary()),
                  Resp.bulk("since"),
                  Resp.bulk("1.0.0"),
                  Resp.bulk("group"),
                  Resp.bulk(s.group())));
        }
        return docs;
      }
      default -> {
        return Resp.err(
            "unknown subcommand '"
                + printable(a.get(1), 64)
                + "'. COMMAND takes no argument, COUNT, INFO or DOCS here.");
      }
    }
  }

  private static List<Object> info(Spec s) {
    List<Object> flags = new ArrayList<>();
    for (String flag : s.flags()) {
      flags.add(new Resp.Simple(flag));
    }
    return Resp.array(
        Resp.bulk(s.name()),
        (long) s.arity(),
        flags,
        (long) s.firstKey(),
        (long) s.lastKey(),
        (long) s.step(),
        List.of(new Resp.Simple("@" + s.group())),
        List.of(),
        List.of(),
        List.of());
  }

  private CompletableFuture<Object> info(RedisConnection c, List<byte[]> a) {
    List<String> sections = new ArrayList<>();
    for (int i = 1; i < a.size(); i++) {
      sections.add(new String(a.get(i), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT));
    }
    boolean all =
        sections.isEmpty()
            || sections.contains("all")
            || sections.contains("default")
            || sections.contains("everything");
    boolean keyspace = all || sections.contains("keyspace");
    return access
        .map()
        .thenCombine(access.stats(), (map, stats) -> new Object[] {map, stats})
        .thenCompose(pair ->
            (keyspace ? dbsize() : CompletableFuture.completedFuture(-1L))
                .thenApply(keys -> {
                  ChainMap map = (ChainMap) pair[0];
                  Message.StatsReply stats = (Message.StatsReply) pair[1];
                  StringBuilder b = new StringBuilder();
                  if (all || sections.contains("server")) {
                    server.describeServer(b);
                  }
                  if (all || sections.contains("clients")) {
                    server.describeClients(b);
                  }
                  if (all || sections.contains("replication")) {
                    describeReplication(b, map, stats);
                  }
                  if (all || sections.contains("stats")) {
                    server.describeStats(b, access.forwarded.get());
                  }
                  if (keyspace) {
                    b.append("# Keyspace\r\n");
                    if (keys > 0) {
                      b.append("db0:keys=").append(keys).append(",expires=0,avg_ttl=0\r\n");
                    }
                    b.append("\r\n");
                  }
                  return (Object) Resp.bulk(b.toString());
                }));
  }

  private void describeReplication(StringBuilder b, ChainMap map, Message.StatsReply stats) {
    b.append("# Replication\r\n");
    // Clients that look for a writable server see one: every node takes writes (the head of the
    // key's chain applies them).
    b.append("role:master\r\n");
    b.append("connected_slaves:0\r\n");
    b.append("craq_node_id:").append(access.nodeId()).append("\r\n");
    b.append("craq_node_address:").append(access.publicAddress()).append("\r\n");
    b.append("craq_role:").append(stats.role()).append("\r\n");
    b.append("craq_map_version:").append(map.version()).append("\r\n");
    b.append("craq_chains:").append(map.chainCount()).append("\r\n");
    for (int i = 0; i < map.chainCount(); i++) {
      ChainConfig chain = map.chain(i);
      int index = chain.indexOf(access.nodeId());
      if (index < 0) {
        continue;
      }
      String role =
          chain.size() == 1
              ? "head+tail"
              : index == 0 ? "head" : index == chain.size() - 1 ? "tail" : "middle";
      b.append("chain")
          .append(i)
          .append(":role=")
          .append(role)
          .append(",epoch=")
          .append(chain.epoch())
          .append(",position=")
          .append(index)
          .append(",members=")
          .append(chain.size())
          .append(",head=")
          .append(chain.head().address())
          .append(",tail=")
          .append(chain.tail().address())
          .append("\r\n");
    }
    b.append("\r\n");
  }

  // --------------------------------------------------------------------- scan and dbsize

  /** The chains this node is a member of, in the map it knows. */
  private List<Integer> localChains(ChainMap map) {
    List<Integer> chains = new ArrayList<>();
    for (int i = 0; i < map.chainCount(); i++) {
      if (map.chain(i).contains(access.nodeId())) {
        chains.add(i);
      }
    }
    return chains;
  }

  /** How long a key count is answered again before the store is paged anew. */
  static final long COUNT_REUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Write commands of this port completed (so a count made before one is not reused). */
  private final AtomicLong writesCompleted = new AtomicLong();

  /** The last key count (running or done), when it started, and the writes completed then. */
  private CompletableFuture<Long> lastCount;

  private long lastCountNanos;
  private long lastCountWrites;

  /**
   * The keys of this node's chains (DBSIZE, INFO keyspace). Counting pages the store, so a count is
   * shared: callers within {@link #COUNT_REUSE_NANOS} of its start get it too, unless a write
   * command of this port completed since it started (a connection always sees its own writes
   * counted). Writes through other ports or clients show within a second.
   */
  CompletableFuture<Long> dbsize() {
    synchronized (this) {
      long now = System.nanoTime();
      if (lastCount != null
          && !lastCount.isCompletedExceptionally()
          && now - lastCountNanos < COUNT_REUSE_NANOS
          && writesCompleted.get() == lastCountWrites) {
        return lastCount;
      }
      lastCountNanos = now;
      lastCountWrites = writesCompleted.get();
      lastCount = countKeys();
      return lastCount;
    }
  }

  /** The keys of this node's chains, counted page by page. */
  private CompletableFuture<Long> countKeys() {
    return access
        .map()
        .thenCompose(map -> {
          CompletableFuture<Long> total = CompletableFuture.completedFuture(0L);
          for (int chain : localChains(map)) {
            total = total.thenCompose(sum -> count(chain, "", sum));
          }
          return total;
        });
  }

  private CompletableFuture<Long> count(int chain, String after, long sum) {
    return access
        .page(chain, after, SCAN_PAGE_KEYS_MAX)
        .thenCompose(page -> {
          long n = sum;
          String last = after;
          for (VersionRecord r : page.entries()) {
            if (!r.tombstone()) {
              n++;
            }
            last = r.key();
          }
          return page.more() && !last.equals(after)
              ? count(chain, last, n)
              : CompletableFuture.completedFuture(n);
        });
  }

  private CompletableFuture<Object> scan(List<byte[]> a) {
    String cursorText = new String(a.get(1), StandardCharsets.ISO_8859_1);
    long cursor;
    try {
      cursor = Long.parseUnsignedLong(cursorText);
    } catch (NumberFormatException e) {
      throw RedisException.err("invalid cursor");
    }
    String after;
    if (cursor == 0) {
      after = "";
    } else {
      synchronized (cursors) {
        after = cursors.get(cursor);
      }
      if (after == null) {
        throw RedisException.err("invalid cursor (unknown here, or forgotten: start again at 0)");
      }
    }
    String match = null;
    int count = 10;
    boolean stringsOnly = true;
    for (int i = 2; i < a.size(); i += 2) {
      String option = new String(a.get(i), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
      if (i + 1 >= a.size()) {
        throw new RedisException("ERR syntax error");
      }
      String arg = new String(a.get(i + 1), StandardCharsets.UTF_8);
      switch (option) {
        case "MATCH" -> match = arg;
        case "COUNT" -> {
          try {
            count = Integer.parseInt(arg);
          } catch (NumberFormatException e) {
            throw RedisException.err("value is not an integer or out of range");
          }
          if (count < 1) {
            throw new RedisException("ERR syntax error");
          }
          count = Math.min(count, SCAN_PAGE_KEYS_MAX);
        }
        case "TYPE" -> stringsOnly = arg.equalsIgnoreCase("string");
        default -> throw new RedisException("ERR syntax error");
      }
    }
    String pattern = match;
    int limit = count;
    boolean any = stringsOnly;
    return access.map().thenCompose(map -> scanPage(localChains(map), after, limit, pattern, any));
  }

  private CompletableFuture<Object> scanPage(
      List<Integer> chains, String after, int count, String pattern, boolean any) {
    List<CompletableFuture<ReadAllReply>> pages = new ArrayList<>();
    for (int chain : chains) {
      pages.add(access.page(chain, after, count));
    }
    return CompletableFuture.allOf(pages.toArray(CompletableFuture[]::new))
        .thenApply(ignored -> {
          // A chain with more keys than its page covers bounds what may be answered now.
          String bound = null;
          // The stores page in KeyOrder (UTF-8 bytes), not String order: compare alike.
          TreeSet<String> keys = new TreeSet<>(KeyOrder.INSTANCE);
          for (var future : pages) {
            ReadAllReply page = future.join();
            String last = null;
            for (VersionRecord r : page.entries()) {
              if (!r.tombstone() && KeyOrder.INSTANCE.compare(r.key(), after) > 0) {
                keys.add(r.key());
              }
              last = r.key();
            }
            if (page.more()
                && last != null
                && (bound == null || KeyOrder.INSTANCE.compare(last, bound) < 0)) {
              bound = last;
            }
          }
          List<String> taken = new ArrayList<>();
          boolean more = false;
          for (String key : keys) {
            if ((bound != null && KeyOrder.INSTANCE.compare(key, bound) > 0)
                || taken.size() == count) {
              more = true;
              break;
            }
            taken.add(key);
          }
          more |= bound != null;
          String last = taken.isEmpty() ? bound : taken.get(taken.size() - 1);
          long next = more && last != null ? remember(last) : 0;
          List<Object> matched = new ArrayList<>();
          for (String key : taken) {
            if (any && (pattern == null || Glob.matches(pattern, key))) {
              matched.add(Resp.bulk(key));
            }
          }
          return Resp.array(Resp.bulk(Long.toUnsignedString(next)), matched);
        });
  }

  private long remember(String key) {
    long id = nextCursor.getAndIncrement();
    synchronized (cursors) {
      cursors.put(id, key);
      if (cursors.size() > CURSORS_MAX) {
        cursors.remove(cursors.keySet().iterator().next());
      }
    }
    return id;
  }
}

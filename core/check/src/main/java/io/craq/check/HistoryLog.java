package io.craq.check;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.regex.Pattern;

/**
 * Reads and writes histories as Jepsen-style logs.
 *
 * <h2>Our format: Jepsen's register log, extended</h2>
 *
 * <p>One line per event, in real-time order, as Jepsen's {@code jepsen.util} log prints them, with
 * tab-separated trailing {@code :name value} pairs added:
 *
 * <pre>
 * INFO  jepsen.util - 3	:invoke	:write	4	:key	k1	:time	1200
 * INFO  jepsen.util - 3	:ok	:write	4	:key	k1	:time	1350	:version	7
 * INFO  jepsen.util - 5	:ok	:read	"a b"	:key	k1	:time	1400	:version	7
 * INFO  jepsen.util - 6	:ok	:cas-version	[7 x]	:key	k1	:time	1500	:applied	false
 * INFO  jepsen.util - 4	:info	:write	:timed-out	:key	k1
 * </pre>
 *
 * <ul>
 *   <li>Columns: process, event type ({@code :invoke :ok :fail :info}), operation ({@code :read
 *       :write :delete :cas :cas-version :append :incr}), value: {@code nil} (absent, or no value),
 *       a bare token ({@code [A-Za-z0-9_.+-]+}), a double-quoted string with {@code \\ \" \t \n \r}
 *       escapes, or a vector: {@code :cas [expected new]}, {@code :cas-version [version new]}. On a
 *       read's completion the value is what it read.
 *   <li>{@code :key K}: the key; without it the line belongs to {@link #DEFAULT_KEY}.
 *   <li>{@code :time N}: the event's clock reading in nanoseconds; without it the line number is
 *       the time. An {@code :info} completion has no time: it returns at infinity.
 *   <li>{@code :version N} on an {@code :ok}: the version the store reported. {@code :applied
 *       false} on an {@code :ok} of a conditional write: its condition did not hold.
 *   <li>{@code :incr D}: add the integer D to the key's integer value; {@code :result N} on its
 *       {@code :ok} is the new value the store returned (without it, only the effect is checked):
 *       {@code 3 :ok :incr -2 :key c :time 1800 :result 40}.
 *   <li>{@code :txn N} (N &gt; 0) on every line of a member of multi-key write N: one {@code
 *       :write} or {@code :delete} per key, all invoked together (their invoke lines first, then
 *       their completion lines), with the same times and outcome.
 * </ul>
 *
 * <pre>
 * INFO  jepsen.util - 2	:invoke	:write	x	:key	"a{7}"	:txn	4	:time	1600
 * INFO  jepsen.util - 2	:invoke	:delete	nil	:key	"b{7}"	:txn	4	:time	1600
 * INFO  jepsen.util - 2	:ok	:write	x	:key	"a{7}"	:txn	4	:time	1700	:version	3
 * INFO  jepsen.util - 2	:ok	:delete	nil	:key	"b{7}"	:txn	4	:time	1700	:version	9
 * </pre>
 *
 * <p>An invoke and its completion are paired by process (the members of a multi-key write, which
 * one process has in flight together, by process and key); an invoke with no completion by the end
 * of the file is {@code :info}. The format has no version number: {@code :txn} is an optional
 * field, and files without it read as they always did. The reader also reads the unmodified Jepsen
 * etcd logs (single register, line order is time) and the kv logs of EDN maps, {@code {:process 0,
 * :type :ok, :f :append, :key "4", :value "x 0 1 y"}} with {@code :get :put :append}. Other lines
 * are ignored.
 */
public final class HistoryLog {
  /** The key of lines that name none (the single-register reference logs). */
  public static final String DEFAULT_KEY = "register";

  private static final String JEPSEN_MARKER = "jepsen.util - ";
  private static final Pattern BARE = Pattern.compile("[A-Za-z0-9_.+-]+");

  /** How much of a malformed line an error message quotes. */
  private static final int EXCERPT_MAX = 200;

  private HistoryLog() {}

  // ---------------------------------------------------------------- writing

  public static void write(History history, Path path) throws IOException {
    try (Writer out = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
      write(history, out);
    }
  }

  /**
   * Writes {@code history} in our format. Each process's operations must not overlap in time (an
   * {@code :info} one counts as ending at its invoke, as its process is then retired).
   *
   * @throws IllegalArgumentException if two operations of one process overlap
   */
  public static void write(History history, Writer out) throws IOException {
    for (Line line : lines(history)) {
      out.write(line.text);
      out.write('\n');
    }
  }

  /** One output line with its place in the merge. */
  private record Line(long timeNanos, int rank, long sequence, long process, String text) {}

  /**
   * Each process's events form a stream already in order; merging the streams by time keeps an
   * invoke and its completion paired even when a tick clock gives them the same time.
   */
  private static List<Line> lines(History history) {
    // A unit is what a process sends in one request: one operation, or a multi-key write's members.
    Map<Long, List<List<Operation>>> byProcess = new LinkedHashMap<>();
    Map<Long, List<Operation>> transactions = new HashMap<>();
    for (Operation operation : history.operations()) {
      if (operation.inTransaction()) {
        List<Operation> members = transactions.get(operation.transaction());
        if (members != null) {
          members.add(operation);
          continue;
        }
        members = new ArrayList<>(List.of(operation));
        transactions.put(operation.transaction(), members);
        byProcess.computeIfAbsent(operation.process(), p -> new ArrayList<>()).add(members);
      } else {
        byProcess
            .computeIfAbsent(operation.process(), p -> new ArrayList<>())
            .add(List.of(operation));
      }
    }
    Map<Long, List<Line>> streams = new HashMap<>();
    long sequence = 0;
    for (Map.Entry<Long, List<List<Operation>>> entry : byProcess.entrySet()) {
      List<List<Operation>> units = new ArrayList<>(entry.getValue());
      units.sort(Comparator.comparingLong(unit -> unit.get(0).invokeNanos()));
      List<Line> stream = new ArrayList<>();
      long freeFromNanos = Long.MIN_VALUE;
      for (List<Operation> unit : units) {
        List<Operation> members = new ArrayList<>(unit);
        members.sort(Comparator.comparing(Operation::key));
        Operation operation = members.get(0);
        if (operation.invokeNanos() < freeFromNanos) {
          throw new IllegalArgumentException(
              "process "
                  + entry.getKey()
                  + " has overlapping operations at "
                  + operation.describe());
        }
        for (Operation member : members) {
          stream.add(
              new Line(
                  member.invokeNanos(),
                  1,
                  sequence++,
                  entry.getKey(),
                  line(member, "invoke", member.invokeNanos())));
        }
        boolean info = operation.outcome() == Outcome.INFO;
        long endNanos = info ? operation.invokeNanos() : operation.completeNanos();
        for (Operation member : members) {
          stream.add(
              new Line(
                  endNanos,
                  0,
                  sequence++,
                  entry.getKey(),
                  line(member, member.outcome().name().toLowerCase(Locale.ROOT), endNanos)));
        }
        freeFromNanos = endNanos;
      }
      streams.put(entry.getKey(), stream);
    }
    // Merge: earliest time first, completions before invokes on ties.
    Comparator<Line> order =
        Comparator.comparingLong(Line::timeNanos)
            .thenComparingInt(Line::rank)
            .thenComparingLong(Line::sequence);
    PriorityQueue<Line> heads = new PriorityQueue<>(order);
    Map<Long, Integer> nextIndex = new HashMap<>();
    for (Map.Entry<Long, List<Line>> stream : streams.entrySet()) {
      heads.add(stream.getValue().get(0));
      nextIndex.put(stream.getKey(), 1);
    }
    List<Line> merged = new ArrayList<>();
    while (!heads.isEmpty()) {
      Line line = heads.poll();
      merged.add(line);
      List<Line> stream = streams.get(line.process);
      int index = nextIndex.get(line.process);
      if (index < stream.size()) {
        heads.add(stream.get(index));
        nextIndex.put(line.process, index + 1);
      }
    }
    return merged;
  }

  private static String line(Operation operation, String type, long timeNanos) {
    Input input = operation.input();
    boolean completion = !type.equals("invoke");
    String value;
    if (type.equals("info")) {
      value = ":timed-out";
    } else if (input.kind() == OpKind.READ) {
      value = completion && operation.output() != null ? token(operation.output().value()) : "nil";
    } else {
      value = inputValue(input);
    }
    StringBuilder text = new StringBuilder("INFO  jepsen.util - ");
    text.append(operation.process())
        .append("\t:")
        .append(type)
        .append("\t:")
        .append(operationName(input.kind()))
        .append('\t')
        .append(value)
        .append("\t:key\t")
        .append(token(operation.key()));
    if (operation.inTransaction()) {
      text.append("\t:txn\t").append(operation.transaction());
    }
    if (!type.equals("info")) {
      text.append("\t:time\t").append(timeNanos);
    }
    Output output = operation.output();
    if (completion && output != null) {
      if (input.kind() == OpKind.INCREMENT && output.value() != null) {
        text.append("\t:result\t").append(output.value());
      }
      if (output.version() != Output.UNKNOWN_VERSION) {
        text.append("\t:version\t").append(output.version());
      }
      if (!output.applied()) {
        text.append("\t:applied\tfalse");
      }
    }
    return text.toString();
  }

  private static String operationName(OpKind kind) {
    return switch (kind) {
      case READ -> "read";
      case WRITE -> "write";
      case DELETE -> "delete";
      case CAS -> "cas";
      case WRITE_IF_VERSION -> "cas-version";
      case APPEND -> "append";
      case INCREMENT -> "incr";
    };
  }

  private static String inputValue(Input input) {
    return switch (input.kind()) {
      case READ, DELETE -> "nil";
      case WRITE, APPEND, INCREMENT -> token(input.value());
      case CAS -> "[" + token(input.expected()) + " " + token(input.value()) + "]";
      case WRITE_IF_VERSION -> "[" + input.expectedVersion() + " " + token(input.value()) + "]";
    };
  }

  /** A value as a bare token when that reads back the same, else as a quoted string. */
  static String token(String value) {
    if (value == null) {
      return "nil";
    }
    if (BARE.matcher(value).matches() && !value.equals("nil")) {
      return value;
    }
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '\\' -> quoted.append("\\\\");
        case '"' -> quoted.append("\\\"");
        case '\t' -> quoted.append("\\t");
        case '\n' -> quoted.append("\\n");
        case '\r' -> quoted.append("\\r");
        default -> quoted.append(c);
      }
    }
    return quoted.append('"').toString();
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads the log at {@code path}, as {@link #read(BufferedReader, String)} does.
   *
   * @throws IllegalArgumentException on a malformed event line or bytes that are not UTF-8, with
   *     the path and the line number
   */
  public static History read(Path path) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      return read(in, path.toString());
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          path + ":" + firstLineNotUtf8(path) + ": not UTF-8 text", e);
    }
  }

  /**
   * The number of the first line of {@code path} that is not UTF-8. The reader decodes ahead of the
   * line it returns, so its own count is only a lower bound.
   */
  private static long firstLineNotUtf8(Path path) throws IOException {
    byte[] bytes = Files.readAllBytes(path);
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
    long line = 1;
    int start = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == '\n') {
        try {
          decoder.decode(ByteBuffer.wrap(bytes, start, i - start));
        } catch (CharacterCodingException e) {
          return line;
        }
        start = i + 1;
        line++;
      }
    }
    return line - 1;
  }

  /**
   * Reads a log in our format, Jepsen's register format or the kv EDN format.
   *
   * @param sourceName names the source in error messages
   * @throws IllegalArgumentException on a malformed event line, with its line number
   */
  public static History read(BufferedReader in, String sourceName) throws IOException {
    Pairing pairing = new Pairing();
    String text;
    int lineNumber = 0;
    while ((text = in.readLine()) != null) {
      lineNumber++;
      try {
        Event event = parse(text, lineNumber);
        if (event != null) {
          pairing.add(event);
        }
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            sourceName + ":" + lineNumber + ": " + e.getMessage() + ": " + excerpt(text), e);
      }
    }
    try {
      return pairing.finish();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(sourceName + ": " + e.getMessage(), e);
    }
  }

  /** A line for an error message: whole when short, else its start. */
  private static String excerpt(String text) {
    return text.length() <= EXCERPT_MAX ? text : text.substring(0, EXCERPT_MAX) + "...";
  }

  /** One parsed line. */
  private record Event(
      long process,
      String type,
      String operation,
      Object value,
      String key,
      long timeNanos,
      boolean timed,
      long version,
      boolean applied,
      long transaction,
      Object result) {}

  private static Event parse(String text, int lineNumber) {
    String trimmed = text.strip();
    if (trimmed.startsWith("{")) {
      Object parsed = new Edn(trimmed).readAll().get(0);
      if (!(parsed instanceof Map<?, ?> map)) {
        throw new IllegalArgumentException("not a map");
      }
      Map<String, Object> fields = new HashMap<>();
      map.forEach((k, v) -> fields.put(keyword(k, "a map key"), v));
      return event(fields, lineNumber);
    }
    int marker = text.indexOf(JEPSEN_MARKER);
    if (marker < 0) {
      return null;
    }
    List<Object> tokens = new Edn(text.substring(marker + JEPSEN_MARKER.length())).readAll();
    if (tokens.size() < 4 || tokens.size() % 2 != 0) {
      throw new IllegalArgumentException("expected process, type, operation, value, pairs");
    }
    Map<String, Object> fields = new HashMap<>();
    fields.put("process", tokens.get(0));
    fields.put("type", tokens.get(1));
    fields.put("f", tokens.get(2));
    fields.put("value", tokens.get(3));
    for (int i = 4; i < tokens.size(); i += 2) {
      fields.put(keyword(tokens.get(i), "a field name"), tokens.get(i + 1));
    }
    return event(fields, lineNumber);
  }

  private static Event event(Map<String, Object> fields, int lineNumber) {
    long process = number(fields.get("process"), "process");
    String type = keyword(fields.get("type"), "the type");
    if (!List.of("invoke", "ok", "fail", "info").contains(type)) {
      throw new IllegalArgumentException("unknown event type :" + type);
    }
    String operation = keyword(fields.get("f"), "the operation");
    Object key = fields.getOrDefault("key", DEFAULT_KEY);
    long time = fields.containsKey("time") ? number(fields.get("time"), "time") : lineNumber;
    long version =
        fields.containsKey("version")
            ? number(fields.get("version"), "version")
            : Output.UNKNOWN_VERSION;
    boolean applied = !"false".equals(fields.get("applied"));
    long transaction =
        fields.containsKey("txn") ? number(fields.get("txn"), "txn") : Operation.NO_TRANSACTION;
    if (transaction < Operation.NO_TRANSACTION
        || (transaction == Operation.NO_TRANSACTION && fields.containsKey("txn"))) {
      throw new IllegalArgumentException("txn is not a positive number: " + transaction);
    }
    return new Event(
        process,
        type,
        operation,
        fields.get("value"),
        string(key, "key"),
        time,
        fields.containsKey("time"),
        version,
        applied,
        transaction,
        fields.get("result"));
  }

  private static String keyword(Object value, String what) {
    if (value instanceof Keyword keyword) {
      return keyword.name();
    }
    throw new IllegalArgumentException(what + " is not a :keyword: " + value);
  }

  private static long number(Object value, String what) {
    String text = string(value, what);
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(what + " is not a whole number: " + text);
    }
  }

  private static String string(Object value, String what) {
    if (value instanceof String s) {
      return s;
    }
    throw new IllegalArgumentException(what + " is not a plain value: " + value);
  }

  /**
   * Pairs invokes with completions by process (and, for the members of a multi-key write, which a
   * process has in flight together, by key).
   */
  private static final class Pairing {
    private final List<Operation> operations = new ArrayList<>();
    private final Map<Long, List<Event>> invoked = new LinkedHashMap<>();

    /** Per process, the time of the first completion of its multi-key write in flight. */
    private final Map<Long, Long> memberCompletionNanos = new HashMap<>();

    void add(Event event) {
      List<Event> inFlight = invoked.computeIfAbsent(event.process, p -> new ArrayList<>());
      if (event.type.equals("invoke")) {
        if (!inFlight.isEmpty()) {
          Event first = inFlight.get(0);
          boolean member =
              event.transaction != Operation.NO_TRANSACTION
                  && first.transaction == event.transaction
                  && !memberCompletionNanos.containsKey(event.process)
                  && inFlight.stream().noneMatch(e -> e.key.equals(event.key));
          if (!member) {
            throw new IllegalArgumentException("process " + event.process + " invokes twice");
          }
          // The members of a multi-key write share one invoke: a line without a time takes it.
          inFlight.add(event.timed ? event : withTime(event, first.timeNanos));
          return;
        }
        inFlight.add(event);
        return;
      }
      Event invoke = null;
      for (Event candidate : inFlight) {
        if (candidate.key.equals(event.key)) {
          invoke = candidate;
        }
      }
      if (invoke == null && inFlight.size() == 1 && inFlight.get(0).transaction == 0) {
        invoke = inFlight.get(0);
      }
      if (inFlight.isEmpty()) {
        throw new IllegalArgumentException("completion without invoke");
      }
      if (invoke == null
          || !invoke.operation.equals(event.operation)
          || !invoke.key.equals(event.key)
          || invoke.transaction != event.transaction) {
        throw new IllegalArgumentException("completion does not match its invoke");
      }
      inFlight.remove(invoke);
      long completeNanos = event.timeNanos;
      if (invoke.transaction != Operation.NO_TRANSACTION) {
        Long first = memberCompletionNanos.putIfAbsent(event.process, event.timeNanos);
        if (first != null && !event.timed) {
          completeNanos = first;
        }
        if (inFlight.isEmpty()) {
          memberCompletionNanos.remove(event.process);
        }
      }
      if (inFlight.isEmpty()) {
        invoked.remove(event.process);
      }
      Input input = input(invoke);
      Operation operation =
          switch (event.type) {
            case "ok" ->
                Operation.ok(
                    event.process,
                    invoke.key,
                    input,
                    invoke.timeNanos,
                    completeNanos,
                    output(input, event));
            case "fail" ->
                Operation.fail(event.process, invoke.key, input, invoke.timeNanos, completeNanos);
            case "info" -> Operation.info(event.process, invoke.key, input, invoke.timeNanos);
            default -> throw new IllegalArgumentException("unknown event type :" + event.type);
          };
      operations.add(
          invoke.transaction == Operation.NO_TRANSACTION
              ? operation
              : operation.inTransaction(invoke.transaction));
    }

    /**
     * The history.
     *
     * @throws IllegalArgumentException if the members of a multi-key write do not agree
     */
    History finish() {
      for (List<Event> inFlight : invoked.values()) {
        for (Event invoke : inFlight) {
          Operation operation =
              Operation.info(invoke.process, invoke.key, input(invoke), invoke.timeNanos);
          operations.add(
              invoke.transaction == Operation.NO_TRANSACTION
                  ? operation
                  : operation.inTransaction(invoke.transaction));
        }
      }
      return new History(operations);
    }

    private static Event withTime(Event event, long timeNanos) {
      return new Event(
          event.process,
          event.type,
          event.operation,
          event.value,
          event.key,
          timeNanos,
          true,
          event.version,
          event.applied,
          event.transaction,
          event.result);
    }

    private static Input input(Event invoke) {
      Object value = invoke.value;
      return switch (invoke.operation) {
        case "read", "get" -> Input.read();
        case "write", "put" -> Input.write(string(value, "value"));
        case "append" -> Input.append(string(value, "value"));
        case "incr" -> Input.increment(number(value, "the delta"));
        case "delete" -> Input.delete();
        case "cas" -> Input.cas(pair(value).get(0), pair(value).get(1));
        case "cas-version" ->
            Input.writeIfVersion(number(pair(value).get(0), "the version"), pair(value).get(1));
        default -> throw new IllegalArgumentException("unknown operation :" + invoke.operation);
      };
    }

    private static Output output(Input input, Event completion) {
      if (input.kind() == OpKind.READ) {
        Object value = completion.value;
        return Output.read(value == null ? null : string(value, "value"), completion.version);
      }
      if (input.kind() == OpKind.INCREMENT) {
        return new Output(
            completion.result == null ? null : Long.toString(number(completion.result, "result")),
            completion.version,
            true);
      }
      return new Output(null, completion.version, completion.applied);
    }

    @SuppressWarnings("unchecked")
    private static List<String> pair(Object value) {
      if (value instanceof List<?> list && list.size() == 2) {
        List<String> pair = new ArrayList<>(2);
        for (Object item : list) {
          pair.add(item == null ? null : string(item, "value"));
        }
        return pair;
      }
      throw new IllegalArgumentException("expected [a b], got " + value);
    }
  }

  /** A keyword such as {@code :ok}. */
  private record Keyword(String name) {}

  /**
   * Just enough EDN: nil, bare tokens (as strings), "strings", :keywords, [vectors] and {maps};
   * commas are whitespace.
   */
  private static final class Edn {
    private final String text;
    private int position;

    Edn(String text) {
      this.text = text;
    }

    List<Object> readAll() {
      List<Object> values = new ArrayList<>();
      skipSpace();
      while (position < text.length()) {
        values.add(read());
        skipSpace();
      }
      return values;
    }

    private Object read() {
      skipSpace();
      if (position >= text.length()) {
        throw new IllegalArgumentException("unexpected end of line");
      }
      char c = text.charAt(position);
      return switch (c) {
        case '"' -> readString();
        case '[' -> readSequence(']');
        case '{' -> {
          List<Object> items = readSequence('}');
          if (items.size() % 2 != 0) {
            throw new IllegalArgumentException("odd number of forms in a map");
          }
          Map<Object, Object> map = new LinkedHashMap<>();
          for (int i = 0; i < items.size(); i += 2) {
            map.put(items.get(i), items.get(i + 1));
          }
          yield map;
        }
        case ':' -> {
          position++;
          yield new Keyword(readBare());
        }
        default -> {
          String bare = readBare();
          yield bare.equals("nil") ? null : bare;
        }
      };
    }

    private List<Object> readSequence(char close) {
      position++;
      List<Object> items = new ArrayList<>();
      while (true) {
        skipSpace();
        if (position >= text.length()) {
          throw new IllegalArgumentException("missing " + close);
        }
        if (text.charAt(position) == close) {
          position++;
          return items;
        }
        items.add(read());
      }
    }

    private String readString() {
      StringBuilder value = new StringBuilder();
      position++;
      while (position < text.length()) {
        char c = text.charAt(position++);
        if (c == '"') {
          return value.toString();
        }
        if (c == '\\') {
          if (position >= text.length()) {
            break;
          }
          char escaped = text.charAt(position++);
          value.append(
              switch (escaped) {
                case 't' -> '\t';
                case 'n' -> '\n';
                case 'r' -> '\r';
                default -> escaped;
              });
        } else {
          value.append(c);
        }
      }
      throw new IllegalArgumentException("unterminated string");
    }

    private String readBare() {
      int start = position;
      while (position < text.length()) {
        char c = text.charAt(position);
        if (Character.isWhitespace(c)
            || c == ','
            || c == ']'
            || c == '}'
            || c == '"'
            || c == '['
            || c == '{') {
          break;
        }
        position++;
      }
      if (start == position) {
        throw new IllegalArgumentException("unexpected '" + text.charAt(position) + "'");
      }
      return text.substring(start, position);
    }

    private void skipSpace() {
      while (position < text.length()
          && (Character.isWhitespace(text.charAt(position)) || text.charAt(position) == ',')) {
        position++;
      }
    }
  }

  /** Writes to a string; for messages and tests. */
  public static String toText(History history) {
    try (StringWriter out = new StringWriter()) {
      write(history, out);
      return out.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

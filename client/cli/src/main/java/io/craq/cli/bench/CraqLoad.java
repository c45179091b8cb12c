package io.craq.cli.bench;

import io.craq.cli.bench.BenchSettings.Mode;
import io.craq.cli.bench.BenchSettings.Workload;
import io.craq.client.CraqException;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.Member;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.transport.Connection;
import io.craq.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The CRAQ workloads, sent as raw protocol messages over the transport so that each thread can keep
 * {@code --in-flight} requests pipelined on its own connections (the blocking client would cost a
 * thread per request). Each key is routed by the chain map as {@code CraqClient} routes it: writes
 * go to the head of the key's chain; reads to a random member of it ({@code craq}) or to its tail
 * only ({@code cr}). The map is taken once at the start: a reconfiguration during the run shows up
 * as failures (NOT_HEAD, WRONG_CHAIN, STALE_EPOCH, ...), never as retries.
 */
final class CraqLoad implements LoadRunner {
  /** Writes of the mixed workload that may be outstanding before the pacer skips one. */
  static final int MIXED_WRITES_IN_FLIGHT_MAX = 1_024;

  static final int PRELOAD_IN_FLIGHT_MAX = 256;

  /** Pause before a refused preload or clean-up write is sent again. */
  static final long REFUSED_RETRY_MILLIS = 20;

  /** The pacer sends at most this much backlog at once after a stall, in seconds of sends. */
  static final double PACER_CATCH_UP_SECONDS_MAX = 0.1;

  static final long IDLE_POLL_MILLIS = 100;

  /**
   * Every bench key starts with this, then a random run id: {@code craq-bench/3fa9c1/17}. A user
   * can tell them from their own keys, and two runs at once do not share (or delete) keys.
   */
  static final String KEY_PREFIX = "craq-bench/";

  static final String VALUE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  private final BenchSettings settings;
  private final Transport transport;

  /** Per chain: the address of its head. */
  private final String[] heads;

  /** Per chain: the addresses its reads go to. */
  private final String[][] readTargets;

  private final String keyPrefix;
  private final String[] keys;

  /** Per key (same index as {@link #keys}): its chain. */
  private final int[] keyChains;

  private final byte[] value;
  private final Duration timeout;
  private final Meter reads = new Meter("read");
  private final Meter writes = new Meter("write");
  private final Meter cas = new Meter("cas");
  private final List<Thread> threads = new ArrayList<>();
  private final List<Connection> connections = new ArrayList<>();
  private volatile boolean running;
  private Pacer pacer;

  CraqLoad(BenchSettings settings, ChainMap map, Transport transport) {
    this.settings = settings;
    this.transport = transport;
    int chains = map.chainCount();
    this.heads = new String[chains];
    this.readTargets = new String[chains][];
    for (int c = 0; c < chains; c++) {
      ChainConfig chain = map.chain(c);
      if (chain.members().isEmpty()) {
        throw new IllegalArgumentException("chain " + c + " has no members");
      }
      heads[c] = chain.head().address();
      // CR serves reads at the tail only; CRAQ at every member (CRAQ §2.3).
      readTargets[c] =
          settings.mode() == Mode.CR
              ? new String[] {chain.tail().address()}
              : chain.members().stream().map(Member::address).toArray(String[]::new);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    this.keyPrefix = KEY_PREFIX + String.format("%06x", random.nextInt(1 << 24)) + "/";
    this.keys = chooseKeys(keyPrefix, settings.keys(), chains);
    this.keyChains = new int[keys.length];
    for (int i = 0; i < keys.length; i++) {
      keyChains[i] = map.chainOf(keys[i]);
    }
    // Printable, so that a user's `craq readall` shows text, never binary junk.
    this.value = new byte[settings.valueBytes()];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) VALUE_ALPHABET.charAt(random.nextInt(VALUE_ALPHABET.length()));
    }
    this.timeout = Duration.ofMillis(settings.timeoutMillis());
  }

  @Override
  public List<Meter> meters() {
    return switch (settings.workload()) {
      case READ -> List.of(reads);
      case WRITE -> List.of(writes);
      case MIXED -> List.of(reads, writes);
      case CAS -> List.of(cas);
    };
  }

  /**
   * The keys of a run: {@code prefix + i} for i = 0, 1, 2, ..., {@code count} of them. With several
   * chains only those that keep the chains even are taken: each chain gets {@code count / chains}
   * keys, the first {@code count % chains} chains one more (so the numbers have gaps), and every
   * chain, hence every node, gets the same share of the load.
   */
  static String[] chooseKeys(String prefix, int count, int chains) {
    String[] keys = new String[count];
    if (chains == 1) {
      for (int i = 0; i < count; i++) {
        keys[i] = prefix + i;
      }
      return keys;
    }
    int[] left = new int[chains];
    for (int c = 0; c < chains; c++) {
      left[c] = count / chains + (c < count % chains ? 1 : 0);
    }
    int chosen = 0;
    for (long i = 0; chosen < count; i++) {
      String key = prefix + i;
      int c = KeySlots.chainOf(key, chains);
      if (left[c] > 0) {
        left[c]--;
        keys[chosen++] = key;
      }
    }
    return keys;
  }

  /** The prefix of this run's keys, {@code craq-bench/RUNID/}. */
  String keyPrefix() {
    return keyPrefix;
  }

  /** Writes every key once, so reads find values of the configured size. */
  void preload() throws InterruptedException {
    writeEveryKey("preload", key -> new WriteRequest(key, value, false, Message.ANY_VERSION));
  }

  /** Deletes every key of this run (each leaves a tombstone version, which no scan shows). */
  void deleteKeys() throws InterruptedException {
    writeEveryKey(
        "deleting the bench keys",
        key -> new WriteRequest(key, new byte[0], true, Message.ANY_VERSION));
  }

  /**
   * Sends {@code request} for every key to its chain's head, {@link #PRELOAD_IN_FLIGHT_MAX} at a
   * time. A refusal that passes (the head without a lease for a moment, a full queue) is retried
   * after {@link #REFUSED_RETRY_MILLIS} until the key's deadline; any other failure ends the run
   * with a message naming how many writes failed and why.
   */
  private void writeEveryKey(String what, Function<String, WriteRequest> request)
      throws InterruptedException {
    Routes routes = routes(true, false);
    Semaphore permits = new Semaphore(PRELOAD_IN_FLIGHT_MAX);
    Meter failures = new Meter(what);
    failures.startMeasuring();
    for (int i = 0; i < keys.length; i++) {
      permits.acquire();
      long deadline = System.nanoTime() + timeout.toNanos();
      writeOnce(routes.heads()[keyChains[i]], request.apply(keys[i]), deadline, failures, permits);
    }
    if (!permits.tryAcquire(
        PRELOAD_IN_FLIGHT_MAX, 2 * settings.timeoutMillis() + 1_000, TimeUnit.MILLISECONDS)) {
      throw new CraqException(
          what
              + ": writes still unanswered after the timeout ("
              + settings.timeoutMillis()
              + " ms)");
    }
    if (failures.failureCount() > 0) {
      throw new CraqException(
          what + ": " + failures.failureCount() + " write(s) failed: " + failures.failuresByKind());
    }
  }

  private void writeOnce(
      Connection connection, WriteRequest write, long deadline, Meter failures, Semaphore permits) {
    connection
        .request(write, timeout)
        .whenComplete((reply, failure) -> {
          if (failure == null && reply instanceof WriteReply) {
            permits.release();
          } else if (reply instanceof ErrorReply error
              && (error.code() == ErrorCode.UNAVAILABLE || error.code() == ErrorCode.BUSY)
              && System.nanoTime() + REFUSED_RETRY_MILLIS * 1_000_000L < deadline) {
            CompletableFuture.delayedExecutor(REFUSED_RETRY_MILLIS, TimeUnit.MILLISECONDS)
                .execute(() -> writeOnce(connection, write, deadline, failures, permits));
          } else {
            failures.failure(describe(reply, failure));
            permits.release();
          }
        });
  }

  @Override
  public void start() {
    running = true;
    for (int t = 0; t < settings.threads(); t++) {
      Runnable body =
          switch (settings.workload()) {
            case READ, MIXED -> () -> pipelined(true);
            case WRITE -> () -> pipelined(false);
            case CAS -> this::testAndSetLoop;
          };
      threads.add(Thread.ofPlatform().name("bench-" + t).daemon().start(body));
    }
    if (settings.workload() == Workload.MIXED) {
      threads.add(Thread.ofPlatform().name("bench-writer").daemon().start(this::pacedWrites));
    }
  }

  /**
   * Keeps {@code --in-flight} reads (or writes) outstanding on this thread's own connections. Each
   * of the in-flight slots is a chain: a successful reply sends the slot's next request straight
   * from the thread that received it, so a steady closed loop costs one thread wake-up per request,
   * not two (the receiving thread, then this one). A failure, or the end of the run, hands the slot
   * back to this thread, which restarts it; so a failing server cannot make the chain recurse.
   */
  private void pipelined(boolean read) {
    int inFlight = settings.inFlightEffective();
    Semaphore idleSlots = new Semaphore(inFlight);
    Routes routes = routes(!read, read);
    Meter meter = read ? reads : writes;
    try {
      while (running) {
        if (idleSlots.tryAcquire(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
          sendNext(read, routes, meter, idleSlots);
        }
      }
      idleSlots.tryAcquire(inFlight, settings.timeoutMillis() + 1_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends one request of a slot; its reply sends the next one while the run lasts. */
  private void sendNext(boolean read, Routes routes, Meter meter, Semaphore idleSlots) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int k = random.nextInt(keys.length);
    String key = keys[k];
    Connection target = read ? routes.reader(keyChains[k], random) : routes.heads()[keyChains[k]];
    Message request =
        read
            ? new ReadRequest(key, settings.consistency().mode(), settings.consistency().bound())
            : new WriteRequest(key, value, false, Message.ANY_VERSION);
    long start = System.nanoTime();
    CompletableFuture<Message> reply;
    try {
      reply = target.request(request, timeout);
    } catch (RuntimeException e) {
      record(meter, start, null, e);
      idleSlots.release();
      return;
    }
    reply.whenComplete((message, failure) -> {
      boolean ok = record(meter, start, message, failure);
      if (ok && running) {
        sendNext(read, routes, meter, idleSlots);
      } else {
        idleSlots.release();
      }
    });
  }

  /** Writes at {@code --write-rate}, open loop, beside the reading threads (CRAQ Fig. 6). */
  private void pacedWrites() {
    Routes routes = routes(true, false);
    Semaphore permits = new Semaphore(MIXED_WRITES_IN_FLIGHT_MAX);
    Pacer local =
        new Pacer(settings.writesPerSecond(), System.nanoTime(), PACER_CATCH_UP_SECONDS_MAX);
    synchronized (this) {
      pacer = local;
    }
    long droppedSeen = 0;
    while (running) {
      long due = local.take(System.nanoTime());
      for (; droppedSeen < local.dropped(); droppedSeen++) {
        writes.note("skipped: writer fell behind the rate");
      }
      for (long i = 0; i < due; i++) {
        if (!permits.tryAcquire()) {
          writes.note("skipped: " + MIXED_WRITES_IN_FLIGHT_MAX + " writes in flight");
          continue;
        }
        int k = ThreadLocalRandom.current().nextInt(keys.length);
        String key = keys[k];
        long start = System.nanoTime();
        routes
            .heads()[keyChains[k]]
            .request(new WriteRequest(key, value, false, Message.ANY_VERSION), timeout)
            .whenComplete((reply, failure) -> {
              record(writes, start, reply, failure);
              permits.release();
            });
      }
      long waitNanos =
          Math.min(
              local.nanosUntilNext(System.nanoTime()),
              TimeUnit.MILLISECONDS.toNanos(IDLE_POLL_MILLIS));
      if (waitNanos > 0) {
        LockSupport.parkNanos(waitNanos);
      }
    }
  }

  /**
   * Test-and-set one at a time (CRAQ Fig. 5): a strong read of the version, then a write
   * conditional on it. A refused write (VERSION_MISMATCH: someone else wrote in between) is counted
   * as a conflict, not a failure; the latency covers the read and the write.
   */
  private void testAndSetLoop() {
    Routes routes = routes(true, true);
    while (running) {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      int k = random.nextInt(keys.length);
      String key = keys[k];
      long start = System.nanoTime();
      try {
        Message read =
            call(
                routes.reader(keyChains[k], random),
                new ReadRequest(
                    key, settings.consistency().mode(), settings.consistency().bound()));
        if (!(read instanceof ReadReply readReply)) {
          cas.failure("read: " + describe(read, null));
          continue;
        }
        long expected = readReply.found() ? readReply.version() : 0;
        Message write =
            call(routes.heads()[keyChains[k]], new WriteRequest(key, value, false, expected));
        if (write instanceof ErrorReply error && error.code() == ErrorCode.VERSION_MISMATCH) {
          cas.note("conflicts (version changed between read and write)");
        } else if (write instanceof WriteReply) {
          cas.success(System.nanoTime() - start);
        } else {
          cas.failure("write: " + describe(write, null));
        }
      } catch (ExecutionException | TimeoutException e) {
        cas.failure(describe(null, e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private Message call(Connection connection, Message request)
      throws InterruptedException, ExecutionException, TimeoutException {
    CompletableFuture<Message> reply = connection.request(request, timeout);
    return reply.get(settings.timeoutMillis() + 1_000, TimeUnit.MILLISECONDS);
  }

  /** Records one reply or failure; true if it was a success. */
  private static boolean record(Meter meter, long startNanos, Message reply, Throwable failure) {
    long nanos = System.nanoTime() - startNanos;
    if (failure != null || reply instanceof ErrorReply) {
      meter.failure(describe(reply, failure));
      return false;
    }
    if (reply instanceof ReadReply read) {
      if (!read.found()) {
        meter.note("not found");
      }
      if (read.dirty()) {
        meter.note("dirty");
      }
    }
    meter.success(nanos);
    return true;
  }

  static String describe(Message reply, Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause != null) {
      return cause.getClass().getSimpleName();
    }
    if (reply instanceof ErrorReply error) {
      return error.code().name();
    }
    return reply == null ? "no reply" : "unexpected " + reply.getClass().getSimpleName();
  }

  /**
   * One thread's connections, one per node it talks to, by chain: to each chain's head ({@code
   * heads}, null if not asked for) and to the members each chain's reads go to ({@code readers},
   * null if not asked for). Fixed once made, so reply threads read it without locks.
   */
  private record Routes(Connection[] heads, Connection[][] readers) {
    Connection reader(int chain, ThreadLocalRandom random) {
      Connection[] members = readers[chain];
      return members.length == 1 ? members[0] : members[random.nextInt(members.length)];
    }
  }

  /** New connections for one thread: to the heads, the read targets, or both. */
  private Routes routes(boolean toHeads, boolean toReaders) {
    Map<String, Connection> byAddress = new HashMap<>();
    Function<String, Connection> open =
        address -> byAddress.computeIfAbsent(address, this::connect);
    Connection[] headConnections = null;
    Connection[][] readerConnections = null;
    if (toHeads) {
      headConnections = new Connection[heads.length];
      for (int c = 0; c < heads.length; c++) {
        headConnections[c] = open.apply(heads[c]);
      }
    }
    if (toReaders) {
      readerConnections = new Connection[readTargets.length][];
      for (int c = 0; c < readTargets.length; c++) {
        readerConnections[c] = Arrays.stream(readTargets[c]).map(open).toArray(Connection[]::new);
      }
    }
    return new Routes(headConnections, readerConnections);
  }

  private Connection connect(String address) {
    Connection connection = transport.connect(address);
    synchronized (connections) {
      connections.add(connection);
    }
    return connection;
  }

  /** Writes skipped by the pacer because the writer fell behind (mixed workload only). */
  synchronized long pacerDropped() {
    return pacer == null ? 0 : pacer.dropped();
  }

  @Override
  public void stop() throws InterruptedException {
    running = false;
    long deadline =
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.timeoutMillis() + 2_000);
    for (Thread thread : threads) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      thread.join(Math.max(1, left));
    }
    synchronized (connections) {
      connections.forEach(Connection::close);
      connections.clear();
    }
  }
}

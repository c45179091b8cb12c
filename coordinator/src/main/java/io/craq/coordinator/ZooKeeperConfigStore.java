package io.craq.coordinator;

import io.craq.core.coordinator.CoordinatorReplica;
import io.craq.core.coordinator.CoordinatorSettings;
import io.craq.core.message.ChainMap;
import io.craq.transport.process.TickClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper mode: several coordinators share the configuration in ZooKeeper and elect one
 * leader with a Curator {@link LeaderLatch}. Layout under the chroot:
 *
 * <pre>
 * /craq            "craq-coordinator 1": marks the chroot as ours
 * /craq/config     the chain map in the membership file's text format, CRC line included;
 *                  its znode version is what every write is conditional on
 * /craq/election   the leader latch; participant id = the advertised address
 * </pre>
 *
 * <p>How the election's and the connection's news reach the {@link CoordinatorReplica} (the rules
 * themselves are in its class comment):
 *
 * <ul>
 *   <li><b>Elected</b> (the latch grants leadership on a session): sync, read the configuration and
 *       its version on that session, then {@code lead(map, true, sentTick)}: the next epoch of
 *       every chain is written conditionally on the version read before anything is sent.
 *   <li><b>Every write</b> is {@code setData} conditional on the version last read or written, on
 *       the session that won the election, sent once (a retry after a lost connection could not
 *       tell our own write from another's): refused (BadVersion) means another coordinator wrote,
 *       {@code fenced}; no answer or a lost connection means the outcome is unknown, {@code
 *       storeLost} (freeze), and the next read tells whether it landed.
 *   <li><b>The lease</b>: while leading, every 250 ms a sync and a read of the configuration on the
 *       leader session; an answer with the expected version confirms the lease from the time the
 *       request was sent, another version fences.
 *   <li><b>SUSPENDED</b> (connection lost, the session may still live): freeze. <b>RECONNECTED</b>
 *       on the same session with the latch still ours: read again (the version must be the one we
 *       know or the one we wrote) and lead again with a new epoch. <b>LOST</b> (the session ended):
 *       stay frozen, count no confirmation from another session; the lease ends it, or the latch
 *       grants leadership again on the new session (a fresh takeover), or another coordinator is
 *       seen leading ({@code lostLeadership}).
 *   <li><b>Standing by</b>: the leader's address is polled every 250 ms and fed to the replica for
 *       its NOT_LEADER redirects.
 * </ul>
 *
 * <p>Curator's {@link SessionConnectionStateErrorPolicy} keeps the latch through SUSPENDED: only
 * the end of the session takes leadership away. Curator declares a session LOST on its own a full
 * session timeout after the connection was lost, which is after the server may expire it: another
 * coordinator can never be elected earlier than a session timeout after our last confirmed request.
 */
final class ZooKeeperConfigStore implements ConfigStore {
  private static final Logger log = LoggerFactory.getLogger(ZooKeeperConfigStore.class);

  static final String ROOT = "/craq";
  static final String CONFIG = ROOT + "/config";
  static final String ELECTION = ROOT + "/election";
  static final String MARKER_TEXT = "craq-coordinator 1";
  private static final byte[] MARKER = MARKER_TEXT.getBytes(StandardCharsets.UTF_8);

  private static final long CONFIRM_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  private static final long LEADER_POLL_MILLIS = 250;
  private static final long LEAD_READ_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  /** What ZooKeeper's threads tell the loop. */
  private sealed interface Event {}

  /** The latch of {@code generation} granted leadership on {@code session}. */
  private record Granted(long generation, long session, long nanos) implements Event {}

  /** The latch of {@code generation} lost leadership (its session ended, or it was closed). */
  private record Revoked(long generation) implements Event {}

  private record StateChanged(ConnectionState state, long session) implements Event {}

  /** The election's leader as a poll started at {@code nanos} found it ({@code ""}: none). */
  private record LeaderSeen(long nanos, String id) implements Event {}

  /** A sync and read of the configuration, sent at {@code sentTick} on {@code session}. */
  private record ReadDone(
      boolean lead,
      long generation,
      long session,
      long sentTick,
      int expectedVersion,
      int rc,
      String text,
      int version,
      long latchOwner)
      implements Event {}

  private record WriteDone(int rc, int version) {}

  /** A write whose outcome is unknown: it may have landed, making the version {@code from + 1}. */
  private record Pending(int fromVersion, String text, ChainMap map) {}

  private final ZooKeeperSettings zk;
  private final CuratorFramework client;
  private final TickClock clock;
  private final Runnable wake;
  private final String configPath;
  private final CoordinatorReplica replica;
  private final long writeTimeoutMillis;
  private final long sessionNanos;
  private final Queue<Event> events = new ConcurrentLinkedQueue<>();
  private final ScheduledExecutorService background;
  private final ConnectionStateListener connectionListener;
  private final AtomicBoolean closed = new AtomicBoolean();

  private String self = "";
  private volatile LeaderLatch latch;
  private long generation;
  private long leaderSession;
  private long ledSession;
  private int knownVersion;
  private Pending pending;
  private boolean leadReadInFlight;
  private long leadReadSentNanos;
  private ConnectionState connectionState = ConnectionState.CONNECTED;
  private long nextLeadReadNanos;
  private long nextConfirmNanos;
  private long grantedNanos;
  private boolean takingOver;
  private boolean resumingAfterFreeze;
  private long otherLeaderSeenNanos;
  private String otherLeader = "";
  private String stepDownReason;
  private final CoordinatorSettings machine;
  private volatile ChainMap stored;

  private ZooKeeperConfigStore(
      CoordinatorServerSettings settings,
      CuratorFramework client,
      TickClock clock,
      Runnable wake,
      ChainMap map,
      int version,
      long sessionMillis) {
    this.zk = settings.zooKeeper();
    this.client = client;
    this.clock = clock;
    this.wake = wake;
    this.configPath = zk.chroot() + CONFIG;
    this.machine = settings.machine();
    this.stored = map;
    this.knownVersion = version;
    long started = System.nanoTime();
    this.grantedNanos = started;
    this.nextLeadReadNanos = started;
    this.nextConfirmNanos = started;
    long tick = settings.tickMillis();
    this.replica =
        new CoordinatorReplica(
            settings.machine(),
            Math.max(1, zk.leaderLeaseMillis() / tick),
            Math.max(1, sessionMillis / tick));
    this.writeTimeoutMillis = Math.clamp(sessionMillis / 4, 100, 1_000);
    this.sessionNanos = TimeUnit.MILLISECONDS.toNanos(sessionMillis);
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            2, Thread.ofPlatform().name("craq-coordinator-zookeeper-", 0).daemon().factory());
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.background = executor;
    this.connectionListener = (c, state) -> post(new StateChanged(state, session()));
  }

  /**
   * Connects, checks that the chroot is ours (creating {@code /craq} in an empty one), and reads
   * the configuration. Nothing is written to a chroot that holds anything else.
   *
   * @throws ConfigStoreException if ZooKeeper cannot be reached within the connect timeout, the
   *     chroot holds other data, or the configuration does not parse
   */
  static ZooKeeperConfigStore open(
      CoordinatorServerSettings settings, TickClock clock, Runnable wake) {
    ZooKeeperSettings zk = settings.zooKeeper();
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(zk.hosts())
            .namespace(zk.chroot().isEmpty() ? null : zk.chroot().substring(1))
            .sessionTimeoutMs((int) zk.sessionTimeoutMillis())
            .connectionTimeoutMs((int) zk.sessionTimeoutMillis())
            // Bounded: a Curator call gives up after about 2 s; the connection state says more.
            .retryPolicy(new BoundedExponentialBackoffRetry(100, 1_000, 3))
            .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy())
            // Keep the servers given: no rewriting of the connect string from the ensemble's
            // config.
            .ensembleTracker(false)
            .build();
    try {
      client.start();
      if (!client.blockUntilConnected((int) zk.connectTimeoutMillis(), TimeUnit.MILLISECONDS)) {
        throw new ConfigStoreException(
            "cannot reach ZooKeeper at "
                + zk.hosts()
                + " within "
                + zk.connectTimeoutMillis()
                + " ms (--zookeeper-connect-timeout-millis); is the ensemble running and the"
                + " address right?");
      }
      int[] version = new int[1];
      ChainMap map = readLayout(client, settings, version);
      int negotiated = client.getZookeeperClient().getZooKeeper().getSessionTimeout();
      long sessionMillis =
          negotiated > 0
              ? Math.min(zk.sessionTimeoutMillis(), negotiated)
              : zk.sessionTimeoutMillis();
      ZooKeeperConfigStore store =
          new ZooKeeperConfigStore(settings, client, clock, wake, map, version[0], sessionMillis);
      log.info(
          "ZooKeeper session timeout {} ms (asked for {} ms), leader lease {} ms: a new leader"
              + " counts no member silent for {} ms",
          negotiated,
          zk.sessionTimeoutMillis(),
          zk.leaderLeaseMillis(),
          store.replica.quietTicks() * settings.tickMillis());
      return store;
    } catch (ConfigStoreException e) {
      client.close();
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      client.close();
      throw new ConfigStoreException("interrupted while connecting to ZooKeeper", e);
    } catch (Exception e) {
      client.close();
      throw new ConfigStoreException(
          "ZooKeeper at " + zk.connectString() + " failed while reading /craq: " + e, e);
    }
  }

  /** Checks the chroot, creates {@code /craq} in an empty one, reads the configuration. */
  private static ChainMap readLayout(
      CuratorFramework client, CoordinatorServerSettings settings, int[] version) throws Exception {
    ZooKeeperSettings zk = settings.zooKeeper();
    CoordinatorSettings machine = settings.machine();
    String where = "ZooKeeper " + zk.connectString();
    String chroot = zk.chroot().isEmpty() ? "the root" : "chroot " + zk.chroot();
    for (int attempt = 0; ; attempt++) {
      if (client.checkExists().forPath(ROOT) != null) {
        break;
      }
      List<String> children = new ArrayList<>();
      try {
        children.addAll(client.getChildren().forPath("/"));
      } catch (KeeperException.NoNodeException e) {
        // the chroot does not exist yet: empty
      }
      if (zk.chroot().isEmpty()) {
        children.remove("zookeeper"); // ZooKeeper's own
      }
      if (children.contains(ROOT.substring(1)) && attempt < 2) {
        continue; // another coordinator created it between the two reads: check it again
      }
      if (!children.isEmpty()) {
        children.sort(null);
        throw new ConfigStoreException(
            where
                + ": "
                + chroot
                + " holds other data ("
                + describeChildren(children)
                + ") and no /craq: it is not a CRAQ coordinators' chroot; nothing was written."
                + " Choose an empty chroot, e.g. --zookeeper "
                + zk.hosts()
                + "/craq");
      }
      try {
        client
            .transaction()
            .forOperations(
                client.transactionOp().create().forPath(ROOT, MARKER),
                client
                    .transactionOp()
                    .create()
                    .forPath(
                        CONFIG,
                        bytes(
                            MembershipFile.encode(
                                ChainMap.empty(machine.chains(), machine.replicas())))));
        log.info(
            "{}: created {} and an empty map of {} chain(s) in {}",
            where,
            ROOT,
            machine.chains(),
            chroot);
        break;
      } catch (KeeperException.NodeExistsException e) {
        if (attempt >= 2) {
          throw e;
        }
        // another coordinator created it at the same moment: check what it wrote
      }
    }
    byte[] marker = client.getData().forPath(ROOT);
    if (!Arrays.equals(marker, MARKER)) {
      throw new ConfigStoreException(
          where
              + ": "
              + ROOT
              + " holds "
              + describeData(marker)
              + ", not the coordinators' marker '"
              + MARKER_TEXT
              + "': the chroot belongs to something else; nothing was written. Choose another"
              + " chroot");
    }
    Stat stat = new Stat();
    byte[] data;
    try {
      data = client.getData().storingStatIn(stat).forPath(CONFIG);
    } catch (KeeperException.NoNodeException e) {
      throw new ConfigStoreException(
          where
              + ": "
              + ROOT
              + " exists but "
              + CONFIG
              + " is missing; nothing was written. Restore it, or remove "
              + ROOT
              + " to start an empty chain",
          e);
    }
    version[0] = stat.getVersion();
    return StoredMaps.resume(decode(where, data, "nothing was written"), machine, where);
  }

  private static ChainMap decode(String where, byte[] data, String consequence) {
    try {
      return MembershipFile.decode(
          new String(data == null ? new byte[0] : data, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new ConfigStoreException(
          where
              + ": "
              + CONFIG
              + " does not parse ("
              + e.getMessage()
              + "); "
              + consequence
              + ". Restore it from a backup, or remove "
              + ROOT
              + " to start an empty cluster",
          e);
    }
  }

  private static String describeChildren(List<String> children) {
    List<String> shown = children.subList(0, Math.min(5, children.size()));
    String more = children.size() > shown.size() ? ", ... " + children.size() + " in all" : "";
    return "/" + String.join(", /", shown) + more;
  }

  private static String describeData(byte[] data) {
    if (data == null || data.length == 0) {
      return "no data";
    }
    String text = new String(data, StandardCharsets.UTF_8);
    if (!text.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      return data.length + " bytes of other data";
    }
    return "'" + (text.length() > 60 ? text.substring(0, 60) + "..." : text) + "'";
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------------------- ConfigStore

  @Override
  public CoordinatorReplica replica() {
    return replica;
  }

  @Override
  public void start(String advertisedAddress) {
    self = advertisedAddress;
    client.getConnectionStateListenable().addListener(connectionListener);
    LeaderLatch first = newLatch(++generation);
    latch = first;
    background.execute(() -> startLatch(first));
    var unused =
        background.scheduleWithFixedDelay(
            this::pollLeader, 0, LEADER_POLL_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void poll(long clockTick) {
    for (Event event; (event = events.poll()) != null; ) {
      switch (event) {
        case Granted granted -> onGranted(granted);
        case Revoked revoked -> onRevoked(revoked);
        case StateChanged changed -> onStateChanged(changed);
        case LeaderSeen seen -> onLeaderSeen(seen);
        case ReadDone read -> {
          if (read.lead()) {
            onLeadRead(read);
          } else {
            onConfirmRead(read);
          }
        }
      }
    }
    long now = System.nanoTime();
    if (wantsLeadRead(now)) {
      leadReadInFlight = read(true);
      leadReadSentNanos = now;
      nextLeadReadNanos = now + LEAD_READ_RETRY_NANOS;
    }
    if (replica.leading()
        && leaderSession != 0
        && ledSession == leaderSession
        && now - nextConfirmNanos >= 0) {
      nextConfirmNanos = now + CONFIRM_INTERVAL_NANOS;
      read(false);
    }
  }

  @Override
  public boolean persist(ChainMap map) {
    ZooKeeper handle = connected() ? handle() : null;
    if (handle == null
        || leaderSession == 0
        || ledSession != leaderSession
        || handle.getSessionId() != leaderSession) {
      freeze(
          "cannot write map version "
              + map.version()
              + ": "
              + (handle == null ? "no connection to ZooKeeper" : "the leader session ended"));
      return false;
    }
    String text = MembershipFile.encode(map);
    CompletableFuture<WriteDone> done = new CompletableFuture<>();
    int from = knownVersion;
    try {
      handle.setData(
          configPath,
          bytes(text),
          from,
          (rc, path, ctx, stat) ->
              done.complete(new WriteDone(rc, stat == null ? -1 : stat.getVersion())),
          null);
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    WriteDone result = null;
    String failure;
    try {
      result = done.get(writeTimeoutMillis, TimeUnit.MILLISECONDS);
      failure = "failed: " + Code.get(result.rc());
    } catch (TimeoutException e) {
      failure = "got no answer within " + writeTimeoutMillis + " ms";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure = "was interrupted";
    } catch (ExecutionException e) {
      failure = "failed: " + e.getCause();
    }
    if (result != null && result.rc() == Code.OK.intValue()) {
      knownVersion = result.version();
      pending = null;
      stored = map;
      replica.persisted(map);
      if (takingOver) {
        takingOver = false;
        logBecameLeader(map);
      }
      return true;
    }
    if (result != null
        && (result.rc() == Code.BADVERSION.intValue() || result.rc() == Code.NONODE.intValue())) {
      fence(
          "the conditional write of map version "
              + map.version()
              + " on znode version "
              + from
              + " was refused ("
              + Code.get(result.rc())
              + "): another coordinator changed the configuration");
      return false;
    }
    pending = new Pending(from, text, map);
    freeze(
        "the write of map version "
            + map.version()
            + " to ZooKeeper "
            + failure
            + "; outcome unknown");
    return false;
  }

  @Override
  public void release() {
    if (stepDownReason == null) {
      log.info("stepped down: the leader lease ran out without an answer from ZooKeeper");
    }
    stepDownReason = null;
    log.info("left the election and entered it again, behind the other coordinators");
    long next = ++generation;
    leaderSession = 0;
    takingOver = false;
    LeaderLatch old = latch;
    LeaderLatch fresh = newLatch(next);
    latch = fresh;
    background.execute(() -> {
      closeLatch(old);
      startLatch(fresh);
    });
  }

  @Override
  public ChainMap stored() {
    return stored;
  }

  @Override
  public String describe() {
    return "ZooKeeper " + zk.connectString();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    background.shutdownNow();
    try {
      background.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    client.getConnectionStateListenable().removeListener(connectionListener);
    LeaderLatch last = latch;
    if (last != null) {
      closeLatch(last);
    }
    client.close(); // ends the session: whatever latch node is left goes with it
  }

  /** The Curator client, for tests that expire its session or cut its connection. */
  CuratorFramework client() {
    return client;
  }

  // ------------------------------------------------------------------------------- events

  private void onGranted(Granted granted) {
    if (granted.generation() != generation) {
      return;
    }
    if (granted.session() == 0) {
      // Curator had no ZooKeeper handle to give (a background failure): enter the election again
      // rather than hold the latch without ever leading.
      log.info("elected without a ZooKeeper session; entering the election again");
      replica.lostLeadership("elected without a ZooKeeper session");
      release();
      return;
    }
    leaderSession = granted.session();
    grantedNanos = granted.nanos();
    log.info(
        "ZooKeeper elected this coordinator (session 0x{}); reading the configuration",
        Long.toHexString(granted.session()));
  }

  private void onRevoked(Revoked revoked) {
    if (revoked.generation() != generation) {
      return;
    }
    leaderSession = 0;
    freeze("the ZooKeeper session that won the election ended");
  }

  private void onStateChanged(StateChanged changed) {
    if (changed.state() == connectionState) {
      return; // Curator may repeat a state
    }
    connectionState = changed.state();
    switch (changed.state()) {
      case SUSPENDED, READ_ONLY -> freeze("lost the connection to ZooKeeper");
      case LOST -> {
        log.warn(
            "the ZooKeeper session ended; a new one will be opened{}",
            replica.leading()
                ? " (this coordinator stays frozen: it can lead only if elected again)"
                : "");
        freeze("the ZooKeeper session ended");
      }
      case CONNECTED, RECONNECTED ->
          log.info(
              "connected to ZooKeeper{}",
              changed.session() == ledSession && replica.leading()
                  ? " again on the leader session"
                  : " (session 0x" + Long.toHexString(changed.session()) + ")");
    }
  }

  private void onLeaderSeen(LeaderSeen seen) {
    String leader = seen.id().equals(self) ? "" : seen.id();
    replica.leaderAddress(leader);
    if (leader.isEmpty()) {
      return;
    }
    otherLeader = leader;
    otherLeaderSeenNanos = seen.nanos();
    // A poll that started after our latest grant and still finds another leader: our latch node is
    // gone, so our session ended (or someone removed it).
    if (replica.leading() && seen.nanos() - grantedNanos > 0) {
      stepDownReason = "coordinator " + leader + " leads now";
      log.info("stepped down: {}", stepDownReason);
      leaderSession = 0;
      replica.lostLeadership(stepDownReason);
    }
  }

  private boolean wantsLeadRead(long now) {
    LeaderLatch current = latch;
    // ZooKeeper answers every request, if only with a lost connection; a read unanswered for a
    // whole session is given up all the same rather than waited for forever.
    return leaderSession != 0
        && (!leadReadInFlight || now - leadReadSentNanos > sessionNanos)
        && now - nextLeadReadNanos >= 0
        && (!replica.leading() || replica.frozen())
        && current != null
        && current.hasLeadership()
        && connected()
        && session() == leaderSession;
  }

  /** Leadership granted, or a freeze to end: read the configuration and lead with a new epoch. */
  private void onLeadRead(ReadDone read) {
    leadReadInFlight = false;
    LeaderLatch current = latch;
    if (read.generation() != generation
        || read.session() != leaderSession
        || current == null
        || !current.hasLeadership()
        || (replica.leading() && !replica.frozen())) {
      return; // stale: the election moved on meanwhile
    }
    if (read.rc() == Code.NONODE.intValue()) {
      throw new ConfigStoreException(
          describe() + ": " + CONFIG + " is missing; not taking over, nothing was written");
    }
    if (read.rc() != Code.OK.intValue()) {
      return; // connection trouble: retried while the latch stays ours
    }
    if (read.latchOwner() != read.session()) {
      // Elected by a node of an earlier session that ZooKeeper has not expired yet: another
      // coordinator may be elected the moment it does, so this one must not lead on it.
      boolean wasLeading = replica.leading();
      fence("the election node that made this coordinator leader belongs to an earlier session");
      if (!wasLeading) {
        release(); // a leader's step-down asks for this itself
      }
      return;
    }
    ChainMap map =
        StoredMaps.resume(
            decode(describe(), bytes(read.text()), "not taking over, nothing was written"),
            machine,
            describe());
    boolean resuming = replica.leading() && read.session() == ledSession;
    if (resuming && read.version() != read.expectedVersion() && !landed(read)) {
      fence(
          "after the freeze "
              + CONFIG
              + " has version "
              + read.version()
              + ", not "
              + read.expectedVersion()
              + " (ours): another coordinator wrote it");
      return;
    }
    knownVersion = read.version();
    pending = null;
    stored = map;
    replica.lead(map, true, read.sentTick());
    ledSession = read.session();
    takingOver = true;
    resumingAfterFreeze = resuming;
    nextConfirmNanos = System.nanoTime() + CONFIRM_INTERVAL_NANOS;
    log.info(
        "{} map version {} from ZooKeeper (znode version {}); taking over with the next epoch of"
            + " every chain",
        resuming ? "unfroze: ZooKeeper answers again on the leader session; read" : "read",
        map.version(),
        read.version());
  }

  /** A lease confirmation: the leader session answered with the version we know. */
  private void onConfirmRead(ReadDone read) {
    if (!replica.leading() || read.session() != leaderSession || read.session() != ledSession) {
      return;
    }
    if (read.rc() == Code.OK.intValue()) {
      if (read.latchOwner() != read.session()) {
        fence("the election node of this coordinator belongs to an earlier session");
      } else if (read.version() >= read.expectedVersion() && read.version() <= knownVersion) {
        // Every version from the one expected when the read was sent to the one known now was
        // written by this leader (each write conditional on the one before).
        replica.confirmed(read.sentTick());
      } else if (landed(read)) {
        knownVersion = read.version();
        stored = pending.map();
        replica.persisted(pending.map());
        pending = null;
        replica.confirmed(read.sentTick());
      } else {
        fence(
            CONFIG
                + " has version "
                + read.version()
                + ", not "
                + read.expectedVersion()
                + " (ours): another coordinator wrote it");
      }
    } else if (read.rc() == Code.NONODE.intValue()) {
      fence(CONFIG + " was deleted");
    }
    // other errors: the connection state tells what happened
  }

  /** True if {@code read} shows the pending write (outcome unknown until now) landed. */
  private boolean landed(ReadDone read) {
    return pending != null
        && read.expectedVersion() == pending.fromVersion()
        && read.version() == pending.fromVersion() + 1
        && pending.text().equals(read.text());
  }

  private void fence(String why) {
    log.warn("fenced: {}; standing by and entering the election again", why);
    stepDownReason = why;
    leaderSession = 0;
    replica.fenced(why);
  }

  private void freeze(String why) {
    if (replica.leading() && !replica.frozen()) {
      replica.storeLost();
      log.info(
          "froze: {}; answering heartbeats with map version {} and refusing membership changes"
              + " until"
              + " ZooKeeper answers again on the leader session or the leader lease ({} ms) runs"
              + " out",
          why,
          replica.map().version(),
          zk.leaderLeaseMillis());
    }
  }

  private void logBecameLeader(ChainMap map) {
    if (resumingAfterFreeze) {
      log.info("leading again at map version {} after the freeze", map.version());
      return;
    }
    long now = System.nanoTime();
    String previous =
        otherLeader.isEmpty()
            ? ""
            : "; the previous leader, "
                + otherLeader
                + ", was last seen "
                + TimeUnit.NANOSECONDS.toMillis(now - otherLeaderSeenNanos)
                + " ms ago";
    log.info(
        "became leader at map version {}: {} ms from the grant to the new epochs in ZooKeeper{}",
        map.version(),
        TimeUnit.NANOSECONDS.toMillis(now - grantedNanos),
        previous);
  }

  // ------------------------------------------------------------------------ ZooKeeper calls

  /**
   * Sends a sync and a read of the configuration on the current session; the answer comes back as a
   * {@link ReadDone}. Raw ZooKeeper calls, sent once: the session they ran on is known exactly.
   */
  private boolean read(boolean lead) {
    ZooKeeper handle = connected() ? handle() : null;
    if (handle == null) {
      return false;
    }
    long session = handle.getSessionId();
    long sentTick = clock.ticks();
    int expected = knownVersion;
    long gen = generation;
    AtomicInteger syncRc = new AtomicInteger(Code.OK.intValue());
    LeaderLatch current = latch;
    String ourPath = current == null ? null : current.getOurPath();
    // Which session owns our election node: after a session was lost and a new one opened, the
    // latch may still count a node of the old session, which ZooKeeper has not expired yet.
    AtomicLong owner = new AtomicLong(ourPath == null ? 0 : -1);
    try {
      // Callbacks come in request order: the sync's and the exists' answers before the read's.
      handle.sync(configPath, (rc, path, ctx) -> syncRc.set(rc), null);
      if (ourPath != null) {
        handle.exists(
            zk.chroot() + ourPath,
            false,
            (rc, path, ctx, stat) -> owner.set(stat == null ? 0 : stat.getEphemeralOwner()),
            null);
      }
      handle.getData(
          configPath,
          false,
          (rc, path, ctx, data, stat) -> {
            int result = syncRc.get() != Code.OK.intValue() ? syncRc.get() : rc;
            post(
                new ReadDone(
                    lead,
                    gen,
                    session,
                    sentTick,
                    expected,
                    result,
                    data == null ? "" : new String(data, StandardCharsets.UTF_8),
                    stat == null ? -1 : stat.getVersion(),
                    owner.get()));
          },
          null);
      return true;
    } catch (RuntimeException e) {
      log.debug("could not read the configuration: {}", e.toString());
      return false;
    }
  }

  private LeaderLatch newLatch(long gen) {
    LeaderLatch created = new LeaderLatch(client, ELECTION, self);
    created.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            post(new Granted(gen, session(), System.nanoTime()));
          }

          @Override
          public void notLeader() {
            post(new Revoked(gen));
          }
        });
    return created;
  }

  private static void startLatch(LeaderLatch toStart) {
    try {
      toStart.start();
    } catch (Exception e) {
      log.warn("could not enter the election: {}", e.toString());
    }
  }

  private static void closeLatch(LeaderLatch toClose) {
    try {
      if (toClose.getState() == LeaderLatch.State.STARTED) {
        toClose.close(); // removes its node (retried by Curator until the session ends)
      }
    } catch (Exception e) {
      log.debug("closing the leader latch: {}", e.toString());
    }
  }

  /** Runs on the background thread: who leads the election now. */
  private void pollLeader() {
    LeaderLatch current = latch;
    if (current == null || !connected()) {
      return;
    }
    long started = System.nanoTime();
    try {
      Participant leader = current.getLeader();
      post(new LeaderSeen(started, leader.isLeader() ? leader.getId() : ""));
    } catch (Exception e) {
      log.debug("could not learn the leader: {}", e.toString());
    }
  }

  private boolean connected() {
    return client.getZookeeperClient().isConnected();
  }

  private ZooKeeper handle() {
    try {
      return client.getZookeeperClient().getZooKeeper();
    } catch (Exception e) {
      return null;
    }
  }

  private long session() {
    ZooKeeper handle = handle();
    return handle == null ? 0 : handle.getSessionId();
  }

  private void post(Event event) {
    events.add(event);
    wake.run();
  }
}

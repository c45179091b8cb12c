package io.craq.transport;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One I/O thread with one {@link Selector}: it reads every connection registered with it, hands
 * complete frames to their handlers on this thread, and writes what those handlers queued once per
 * pass over the ready connections (so the replies to many requests that arrived together leave in
 * few system calls). Other threads give it work with {@link #execute}.
 *
 * <p>Why: a thread per connection costs a thread wake-up per message on each side; one thread
 * serving every ready connection after one {@code epoll_wait} costs one wake-up per batch, and the
 * batch grows with the load.
 *
 * <p>Thread-safety: {@link #execute}, {@link #inLoop} and {@link #close} from any thread; the rest
 * only on the loop thread.
 */
final class EventLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

  /** Read deadlines and connect timeouts are checked this often (so enforced this late at most). */
  static final long DEADLINE_CHECK_MILLIS = 50;

  private static final long JOIN_MILLIS = 5_000;

  /** Something registered with the selector. */
  interface Ready {
    /** The key's channel is ready for {@code key.readyOps()}; runs on the loop thread. */
    void onReady(SelectionKey key);
  }

  private final Selector selector;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();

  /** True while a wake-up is on its way, so a burst of {@link #execute} calls wakes it once. */
  private final AtomicBoolean wakeupPending = new AtomicBoolean();

  /** Sessions with frames queued on this thread, written at the end of the pass. */
  private final List<TcpSession> toFlush = new ArrayList<>();

  /** Every session registered here, for the deadline checks. */
  private final Set<TcpSession> sessions = new HashSet<>();

  private volatile boolean closed;
  private long nextDeadlineCheckNanos;

  EventLoop(String name) {
    try {
      selector = Selector.open();
    } catch (IOException e) {
      throw new TransportException("cannot open a selector: " + e.getMessage(), e);
    }
    thread = Thread.ofPlatform().name(name).daemon().unstarted(this::run);
    thread.start();
  }

  Selector selector() {
    return selector;
  }

  boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  /** Runs {@code task} on the loop thread, soon; dropped if the loop is closed. */
  void execute(Runnable task) {
    tasks.add(task);
    if (!inLoop() && wakeupPending.compareAndSet(false, true)) {
      selector.wakeup();
    }
  }

  /** Writes {@code session}'s queue at the end of this pass. Loop thread only. */
  void flushLater(TcpSession session) {
    if (!session.flushScheduled) {
      session.flushScheduled = true;
      toFlush.add(session);
    }
  }

  /** Loop thread only. */
  void add(TcpSession session) {
    sessions.add(session);
  }

  /** Loop thread only. */
  void remove(TcpSession session) {
    sessions.remove(session);
  }

  private void run() {
    nextDeadlineCheckNanos = System.nanoTime();
    while (!closed) {
      try {
        if (tasks.isEmpty() && toFlush.isEmpty()) {
          selector.select(this::onReady, DEADLINE_CHECK_MILLIS);
        } else {
          selector.selectNow(this::onReady);
        }
        wakeupPending.set(false);
        runTasks();
        flushAll();
        checkDeadlines();
      } catch (IOException e) {
        if (!closed) {
          log.error("event loop {}: select failed: {}", thread.getName(), e.toString(), e);
        }
      } catch (RuntimeException | Error e) {
        // A handler's exception is caught where it is called; one reaching here is a bug in the
        // transport itself. Keep serving the other connections, loudly.
        log.error("event loop {}: unexpected failure", thread.getName(), e);
      }
    }
    for (TcpSession session : List.copyOf(sessions)) {
      session.close(new ConnectionClosedException("transport closed"));
    }
    try {
      selector.close();
    } catch (IOException e) {
      log.debug("closing the selector", e);
    }
  }

  private void onReady(SelectionKey key) {
    try {
      if (key.isValid()) {
        ((Ready) key.attachment()).onReady(key);
      }
    } catch (CancelledKeyException e) {
      // Another thread closed the channel while it was being served: nothing more to do for it.
    }
  }

  private void runTasks() {
    for (Runnable task; (task = tasks.poll()) != null; ) {
      task.run();
    }
  }

  private void flushAll() {
    // A flush can queue more (a handler never runs here, but a close can): index loop, not foreach.
    for (int i = 0; i < toFlush.size(); i++) {
      TcpSession session = toFlush.get(i);
      session.flushScheduled = false;
      session.flush();
    }
    toFlush.clear();
  }

  private void checkDeadlines() {
    long now = System.nanoTime();
    if (now - nextDeadlineCheckNanos < 0) {
      return;
    }
    nextDeadlineCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(DEADLINE_CHECK_MILLIS);
    for (TcpSession session : List.copyOf(sessions)) {
      session.checkDeadlines(now);
    }
  }

  /** Stops the thread after it closed every session still registered. Idempotent. */
  @Override
  public void close() {
    closed = true;
    selector.wakeup();
    if (!inLoop()) {
      try {
        thread.join(JOIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

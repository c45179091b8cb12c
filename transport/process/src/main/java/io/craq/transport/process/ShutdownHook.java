package io.craq.transport.process;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * The shutdown hook of a server process (SIGTERM, Ctrl-C): runs the server's clean stop, then arms
 * a watchdog. A JVM whose hooks are done exits at once, so the watchdog normally never fires; if
 * the process is still alive {@link #WATCHDOG_MILLIS} after the stop finished, it logs every
 * thread's stack, so a slow exit (seen rarely under heavy load: "stopped" logged, yet the process
 * alive for more than 15 s) can be told apart: a thread still running in the JVM shows in the dump;
 * no dump means the time was spent after the JVM had halted (in the kernel).
 */
public final class ShutdownHook {
  /** How long after a clean stop the process may take to exit before the watchdog speaks. */
  public static final long WATCHDOG_MILLIS = 5_000;

  private ShutdownHook() {}

  /** Registers {@code stop} as a shutdown hook named {@code name}, with the watchdog after it. */
  public static void install(String name, Runnable stop, Logger log) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.run();
                  Thread watchdog = new Thread(() -> watch(log), name + "-watchdog");
                  watchdog.setDaemon(true);
                  watchdog.start();
                },
                name));
  }

  private static void watch(Logger log) {
    try {
      Thread.sleep(WATCHDOG_MILLIS);
    } catch (InterruptedException e) {
      return;
    }
    StringBuilder dump = new StringBuilder();
    for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
      dump.append(info); // name, state and the top frames of each thread
    }
    log.warn(
        "still running {} s after a clean stop; threads:\n{}",
        TimeUnit.MILLISECONDS.toSeconds(WATCHDOG_MILLIS),
        dump);
  }
}

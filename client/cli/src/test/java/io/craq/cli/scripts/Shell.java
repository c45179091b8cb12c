package io.craq.cli.scripts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Runs the project's scripts as a user runs them: bash command lines in the project folder, with
 * output captured in files (a process never blocks on a full pipe). Every process this starts is
 * stopped by its own PID when it outlives its time.
 */
final class Shell {
  /** The project's root folder: the failsafe configuration passes it; else two up from here. */
  static final Path ROOT =
      Path.of(System.getProperty("craq.root", "../..")).toAbsolutePath().normalize();

  private final Path folder;
  private final Map<String, String> environment = new HashMap<>();
  private Path workingFolder = ROOT;
  private int runs;

  /** A shell whose output files go to {@code folder}. */
  Shell(Path folder) {
    this.folder = folder;
    // The reactor built the jars just before: a launcher must not start a build of its own.
    environment.put("CRAQ_SKIP_BUILD", "1");
  }

  Shell env(String name, String value) {
    if (value == null) {
      environment.remove(name);
    } else {
      environment.put(name, value);
    }
    return this;
  }

  Shell in(Path workingFolder) {
    this.workingFolder = workingFolder;
    return this;
  }

  /** What a finished command did. */
  record Result(int exitCode, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** A command still running, its output growing in files. */
  final class Running {
    final Process process;
    private final Path out;
    private final Path err;

    private Running(Process process, Path out, Path err) {
      this.process = process;
      this.out = out;
      this.err = err;
    }

    String out() {
      return read(out);
    }

    String err() {
      return read(err);
    }

    /** Waits until stdout or stderr has a line matching {@code line}; returns that line. */
    String awaitLine(Predicate<String> line, Duration timeout) {
      String[] found = new String[1];
      waitFor(
          "a line in the output of pid " + process.pid(),
          timeout,
          () -> {
            for (String l : (out() + err()).lines().toList()) {
              if (line.test(l)) {
                found[0] = l;
                return true;
              }
            }
            return false;
          },
          () -> "--- stdout\n" + out() + "--- stderr\n" + err());
      return found[0];
    }

    /** Waits for the exit, or kills the process and fails after {@code timeout}. */
    Result await(Duration timeout) {
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          kill();
          throw new AssertionError(
              "still running after "
                  + timeout
                  + ":\n--- stdout\n"
                  + out()
                  + "--- stderr\n"
                  + err());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
        throw new AssertionError("interrupted", e);
      }
      return new Result(process.exitValue(), out(), err());
    }

    /** Sends {@code signal} (INT, TERM, KILL, ...) to the process. */
    void signal(String signal) {
      Shell.signal(process.pid(), signal);
    }

    void kill() {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  /** Runs {@code command} (bash) to its end, within {@code timeout}. */
  Result run(String command, Duration timeout) {
    return start(command).await(timeout);
  }

  /** Starts {@code command} (bash) and returns at once. */
  Running start(String command) {
    int n = ++runs;
    Path out = folder.resolve("run-" + n + ".out");
    Path err = folder.resolve("run-" + n + ".err");
    ProcessBuilder builder =
        new ProcessBuilder("bash", "-c", command)
            .directory(workingFolder.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    builder.environment().putAll(environment);
    try {
      return new Running(builder.start(), out, err);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void signal(long pid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls {@code condition} every 100 ms; fails with {@code context} after {@code timeout}. */
  static void waitFor(
      String what,
      Duration timeout,
      BooleanSupplier condition,
      java.util.function.Supplier<String> context) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after " + timeout + " waiting for " + what + "\n" + context.get());
      }
      java.util.concurrent.locks.LockSupport.parkNanos(100_000_000);
    }
  }

  /**
   * The first of {@code count} consecutive free ports on 127.0.0.1, for a cluster's {@code
   * --base-port}: never the default 1234, which someone else's cluster may hold.
   */
  static int freePorts(int count) {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20_000, 60_000);
      List<ServerSocket> held = new ArrayList<>();
      try {
        for (int i = 0; i < count; i++) {
          held.add(new ServerSocket(base + i, 1, InetAddress.getLoopbackAddress()));
        }
        return base;
      } catch (IOException taken) {
        // try another block
      } finally {
        for (ServerSocket socket : held) {
          try {
            socket.close();
          } catch (IOException ignored) {
            // closing a listening socket we opened does not fail in practice
          }
        }
      }
    }
    throw new IllegalStateException("no " + count + " consecutive free ports found");
  }
}

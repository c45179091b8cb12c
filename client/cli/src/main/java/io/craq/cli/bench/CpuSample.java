package io.craq.cli.bench;

import java.time.Duration;
import java.util.Optional;

/**
 * CPU time (user + system) used by one process, from {@link ProcessHandle.Info#totalCpuDuration()}
 * (on Linux read from {@code /proc/PID/stat}). Sampled at the start and end of the measurement.
 *
 * @param name who it is: {@code coordinator}, {@code n1}, ..., {@code bench (this JVM)}
 */
record CpuSample(String name, long pid, long cpuNanos) {

  /** The process's CPU time now, or -1 if the system does not say (e.g. it exited). */
  static CpuSample of(String name, ProcessHandle process) {
    Optional<Duration> cpu = process.info().totalCpuDuration();
    return new CpuSample(name, process.pid(), cpu.map(Duration::toNanos).orElse(-1L));
  }

  /** CPU used from {@code start} to this sample, in seconds; NaN if either is unknown. */
  double secondsSince(CpuSample start) {
    if (cpuNanos < 0 || start.cpuNanos < 0) {
      return Double.NaN;
    }
    return (cpuNanos - start.cpuNanos) / 1e9;
  }
}

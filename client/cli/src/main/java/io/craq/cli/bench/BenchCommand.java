package io.craq.cli.bench;

import io.craq.cli.bench.BenchReport.CpuRow;
import io.craq.cli.bench.BenchReport.OpResult;
import io.craq.cli.bench.BenchReport.Phase;
import io.craq.cli.bench.BenchSettings.Mode;
import io.craq.cli.bench.BenchSettings.Workload;
import io.craq.cli.common.ChainMaps;
import io.craq.cli.common.ChainRoles;
import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.ConsistencyConverter;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.ClientConfig;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.client.ReadConsistency;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.transport.Transport;
import io.craq.transport.TransportConfig;
import io.craq.transport.Transports;
import io.craq.transport.security.Security;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code craq bench}: load generator and latency/throughput report for a CRAQ cluster of one chain
 * or several (each key routed by the chain map), against a running cluster ({@code -c}) or a local
 * one it starts ({@code --spawn N}, with {@code --chains K --replicas R}), with an optional echo
 * baseline of the machine's raw loopback capacity. See docs/BENCH.md.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure throughput and latency of a CRAQ cluster (like redis-benchmark).",
      "Targets a running cluster (-c) or spawns a local one (--spawn N). See docs/BENCH.md."
    })
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Option(
      names = "--spawn",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Start a local cluster of N nodes and a coordinator on 127.0.0.1 free ports"
              + " (stopped at the end); default: use the running cluster at -c.")
  int spawn;

  @Option(
      names = "--chains",
      paramLabel = "K",
      description =
          "Chains of the spawned cluster (craq-coordinator --chains; default: 1); the keys"
              + " spread over them by hash. Only with --spawn.")
  Integer chains;

  @Option(
      names = "--replicas",
      paramLabel = "R",
      description =
          "Members of each spawned chain (default: 3 with several chains; with one chain,"
              + " every node). Only with --spawn.")
  Integer replicas;

  @Option(
      names = "--spawn-tls",
      description =
          "TLS on every link of the spawned cluster: certificates from craq tls-init in its"
              + " folder, each process its own; the bench's clients use its client certificate."
              + " Only with --spawn.")
  boolean spawnTls;

  @Option(
      names = "--store",
      paramLabel = "lmdb|memory",
      defaultValue = "lmdb",
      description = "Store of spawned nodes (default: ${DEFAULT-VALUE}).")
  String store;

  @Option(
      names = "--home",
      paramLabel = "DIR",
      description =
          "Project folder with node/ and coordinator/target jars (default: found from"
              + " the working folder).")
  String home;

  @Option(
      names = "--workload",
      paramLabel = "read|write|mixed|cas",
      defaultValue = "read",
      converter = WorkloadConverter.class,
      description =
          "read, write, mixed (reads + --write-rate writes/s) or cas (read version,"
              + " write if unchanged, one at a time). Default: ${DEFAULT-VALUE}.")
  Workload workload;

  @Option(
      names = "--mode",
      paramLabel = "craq|cr",
      defaultValue = "craq",
      converter = ModeConverter.class,
      description = "craq: reads at every member; cr: reads at the tail only. Default: craq.")
  Mode mode;

  @Option(
      names = "--consistency",
      paramLabel = "MODE",
      defaultValue = "strong",
      converter = ConsistencyConverter.class,
      description = "Reads: strong (default), eventual or bounded:N.")
  ReadConsistency consistency;

  @Option(
      names = "--value-bytes",
      paramLabel = "N",
      defaultValue = "100",
      description = "Value size in bytes (default: ${DEFAULT-VALUE}).")
  int valueBytes;

  @Option(
      names = "--keys",
      paramLabel = "N",
      defaultValue = "1000",
      description =
          "Distinct keys, each written once before the run (default: ${DEFAULT-VALUE})."
              + " They are named craq-bench/RUNID/N, hold printable values and are deleted at the"
              + " end (see --keep-keys).")
  int keys;

  @Option(
      names = "--keep-keys",
      description = "Leave the bench keys in a running cluster (-c) instead of deleting them.")
  boolean keepKeys;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "8",
      description = "Client threads, each with its own connections (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--in-flight",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Requests in flight per thread, pipelined (default: ${DEFAULT-VALUE};"
              + " cas is always 1).")
  int inFlight;

  @Option(
      names = "--write-rate",
      paramLabel = "N",
      defaultValue = "0",
      description = "Writes per second of the mixed workload, beside the reads.")
  double writeRate;

  @Option(
      names = "--duration",
      paramLabel = "TIME",
      defaultValue = "10s",
      description = "Measured time: 10s, 500ms, 2m (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(
      names = "--warmup",
      paramLabel = "TIME",
      defaultValue = "2s",
      description = "Unmeasured load before it (default: ${DEFAULT-VALUE}).")
  String warmup;

  @Option(
      names = "--baseline",
      paramLabel = "echo",
      description =
          "Also measure a plain socket echo server at the same threads, in-flight and"
              + " message size, and print ratios to it.")
  String baseline;

  @Option(
      names = "--json-file",
      paramLabel = "FILE",
      description =
          "Also write the results as JSON to FILE (--json prints them on stdout"
              + " instead of the table).")
  String jsonFile;

  @Option(
      names = "--plot",
      paramLabel = "FILE",
      description =
          "Also draw the results to FILE (PNG): throughput of each second and latency"
              + " by percentile, per operation.")
  String plotFile;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    BenchSettings settings = settings();
    try {
      return run(settings, err);
    } catch (CraqException e) {
      err.println("craq bench: " + e.getMessage());
      err.flush();
      return ExitCodes.UNAVAILABLE;
    } catch (IOException e) {
      err.println("craq bench: " + e.getMessage());
      err.flush();
      return ExitCodes.UNAVAILABLE;
    }
  }

  /** The validated settings; a bad combination is a usage error (exit code 2). */
  BenchSettings settings() {
    if (baseline != null && !baseline.equals("echo")) {
      throw new ParameterException(
          spec.commandLine(), "--baseline must be 'echo', got '" + baseline + "'");
    }
    if (spawnTls && spawn == 0) {
      throw new ParameterException(spec.commandLine(), "--spawn-tls needs --spawn N");
    }
    if (spawn > 0 && client.coordinatorGiven()) {
      throw new ParameterException(spec.commandLine(), "give -c ADDRESS or --spawn N, not both");
    }
    if (plotFile != null) {
      // Refused before the run rather than discovered after it.
      Path folder;
      try {
        folder = Path.of(plotFile).toAbsolutePath().getParent();
      } catch (InvalidPathException e) {
        throw new ParameterException(spec.commandLine(), "--plot: " + e.getMessage());
      }
      if (folder != null && !Files.isDirectory(folder)) {
        throw new ParameterException(
            spec.commandLine(),
            "--plot " + plotFile + ": the folder " + folder + " does not exist");
      }
    }
    if (chains != null && chains < 1) {
      throw new ParameterException(
          spec.commandLine(), "--chains must be 1-" + KeySlots.CHAINS_MAX + ", got " + chains);
    }
    if (replicas != null && replicas < 1) {
      throw new ParameterException(
          spec.commandLine(),
          "--replicas must be 1-" + BenchSettings.REPLICAS_MAX + ", got " + replicas);
    }
    try {
      return new BenchSettings(
          spawn > 0 ? null : client.coordinator(),
          spawn,
          store,
          chains == null ? 0 : chains,
          replicas == null ? 0 : replicas,
          workload,
          mode,
          consistency,
          valueBytes,
          keys,
          threads,
          inFlight,
          writeRate,
          BenchSettings.parseDuration(duration),
          BenchSettings.parseDuration(warmup),
          baseline != null,
          jsonFile,
          client.timeoutMillis());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private int run(BenchSettings settings, PrintWriter err) throws Exception {
    double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    String date =
        ZonedDateTime.now()
            .truncatedTo(ChronoUnit.SECONDS)
            .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    List<Phase> phases = new ArrayList<>();
    NodeCounterProbe probe = null;
    String target;
    LocalCluster cluster = null;
    try {
      String coordinator = settings.coordinator();
      List<LocalCluster.NamedProcess> measured = new ArrayList<>();
      if (settings.spawnNodes() > 0) {
        cluster =
            LocalCluster.start(
                LocalCluster.findHome(home),
                settings.spawnNodes(),
                settings.chains(),
                settings.replicas(),
                settings.store(),
                spawnTls,
                err);
        coordinator = cluster.coordinatorAddress();
        measured.addAll(cluster.processes());
      }
      measured.add(new LocalCluster.NamedProcess("bench (this JVM)", ProcessHandle.current()));
      Security security =
          cluster != null && spawnTls ? cluster.clientSecurity() : client.security();
      try (Transport transport = Transports.open(TransportConfig.DEFAULT.withSecurity(security));
          CraqClient client =
              new CraqClient(
                  ClientConfig.defaults(coordinator)
                      .withCallTimeoutMillis(settings.timeoutMillis())
                      .withSecurity(security),
                  transport)) {
        ChainMap map = client.map();
        for (int c = 0; c < map.chainCount(); c++) {
          if (map.chain(c).members().isEmpty()) {
            throw new IOException(
                (map.chainCount() == 1 ? "the chain" : "chain " + c)
                    + " at "
                    + coordinator
                    + " has no members");
          }
        }
        measured = withRoles(measured, map);
        target =
            (cluster != null ? "spawned " + settings.store() + " cluster" : "cluster")
                + " at "
                + coordinator
                + ", "
                + describeMap(map);
        CraqLoad load = new CraqLoad(settings, map, transport);
        err.println(
            "craq bench: "
                + target
                + "; writing "
                + settings.keys()
                + " key(s) "
                + load.keyPrefix()
                + "N of "
                + settings.valueBytes()
                + " bytes ...");
        err.flush();
        // A spawned cluster is thrown away; a user's cluster gets its keys deleted, even when
        // the run fails or is interrupted with Ctrl-C.
        KeyCleanup cleanup = cluster != null || keepKeys ? null : new KeyCleanup(load, err);
        try {
          long preloadStart = System.nanoTime();
          load.preload();
          double seconds = (System.nanoTime() - preloadStart) / 1e9;
          err.printf(
              "craq bench: wrote %d key(s) in %.1f s (%.0f writes/s, %.1f MB/s of " + "values)%n",
              settings.keys(),
              seconds,
              settings.keys() / seconds,
              settings.keys() * (double) settings.valueBytes() / seconds / 1e6);
          err.flush();
          probe = new NodeCounterProbe(client, map, settings.timeoutMillis());
          phases.add(measure("craq", load, settings, measured, probe, err));
        } finally {
          if (cleanup != null) {
            cleanup.run();
          }
        }
        if (load.pacerDropped() > 0) {
          err.println(
              "craq bench: the writer fell behind; "
                  + load.pacerDropped()
                  + " paced write(s) skipped");
        }
      }
    } finally {
      if (cluster != null) {
        err.println("craq bench: stopping the spawned cluster ...");
        err.flush();
        cluster.close();
      }
    }
    if (settings.echoBaseline()) {
      EchoBaseline echo =
          new EchoBaseline(
              settings.threads(),
              settings.inFlightEffective(),
              settings.valueBytes(),
              settings.timeoutMillis());
      err.println("craq bench: echo baseline, " + echo.messageBytes() + "-byte messages ...");
      err.flush();
      phases.add(
          measure(
              "echo baseline",
              echo,
              settings,
              List.of(
                  new LocalCluster.NamedProcess("bench + echo server", ProcessHandle.current())),
              null,
              err));
    }
    BenchReport report =
        new BenchReport(
            date,
            describe(settings),
            target,
            phases,
            probe == null ? List.of() : probe.rows(),
            new BenchReport.Load(
                Runtime.getRuntime().availableProcessors(),
                loadBefore,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
    PrintWriter out = spec.commandLine().getOut();
    if (json.enabled()) {
      out.println(report.toJson());
      out.flush();
    } else {
      report.printTable(out);
    }
    if (settings.jsonFile() != null) {
      Files.writeString(Paths.get(settings.jsonFile()), report.toJson(), StandardCharsets.UTF_8);
      err.println("craq bench: results written to " + settings.jsonFile());
      err.flush();
    }
    int code = phases.get(0).totalOps() > 0 ? ExitCodes.OK : ExitCodes.UNAVAILABLE;
    if (plotFile != null && !writePlot(report, err) && code == ExitCodes.OK) {
      code = ExitCodes.USAGE;
    }
    return code;
  }

  /**
   * Writes the chart of {@code --plot}, after the table and the JSON so a failure loses neither.
   *
   * @return false, after saying why on {@code err}, if the file could not be written
   */
  private boolean writePlot(BenchReport report, PrintWriter err) {
    try {
      BenchPlot.write(report, Path.of(plotFile), Charts.WIDTH, Charts.HEIGHT);
      err.println("craq bench: chart written to " + plotFile);
      return true;
    } catch (IOException e) {
      err.println("craq bench: cannot write the chart (--plot): " + e.getMessage());
      return false;
    } finally {
      err.flush();
    }
  }

  /**
   * Deletes the bench keys once: at the end of the run, or from a shutdown hook if the JVM is
   * stopped first (Ctrl-C).
   */
  private static final class KeyCleanup implements Runnable {
    private final CraqLoad load;
    private final PrintWriter err;
    private final Thread hook = new Thread(this, "craq-bench-cleanup");
    private boolean done;

    KeyCleanup(CraqLoad load, PrintWriter err) {
      this.load = load;
      this.err = err;
      Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public void run() {
      synchronized (this) {
        if (done) {
          return;
        }
        done = true;
      }
      if (Thread.currentThread() != hook) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // The JVM is stopping: the hook will find the work done.
        }
      }
      try {
        load.stop(); // a write still running after the delete would bring its key back
        load.deleteKeys();
        err.println("craq bench: deleted the bench keys " + load.keyPrefix() + "N");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        err.println("craq bench: interrupted while deleting the keys " + load.keyPrefix() + "N");
      } catch (RuntimeException e) {
        err.println(
            "craq bench: could not delete every key " + load.keyPrefix() + "N: " + e.getMessage());
      }
      err.flush();
    }
  }

  /**
   * What the bench runs against: {@code 3 node(s), epoch 4} for one chain, {@code 6 node(s), 6
   * chains of 3 replicas, map version 12} for several.
   */
  static String describeMap(ChainMap map) {
    if (map.chainCount() == 1) {
      ChainConfig chain = map.chain(0);
      return chain.size() + " node(s), epoch " + chain.epoch();
    }
    return ChainMaps.nodes(map).size()
        + " node(s), "
        + map.chainCount()
        + " chains of "
        + map.replicas()
        + " replicas, map version "
        + map.version();
  }

  /**
   * A node's place in the map as the tables show it: with one chain its role ({@code head}, {@code
   * middle}, {@code tail}, {@code head+tail}), with several how many chains it heads, is a middle
   * of and tails ({@code h2 m1 t2}); {@code -} if it is in no chain.
   */
  static String place(ChainMap map, String nodeId) {
    if (map.chainCount() == 1) {
      int index = map.chain(0).indexOf(nodeId);
      return index < 0 ? "-" : ChainRoles.of(map.chain(0), index);
    }
    int heads = 0;
    int middles = 0;
    int tails = 0;
    for (ChainConfig chain : map.chains()) {
      int index = chain.indexOf(nodeId);
      if (index < 0) {
        continue;
      }
      if (index == 0) {
        heads++;
      }
      if (index == chain.size() - 1) {
        tails++;
      }
      if (index > 0 && index < chain.size() - 1) {
        middles++;
      }
    }
    return heads + middles + tails == 0 ? "-" : "h" + heads + " m" + middles + " t" + tails;
  }

  /**
   * Names spawned nodes with their place in the map, e.g. {@code n2 (tail)}, {@code n2 (h2 m2 t2)}.
   */
  static List<LocalCluster.NamedProcess> withRoles(
      List<LocalCluster.NamedProcess> processes, ChainMap map) {
    List<LocalCluster.NamedProcess> named = new ArrayList<>();
    for (LocalCluster.NamedProcess p : processes) {
      String place = place(map, p.name());
      named.add(
          place.equals("-")
              ? p
              : new LocalCluster.NamedProcess(p.name() + " (" + place + ")", p.handle()));
    }
    return named;
  }

  /**
   * Runs {@code runner} through the warmup and the measured time, printing progress each second;
   * {@code probe} (if not null) snapshots the nodes' counters when the measured time starts and
   * ends.
   */
  private static Phase measure(
      String name,
      LoadRunner runner,
      BenchSettings settings,
      List<LocalCluster.NamedProcess> processes,
      NodeCounterProbe probe,
      PrintWriter err)
      throws Exception {
    List<Meter> meters = runner.meters();
    long start = System.nanoTime();
    runner.start();
    List<CpuSample> cpuStart = new ArrayList<>();
    long measureStart = 0;
    long measureEnd = 0;
    try {
      long warmupEnd = start + settings.warmup().toNanos();
      tick(name + " warmup", meters, start, warmupEnd, err);
      measureStart = System.nanoTime();
      for (Meter meter : meters) {
        meter.startMeasuring();
      }
      processes.forEach(p -> cpuStart.add(CpuSample.of(p.name(), p.handle())));
      if (probe != null) {
        probe.start();
      }
      tick(name, meters, measureStart, measureStart + settings.duration().toNanos(), err);
    } finally {
      for (Meter meter : meters) {
        meter.stopMeasuring();
      }
      measureEnd = System.nanoTime();
    }
    List<CpuSample> cpuEnd =
        processes.stream().map(p -> CpuSample.of(p.name(), p.handle())).toList();
    if (probe != null) {
      probe.end();
    }
    runner.stop();
    double seconds = (measureEnd - measureStart) / 1e9;
    List<OpResult> ops = new ArrayList<>();
    for (Meter meter : meters) {
      ops.add(
          OpResult.of(
              meter.name(),
              meter.total(),
              seconds,
              meter.rates(),
              meter.failureCount(),
              meter.failuresByKind(),
              meter.notesByKind()));
    }
    long totalOps = ops.stream().mapToLong(OpResult::ops).sum();
    List<CpuRow> cpu = new ArrayList<>();
    for (int i = 0; i < cpuStart.size(); i++) {
      double cpuSeconds = cpuEnd.get(i).secondsSince(cpuStart.get(i));
      cpu.add(
          new CpuRow(
              cpuStart.get(i).name(),
              cpuStart.get(i).pid(),
              cpuSeconds,
              totalOps > 0 ? cpuSeconds * 1000 / totalOps : Double.NaN));
    }
    return new Phase(name, ops, cpu);
  }

  /** Prints one progress line per second until {@code endNanos}. */
  private static void tick(
      String label, List<Meter> meters, long startNanos, long endNanos, PrintWriter err)
      throws InterruptedException {
    long next = startNanos + TimeUnit.SECONDS.toNanos(1);
    long intervalStart = startNanos;
    while (true) {
      long now = System.nanoTime();
      long until = Math.min(next, endNanos);
      if (until > now) {
        TimeUnit.NANOSECONDS.sleep(until - now);
      }
      now = System.nanoTime();
      if (now >= endNanos) {
        return;
      }
      double seconds = (now - intervalStart) / 1e9;
      intervalStart = now;
      StringBuilder line =
          new StringBuilder(
              String.format(Locale.ROOT, "[%s %4.0fs]", label, (now - startNanos) / 1e9));
      for (Meter meter : meters) {
        Histogram h = meter.endInterval();
        line.append(
            String.format(
                Locale.ROOT,
                "  %s %.0f/s p50 %.3f ms p99 %.3f ms",
                meter.name(),
                h.getTotalCount() / seconds,
                h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0));
        long failures = meter.failureCount();
        if (failures > 0) {
          line.append(" failed ").append(failures);
        }
      }
      err.println(line);
      err.flush();
      next += TimeUnit.SECONDS.toNanos(1);
    }
  }

  static Map<String, Object> describe(BenchSettings s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", s.workload().label());
    m.put("mode", s.mode().label());
    m.put("consistency", s.consistency().toString());
    m.put("spawn", s.spawnNodes());
    if (s.spawnNodes() > 0) {
      m.put("store", s.store());
      if (s.chains() > 0) {
        m.put("chains", s.chains());
      }
      if (s.replicas() > 0) {
        m.put("replicas", s.replicas());
      }
    }
    m.put("threads", s.threads());
    m.put("inFlight", s.inFlightEffective());
    m.put("valueBytes", s.valueBytes());
    m.put("keys", s.keys());
    if (s.workload() == Workload.MIXED) {
      m.put("writeRate", s.writesPerSecond());
    }
    m.put("durationSeconds", s.duration().toMillis() / 1000.0);
    m.put("warmupSeconds", s.warmup().toMillis() / 1000.0);
    m.put("baseline", s.echoBaseline() ? "echo" : "none");
    return m;
  }

  static final class WorkloadConverter implements CommandLine.ITypeConverter<Workload> {
    @Override
    public Workload convert(String value) {
      try {
        return Workload.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a workload; use read, write, mixed or cas");
      }
    }
  }

  static final class ModeConverter implements CommandLine.ITypeConverter<Mode> {
    @Override
    public Mode convert(String value) {
      try {
        return Mode.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a mode; use craq or cr");
      }
    }
  }
}

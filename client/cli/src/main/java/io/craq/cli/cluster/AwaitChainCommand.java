package io.craq.cli.cluster;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.ExitCodes;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code craq await-chain}: waits until the cluster of N nodes has formed (every chain with its
 * members, all caught up: {@link LocalProcesses#caughtUp}), the readiness wait of {@link
 * LocalProcesses} for a script that starts its processes itself. Hidden: scripts are its users.
 */
@Command(
    name = "await-chain",
    hidden = true,
    mixinStandardHelpOptions = true,
    description =
        "Wait until every chain at -c has min(R, N) members, all caught up (R: the"
            + " replicas of the map; with one chain, every node), and the map lists N nodes"
            + " (exit 0), or fail (exit 3) after --wait-seconds or when a --watch process exits.")
public final class AwaitChainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      required = true,
      description = "Nodes of the cluster.")
  int nodes;

  @Option(
      names = "--wait-seconds",
      paramLabel = "S",
      defaultValue = "60",
      description = "How long to wait (default: ${DEFAULT-VALUE}).")
  int waitSeconds;

  @Option(
      names = "--watch",
      paramLabel = "PID",
      description = "A process of the cluster: give up as soon as it is no longer running.")
  List<Long> watched = new ArrayList<>();

  @Override
  public Integer call() throws InterruptedException {
    if (nodes < 1 || waitSeconds < 1) {
      throw new ParameterException(spec.commandLine(), "--nodes and --wait-seconds must be > 0");
    }
    PrintWriter err = spec.commandLine().getErr();
    try {
      LocalProcesses.awaitChain(
          client.coordinator(),
          LocalProcesses.caughtUp(nodes),
          Duration.ofSeconds(waitSeconds),
          200,
          () -> {
            for (long pid : watched) {
              if (!running(pid)) {
                throw new IOException("process " + pid + " exited");
              }
            }
          });
      return ExitCodes.OK;
    } catch (IOException e) {
      err.println("craq: " + e.getMessage());
      err.flush();
      return ExitCodes.UNAVAILABLE;
    }
  }

  static boolean running(long pid) {
    return LocalProcesses.running(pid);
  }
}

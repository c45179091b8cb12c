package io.craq.cli.cluster;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.ExitCodes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
 * {@code craq await-chain}: waits until the coordinator lists N nodes, all caught up, the readiness
 * wait of {@link LocalProcesses} for {@code bin/craq-cluster}, which starts its processes itself.
 * Hidden: the script is its user.
 */
@Command(
    name = "await-chain",
    hidden = true,
    mixinStandardHelpOptions = true,
    description =
        "Wait until the chain at -c has N members, all caught up (exit 0), or fail"
            + " (exit 3) after --wait-seconds or when a --watch process exits.")
public final class AwaitChainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      required = true,
      description = "Members the chain must have.")
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

  /**
   * Whether {@code pid} runs. An exited child of another process stays a zombie until its parent
   * waits for it; it counts as exited.
   */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int end = stat.lastIndexOf(')');
      char state = end >= 0 && end + 2 < stat.length() ? stat.charAt(end + 2) : '?';
      return state != 'Z' && state != 'X';
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
  }
}

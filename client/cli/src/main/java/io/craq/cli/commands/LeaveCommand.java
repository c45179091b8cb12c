package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.core.message.ChainMap;
import io.craq.core.message.PoolNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq leave NODE}: asks the coordinator to take a node out of the cluster. Its chains get
 * members on other nodes first (each copies that chain's keys), then it leaves them; once it is in
 * no chain it can be stopped. With {@code --wait} the command waits for that.
 */
@Command(
    name = "leave",
    mixinStandardHelpOptions = true,
    description = {
      "Take NODE out of the cluster: its chains move to other nodes first, then it leaves them;"
          + " stop it once it is in no chain (--wait waits for that).",
      "Exit code 0 when asked (with --wait: when it is in no chain), 1 when the cluster has no"
          + " such node, 3 when the coordinator cannot be reached or --wait-seconds ran out."
    })
public final class LeaveCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Parameters(index = "0", paramLabel = "NODE", description = "The node's id.")
  String nodeId;

  @Option(
      names = "--wait",
      description = "Wait until the node is a member of no chain (it can then be stopped).")
  boolean await;

  @Option(
      names = "--wait-seconds",
      paramLabel = "S",
      defaultValue = "300",
      description = "How long --wait waits (default: ${DEFAULT-VALUE}).")
  long waitSeconds;

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          PrintWriter out = spec.commandLine().getOut();
          PrintWriter err = spec.commandLine().getErr();
          if (waitSeconds < 1) {
            err.println("craq leave: --wait-seconds must be at least 1: " + waitSeconds);
            err.flush();
            return ExitCodes.USAGE;
          }
          try (CraqClient craq = client.openClient()) {
            ChainMap map = craq.leave(nodeId);
            PoolNode node = map.poolNode(nodeId);
            if (node == null && chainsOf(map).isEmpty()) {
              err.println("craq leave: the cluster has no node " + nodeId);
              err.flush();
              return ExitCodes.NOT_FOUND;
            }
            List<Integer> chains = chainsOf(map);
            if (!json.enabled()) {
              out.println(progress(chains));
              out.flush();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
            while (await && !chains.isEmpty()) {
              if (System.nanoTime() > deadline) {
                err.println(
                    "craq leave: "
                        + nodeId
                        + " is still a member of "
                        + chains.size()
                        + " chain(s) after "
                        + waitSeconds
                        + " s; see craq chain");
                err.flush();
                return ExitCodes.UNAVAILABLE;
              }
              Thread.sleep(500); // polling the coordinator, not standing in for a condition
              List<Integer> now = chainsOf(craq.map());
              if (!now.equals(chains) && !json.enabled()) {
                out.println(progress(now));
                out.flush();
              }
              chains = now;
            }
            if (json.enabled()) {
              Json reply = new Json().field("node", nodeId).field("leaving", true);
              reply.numbers("chains", chains);
              reply.field("inNoChain", chains.isEmpty());
              out.println(reply);
            } else if (await) {
              out.println(nodeId + " is in no chain: it can be stopped");
            }
            out.flush();
            return ExitCodes.OK;
          }
        });
  }

  private List<Integer> chainsOf(ChainMap map) {
    List<Integer> chains = new ArrayList<>();
    for (int c = 0; c < map.chainCount(); c++) {
      if (map.chain(c).contains(nodeId)) {
        chains.add(c);
      }
    }
    return chains;
  }

  private String progress(List<Integer> chains) {
    if (chains.isEmpty()) {
      return nodeId + " is leaving and in no chain";
    }
    return nodeId
        + " is leaving: still a member of "
        + chains.size()
        + " chain(s) "
        + chains
        + ", which move to other nodes first";
  }
}

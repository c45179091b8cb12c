package io.craq.cli.commands;

import io.craq.cli.common.ChainRoles;
import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code craq chain}: the chain as the coordinator has it, each member asked for its own view. Also
 * a health check, as {@code etcdctl endpoint health} is: exit code 0 only when the chain has
 * members and every one of them answered, else UNAVAILABLE.
 */
@Command(
    name = "chain",
    mixinStandardHelpOptions = true,
    description = {
      "Show the chain (head first) with each member's role and health.",
      "Exit code 0 when every member answered, 3 when the chain has no members, a member did"
          + " not answer, or the coordinator cannot be reached."
    })
public final class ChainCommand implements Callable<Integer> {
  /** A health probe must not hold up the listing for long. */
  static final long PROBE_TIMEOUT_MILLIS_MAX = 1_000;

  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          try (CraqClient craq = client.openClient();
              ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor()) {
            ChainConfig chain = craq.chain();
            Duration probeTimeout =
                Duration.ofMillis(Math.min(client.timeoutMillis(), PROBE_TIMEOUT_MILLIS_MAX));
            List<CompletableFuture<Probe>> pending = new ArrayList<>();
            for (Member member : chain.members()) {
              pending.add(
                  CompletableFuture.supplyAsync(() -> probe(craq, member, probeTimeout), probes));
            }
            List<Probe> results = pending.stream().map(CompletableFuture::join).toList();
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
              out.println(
                  new Json()
                      .field("epoch", chain.epoch())
                      .raw("members", membersJson(chain, results)));
            } else {
              printText(out, chain, results);
            }
            out.flush();
            return healthCode(chain, results);
          }
        });
  }

  /** OK only if the chain has members and all answered; says on stderr what is wrong. */
  private int healthCode(ChainConfig chain, List<Probe> probes) {
    long unreachable = probes.stream().filter(p -> !p.reachable()).count();
    if (chain.size() == 0) {
      Diagnostics.warn(spec, "the chain has no members: it cannot serve reads or writes");
      return ExitCodes.UNAVAILABLE;
    }
    if (unreachable > 0) {
      Diagnostics.warn(
          spec,
          unreachable
              + " of "
              + chain.size()
              + " member"
              + (chain.size() == 1 ? "" : "s")
              + " did not answer");
      return ExitCodes.UNAVAILABLE;
    }
    return ExitCodes.OK;
  }

  private static Probe probe(CraqClient client, Member member, Duration timeout) {
    try {
      ChainConfig view = client.chainOf(member.address(), timeout);
      return new Probe(true, view.epoch(), view.contains(member.id()), null);
    } catch (CraqException e) {
      return new Probe(false, -1, false, e.getMessage());
    }
  }

  private static String membersJson(ChainConfig chain, List<Probe> probes) {
    StringBuilder array = new StringBuilder("[");
    for (int i = 0; i < chain.size(); i++) {
      Member member = chain.members().get(i);
      Probe probe = probes.get(i);
      Json object =
          new Json()
              .field("id", member.id())
              .field("address", member.address())
              .field("role", ChainRoles.of(chain, i))
              .field("caughtUp", member.caughtUp())
              .field("reachable", probe.reachable());
      if (probe.reachable()) {
        object.field("epoch", probe.epoch()).field("memberInOwnView", probe.memberInOwnView());
      } else {
        object.field("error", probe.error());
      }
      array.append(i == 0 ? "" : ",").append(object);
    }
    return array.append(']').toString();
  }

  private static void printText(PrintWriter out, ChainConfig chain, List<Probe> probes) {
    out.println(
        "epoch "
            + chain.epoch()
            + ", "
            + chain.size()
            + " member"
            + (chain.size() == 1 ? "" : "s")
            + (chain.size() == 0 ? " (no node has joined)" : ""));
    for (int i = 0; i < chain.size(); i++) {
      Member member = chain.members().get(i);
      Probe probe = probes.get(i);
      String health;
      if (!probe.reachable()) {
        health = "unreachable: " + probe.error();
      } else {
        health =
            "reachable, epoch "
                + probe.epoch()
                + (probe.epoch() < chain.epoch() ? " (behind)" : "")
                + (probe.memberInOwnView() ? "" : " (not a member in its own view)");
      }
      // A member still copying state from its neighbours serves no reads yet.
      String copy = member.caughtUp() ? "" : " [catching up]";
      out.println(
          String.format(
              "%-9s %-12s %-21s %s",
              ChainRoles.of(chain, i), member.id(), member.address(), health + copy));
    }
  }

  record Probe(boolean reachable, long epoch, boolean memberInOwnView, String error) {}
}

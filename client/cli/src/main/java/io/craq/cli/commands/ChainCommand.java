package io.craq.cli.commands;

import io.craq.cli.common.ChainMaps;
import io.craq.cli.common.ChainRoles;
import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code craq chain}: the chain map as the coordinator has it, a table of chains (slots, epoch,
 * members head first, those still catching up marked {@code *}), then the nodes (how many chains
 * each heads and is a member of, whether it is leaving, and its health: each is asked for its own
 * view of the chain, or with several chains of the map), then how many chains are moving. Also a
 * health check, as {@code etcdctl endpoint health} is: exit code 0 only when every chain has
 * members and every node answered, else UNAVAILABLE.
 */
@Command(
    name = "chain",
    mixinStandardHelpOptions = true,
    description = {
      "Show the chains (slots, epoch, members head first, * = catching up), the nodes (chains"
          + " each heads and is a member of, health) and how many chains are moving.",
      "Exit code 0 when every node answered, 3 when a chain has no members, a node did"
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
            ChainMap map = craq.map();
            Duration probeTimeout =
                Duration.ofMillis(Math.min(client.timeoutMillis(), PROBE_TIMEOUT_MILLIS_MAX));
            List<ChainMaps.Node> nodes = ChainMaps.nodes(map);
            List<CompletableFuture<Probe>> pending = new ArrayList<>();
            for (ChainMaps.Node node : nodes) {
              boolean oneChain = map.chainCount() == 1;
              pending.add(
                  CompletableFuture.supplyAsync(
                      () -> probe(craq, node, oneChain, probeTimeout), probes));
            }
            Map<String, Probe> results = new LinkedHashMap<>();
            for (int i = 0; i < nodes.size(); i++) {
              results.put(nodes.get(i).id(), pending.get(i).join());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
              out.println(json(map, nodes, results));
            } else {
              out.print(text(map, nodes, results));
            }
            out.flush();
            return healthCode(map, results);
          }
        });
  }

  /** OK only if every chain has members and every node answered; says on stderr what is wrong. */
  private int healthCode(ChainMap map, Map<String, Probe> probes) {
    int code = ExitCodes.OK;
    for (int c = 0; c < map.chainCount(); c++) {
      if (map.chain(c).size() == 0) {
        Diagnostics.warn(
            spec,
            map.chainCount() == 1
                ? "the chain has no members: it cannot serve reads or writes"
                : "chain " + c + " has no members: its keys cannot be read or written");
        code = ExitCodes.UNAVAILABLE;
      }
    }
    long unreachable = probes.values().stream().filter(p -> !p.reachable()).count();
    if (unreachable > 0) {
      // With one chain that every node is in, the nodes are its members, as they always were.
      String kind =
          map.chainCount() == 1 && map.chain(0).size() == probes.size() ? "member" : "node";
      Diagnostics.warn(
          spec,
          unreachable
              + " of "
              + probes.size()
              + " "
              + kind
              + (probes.size() == 1 ? "" : "s")
              + " did not answer");
      code = ExitCodes.UNAVAILABLE;
    }
    return code;
  }

  /**
   * Asks a node for its own view: with one chain, of the chain (the configuration its chain's
   * machine is in, as a single-chain node always answered); with several, of the map.
   */
  private static Probe probe(
      CraqClient client, ChainMaps.Node node, boolean oneChain, Duration timeout) {
    try {
      return oneChain
          ? new Probe(true, client.chainOf(node.address(), timeout), null, null)
          : new Probe(true, null, client.mapOf(node.address(), timeout), null);
    } catch (CraqException e) {
      return new Probe(false, null, null, e.getMessage());
    }
  }

  /** A node's answer: the chain (one chain) or the map (several) it knows, or why it gave none. */
  record Probe(boolean reachable, ChainConfig chain, ChainMap map, String error) {}

  // -------------------------------------------------------------------------------- text

  /**
   * The header line, the table of chains, the table of nodes and the line of moving chains, each
   * line ending with a line break.
   */
  static String text(ChainMap map, List<ChainMaps.Node> nodes, Map<String, Probe> probes) {
    StringBuilder out = new StringBuilder();
    int chains = map.chainCount();
    out.append("map version ")
        .append(map.version())
        .append(", ")
        .append(chains)
        .append(chains == 1 ? " chain" : " chains of " + map.replicas() + " replicas")
        .append(", ")
        .append(nodes.size())
        .append(nodes.size() == 1 ? " node" : " nodes")
        .append(nodes.isEmpty() ? " (no node has joined)" : "")
        .append('\n');

    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"CHAIN", "SLOTS", "EPOCH", "MEMBERS (head first, * catching up)"});
    for (int c = 0; c < chains; c++) {
      ChainConfig chain = map.chain(c);
      List<String> members = new ArrayList<>();
      for (Member member : chain.members()) {
        members.add(member.id() + (member.caughtUp() ? "" : "*"));
      }
      rows.add(
          new String[] {
            Integer.toString(c),
            ChainMaps.slots(map, c),
            Long.toString(chain.epoch()),
            members.isEmpty() ? "(none)" : String.join(" ", members)
          });
    }
    table(out, rows);

    if (!nodes.isEmpty()) {
      out.append('\n');
      rows = new ArrayList<>();
      rows.add(new String[] {"NODE", "ADDRESS", "HEADS", "CHAINS", "STATUS"});
      for (ChainMaps.Node node : nodes) {
        rows.add(
            new String[] {
              node.id(),
              node.address(),
              Integer.toString(ChainMaps.heads(map, node.id())),
              Integer.toString(ChainMaps.memberOf(map, node.id())),
              (node.leaving() ? "leaving, " : "") + health(map, node, probes.get(node.id()))
            });
      }
      table(out, rows);
    }

    List<Integer> moving = ChainMaps.moving(map);
    out.append('\n');
    if (moving.isEmpty()) {
      out.append(chains == 1 ? "the chain is not moving" : "no chain is moving").append('\n');
    } else if (chains == 1) {
      out.append("the chain is moving (a member is catching up)\n");
    } else {
      out.append(moving.size())
          .append(moving.size() == 1 ? " chain is" : " chains are")
          .append(" moving: ")
          .append(String.join(", ", moving.stream().map(String::valueOf).toList()))
          .append('\n');
    }
    return out.toString();
  }

  /**
   * A node's health: with one chain, the chain's epoch in its own view; with several, the version
   * of its map.
   */
  private static String health(ChainMap map, ChainMaps.Node node, Probe probe) {
    if (!probe.reachable()) {
      return "unreachable: " + probe.error();
    }
    if (probe.chain() != null) {
      ChainConfig view = probe.chain();
      return "reachable, epoch "
          + view.epoch()
          + (view.epoch() < map.chain(0).epoch() ? " (behind)" : "")
          + (map.chain(0).contains(node.id()) && !view.contains(node.id())
              ? " (not a member in its own view)"
              : "");
    }
    ChainMap own = probe.map();
    return "reachable, map version "
        + own.version()
        + (own.version() < map.version() ? " (behind)" : "");
  }

  /** Columns padded to their widest cell, two spaces apart; the last one not padded. */
  private static void table(StringBuilder out, List<String[]> rows) {
    int columns = rows.get(0).length;
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(i == columns - 1 ? row[i] : pad(row[i], widths[i]) + "  ");
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(Math.max(0, width - text.length()));
  }

  // -------------------------------------------------------------------------------- json

  /**
   * One line: {@code mapVersion}, {@code replicas}; with one chain, {@code epoch} and {@code
   * members} as a single-chain cluster always gave them; {@code chains} (each with its slots,
   * epoch, members head first and those catching up), {@code nodes} (each with the chains it heads
   * and is a member of, {@code leaving}, and its health: {@code reachable} and its {@code epoch}
   * with one chain, its {@code mapVersion} with several, or the {@code error}), and {@code moving}
   * (the chains moving).
   */
  static String json(ChainMap map, List<ChainMaps.Node> nodes, Map<String, Probe> probes) {
    Json object = new Json().field("mapVersion", map.version()).field("replicas", map.replicas());
    if (map.chainCount() == 1) {
      ChainConfig chain = map.chain(0);
      object.field("epoch", chain.epoch()).raw("members", membersJson(chain, probes));
    }
    StringBuilder chains = new StringBuilder("[");
    for (int c = 0; c < map.chainCount(); c++) {
      ChainConfig chain = map.chain(c);
      List<String> catchingUp =
          chain.members().stream().filter(m -> !m.caughtUp()).map(Member::id).toList();
      Json entry =
          new Json()
              .field("chain", c)
              .field("firstSlot", KeySlots.firstSlot(c, map.chainCount()))
              .field("endSlot", KeySlots.endSlot(c, map.chainCount()))
              .field("epoch", chain.epoch())
              .strings("members", chain.members().stream().map(Member::id).toList())
              .strings("catchingUp", catchingUp);
      chains.append(c == 0 ? "" : ",").append(entry);
    }
    object.raw("chains", chains.append(']').toString());
    StringBuilder pool = new StringBuilder("[");
    for (ChainMaps.Node node : nodes) {
      Probe probe = probes.get(node.id());
      Json entry =
          new Json()
              .field("id", node.id())
              .field("address", node.address())
              .field("heads", ChainMaps.heads(map, node.id()))
              .field("memberOf", ChainMaps.memberOf(map, node.id()))
              .field("leaving", node.leaving())
              .field("reachable", probe.reachable());
      if (probe.reachable() && probe.chain() != null) {
        entry.field("epoch", probe.chain().epoch());
      } else if (probe.reachable()) {
        entry.field("mapVersion", probe.map().version());
      } else {
        entry.field("error", probe.error());
      }
      pool.append(pool.length() == 1 ? "" : ",").append(entry);
    }
    object.raw("nodes", pool.append(']').toString());
    return object.numbers("moving", ChainMaps.moving(map)).toString();
  }

  /** The members of a cluster's one chain, each with its health, as the tool always gave them. */
  private static String membersJson(ChainConfig chain, Map<String, Probe> probes) {
    StringBuilder array = new StringBuilder("[");
    for (int i = 0; i < chain.size(); i++) {
      Member member = chain.members().get(i);
      Probe probe = probes.get(member.id());
      Json object =
          new Json()
              .field("id", member.id())
              .field("address", member.address())
              .field("role", ChainRoles.of(chain, i))
              .field("caughtUp", member.caughtUp())
              .field("reachable", probe.reachable());
      if (probe.reachable()) {
        ChainConfig view = probe.chain();
        object.field("epoch", view.epoch()).field("memberInOwnView", view.contains(member.id()));
      } else {
        object.field("error", probe.error());
      }
      array.append(i == 0 ? "" : ",").append(object);
    }
    return array.append(']').toString();
  }
}

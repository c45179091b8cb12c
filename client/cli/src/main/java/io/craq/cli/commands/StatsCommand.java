package io.craq.cli.commands;

import io.craq.cli.common.ChainMaps;
import io.craq.cli.common.ChainRoles;
import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.client.CraqException;
import io.craq.client.NodeStats;
import io.craq.client.UnavailableException;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.core.message.Member;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code craq stats}: the event counters of every node of the cluster (learned from the
 * coordinator's chain map: the chain's members, then the rest of the pool), or of the one node
 * given with {@code -n}, asked in parallel. A node that does not answer is reported in its row; the
 * exit code is UNAVAILABLE only if none answered. See docs/CLIENT.md.
 */
@Command(
    name = "stats",
    mixinStandardHelpOptions = true,
    description = {
      "Show each node's counters since it started: clean and dirty reads,"
          + " version queries sent and served, writes accepted, versions committed.",
      "Asks every node the coordinator lists, or only the node given with -n ADDRESS."
    })
public final class StatsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  /**
   * Whom to ask: from the map (id known; the role too for a member of a cluster's one chain) or
   * from -n (both null).
   */
  record Target(String address, String id, String chainRole) {}

  /** One target's answer: {@code stats}, or the failure and whether it was unreachable. */
  record Row(Target target, NodeStats stats, String error, boolean unreachable) {
    boolean answered() {
      return stats != null;
    }

    String id() {
      return answered() ? stats.nodeId() : target.id() == null ? "?" : target.id();
    }

    String role() {
      // The node's own view wins: it may still be catching up while the coordinator lists it.
      return answered() ? stats.role() : target.chainRole() == null ? "?" : target.chainRole();
    }
  }

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          try (CraqClient craq = client.openClient();
              ExecutorService askers = Executors.newVirtualThreadPerTaskExecutor()) {
            ChainMap map = client.node() != null ? null : craq.map();
            List<Target> targets = new ArrayList<>();
            if (map == null) {
              targets.add(new Target(client.node(), null, null));
            } else {
              targets.addAll(targets(map));
            }
            List<CompletableFuture<Row>> pending = new ArrayList<>();
            for (Target target : targets) {
              pending.add(CompletableFuture.supplyAsync(() -> ask(craq, target), askers));
            }
            List<Row> rows = pending.stream().map(CompletableFuture::join).toList();
            PrintWriter out = spec.commandLine().getOut();
            out.println(json.enabled() ? json(map, rows) : text(map, rows));
            out.flush();
            if (!rows.isEmpty() && rows.stream().noneMatch(Row::answered)) {
              Diagnostics.warn(spec, "no node answered the stats request");
              return ExitCodes.UNAVAILABLE;
            }
            return ExitCodes.OK;
          }
        });
  }

  /**
   * Every node of the map: with one chain its members in chain order (with their roles), then any
   * other node of the pool; with several chains the pool (each node's role is its own view).
   */
  static List<Target> targets(ChainMap map) {
    List<Target> targets = new ArrayList<>();
    Set<String> listed = new LinkedHashSet<>();
    if (map.chainCount() == 1) {
      ChainConfig chain = map.chain(0);
      for (int i = 0; i < chain.size(); i++) {
        Member member = chain.members().get(i);
        targets.add(new Target(member.address(), member.id(), ChainRoles.of(chain, i)));
        listed.add(member.id());
      }
    }
    for (ChainMaps.Node node : ChainMaps.nodes(map)) {
      if (listed.add(node.id())) {
        targets.add(new Target(node.address(), node.id(), null));
      }
    }
    return targets;
  }

  private static Row ask(CraqClient client, Target target) {
    try {
      return new Row(target, client.stats(target.address()), null, false);
    } catch (CraqException e) {
      return new Row(target, null, e.getMessage(), e instanceof UnavailableException);
    }
  }

  // -------------------------------------------------------------------------------- output

  /**
   * A status row per node, then (if any answered) a counter per line with one column per node that
   * answered, in chain order.
   */
  static String text(ChainMap map, List<Row> rows) {
    StringBuilder out = new StringBuilder();
    if (map != null && map.chainCount() == 1) {
      ChainConfig chain = map.chain(0);
      out.append("epoch ")
          .append(chain.epoch())
          .append(", ")
          .append(chain.size())
          .append(" member")
          .append(chain.size() == 1 ? "" : "s")
          .append(chain.size() == 0 ? " (no node has joined)" : "")
          .append('\n');
    } else if (map != null) {
      out.append("map version ")
          .append(map.version())
          .append(", ")
          .append(map.chainCount())
          .append(" chains, ")
          .append(rows.size())
          .append(rows.size() == 1 ? " node" : " nodes")
          .append('\n');
    }
    // Columns at least as wide as a single-chain node's; wider for the roles of several chains.
    int roleWidth = 9;
    int idWidth = 12;
    int addressWidth = 21;
    for (Row row : rows) {
      roleWidth = Math.max(roleWidth, row.role().length());
      idWidth = Math.max(idWidth, row.id().length());
      addressWidth = Math.max(addressWidth, row.target().address().length());
    }
    String format = "%-" + roleWidth + "s %-" + idWidth + "s %-" + addressWidth + "s %-6s %s%n";
    if (!rows.isEmpty()) {
      out.append(String.format(format, "ROLE", "ID", "ADDRESS", "EPOCH", "STATUS"));
    }
    for (Row row : rows) {
      String epoch = row.answered() ? Long.toString(row.stats().epoch()) : "-";
      String status =
          row.answered() ? "ok" : (row.unreachable() ? "unreachable: " : "error: ") + row.error();
      out.append(
          String.format(format, row.role(), row.id(), row.target().address(), epoch, status));
    }
    List<Row> answered = rows.stream().filter(Row::answered).toList();
    if (!answered.isEmpty()) {
      Set<String> names = new LinkedHashSet<>();
      answered.forEach(row -> names.addAll(row.stats().counters().keySet()));
      int nameWidth =
          Math.max("COUNTER".length(), names.stream().mapToInt(String::length).max().orElse(0));
      List<Integer> widths = new ArrayList<>();
      for (Row row : answered) {
        int width = row.id().length();
        for (long value : row.stats().counters().values()) {
          width = Math.max(width, Long.toString(value).length());
        }
        widths.add(width);
      }
      out.append('\n').append(pad("COUNTER", nameWidth));
      for (int i = 0; i < answered.size(); i++) {
        out.append("  ").append(padLeft(answered.get(i).id(), widths.get(i)));
      }
      out.append('\n');
      for (String name : names) {
        out.append(pad(name, nameWidth));
        for (int i = 0; i < answered.size(); i++) {
          Long value = answered.get(i).stats().counters().get(name);
          out.append("  ").append(padLeft(value == null ? "-" : value.toString(), widths.get(i)));
        }
        out.append('\n');
      }
    }
    // println adds the last line break.
    return out.length() > 0 && out.charAt(out.length() - 1) == '\n'
        ? out.substring(0, out.length() - 1)
        : out.toString();
  }

  /**
   * One line: {@code {"epoch":E,"nodes":[...]}} ({@code epoch} only when the map was asked and has
   * one chain, {@code mapVersion} instead when it has several), each node {@code
   * {"id","address","role","reachable",...}} with {@code epoch} and {@code counters} if it
   * answered, else {@code error}.
   */
  static String json(ChainMap map, List<Row> rows) {
    StringBuilder nodes = new StringBuilder("[");
    for (Row row : rows) {
      Json node =
          new Json()
              .field("id", row.answered() ? row.stats().nodeId() : row.target().id())
              .field("address", row.target().address())
              .field("role", row.answered() ? row.stats().role() : row.target().chainRole())
              .field("reachable", row.answered());
      if (row.answered()) {
        Json counters = new Json();
        row.stats().counters().forEach(counters::field);
        node.field("epoch", row.stats().epoch()).raw("counters", counters.toString());
      } else {
        node.field("error", row.error());
      }
      nodes.append(nodes.length() == 1 ? "" : ",").append(node);
    }
    nodes.append(']');
    Json object = new Json();
    if (map != null && map.chainCount() == 1) {
      object.field("epoch", map.chain(0).epoch());
    } else if (map != null) {
      object.field("mapVersion", map.version());
    }
    return object.raw("nodes", nodes.toString()).toString();
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(Math.max(0, width - text.length()));
  }

  private static String padLeft(String text, int width) {
    return " ".repeat(Math.max(0, width - text.length())) + text;
  }
}

package io.craq.cli.bench;

import io.craq.cli.bench.BenchReport.NodeCounterRow;
import io.craq.cli.common.ChainMaps;
import io.craq.client.CraqClient;
import io.craq.client.NodeStats;
import io.craq.core.message.ChainMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads the counters of every node of the map ({@link CraqClient#stats}; a node's counters add up
 * all its chains) before and after the measured time, so the report can say per node how many reads
 * were clean, how many needed a version query, and how many queries each node sent and served
 * during the measurement.
 */
final class NodeCounterProbe {
  private final CraqClient client;
  private final ChainMap map;
  private final List<ChainMaps.Node> members;
  private final long timeoutMillis;
  private Map<String, Object> before = Map.of();
  private Map<String, Object> after = Map.of();

  NodeCounterProbe(CraqClient client, ChainMap map, long timeoutMillis) {
    this.client = client;
    this.map = map;
    this.members = ChainMaps.nodes(map);
    this.timeoutMillis = timeoutMillis;
  }

  /** Takes the snapshot the measurement starts from. */
  void start() {
    before = snapshot();
  }

  /** Takes the snapshot the measurement ends with. */
  void end() {
    after = snapshot();
  }

  /** The growth of each node's counters from {@link #start()} to {@link #end()}, or why unknown. */
  List<NodeCounterRow> rows() {
    List<NodeCounterRow> rows = new ArrayList<>();
    for (ChainMaps.Node member : members) {
      rows.add(row(map, member, before.get(member.address()), after.get(member.address())));
    }
    return rows;
  }

  /**
   * One node's row: with one chain its role as it reported it, with several its place in the map
   * ({@link BenchCommand#place}).
   */
  static NodeCounterRow row(ChainMap map, ChainMaps.Node member, Object start, Object end) {
    String place = map.chainCount() == 1 ? "?" : BenchCommand.place(map, member.id());
    if (!(start instanceof NodeStats first)) {
      return new NodeCounterRow(member.id(), member.address(), place, Map.of(), "before: " + start);
    }
    if (!(end instanceof NodeStats last)) {
      return new NodeCounterRow(member.id(), member.address(), place, Map.of(), "after: " + end);
    }
    Map<String, Long> delta = last.since(first);
    if (delta.values().stream().anyMatch(v -> v < 0)) {
      return new NodeCounterRow(
          member.id(),
          member.address(),
          place,
          Map.of(),
          "the node restarted during the measurement");
    }
    String role = map.chainCount() == 1 ? last.role() : place;
    return new NodeCounterRow(member.id(), member.address(), role, delta, null);
  }

  /** Address to NodeStats, or to a String saying why that node did not answer. */
  private Map<String, Object> snapshot() {
    Map<String, CompletableFuture<NodeStats>> asked = new LinkedHashMap<>();
    for (ChainMaps.Node member : members) {
      asked.put(member.address(), client.statsAsync(member.address()));
    }
    Map<String, Object> answers = new LinkedHashMap<>();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    asked.forEach((address, future) -> {
      try {
        answers.put(
            address, future.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (ExecutionException e) {
        answers.put(address, String.valueOf(e.getCause().getMessage()));
      } catch (TimeoutException e) {
        answers.put(address, "no answer within " + timeoutMillis + " ms");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        answers.put(address, "interrupted");
      }
    });
    return answers;
  }
}

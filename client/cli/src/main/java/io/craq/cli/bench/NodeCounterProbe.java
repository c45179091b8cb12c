package io.craq.cli.bench;

import io.craq.cli.bench.BenchReport.NodeCounterRow;
import io.craq.client.CraqClient;
import io.craq.client.NodeStats;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.Member;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads every chain member's counters ({@link CraqClient#stats}) before and after the measured
 * time, so the report can say per node how many reads were clean, how many needed a version query,
 * and how many queries each node sent and served during the measurement.
 */
final class NodeCounterProbe {
  private final CraqClient client;
  private final List<Member> members;
  private final long timeoutMillis;
  private Map<String, Object> before = Map.of();
  private Map<String, Object> after = Map.of();

  NodeCounterProbe(CraqClient client, ChainConfig chain, long timeoutMillis) {
    this.client = client;
    this.members = chain.members();
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

  /**
   * The growth of each member's counters from {@link #start()} to {@link #end()}, or why unknown.
   */
  List<NodeCounterRow> rows() {
    List<NodeCounterRow> rows = new ArrayList<>();
    for (Member member : members) {
      rows.add(row(member, before.get(member.address()), after.get(member.address())));
    }
    return rows;
  }

  static NodeCounterRow row(Member member, Object start, Object end) {
    if (!(start instanceof NodeStats first)) {
      return NodeCounterRow.failed(member.id(), member.address(), "before: " + start);
    }
    if (!(end instanceof NodeStats last)) {
      return NodeCounterRow.failed(member.id(), member.address(), "after: " + end);
    }
    Map<String, Long> delta = last.since(first);
    if (delta.values().stream().anyMatch(v -> v < 0)) {
      return NodeCounterRow.failed(
          member.id(), member.address(), "the node restarted during the measurement");
    }
    return new NodeCounterRow(member.id(), member.address(), last.role(), delta, null);
  }

  /** Address to NodeStats, or to a String saying why that node did not answer. */
  private Map<String, Object> snapshot() {
    Map<String, CompletableFuture<NodeStats>> asked = new LinkedHashMap<>();
    for (Member member : members) {
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

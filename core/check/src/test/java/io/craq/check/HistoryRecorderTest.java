package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The recorder stamps invokes and completions with its clock and keeps every outcome. */
class HistoryRecorderTest {

  @Test
  @DisplayName("invoke and completion times come from the injected clock")
  void injectedClock() {
    AtomicLong ticks = new AtomicLong();
    HistoryRecorder recorder = new HistoryRecorder(() -> ticks.addAndGet(10));
    recorder.write(1, "k", "a").ok();
    recorder.read(2, "k").okRead("a", 1);
    List<Operation> ops = recorder.history().operations();
    assertEquals(List.of(10L, 30L), ops.stream().map(Operation::invokeNanos).toList());
    assertEquals(List.of(20L, 40L), ops.stream().map(Operation::completeNanos).toList());
    assertEquals(Output.read("a", 1), ops.get(1).output());
  }

  @Test
  @DisplayName(
      "fail is recorded as certainly not happened, info as unknown with infinite completion")
  void outcomes() {
    HistoryRecorder recorder = new HistoryRecorder(new AtomicLong()::incrementAndGet);
    recorder.write(1, "k", "a").fail();
    recorder.cas(2, "k", "a", "b").info();
    recorder.writeIfVersion(3, "k", 4, "c").notApplied();
    History history = recorder.history();
    assertEquals(1, history.count(Outcome.FAIL));
    assertEquals(1, history.count(Outcome.INFO));
    Operation info = history.operations().get(1);
    assertEquals(Operation.INFINITY, info.completeNanos());
    assertEquals(false, history.operations().get(2).output().applied());
  }

  @Test
  @DisplayName("operations still in flight appear as unknown in a snapshot")
  void inFlightAreUnknown() {
    HistoryRecorder recorder = new HistoryRecorder(new AtomicLong()::incrementAndGet);
    recorder.delete(1, "k");
    History history = recorder.history();
    assertEquals(1, history.count(Outcome.INFO));
    assertEquals(1, recorder.inFlight());
  }

  @Test
  @DisplayName("a process has one operation in flight, and an operation completes once")
  void misuseIsRefused() {
    HistoryRecorder recorder = new HistoryRecorder();
    HistoryRecorder.Pending pending = recorder.read(1, "k");
    assertThrows(IllegalStateException.class, () -> recorder.read(1, "k"));
    pending.okRead(null);
    assertThrows(IllegalStateException.class, pending::fail);
    assertThrows(IllegalStateException.class, () -> recorder.read(2, "k").ok());
  }

  @Test
  @DisplayName(
      "a multi-key write is one operation per key (null value: delete) with one transaction id,"
          + " ended all at once")
  void multiWrite() {
    AtomicLong ticks = new AtomicLong();
    HistoryRecorder recorder = new HistoryRecorder(() -> ticks.addAndGet(10));
    SortedMap<String, String> writes = new TreeMap<>();
    writes.put("b{1}", null);
    writes.put("a{1}", "x");
    HistoryRecorder.Pending first = recorder.multiWrite(1, writes);
    assertThrows(IllegalStateException.class, () -> recorder.read(1, "a{1}"));
    HistoryRecorder.Pending second = recorder.multiWrite(2, writes);
    assertEquals(2, recorder.inFlight());
    assertEquals(4, recorder.history().count(Outcome.INFO)); // in flight: unknown, each key
    first.ok(Map.of("a{1}", 4L));
    second.info();
    recorder.multiWrite(3, new TreeMap<>(Map.of("c{1}", "y"))).fail();
    recorder.multiWrite(4, writes).ok();
    History history = recorder.history();
    assertEquals(7, history.size());
    Map<Long, List<Operation>> transactions = history.transactions();
    assertEquals(List.of(1L, 2L, 3L, 4L), List.copyOf(transactions.keySet()));
    List<Operation> members = transactions.get(1L);
    assertEquals(
        List.of(
            new Operation(1, "a{1}", Input.write("x"), 10, 30, Outcome.OK, Output.done(4), 1),
            new Operation(1, "b{1}", Input.delete(), 10, 30, Outcome.OK, Output.done(), 1)),
        members);
    assertTrue(transactions.get(2L).stream().allMatch(o -> o.outcome() == Outcome.INFO));
    assertEquals(Outcome.FAIL, transactions.get(3L).get(0).outcome());
    assertEquals(Output.done(), transactions.get(4L).get(1).output());
  }

  @Test
  @DisplayName("a multi-key write refuses a read's completion, versions of other keys, no keys")
  void multiWriteMisuseRefused() {
    HistoryRecorder recorder = new HistoryRecorder();
    SortedMap<String, String> writes = new TreeMap<>(Map.of("a", "x", "b", "y"));
    HistoryRecorder.Pending pending = recorder.multiWrite(1, writes);
    assertThrows(IllegalStateException.class, () -> pending.okRead("x"));
    assertThrows(IllegalArgumentException.class, () -> pending.ok(Map.of("c", 1L)));
    assertThrows(IllegalStateException.class, () -> recorder.write(2, "a", "z").ok(Map.of()));
    pending.ok(Map.of("a", 1L, "b", 2L));
    assertThrows(IllegalStateException.class, pending::ok);
    assertThrows(IllegalArgumentException.class, () -> recorder.multiWrite(3, new TreeMap<>()));
  }

  @Test
  @DisplayName("clients on many threads record without losing operations")
  void threadSafe() throws Exception {
    HistoryRecorder recorder = new HistoryRecorder();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        long process = t;
        futures.add(
            pool.submit(() -> {
              for (int i = 0; i < 1000; i++) {
                recorder.write(process, "k" + process, "v" + process + "-" + i).ok();
              }
            }));
      }
      for (Future<?> future : futures) {
        future.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    History history = recorder.history();
    assertEquals(8000, history.size());
    assertTrue(
        LinearizabilityChecker.check(history, new RegisterModel(), Ops.BUDGET).noneIllegal());
  }
}

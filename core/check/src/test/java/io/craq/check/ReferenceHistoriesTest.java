package io.craq.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** The checker agrees with the published verdicts of Porcupine's test histories. */
class ReferenceHistoriesTest {
  /** Generous: every file takes milliseconds; the budget only bounds a regression. */
  private static final Duration BUDGET_PER_KEY = Duration.ofSeconds(10);

  @TestFactory
  @DisplayName("every jepsen-etcd history gets the verdict VERDICTS.tsv gives it")
  Stream<DynamicTest> jepsenEtcd() throws IOException {
    Path folder = folder("jepsen-etcd");
    return verdicts(folder).entrySet().stream()
        .map(e ->
            DynamicTest.dynamicTest(
                e.getKey() + " linearizable=" + e.getValue(),
                () ->
                    assertVerdict(folder.resolve(e.getKey()), e.getValue(), new RegisterModel())));
  }

  @TestFactory
  @DisplayName("the kv -ok histories are linearizable and the -bad ones are not, key by key")
  Stream<DynamicTest> kv() throws IOException {
    Path folder = folder("kv");
    return verdicts(folder).entrySet().stream()
        .map(e ->
            DynamicTest.dynamicTest(
                e.getKey() + " linearizable=" + e.getValue(),
                () -> assertVerdict(folder.resolve(e.getKey()), e.getValue(), new KvModel())));
  }

  private static <S> void assertVerdict(Path file, boolean linearizable, Model<S> model)
      throws IOException {
    History history = HistoryLog.read(file);
    long start = System.nanoTime();
    CheckReport report = LinearizabilityChecker.check(history, model, BUDGET_PER_KEY);
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf(
        "%s: %s, %s, %d ms%n",
        file.getFileName(), history.summary(), report.summary(), elapsedMillis);
    assertEquals(0, report.count(Verdict.UNKNOWN), () -> file + ": " + report.unknown());
    assertEquals(linearizable, report.noneIllegal(), () -> file + ": " + report.failureMessage());
    if (!linearizable) {
      System.out.println("  " + report.illegal().get(0).explanation());
    }
  }

  private static Path folder(String name) {
    Path folder = SharedHistories.find().map(h -> h.resolve(name)).orElse(null);
    boolean present = folder != null && Files.isDirectory(folder);
    String absent =
        "SKIPPED: ../shared/histories/"
            + name
            + " is absent (it lives outside the"
            + " repository; -Dcraq.shared.dir=DIR names the folder holding histories/)";
    if (!present) {
      System.out.println(absent);
    }
    assumeTrue(present, absent);
    return folder;
  }

  private static Map<String, Boolean> verdicts(Path folder) throws IOException {
    Map<String, Boolean> verdicts = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(folder.resolve("VERDICTS.tsv"));
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] columns = line.split("\t");
      verdicts.put(columns[0].strip(), columns[1].strip().equals("yes"));
    }
    return verdicts;
  }
}

package io.craq.client;

import java.io.PrintWriter;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code craq readall}: every key with its value, in key order, each read as {@code read} reads
 * it (strong by default), so it answers only when {@code read} does. Text lines are
 * {@code KEY<TAB>VALUE} with tabs, newlines, backslashes, control characters and bytes that are
 * not UTF-8 escaped ({@link TextEscape}), one line per key whatever the bytes.
 */
@Command(name = "readall", mixinStandardHelpOptions = true,
    description = {"Print every key and value in key order: KEY<TAB>VALUE per line, with \\t,"
        + " \\n, \\r, \\\\ and \\xHH escapes (--json for exact values).",
        "Each key is read as 'read' reads it: strong by default."})
final class ReadAllCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @ParentCommand CraqMain global;

  @Option(names = "--consistency", defaultValue = "strong", paramLabel = "MODE",
      converter = CraqMain.ConsistencyConverter.class,
      description = "strong (default), eventual, or bounded:N, as for read.")
  ReadConsistency consistency;

  @Override
  public Integer call() throws Exception {
    return CraqMain.guard(spec, () -> {
      try (CraqClient client = global.openClient(spec);
          Stream<Versioned> entries = client.readAllPreferring(
              global.firstReadNode(client, spec), consistency.mode(), consistency.bound(),
              global.fallbackNotice(spec))) {
        PrintWriter out = spec.commandLine().getOut();
        Iterator<Versioned> it = entries.iterator();
        while (it.hasNext()) {
          Versioned entry = it.next();
          out.println(global.json
              ? new Json().field("key", entry.key()).field("version", entry.version())
                  .value(entry.value())
              : TextEscape.escape(entry.key()) + "\t" + TextEscape.escape(entry.value()));
        }
        out.flush();
        return ExitCodes.OK;
      }
    });
  }
}

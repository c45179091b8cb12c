package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.ConsistencyConverter;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.client.ReadConsistency;
import io.craq.client.Versioned;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code craq readall}: every key with its value, in key order, each read as {@code read} reads it
 * (strong by default), so it answers only when {@code read} does. Text lines are {@code
 * KEY<TAB>VALUE} with tabs, newlines, backslashes, control characters and bytes that are not UTF-8
 * escaped ({@link TextEscape}), one line per key whatever the bytes.
 */
@Command(
    name = "readall",
    mixinStandardHelpOptions = true,
    description = {
      "Print every key and value in key order: KEY<TAB>VALUE per line, with \\t,"
          + " \\n, \\r, \\\\ and \\xHH escapes (--json for exact values).",
      "Each key is read as 'read' reads it: strong by default."
    })
public final class ReadAllCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Option(
      names = "--consistency",
      defaultValue = "strong",
      paramLabel = "MODE",
      converter = ConsistencyConverter.class,
      description = "strong (default), eventual, or bounded:N, as for read.")
  ReadConsistency consistency;

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          try (CraqClient craq = client.openClient();
              Stream<Versioned> entries =
                  craq.readAllPreferring(
                      client.firstReadNode(craq),
                      consistency.mode(),
                      consistency.bound(),
                      client.fallbackNotice())) {
            PrintWriter out = spec.commandLine().getOut();
            Iterator<Versioned> it = entries.iterator();
            while (it.hasNext()) {
              Versioned entry = it.next();
              out.println(
                  json.enabled()
                      ? new Json()
                          .field("key", entry.key())
                          .field("version", entry.version())
                          .value(entry.value())
                      : TextEscape.escape(entry.key()) + "\t" + TextEscape.escape(entry.value()));
            }
            out.flush();
            return ExitCodes.OK;
          }
        });
  }
}

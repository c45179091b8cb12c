package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import io.craq.client.MultiWrite;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq mwrite K1 V1 [K2 V2 ...] [--delete K]... [--if-version K=N]...}: one multi-key write
 * of keys of one chain, all applied or none ({@link CraqClient#multiWrite(MultiWrite)}). Prints
 * {@code KEY<TAB>VERSION} per key (the key escaped as {@code readall} escapes it), the puts in the
 * order given, then the deletes.
 */
@Command(
    name = "mwrite",
    mixinStandardHelpOptions = true,
    description = {
      "Write several keys of one chain at once, all or none; prints KEY<TAB>VERSION per key.",
      "Keys that share a {hash tag} share a chain: user:{42}:name and user:{42}:mail do.",
      "Keys of different chains are refused (exit 6) before anything is sent."
    })
public final class MultiWriteCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Option(
      names = "--delete",
      paramLabel = "KEY",
      description = "Delete KEY within the same write (repeatable).")
  List<String> deletes = new ArrayList<>();

  @Option(
      names = "--if-version",
      paramLabel = "KEY=N",
      description = {
        "Apply the write only if KEY's committed version is N (0 = absent or deleted);"
            + " if it is not, nothing is written (exit 5). Repeatable, for keys of the write."
      })
  List<String> conditions = new ArrayList<>();

  @Parameters(
      arity = "0..*",
      paramLabel = "KEY VALUE",
      description = {
        "Pairs of a key and its value (one argument each: quote values with spaces).",
        "Use -- before a key or value that starts with '-'."
      })
  List<String> pairs = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          MultiWrite write = multiWrite();
          try (CraqClient craq = client.openClient()) {
            Map<String, Long> versions = craq.multiWrite(write);
            PrintWriter out = spec.commandLine().getOut();
            Set<String> deleted = Set.copyOf(deletes);
            versions.forEach((key, version) ->
                out.println(
                    json.enabled()
                        ? deleted.contains(key)
                            ? new Json()
                                .field("key", key)
                                .field("version", version)
                                .field("deleted", true)
                            : new Json().field("key", key).field("version", version)
                        : TextEscape.escape(key) + "\t" + version));
            out.flush();
            return ExitCodes.OK;
          }
        });
  }

  /** The write the command line asks for; usage errors for what cannot be one. */
  private MultiWrite multiWrite() {
    if (pairs.size() % 2 != 0) {
      throw usage("KEY VALUE pairs: key '" + pairs.get(pairs.size() - 1) + "' has no value");
    }
    if (pairs.isEmpty() && deletes.isEmpty()) {
      throw usage("nothing to write: give KEY VALUE pairs and/or --delete KEY");
    }
    Map<String, Long> expected = new LinkedHashMap<>();
    for (String condition : conditions) {
      int eq = condition.lastIndexOf('=');
      long version = eq > 0 ? parseVersion(condition.substring(eq + 1)) : -1;
      if (version < 0) {
        throw usage("--if-version " + condition + ": expected KEY=N with N >= 0");
      }
      if (expected.put(condition.substring(0, eq), version) != null) {
        throw usage("--if-version " + condition + ": a second condition for that key");
      }
    }
    MultiWrite write = new MultiWrite();
    for (int i = 0; i < pairs.size(); i += 2) {
      String key = pairs.get(i);
      byte[] value = pairs.get(i + 1).getBytes(StandardCharsets.UTF_8);
      Long version = expected.remove(key);
      if (version == null) {
        write.put(key, value);
      } else {
        write.putIfVersion(key, value, version);
      }
    }
    for (String key : deletes) {
      Long version = expected.remove(key);
      if (version == null) {
        write.delete(key);
      } else {
        write.deleteIfVersion(key, version);
      }
    }
    if (!expected.isEmpty()) {
      throw usage(
          "--if-version "
              + expected.keySet().iterator().next()
              + "=...: that key is not written (give it as KEY VALUE or --delete KEY)");
    }
    return write;
  }

  private static long parseVersion(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}

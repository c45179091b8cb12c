package io.craq.cli.commands;

import io.craq.cli.common.ClientOptions;
import io.craq.cli.common.Diagnostics;
import io.craq.cli.common.ExitCodes;
import io.craq.cli.common.JsonOption;
import io.craq.client.CraqClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code craq delete KEY}: writes a tombstone version; prints its version. */
@Command(
    name = "delete",
    mixinStandardHelpOptions = true,
    description = "Delete KEY (a tombstone version); prints its version.")
public final class DeleteCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;
  @Mixin JsonOption json;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
  String key;

  @Override
  public Integer call() throws Exception {
    return Diagnostics.guard(
        spec,
        () -> {
          try (CraqClient craq = client.openClient()) {
            long version = craq.delete(key);
            PrintWriter out = spec.commandLine().getOut();
            out.println(
                json.enabled()
                    ? new Json().field("key", key).field("version", version).field("deleted", true)
                    : version);
            out.flush();
            return ExitCodes.OK;
          }
        });
  }
}

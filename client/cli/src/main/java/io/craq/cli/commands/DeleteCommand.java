package io.craq.client;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code craq delete KEY}: writes a tombstone version; prints its version. */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Delete KEY (a tombstone version); prints its version.")
final class DeleteCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @ParentCommand CraqMain global;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
  String key;

  @Override
  public Integer call() throws Exception {
    return CraqMain.guard(spec, () -> {
      try (CraqClient client = global.openClient(spec)) {
        long version = client.delete(key);
        PrintWriter out = spec.commandLine().getOut();
        out.println(global.json
            ? new Json().field("key", key).field("version", version).field("deleted", true)
            : version);
        out.flush();
        return ExitCodes.OK;
      }
    });
  }
}

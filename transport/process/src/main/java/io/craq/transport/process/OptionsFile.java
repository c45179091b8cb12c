package io.craq.transport.process;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.PropertiesDefaultProvider;

/**
 * {@code --config FILE}: a properties file whose keys are long option names without dashes ({@code
 * listen=:1235}). Its values replace the built-in defaults; flags on the command line win. An
 * unknown key is a usage error, so a typo never silently falls back to a default.
 */
public final class OptionsFile {
  public static final String OPTION = "--config";

  private OptionsFile() {}

  /**
   * Installs the file named by {@code --config} in {@code args} (if any) as the default provider.
   *
   * @throws ParameterException if the file cannot be read or has unknown keys
   */
  public static void install(CommandLine commandLine, String[] args) {
    Path file = find(commandLine, args);
    if (file == null) {
      return;
    }
    Properties properties = load(commandLine, file);
    Set<String> known = new TreeSet<>();
    for (OptionSpec option : commandLine.getCommandSpec().options()) {
      known.add(option.longestName().replaceFirst("^-+", ""));
    }
    for (String key : properties.stringPropertyNames()) {
      if (!known.contains(key)
          || key.equals("config")
          || key.equals("help")
          || key.equals("version")) {
        throw new ParameterException(
            commandLine,
            "config file "
                + file
                + ": unknown key '"
                + key
                + "'; keys are long option names without dashes: "
                + known);
      }
    }
    commandLine.setDefaultValueProvider(new PropertiesDefaultProvider(properties));
  }

  private static Path find(CommandLine commandLine, String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--")) {
        return null;
      }
      if (args[i].startsWith(OPTION + "=")) {
        return Path.of(args[i].substring(OPTION.length() + 1));
      }
      if (args[i].equals(OPTION)) {
        if (i + 1 >= args.length) {
          throw new ParameterException(commandLine, OPTION + " needs a file name");
        }
        return Path.of(args[i + 1]);
      }
    }
    return null;
  }

  private static Properties load(CommandLine commandLine, Path file) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new ParameterException(commandLine, "cannot read config file " + file + ": " + e);
    }
    return properties;
  }
}

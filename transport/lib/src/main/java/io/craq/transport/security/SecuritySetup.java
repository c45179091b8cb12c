package io.craq.transport.security;

import io.craq.transport.Addresses;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns the security flags every craq process shares into a {@link Security}, checking them: the
 * TLS files ({@code --tls-cert}, {@code --tls-key}, {@code --tls-ca}, {@code --tls-client-ca}), the
 * users file ({@code --users}, servers) and the credentials a process presents when it dials
 * ({@code --user} and {@code --password-file}, or {@code $CRAQ_USER} and {@code $CRAQ_PASSWORD}).
 * Files holding secrets must be readable by their owner only. Every failure is an {@link
 * IllegalArgumentException} naming the flag, the file and the fix, never a secret.
 */
public final class SecuritySetup {
  /** The environment variable holding the user name when {@code --user} is not given. */
  public static final String USER_ENV = "CRAQ_USER";

  /** The environment variable holding the password or token when no password file is given. */
  public static final String PASSWORD_ENV = "CRAQ_PASSWORD";

  private SecuritySetup() {}

  /**
   * The TLS settings of the flags, or null if none is given.
   *
   * @throws IllegalArgumentException if some but not all of cert, key and CA are given, a file is
   *     missing, or the key is readable by others
   */
  /**
   * A client's TLS from its flags: like {@link #tls} without a client CA, except that {@code
   * --tls-ca} alone is enough (the client checks the servers and presents no certificate; it may
   * still authenticate with a password).
   */
  public static TlsSettings clientTls(Path certificate, Path privateKey, Path clusterCa) {
    if (certificate == null && privateKey == null && clusterCa != null) {
      requireFile(clusterCa, "--tls-ca");
      return TlsSettings.trustOnly(clusterCa);
    }
    return tls(certificate, privateKey, clusterCa, null);
  }

  public static TlsSettings tls(Path certificate, Path privateKey, Path clusterCa, Path clientCa) {
    if (certificate == null && privateKey == null && clusterCa == null) {
      if (clientCa != null) {
        throw new IllegalArgumentException(
            "--tls-client-ca needs TLS on: give --tls-cert, --tls-key and --tls-ca as well");
      }
      return null;
    }
    if (certificate == null || privateKey == null || clusterCa == null) {
      throw new IllegalArgumentException(
          "TLS needs all of --tls-cert, --tls-key and --tls-ca; missing: "
              + String.join(
                  ", ",
                  missing(
                      certificate == null ? "--tls-cert" : null,
                      privateKey == null ? "--tls-key" : null,
                      clusterCa == null ? "--tls-ca" : null)));
    }
    requireFile(certificate, "--tls-cert");
    requireFile(clusterCa, "--tls-ca");
    if (clientCa != null) {
      requireFile(clientCa, "--tls-client-ca");
    }
    SecretFiles.requirePrivate(privateKey, "--tls-key file");
    return new TlsSettings(certificate, privateKey, clusterCa, clientCa);
  }

  /**
   * The credentials of the flags and environment, or null if neither a user nor a password is
   * given: {@code user} ({@code --user}) else {@code $CRAQ_USER}; the password from {@code
   * passwordFile} ({@code --password-file}) else {@code $CRAQ_PASSWORD}.
   *
   * @param environment the process's environment ({@code System.getenv()})
   * @throws IllegalArgumentException if a user is given without a password or the other way round,
   *     or the password file is missing, empty or readable by others
   */
  public static Credentials credentials(
      String user, Path passwordFile, Map<String, String> environment) {
    String name = user != null ? user : nonEmpty(environment.get(USER_ENV));
    String fromEnvironment = nonEmpty(environment.get(PASSWORD_ENV));
    if (name == null && passwordFile == null && fromEnvironment == null) {
      return null;
    }
    if (name == null) {
      throw new IllegalArgumentException(
          (passwordFile != null ? "--password-file" : "$" + PASSWORD_ENV)
              + " is given but no user: give --user NAME or set $"
              + USER_ENV);
    }
    if (!UsersFile.NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          (user != null ? "--user: " : "$" + USER_ENV + ": ") + UsersFile.invalidName(name));
    }
    byte[] secret;
    if (passwordFile != null) {
      secret = SecretFiles.readPassword(passwordFile, "--password-file");
    } else if (fromEnvironment != null) {
      secret = fromEnvironment.getBytes(StandardCharsets.UTF_8);
    } else {
      throw new IllegalArgumentException(
          "user " + name + " has no password: give --password-file FILE or set $" + PASSWORD_ENV);
    }
    return new Credentials(name, secret);
  }

  /**
   * The users file of {@code --users}, or null if not given.
   *
   * @throws IllegalArgumentException if it is missing, malformed or readable by others
   */
  public static UsersFile users(Path file) {
    return file == null ? null : UsersFile.open(file);
  }

  /**
   * A server's security: TLS, its users file, and the credentials it presents when it dials other
   * nodes and coordinators. Those must be a member's: if the users file names that user with a
   * lower role, the configuration is refused.
   */
  public static Security server(TlsSettings tls, UsersFile users, Credentials credentials) {
    if (users != null && credentials != null) {
      Role role = users.currentRole(credentials.user());
      if (role != null && role != Role.MEMBER) {
        throw new IllegalArgumentException(
            "--user "
                + credentials.user()
                + " has role "
                + role.label()
                + " in "
                + users.file()
                + "; nodes and coordinators dial each other as a member: "
                + "craq user add "
                + credentials.user()
                + " --role member");
      }
    }
    return new Security(tls, users, credentials);
  }

  /**
   * The warnings a server listening on {@code listenAddress} with {@code security} prints at start:
   * none on a loopback address; else one line for plain text (no TLS) and one for no authentication
   * (no users file), each naming the risk and the flags that fix it.
   *
   * @param process the process's name ({@code craq-node})
   * @param risk what anyone who can reach the port could do ({@code "read and write every key and
   *     join a chain"})
   */
  public static List<String> exposureWarnings(
      String process, String listenAddress, Security security, String risk) {
    List<String> warnings = new ArrayList<>();
    Addresses.HostPort hostPort = Addresses.parse(listenAddress);
    if (isLoopback(hostPort.host())) {
      return warnings;
    }
    String where =
        process
            + " listens on "
            + listenAddress
            + (isWildcard(hostPort.host()) ? " (every interface)" : "");
    if (!security.tlsEnabled()) {
      warnings.add(
          where
              + " without TLS: everything it sends and receives travels in plain text, and"
              + " anyone on the path can read and change it; give --tls-cert, --tls-key and"
              + " --tls-ca (see docs/SECURITY.md), or listen on 127.0.0.1");
    }
    if (!security.authenticationRequired()) {
      warnings.add(
          where
              + " without authentication: anyone who can reach the port can "
              + risk
              + "; give --users FILE (see docs/SECURITY.md), or listen on 127.0.0.1");
    }
    return warnings;
  }

  /**
   * The warnings a node prints at start for its Redis-protocol port on {@code listenAddress}: none
   * on a loopback address; else one line without TLS on it ({@code --redis-tls}) and one without
   * authentication ({@code --users}), each naming the risk and the flag that fixes it.
   */
  public static List<String> redisExposureWarnings(
      String process, String listenAddress, boolean redisTls, Security security) {
    List<String> warnings = new ArrayList<>();
    String where = exposedAt(process + " serves the Redis protocol on ", listenAddress);
    if (where == null) {
      return warnings;
    }
    if (!redisTls) {
      warnings.add(
          where
              + " without TLS: commands, values and AUTH passwords travel in plain text, and"
              + " anyone on the path can read and change them; give --redis-tls (with --tls-cert,"
              + " --tls-key and --tls-ca), or listen on 127.0.0.1");
    }
    if (!security.authenticationRequired()) {
      warnings.add(
          where
              + " without authentication: anyone who can reach the port can read and write every"
              + " key; give --users FILE (see docs/SECURITY.md), or listen on 127.0.0.1");
    }
    return warnings;
  }

  /**
   * What is wrong with asking for {@code --metrics-tls}, as a usage error's text: it needs a
   * metrics port and the process's own certificate. Empty when nothing is (or TLS was not asked
   * for).
   */
  public static Optional<String> metricsTlsProblem(
      boolean metricsTls, String metricsListen, Security security) {
    if (!metricsTls) {
      return Optional.empty();
    }
    if (metricsListen == null) {
      return Optional.of("--metrics-tls needs --metrics-listen");
    }
    if (!security.tlsEnabled()) {
      return Optional.of("--metrics-tls needs --tls-cert, --tls-key and --tls-ca");
    }
    return Optional.empty();
  }

  /**
   * The warnings a server prints at start for its metrics port on {@code listenAddress}: none on a
   * loopback address; else one line without TLS on it ({@code --metrics-tls}) and one without
   * authentication ({@code --users}), each naming the risk and the flag that fixes it.
   */
  public static List<String> metricsExposureWarnings(
      String process, String listenAddress, boolean metricsTls, Security security) {
    List<String> warnings = new ArrayList<>();
    String where = exposedAt(process + " serves metrics on ", listenAddress);
    if (where == null) {
      return warnings;
    }
    if (!metricsTls) {
      warnings.add(
          where
              + " over plain HTTP: scrapes"
              + (security.authenticationRequired() ? ", and the passwords of scrapers," : "")
              + " travel in plain text; give --metrics-tls (with --tls-cert, --tls-key and"
              + " --tls-ca), or listen on 127.0.0.1");
    }
    if (!security.authenticationRequired()) {
      warnings.add(
          where
              + " without authentication: anyone who can reach the port can read the metrics"
              + " (traffic, keys and members of the cluster); give --users FILE (see"
              + " docs/SECURITY.md), or listen on 127.0.0.1");
    }
    return warnings;
  }

  /** {@code prefix + address} and "(every interface)" if it goes beyond loopback, else null. */
  private static String exposedAt(String prefix, String listenAddress) {
    Addresses.HostPort hostPort = Addresses.parse(listenAddress);
    if (isLoopback(hostPort.host())) {
      return null;
    }
    return prefix + listenAddress + (isWildcard(hostPort.host()) ? " (every interface)" : "");
  }

  /**
   * The warning a server prints at start when it requires authentication but presents nothing when
   * it dials other nodes and coordinators (no {@code --user}, no TLS certificate): if they require
   * authentication too, they refuse it. Null if there is nothing to say.
   */
  public static String dialWarning(String process, Security security) {
    if (!security.authenticationRequired()
        || security.credentials() != null
        || security.tlsEnabled()) {
      return null;
    }
    return process
        + " requires authentication (--users) but presents no credentials when it dials other"
        + " nodes and coordinators: if they require authentication too they will refuse it; give"
        + " --user NAME (a member) and --password-file FILE, or TLS certificates";
  }

  /** True for an empty host or a wildcard address (every interface). */
  static boolean isWildcard(String host) {
    return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("*");
  }

  /** True if {@code host} names only loopback addresses; false if it does not resolve. */
  static boolean isLoopback(String host) {
    if (isWildcard(host)) {
      return false;
    }
    try {
      for (InetAddress address : InetAddress.getAllByName(host)) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static void requireFile(Path file, String flag) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(flag + " " + file + " does not exist or is not a file");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(flag + " " + file + " is not readable");
    }
  }

  private static String nonEmpty(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  private static List<String> missing(String... flags) {
    List<String> names = new ArrayList<>();
    for (String flag : flags) {
      if (flag != null) {
        names.add(flag);
      }
    }
    return names;
  }
}

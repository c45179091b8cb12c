package io.craq.transport.process;

import io.craq.transport.security.Credentials;
import io.craq.transport.security.Security;
import io.craq.transport.security.SecuritySetup;
import io.craq.transport.security.TlsSettings;
import io.craq.transport.security.UsersFile;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The security flags of {@code craq-node} and {@code craq-coordinator} (a picocli mixin): TLS
 * files, the users file, and the credentials the process presents when it dials other nodes and
 * coordinators. See docs/SECURITY.md. No option has a default that could print a secret; a password
 * is never a flag (it would show in {@code ps}): it comes from a file or {@code $CRAQ_PASSWORD}.
 */
public final class ServerSecurityOptions {
  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description =
          "TLS on every connection: this process's certificate chain (PEM). Needs --tls-key and"
              + " --tls-ca.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description =
          "The private key of --tls-cert (PEM, PKCS#8); must be readable by its owner only.")
  Path tlsKey;

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description =
          "The cluster's CA certificates (PEM): a peer whose certificate chains to it is a member"
              + " of the cluster.")
  Path tlsCa;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "FILE",
      description =
          "CA certificates (PEM) of client certificates: a client whose certificate chains to it"
              + " is the user of --users its CN names (default: none).")
  Path tlsClientCa;

  @Option(
      names = "--users",
      paramLabel = "FILE",
      description =
          "Require authentication: the users and their roles (read, readwrite, admin, member),"
              + " one a line; edit it with craq user. Must be readable by its owner only; read"
              + " again when it changes (default: authentication off).")
  Path users;

  @Option(
      names = "--user",
      paramLabel = "NAME",
      description =
          "The user this process authenticates as when it dials other nodes and coordinators"
              + " (a member; default: $"
              + SecuritySetup.USER_ENV
              + ").")
  String user;

  @Option(
      names = "--password-file",
      paramLabel = "FILE",
      description =
          "The password or token of --user, in a file readable by its owner only (default: $"
              + SecuritySetup.PASSWORD_ENV
              + ").")
  Path passwordFile;

  /**
   * The security these flags and {@code environment} ask for (checked: files, permissions, the role
   * of {@code --user}).
   *
   * @throws ParameterException naming the flag and the fix
   */
  public Security security(CommandLine commandLine, Map<String, String> environment) {
    try {
      TlsSettings tls = SecuritySetup.tls(tlsCert, tlsKey, tlsCa, tlsClientCa);
      UsersFile usersFile = SecuritySetup.users(users);
      Credentials credentials = SecuritySetup.credentials(user, passwordFile, environment);
      return SecuritySetup.server(tls, usersFile, credentials);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(commandLine, e.getMessage());
    }
  }
}

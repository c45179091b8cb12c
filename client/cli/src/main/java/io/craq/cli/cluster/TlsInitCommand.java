package io.craq.cli.cluster;

import io.craq.cli.common.ExitCodes;
import io.craq.transport.security.CertificateTool;
import io.craq.transport.security.TlsSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code craq tls-init DIR}: a throwaway cluster CA, a client CA, one certificate per node and
 * coordinator (signed by the cluster CA: they make a process a member) and one client certificate
 * (CN {@code admin}, signed by the client CA: the servers' {@code --tls-client-ca} makes it an
 * admin). For trying TLS out and for {@code bin/craq-cluster --tls}; production clusters use
 * certificates of their own PKI. See docs/SECURITY.md.
 */
@Command(
    name = "tls-init",
    mixinStandardHelpOptions = true,
    description = {
      "Make a throwaway cluster CA and certificates in DIR: n1..nN.pem for the nodes,"
          + " coordinator.pem (or c1..cM.pem) for the coordinators, all signed by ca.pem, and"
          + " admin.pem for the CLI, signed by client-ca.pem. Each with its -key.pem (readable by"
          + " its owner only). Prints the flags that use them. Not for production: the CA keys"
          + " lie beside the certificates."
    })
public final class TlsInitCommand implements Callable<Integer> {
  /** The cluster CA's name: {@code ca.pem}, {@code ca-key.pem}. */
  public static final String CA = "ca";

  /** The client CA's name: {@code client-ca.pem}, {@code client-ca-key.pem}. */
  public static final String CLIENT_CA = "client-ca";

  /** The client certificate's CN and file name. */
  public static final String CLIENT = "admin";

  /** How long the certificates of tls-init last. */
  static final Duration VALIDITY = Duration.ofDays(365);

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:-]{0,252}");

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "Where to write (created if missing).")
  Path dir;

  @Option(
      names = "--nodes",
      paramLabel = "N",
      defaultValue = "3",
      description = "Node certificates n1..nN (default ${DEFAULT-VALUE}).")
  int nodes = 3;

  @Option(
      names = "--coordinators",
      paramLabel = "M",
      defaultValue = "1",
      description =
          "Coordinator certificates: coordinator.pem for 1 (default), c1..cM.pem for more.")
  int coordinators = 1;

  @Option(
      names = "--hosts",
      paramLabel = "H1,H2,...",
      split = ",",
      description =
          "More subject alternative names (host names or IP addresses) for every node and"
              + " coordinator certificate, besides 127.0.0.1 and localhost.")
  List<String> hosts = new ArrayList<>();

  @Option(names = "--force", description = "Write into DIR even if it is not empty.")
  boolean force;

  /** The files tls-init wrote. */
  public record Result(
      CertificateTool.Ca ca,
      CertificateTool.Ca clientCa,
      List<CertificateTool.Issued> nodes,
      List<CertificateTool.Issued> coordinators,
      CertificateTool.Issued client) {

    /** The TLS settings of member {@code issued}: trusts the cluster CA and the client CA. */
    public TlsSettings serverSettings(CertificateTool.Issued issued) {
      return new TlsSettings(
          issued.certificate(), issued.privateKey(), ca.certificate(), clientCa.certificate());
    }

    /** The server flags of member {@code issued}. */
    public List<String> serverArgs(CertificateTool.Issued issued) {
      return List.of(
          "--tls-cert",
          issued.certificate().toString(),
          "--tls-key",
          issued.privateKey().toString(),
          "--tls-ca",
          ca.certificate().toString(),
          "--tls-client-ca",
          clientCa.certificate().toString());
    }

    /** The TLS settings of the client certificate: trusts the cluster CA. */
    public TlsSettings clientSettings() {
      return new TlsSettings(client.certificate(), client.privateKey(), ca.certificate(), null);
    }

    /**
     * The certificate of node or coordinator {@code name} (n1.., coordinator, c1..).
     *
     * @throws IllegalArgumentException if there is none of that name
     */
    public CertificateTool.Issued issued(String name) {
      for (CertificateTool.Issued issued :
          Stream.concat(nodes.stream(), coordinators.stream()).toList()) {
        if (issued.certificate().getFileName().toString().equals(name + ".pem")) {
          return issued;
        }
      }
      throw new IllegalArgumentException("no certificate for " + name);
    }

    /** The flags of the CLI, with the client certificate. */
    public List<String> clientArgs() {
      return List.of(
          "--tls-cert",
          client.certificate().toString(),
          "--tls-key",
          client.privateKey().toString(),
          "--tls-ca",
          ca.certificate().toString());
    }
  }

  /** The names of the coordinator certificates for {@code count} coordinators. */
  public static List<String> coordinatorNames(int count) {
    if (count == 1) {
      return List.of("coordinator");
    }
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      names.add("c" + i);
    }
    return names;
  }

  /**
   * Writes the CAs and certificates into {@code dir}, replacing files of the same names.
   *
   * @throws IOException if a file cannot be written or keytool fails
   */
  public static Result generate(Path dir, int nodes, int coordinators, List<String> hosts)
      throws IOException {
    Files.createDirectories(dir);
    Set<String> sans = new LinkedHashSet<>(List.of("127.0.0.1", "localhost"));
    sans.addAll(hosts);
    Instant from = Instant.now().minus(Duration.ofHours(1));
    Instant to = from.plus(VALIDITY);
    CertificateTool.Ca ca = CertificateTool.newCa(dir, CA);
    CertificateTool.Ca clientCa = CertificateTool.newCa(dir, CLIENT_CA);
    List<CertificateTool.Issued> nodeFiles = new ArrayList<>();
    for (int i = 1; i <= nodes; i++) {
      nodeFiles.add(ca.issue(dir, "n" + i, List.copyOf(sans), from, to));
    }
    List<CertificateTool.Issued> coordinatorFiles = new ArrayList<>();
    for (String name : coordinatorNames(coordinators)) {
      coordinatorFiles.add(ca.issue(dir, name, List.copyOf(sans), from, to));
    }
    CertificateTool.Issued client = clientCa.issue(dir, CLIENT, List.of(), from, to);
    return new Result(ca, clientCa, nodeFiles, coordinatorFiles, client);
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (nodes < 1 || nodes > 100) {
      throw new ParameterException(
          spec.commandLine(), "--nodes must be a number from 1 to 100, got " + nodes);
    }
    if (coordinators < 1 || coordinators > 9) {
      throw new ParameterException(
          spec.commandLine(), "--coordinators must be a number from 1 to 9, got " + coordinators);
    }
    for (String host : hosts) {
      if (!HOST.matcher(host).matches()) {
        throw new ParameterException(
            spec.commandLine(), "--hosts: '" + host + "' is not a host name or IP address");
      }
    }
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), dir + " exists and is not a directory");
    }
    if (!force && Files.isDirectory(dir)) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new ParameterException(
              spec.commandLine(),
              dir + " is not empty; choose an empty directory or add --force to overwrite");
        }
      } catch (IOException e) {
        err.println("craq tls-init: cannot read " + dir + ": " + e.getMessage());
        err.flush();
        return ExitCodes.UNAVAILABLE;
      }
    }
    Result result;
    try {
      result = generate(dir.toAbsolutePath().normalize(), nodes, coordinators, hosts);
    } catch (IOException e) {
      err.println("craq tls-init: " + e.getMessage());
      err.flush();
      return ExitCodes.UNAVAILABLE;
    }
    out.println(
        "Cluster CA:  " + result.ca().certificate() + " (key " + result.ca().privateKey() + ")");
    out.println(
        "Client CA:   "
            + result.clientCa().certificate()
            + " (key "
            + result.clientCa().privateKey()
            + ")");
    for (CertificateTool.Issued issued : result.coordinators()) {
      out.println("Coordinator: " + issued.certificate() + ", " + issued.privateKey());
    }
    for (CertificateTool.Issued issued : result.nodes()) {
      out.println("Node:        " + issued.certificate() + ", " + issued.privateKey());
    }
    out.println(
        "Client:      " + result.client().certificate() + ", " + result.client().privateKey());
    out.println();
    out.println("Start each node and coordinator with its own certificate, for example:");
    CertificateTool.Issued first = result.nodes().get(0);
    out.println("  bin/craq-node ... " + String.join(" ", result.serverArgs(first)));
    out.println("Point the CLI at them with:");
    out.println("  bin/craq " + String.join(" ", result.clientArgs()) + " read KEY");
    out.println(
        "The certificates last "
            + VALIDITY.toDays()
            + " days. Keep ca-key.pem and client-ca-key.pem off the servers.");
    out.flush();
    return ExitCodes.OK;
  }
}

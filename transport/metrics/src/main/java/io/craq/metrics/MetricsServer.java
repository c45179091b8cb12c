package io.craq.metrics;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.craq.transport.Addresses;
import io.craq.transport.ServerTls;
import io.craq.transport.security.PasswordChecks;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint of {@code --metrics-listen}: an HTTP server (the JDK's) with three paths.
 *
 * <ul>
 *   <li>{@code /metrics}: every collector of the registry, written by the Prometheus Java client's
 *       handler, which negotiates the format (Prometheus text, OpenMetrics, protobuf) and honours
 *       {@code name[]=} filters;
 *   <li>{@code /health}: 200 and {@code ok} when the process can do its job, else 503 and the
 *       reason, one line of plain text;
 *   <li>{@code /ready}: the same for having started (see each process).
 * </ul>
 *
 * Requests are served by a few daemon threads of their own, never by the process's event loop: a
 * scrape reads what the loop publishes, or asks it as any client would.
 *
 * <p>Secured by a {@link MetricsSecurity}: HTTPS (TLS 1.3 only, by {@link ServerTls}: the rules and
 * the reloading of the process's other ports) instead of HTTP, and {@code /metrics} only for the
 * users of a users file (see {@link ScrapeAuthenticator}). The probes stay open: they say only ok
 * or not and why.
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

  /**
   * Threads serving HTTP requests: a scrape and a probe at once, and as many more while a wrong
   * password's answer is held back.
   */
  private static final int THREADS = 4;

  private final HttpServer server;
  private final ExecutorService executor;
  private final String address;
  private final ServerTls tls;

  private MetricsServer(
      HttpServer server, ExecutorService executor, String address, ServerTls tls) {
    this.server = server;
    this.executor = executor;
    this.address = address;
    this.tls = tls;
  }

  /**
   * A registry holding the JVM's metrics (memory, garbage collection, threads, classes, buffer
   * pools, process CPU and file descriptors: the client's {@link JvmMetrics}).
   */
  public static PrometheusRegistry newRegistry() {
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetrics.builder().register(registry);
    return registry;
  }

  /**
   * Listens on {@code address} ({@code host:port}; {@code :PORT} = every interface, port 0 = any
   * free port) and serves the three paths.
   *
   * @throws IllegalArgumentException if the address is malformed
   * @throws UncheckedIOException if it cannot be bound (the message says which and why)
   */
  public static MetricsServer start(
      String address,
      PrometheusRegistry registry,
      Supplier<Status> health,
      Supplier<Status> ready) {
    return start(address, registry, health, ready, MetricsSecurity.NONE);
  }

  /**
   * As {@link #start(String, PrometheusRegistry, Supplier, Supplier)}, secured by {@code security}.
   *
   * @throws IllegalArgumentException if the address is malformed or the TLS files cannot be used
   *     (naming the file and the problem)
   * @throws UncheckedIOException if it cannot be bound (the message says which and why)
   */
  public static MetricsServer start(
      String address,
      PrometheusRegistry registry,
      Supplier<Status> health,
      Supplier<Status> ready,
      MetricsSecurity security) {
    Addresses.HostPort hostPort = Addresses.parse(address);
    InetSocketAddress bind =
        hostPort.host().isEmpty()
            ? new InetSocketAddress(hostPort.port())
            : new InetSocketAddress(hostPort.host(), hostPort.port());
    ServerTls tls = security.tlsEnabled() ? ServerTls.open(security.tls()) : null;
    HttpServer server;
    try {
      if (tls == null) {
        server = HttpServer.create(bind, 16);
      } else {
        HttpsServer https = HttpsServer.create(bind, 16);
        https.setHttpsConfigurator(
            new HttpsConfigurator(tls.jdkContext()) {
              @Override
              public void configure(HttpsParameters parameters) {
                parameters.setSSLParameters(tls.jdkParameters());
              }
            });
        server = https;
      }
    } catch (IOException e) {
      if (tls != null) {
        tls.close();
      }
      throw new UncheckedIOException(
          "cannot listen for metrics on " + address + ": " + e.getMessage(), e);
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            THREADS,
            task ->
                Thread.ofPlatform()
                    .daemon()
                    .name("craq-metrics-http-" + threads.incrementAndGet())
                    .unstarted(task));
    server.setExecutor(executor);
    HttpContext metrics = server.createContext("/metrics", new MetricsHandler(registry));
    if (security.authenticationRequired()) {
      metrics.setAuthenticator(
          new ScrapeAuthenticator(security.users(), tls, PasswordChecks.shared()));
    }
    server.createContext("/health", new StatusHandler("/health", health));
    server.createContext("/ready", new StatusHandler("/ready", ready));
    server.createContext("/", MetricsServer::index);
    server.start();
    String bound =
        (hostPort.host().isEmpty() ? "" : hostPort.host()) + ":" + server.getAddress().getPort();
    log.info(
        "metrics on {}://{}/metrics{}, /health and /ready",
        tls == null ? "http" : "https",
        dialable(bound),
        security.authenticationRequired() ? " (users of the users file only)" : "");
    return new MetricsServer(server, executor, bound, tls);
  }

  /** The address bound ({@code :PORT} for every interface), with the real port after port 0. */
  public String address() {
    return address;
  }

  /** The port bound. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://host:port} (or {@code https://}) to reach this server from this machine. */
  public String url() {
    return (tls == null ? "http://" : "https://") + dialable(address);
  }

  private static String dialable(String address) {
    return address.startsWith(":") ? "127.0.0.1" + address : address;
  }

  /** Stops serving at once (a scrape in progress is cut off). Idempotent. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    if (tls != null) {
      tls.close();
    }
    try {
      if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
        log.debug("metrics threads still busy after 1 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code /}: what is served here; anything else is 404. */
  private static void index(HttpExchange exchange) throws IOException {
    if (exchange.getRequestURI().getPath().equals("/")) {
      respond(exchange, 200, "craq metrics: /metrics /health /ready\n");
    } else {
      respond(exchange, 404, "not found; try /metrics, /health or /ready\n");
    }
  }

  /** {@code /health} and {@code /ready}: 200 {@code ok} or 503 and the reason. */
  private record StatusHandler(String path, Supplier<Status> check) implements HttpHandler {
    @Override
    public void handle(HttpExchange exchange) throws IOException {
      if (!exchange.getRequestURI().getPath().equals(path)) {
        respond(exchange, 404, "not found; try /metrics, /health or /ready\n");
        return;
      }
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        respond(exchange, 405, "only GET and HEAD\n");
        return;
      }
      Status status;
      try {
        status = check.get();
      } catch (RuntimeException e) {
        status = Status.failing("the check failed: " + e);
      }
      String body =
          status.ok()
              ? (status.detail().isEmpty() ? "ok\n" : "ok: " + status.detail() + "\n")
              : status.detail() + "\n";
      respond(exchange, status.ok() ? 200 : 503, body);
    }
  }

  private static void respond(HttpExchange exchange, int code, String body) throws IOException {
    try (exchange) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }
}

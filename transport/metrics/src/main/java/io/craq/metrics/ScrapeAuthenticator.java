package io.craq.metrics;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpsExchange;
import io.craq.transport.RateLimitedWarning;
import io.craq.transport.ServerTls;
import io.craq.transport.security.AuthenticationException;
import io.craq.transport.security.PasswordChecks;
import io.craq.transport.security.Principal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may read {@code /metrics}: any user of the users file, by HTTP Basic credentials ({@code
 * Authorization: Basic}, as Prometheus's {@code basic_auth} sends them) or, over HTTPS, by a client
 * certificate: one of the cluster CA (a member), or one of the client CA whose CN is a user. Anyone
 * else gets 401 with {@code WWW-Authenticate: Basic}. Passwords are checked by {@link
 * PasswordChecks} (remembered once verified, refusals answered late); a wrong one is logged with
 * the user and the address, at most once a second, never the password.
 */
final class ScrapeAuthenticator extends Authenticator {
  private static final Logger log = LoggerFactory.getLogger(ScrapeAuthenticator.class);

  static final String REALM = "craq metrics";

  /** How long a scrape waits for its password check (a flood of checks queues them). */
  private static final long CHECK_TIMEOUT_SECONDS = 10;

  private final io.craq.transport.security.Authenticator users;
  private final ServerTls tls;
  private final PasswordChecks checks;
  private final RateLimitedWarning refusals = new RateLimitedWarning(1_000_000_000L);

  ScrapeAuthenticator(
      io.craq.transport.security.Authenticator users, ServerTls tls, PasswordChecks checks) {
    this.users = users;
    this.tls = tls;
    this.checks = checks;
  }

  @Override
  public Result authenticate(HttpExchange exchange) {
    String peer = String.valueOf(exchange.getRemoteAddress());
    if (tls != null && exchange instanceof HttpsExchange https) {
      ServerTls.Peer client = tls.peer(https.getSSLSession());
      if (client != null) {
        if (client.member()) {
          return new Success(new HttpPrincipal(client.commonName(), REALM));
        }
        try {
          Principal principal = users.forCertificate(client.commonName());
          return new Success(new HttpPrincipal(principal.name(), REALM));
        } catch (AuthenticationException e) {
          refusals.warn(
              log, "metrics: client certificate from {} refused: {}", peer, e.getMessage());
          // Credentials in the request may still do.
        }
      }
    }
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return challenge(exchange);
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(header.substring(6).strip());
    } catch (IllegalArgumentException e) {
      return challenge(exchange);
    }
    int colon = -1;
    for (int i = 0; i < decoded.length; i++) {
      if (decoded[i] == ':') {
        colon = i;
        break;
      }
    }
    if (colon <= 0) {
      Arrays.fill(decoded, (byte) 0);
      return challenge(exchange);
    }
    String user = new String(decoded, 0, colon, StandardCharsets.UTF_8);
    byte[] secret = Arrays.copyOfRange(decoded, colon + 1, decoded.length);
    Arrays.fill(decoded, (byte) 0);
    try {
      Principal principal =
          checks.authenticate(users, user, secret).get(CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return new Success(new HttpPrincipal(principal.name(), REALM));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuthenticationException refused) {
        refusals.warn(
            log,
            "metrics: credentials of user '{}' from {} refused: {}",
            user,
            peer,
            refused.getMessage());
      } else {
        log.error("metrics: checking the credentials of user '{}' failed", user, e.getCause());
      }
      return challenge(exchange);
    } catch (TimeoutException e) {
      return new Failure(503);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Failure(503);
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
  }

  private static Result challenge(HttpExchange exchange) {
    exchange
        .getResponseHeaders()
        .set("WWW-Authenticate", "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
    return new Retry(401);
  }
}

package io.craq.metrics;

import io.craq.transport.security.Authenticator;
import io.craq.transport.security.TlsSettings;

/**
 * How the metrics port is secured.
 *
 * @param tls HTTPS (TLS 1.3 only) with this process's certificate, and the cluster and client CAs
 *     for client certificates; null for plain HTTP
 * @param users who may read {@code /metrics}: any user of it, by HTTP Basic credentials or by a
 *     client certificate its CN names (and any member certificate); null lets anyone read it.
 *     {@code /health} and {@code /ready} stay open either way
 */
public record MetricsSecurity(TlsSettings tls, Authenticator users) {
  /** Plain HTTP, no authentication: the default. */
  public static final MetricsSecurity NONE = new MetricsSecurity(null, null);

  public boolean tlsEnabled() {
    return tls != null;
  }

  public boolean authenticationRequired() {
    return users != null;
  }
}

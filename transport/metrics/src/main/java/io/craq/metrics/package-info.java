/**
 * The HTTP endpoint a node or coordinator opens with {@code --metrics-listen}: {@code /metrics} in
 * the Prometheus text format (and the formats the Prometheus Java client negotiates), {@code
 * /health} and {@code /ready}. What the metrics are is up to each process.
 */
package io.craq.metrics;

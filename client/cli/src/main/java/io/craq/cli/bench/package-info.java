/**
 * {@code craq bench} (load, latency and throughput of a chain, with an echo baseline) and {@code
 * craq plot} (charts from a results table). See docs/BENCH.md.
 */
package io.craq.cli.bench;

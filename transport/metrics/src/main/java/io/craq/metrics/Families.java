package io.craq.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;

/**
 * Metric families read at scrape time, gathered for one {@code MultiCollector.collect()}: counters
 * and gauges with or without labels. Not thread-safe: one per scrape.
 */
public final class Families {
  private final List<MetricSnapshot> snapshots = new ArrayList<>();

  /** A counter without labels; {@code name} without {@code _total} (the exposition adds it). */
  public Families counter(String name, String help, double value) {
    snapshots.add(
        CounterSnapshot.builder()
            .name(name)
            .help(help)
            .dataPoint(CounterDataPointSnapshot.builder().value(value).build())
            .build());
    return this;
  }

  /** A gauge without labels. */
  public Families gauge(String name, String help, double value) {
    snapshots.add(
        GaugeSnapshot.builder()
            .name(name)
            .help(help)
            .dataPoint(GaugeDataPointSnapshot.builder().value(value).build())
            .build());
    return this;
  }

  /** A gauge family with labels: add its series to the returned builder, then {@link #add}. */
  public LabelledGauge labelledGauge(String name, String help) {
    return new LabelledGauge(this, GaugeSnapshot.builder().name(name).help(help));
  }

  /** Every family gathered so far. */
  public MetricSnapshots build() {
    return new MetricSnapshots(snapshots);
  }

  /** A gauge family being filled (see {@link Families#labelledGauge}). */
  public static final class LabelledGauge {
    private final Families families;
    private final GaugeSnapshot.Builder builder;

    private LabelledGauge(Families families, GaugeSnapshot.Builder builder) {
      this.families = families;
      this.builder = builder;
    }

    /** One series: its value and its labels as name, value, name, value... */
    public LabelledGauge series(double value, String... labels) {
      builder.dataPoint(
          GaugeDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build());
      return this;
    }

    /** Adds the family (even with no series: its type and help are still exposed). */
    public Families add() {
      families.snapshots.add(builder.build());
      return families;
    }
  }
}

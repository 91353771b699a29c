// OpenTelemetry metrics rendered as Prometheus text on demand, without a server: each worker
// answers the primary's scrape with it, and the primary adds its own before summing.
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { checkedMeter } from '@trellis/core';

export interface MetricsRegistry {
  /** A Meter for one module (names checked as @trellis/core's createMetrics does). */
  meter(scope: string): Meter;
  /** The current values in the Prometheus text format (no scope info, no target_info, as Istio). */
  text(): Promise<string>;
  close(): Promise<void>;
}

export function createMetricsRegistry(): MetricsRegistry {
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    withoutTargetInfo: true,
  });
  const provider = new MeterProvider({ readers: [exporter] });
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  return {
    meter: (scope) => checkedMeter(provider.getMeter(scope)),
    async text() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
    close: () => provider.shutdown(),
  };
}

// OpenTelemetry meters rendered in the Prometheus text format, without a server of their own: for
// processes that serve metrics on a port shared with other pages (the control plane's 15014) or
// gather them from several processes (ztunnel's primary sums its workers' text).
// Names are exported exactly as written: checkedMeter refuses names the exporter would rewrite.
// Scope labels and target_info are left out: Istio's metrics carry neither.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { checkedMeter } from './metric-names.js';

export interface MetricsRegistry {
  /** A Meter for one module; a name the exporter would rewrite throws when the instrument is created. */
  meter(scope: string): Meter;
  /** The current values in the Prometheus text format. */
  text(): Promise<string>;
  /** Answers an HTTP request with the current values. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Shuts the meter provider down. */
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
    handle: (req, res) => exporter.getMetricsRequestHandler(req, res),
    close: () => provider.shutdown(),
  };
}

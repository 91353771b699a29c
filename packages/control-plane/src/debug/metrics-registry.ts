// The control plane's metrics, rendered in the Prometheus text format by the debug server (15014
// serves metrics and debug pages on one port, so core's standalone /metrics server is not used).
// Names are exported exactly as written: checkedMeter refuses names the exporter would rewrite.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { checkedMeter } from '@trellis/core';

export interface MetricsRegistry {
  /** A Meter for one module. */
  meter(scope: string): Meter;
  /** Writes the current metrics as the response. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
}

export function createMetricsRegistry(): MetricsRegistry {
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    withoutTargetInfo: true,
  });
  const provider = new MeterProvider({ readers: [exporter] });
  return {
    meter: (scope) => checkedMeter(provider.getMeter(scope)),
    handle: (req, res) => exporter.getMetricsRequestHandler(req, res),
    stop: () => provider.shutdown(),
  };
}

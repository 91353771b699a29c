// OpenTelemetry meters rendered in the Prometheus text format, without a server of their own: for
// processes that serve metrics on a port shared with other pages (the control plane's 15014) or
// gather them from several processes (ztunnel's primary sums its workers' text).
// Names are exported exactly as written (prometheus-text.ts), counters without "_total" included;
// checkedMeter refuses names Prometheus cannot carry. Scope labels and target_info are left out:
// Istio's metrics carry neither.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { checkedMeter } from './metric-names.js';
import { renderPrometheusText } from './prometheus-text.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsRegistry {
  /** A Meter for one module; a name Prometheus cannot carry throws when the instrument is created. */
  meter(scope: string): Meter;
  /** The current values in the Prometheus text format. */
  text(): Promise<string>;
  /** Answers an HTTP request with the current values. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Shuts the meter provider down. */
  close(): Promise<void>;
}

/** A reader that collects only when asked (a scrape); cumulative, as Prometheus expects. */
class PullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function createMetricsRegistry(): MetricsRegistry {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const text = async () => renderPrometheusText((await reader.collect()).resourceMetrics);
  return {
    meter: (scope) => checkedMeter(provider.getMeter(scope)),
    text,
    handle(req, res) {
      text().then(
        (body) => {
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`collecting metrics failed: ${String(err)}\n`);
        },
      );
    },
    close: () => provider.shutdown(),
  };
}

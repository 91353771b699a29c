// OpenTelemetry metrics served in the Prometheus text format on /metrics and on Istio's
// /stats/prometheus. Each module asks for its own Meter by scope name and declares its
// instruments next to the code that updates them.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { createMetricsRegistry } from './metrics-registry.js';

export const METRICS_PATHS = ['/metrics', '/stats/prometheus'] as const;

export interface MetricsOptions {
  /** Address to listen on; default every interface. */
  readonly host?: string;
  /** Port to listen on (Istio uses 15020); 0 picks a free one. */
  readonly port: number;
}

export interface Metrics {
  /** The port actually listened on. */
  readonly port: number;
  /**
   * A Meter for one module. Instrument names are exported unchanged (counters without "_total"
   * too); a name Prometheus cannot carry (a '.' or '-' in it) throws when the instrument is created.
   */
  meter(scope: string): Meter;
  /** Closes the endpoint and shuts the meter provider down. */
  stop(): Promise<void>;
}

export async function createMetrics(opts: MetricsOptions): Promise<Metrics> {
  const registry = createMetricsRegistry();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (
      (METRICS_PATHS as readonly string[]).includes(path) &&
      (req.method === 'GET' || req.method === 'HEAD')
    ) {
      registry.handle(req, res);
    } else {
      res.statusCode = 404;
      res.end(`not found; metrics are served on ${METRICS_PATHS.join(' and ')}\n`);
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await registry.close();
    throw err;
  }

  return {
    port: (server.address() as AddressInfo).port,
    meter: (scope) => registry.meter(scope),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await registry.close();
    },
  };
}

// The metrics server (15020: /metrics and /stats/prometheus = OpenTelemetry registry + Istio request
// metrics + Envoy cluster stats) and the readiness server (15021: /healthz/ready).
import { createServer, type Server } from 'node:http';
import { reply } from './http-util.js';

export const READY_PATH = '/healthz/ready';

export function createMetricsServer(text: () => Promise<string>): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/stats/prometheus')
      return reply(res, 404, 'metrics are served on /metrics and /stats/prometheus\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'use GET\n');
    text().then(
      (t) => reply(res, 200, t, 'text/plain; version=0.0.4; charset=utf-8'),
      (err: Error) => reply(res, 500, `${err.message}\n`),
    );
  });
}

/** `notReady()` returns why it is not ready, or undefined when it is. */
export function createReadinessServer(notReady: () => string | undefined): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== READY_PATH) return reply(res, 404, `readiness is served on ${READY_PATH}\n`);
    const why = notReady();
    if (why === undefined) return reply(res, 200, 'ready\n');
    reply(res, 503, `not ready: ${why}\n`);
  });
}

// The metrics endpoint (15020, /metrics and /stats/prometheus): this process's metrics summed with
// the workers' (--workers > 1), which it asks for on each scrape. Returned unstarted.
import { createServer, type Server } from 'node:http';
import { METRICS_PATHS } from '@trellis/core';
import { mergePrometheusTexts } from '../workers/prometheus-merge.js';
import { sendText } from './respond.js';

export function createMetricsServer(sources: () => Promise<readonly string[]>): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!(METRICS_PATHS as readonly string[]).includes(path ?? ''))
      return sendText(
        res,
        404,
        `not found; metrics are served on ${METRICS_PATHS.join(' and ')}\n`,
      );
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'use GET\n');
    sources().then(
      (texts) => sendText(res, 200, mergePrometheusTexts(texts)),
      (err: Error) => sendText(res, 500, `metrics: ${err.message}\n`),
    );
  });
  // The answer takes a round trip to the workers; a client that half-closes after its request
  // (HTTP/1.0 style) must still get it, so the client's FIN does not end the connection.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  return server;
}

// The readiness endpoint (port 15021): GET /healthz/ready answers 200 when ready, 503 naming what
// it still waits for. The server is returned unstarted so the lifecycle can track it first.
import { createServer, type Server } from 'node:http';
import type { Readiness } from './readiness.js';
import { sendText } from './respond.js';

export const READINESS_PATH = '/healthz/ready';

export function createReadinessServer(readiness: Readiness): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== READINESS_PATH)
      return sendText(res, 404, `not found; readiness is served on ${READINESS_PATH}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'use GET\n');
    if (readiness.ready) return sendText(res, 200, 'ready\n');
    sendText(res, 503, `not ready: waiting for ${readiness.pending().join(', ')}\n`);
  });
}

// The monitoring and debug HTTP server (15014): /ready, /metrics (also /stats/prometheus),
// /debug/syncz, /debug/configz. Read-only; register it with the lifecycle before listen().
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '@trellis/core';
import type { MetricsRegistry } from '@trellis/core';

export interface DebugSources {
  /** Whether the first snapshot has been served. */
  ready(): boolean;
  syncz(): unknown;
  configz(): unknown;
  readonly metrics: MetricsRegistry;
}

export interface DebugServer {
  readonly server: Server;
  /** Starts listening; resolves with the port. */
  listen(address: HostPort): Promise<number>;
  readonly port: number;
}

const ENDPOINTS = {
  '/ready': '200 once the first snapshot is served, else 503',
  '/metrics': 'Prometheus metrics (also /stats/prometheus)',
  '/debug/syncz': 'each connected proxy: subscribed types, sent and ACKed versions, NACKs',
  '/debug/configz': 'ingested objects, derived mesh state, served resource versions, notes',
};

export function createDebugServer(sources: DebugSources): DebugServer {
  const server = createServer((req, res) => route(sources, req, res));
  return {
    server,
    listen: (address) =>
      new Promise((resolve, reject) => {
        server.once('error', (err) =>
          reject(
            new Error(
              `--debug-address ${address.host}:${address.port}: cannot listen (${err.message})`,
            ),
          ),
        );
        server.listen({ host: address.host || undefined, port: address.port }, () =>
          resolve((server.address() as AddressInfo).port),
        );
      }),
    get port() {
      return (server.address() as AddressInfo | null)?.port ?? 0;
    },
  };
}

function route(s: DebugSources, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET\n');
  try {
    switch (path) {
      case '/ready':
        return s.ready()
          ? text(res, 200, 'ready\n')
          : text(res, 503, 'waiting for the first snapshot\n');
      case '/metrics':
      case '/stats/prometheus':
        return s.metrics.handle(req, res);
      case '/debug/syncz':
        return json(res, s.syncz());
      case '/debug/configz':
        return json(res, s.configz());
      case '/debug':
      case '/':
        return json(res, ENDPOINTS);
      default:
        return text(res, 404, `not found; endpoints: ${Object.keys(ENDPOINTS).join(', ')}\n`);
    }
  } catch (err) {
    text(res, 500, `${(err as Error).message}\n`);
  }
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

function json(res: ServerResponse, value: unknown): void {
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify(value, null, 2) + '\n');
}

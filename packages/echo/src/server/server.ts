// Starts the server's listeners (HTTP, gRPC, TCP; TLS where asked), reports ready once all are
// up, and drains like upstream on SIGTERM/SIGINT: keep serving while requests still arrive, stop
// one second after the last one (ten seconds at most; a second signal stops at once).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Server } from 'node:net';
import type { Listener, ServerConfig } from '../server-config.pure.js';
import type { EndpointContext } from './context.js';
import { grpcEndpoint } from './grpc-endpoint.js';
import { httpServer } from './http-endpoint.js';
import { tcpServer } from './tcp-endpoint.js';

const DRAIN_QUIET_MS = 1000;
const DRAIN_MAX_MS = 10_000;

export interface RunningServer {
  /** The listeners with their actual ports (a port 0 is chosen by the system). */
  listeners: Listener[];
  /** Waits for requests to stop arriving, then closes everything. */
  drain(): Promise<void>;
  close(): void;
}

export async function startServer(
  config: ServerConfig,
  log: (message: string) => void = (m) => console.log(m),
): Promise<RunningServer> {
  let ready = false;
  let lastRequest = Date.now();
  const needsTls = config.listeners.some((l) => l.tls);
  const ctx: EndpointContext = {
    identity: {
      version: config.version,
      cluster: config.cluster,
      istioVersion: config.istioVersion,
      hostname: hostname(),
    },
    isReady: () => ready,
    reportRequest: () => (lastRequest = Date.now()),
    log,
    cert: needsTls ? readPem(config.crt, '--crt') : undefined,
    key: needsTls ? readPem(config.key, '--key') : undefined,
    disableAlpn: config.disableAlpn,
  };
  const servers: Server[] = [];
  const closers: Array<() => void> = [];
  const started: Listener[] = [];
  try {
    for (const l of config.listeners) {
      let server: Server;
      if (l.protocol === 'grpc') {
        const g = grpcEndpoint(ctx, l.tls);
        closers.push(() => g.close());
        server = g.listener;
      } else {
        server = l.protocol === 'http' ? httpServer(ctx, l.tls) : tcpServer(ctx, l.tls);
      }
      servers.push(server);
      const port = await listen(server, l.port);
      started.push({ ...l, port });
      log(`Listening ${describe(l)} on ${port}`);
    }
  } catch (e) {
    for (const s of servers) s.close();
    for (const c of closers) c();
    throw e;
  }
  ready = true;
  log('Echo server is now ready');

  const close = () => {
    for (const s of servers) {
      s.close();
      (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    }
    for (const c of closers) c();
  };
  return {
    listeners: started,
    close,
    async drain() {
      const deadline = Date.now() + DRAIN_MAX_MS;
      lastRequest = Date.now();
      while (Date.now() < deadline && Date.now() - lastRequest < DRAIN_QUIET_MS)
        await new Promise((r) => setTimeout(r, 100));
      close();
    },
  };
}

function describe(l: Listener): string {
  const name = { http: 'HTTP/1.1 and h2c', grpc: 'gRPC', tcp: 'TCP' }[l.protocol];
  if (!l.tls) return name;
  return { http: 'HTTPS (HTTP/1.1 and h2)', grpc: 'gRPC over TLS', tcp: 'TCP over TLS' }[
    l.protocol
  ];
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`could not load TLS keys: ${flag}=${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Listens on all addresses (IPv6 and IPv4 where the host has both); resolves the actual port. */
function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`cannot listen on port ${port}: ${e.message}`));
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

// Backends and clients for component tests: real node:http / node:http2 servers on 127.0.0.x
// behind a destination "ztunnel" (HBONE server) each, and small client helpers that go through the
// fixture's source port.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { startDestination, type Fixture, type Mesh, spiffe } from './fixture.js';

export { metricSum } from './metric-sum.js';

/**
 * A port unique to this test process (tests of other files and packages run beside it). The pid
 * is spread by a large prime: with 7, two files whose pids differed by 10 and whose offsets by 70
 * (gateway.test 72, sds.test 142) shared a port, and one test's client reached the other's proxy.
 * Below Linux's ephemeral range (32768-60999): a port there can be the local end of some
 * connection of a test beside this one, and a listener then fails with EADDRINUSE (seen on a
 * fresh machine: the gateway's WebSocket test, port 37344).
 */
export function testPort(offset: number): number {
  return 20000 + ((process.pid * 1009 + offset) % 12000);
}

export interface Backend {
  readonly ip: string;
  readonly port: number;
  readonly identity: string;
  /** Requests seen: method, path, headers. */
  readonly seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  /** Peers that opened HBONE tunnels to this backend's ztunnel. */
  readonly peers: string[];
}

export type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

/** An HTTP/1.1 app at ip:port behind an HBONE destination on ip:hbonePort. */
export async function httpBackend(
  t: TestContext,
  mesh: Mesh,
  o: {
    ip: string;
    port: number;
    hbonePort: number;
    name?: string;
    namespace?: string;
    handler?: Handler;
  },
): Promise<Backend> {
  const identity = spiffe(o.namespace ?? 'default', o.name ?? 'backend');
  const seen: Backend['seen'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (o.handler) o.handler(req, body, res);
      else {
        res.setHeader('x-backend', o.name ?? o.ip);
        res.end(`${o.name ?? o.ip} ${req.method} ${req.url}`);
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(o.port, o.ip);
  await once(server, 'listening');
  const dest = await startDestination(mesh, o.ip, o.hbonePort, identity);
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    await dest.server.close({ drainMs: 0 });
  });
  return { ip: o.ip, port: o.port, identity, seen, peers: dest.peers };
}

/** An h2c app (HTTP/2 with prior knowledge, e.g. for gRPC-shaped responses). */
export async function h2Backend(
  t: TestContext,
  mesh: Mesh,
  o: {
    ip: string;
    port: number;
    hbonePort: number;
    name?: string;
    onStream?: (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => void;
  },
): Promise<{ ip: string; port: number; identity: string }> {
  const identity = spiffe('default', o.name ?? 'h2backend');
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (o.onStream) return o.onStream(stream, headers);
    let body = '';
    stream.on('data', (d) => (body += d));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'x-proto': 'h2', 'content-type': 'text/plain' });
      stream.end(`h2 ${headers[':method']} ${headers[':path']} ${body.length}`);
    });
  });
  server.listen(o.port, o.ip);
  await once(server, 'listening');
  const dest = await startDestination(mesh, o.ip, o.hbonePort, identity);
  t.after(async () => {
    server.close();
    await dest.server.close({ drainMs: 0 });
  });
  return { ip: o.ip, port: o.port, identity };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request through a fixture source port (or to `address`:port). */
export function request(
  port: number,
  o: {
    address?: string;
    path?: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent | false;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: o.address ?? '127.0.0.1',
        port,
        path: o.path ?? '/',
        method: o.method ?? 'GET',
        headers: { host: 'svc.default.svc.cluster.local', ...o.headers },
        agent: o.agent ?? false,
      },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Raw bytes over a TCP connection to the source port; resolves with everything read until close or `until`. */
export function rawExchange(
  port: number,
  data: string | Buffer,
  until?: (text: string) => boolean,
  timeoutMs = 5000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(text);
    }, timeoutMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (until?.(text)) {
        clearTimeout(timer);
        s.destroy();
        resolve(text);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    s.on('error', reject);
    s.write(data);
  });
}

export async function metricsText(f: Fixture): Promise<string> {
  return (await fetch(`http://127.0.0.1:${f.waypoint.ports.metrics}/metrics`)).text();
}

// HTTP and HTTPS requests, HTTP/1.1 (plain HTTP keeps its connections alive across the set, as
// upstream's shared client does, unless a new connection per request is asked for; HTTPS always
// opens a new one) or HTTP/2 (--http2: h2c with prior knowledge, or h2 over TLS; one connection for
// the whole set unless a new one per request is asked for). The request target and Host are sent
// exactly as written; redirects are followed only with --follow-redirects (at most 10).
import {
  Agent as Http1Agent,
  request as http1Request,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { request as https1Request } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { httpExchangeOutput } from '../fields.pure.js';
import { ForwardError, type ForwardPlan } from '../forward-request.pure.js';
import { latencySince, MAX_CONCURRENCY, runRequests, type ActiveCounter } from './run.js';
import { tlsOptions } from './tls-material.js';

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Target {
  https: boolean;
  host: string;
  port: number;
  authority: string;
  path: string;
  hostHeader: string;
  method: string;
}

interface Answer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
  sourceIp: string;
}

export async function forwardHttp(plan: ForwardPlan, counter: ActiveCounter): Promise<string[]> {
  const tls = plan.scheme === 'https' ? tlsOptions(plan.tls) : undefined;
  const sessions = new H2Sessions(plan, tls);
  // One pool of kept-alive connections for the set's plain HTTP/1.1 requests (as many as run at once).
  const agent =
    plan.http2 || plan.newConnectionPerRequest
      ? undefined
      : new Http1Agent({ keepAlive: true, maxSockets: MAX_CONCURRENCY });
  try {
    return await runRequests(
      plan,
      async (id, signal) => {
        const start = process.hrtime.bigint();
        const a = await exchange(plan, tls, sessions, agent, signal);
        return httpExchangeOutput(id, {
          url: plan.url,
          sentHeaders: plan.headers,
          sourceIp: a.sourceIp,
          latency: latencySince(start),
          activeRequests: counter.active,
          status: a.status,
          responseHeaders: a.headers,
          body: a.body,
        });
      },
      counter,
    );
  } finally {
    sessions.close();
    agent?.destroy();
  }
}

async function exchange(
  plan: ForwardPlan,
  tls: ConnectionOptions | undefined,
  sessions: H2Sessions,
  agent: Http1Agent | undefined,
  signal: AbortSignal,
): Promise<Answer> {
  let target: Target = {
    https: plan.scheme === 'https',
    host: plan.host,
    port: plan.port,
    authority: plan.authority,
    path: plan.path,
    hostHeader: plan.hostHeader,
    method: plan.method,
  };
  for (let hop = 0; ; hop++) {
    const answer = plan.http2
      ? await sendH2(sessions, target, plan, signal)
      : await sendH1(target, plan, tls, target.https ? undefined : agent, signal);
    const location = answer.headers.find(([k]) => k.toLowerCase() === 'location')?.[1];
    if (!plan.followRedirects || !REDIRECTS.has(answer.status) || !location) return answer;
    if (hop + 1 >= MAX_REDIRECTS)
      throw new ForwardError(`stopped after ${MAX_REDIRECTS} redirects`);
    target = redirected(target, location, answer.status);
  }
}

/** Where a redirect leads: 301/302/303 become GET (HEAD stays HEAD), 307/308 keep the method. */
function redirected(from: Target, location: string, status: number): Target {
  const base = `${from.https ? 'https' : 'http'}://${from.authority}${from.path}`;
  let u: URL;
  try {
    u = new URL(location, base);
  } catch {
    throw new ForwardError(`redirect to an invalid Location "${location}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ForwardError(`redirect to unsupported scheme ${u.protocol}`);
  const https = u.protocol === 'https:';
  return {
    https,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : https ? 443 : 80,
    authority: u.host,
    path: `${u.pathname}${u.search}`,
    // A Host given by the caller is kept only while the redirects stay on the same host.
    hostHeader: u.host === from.authority ? from.hostHeader : '',
    method:
      status === 307 || status === 308 ? from.method : from.method === 'HEAD' ? 'HEAD' : 'GET',
  };
}

function sendH1(
  t: Target,
  plan: ForwardPlan,
  tls: ConnectionOptions | undefined,
  agent: Http1Agent | undefined,
  signal: AbortSignal,
): Promise<Answer> {
  // Raw name/value pairs: names keep their case and repeat as given.
  const headers = ['Host', t.hostHeader || t.authority, ...plan.headers.flat()];
  const options = {
    host: t.host,
    port: t.port,
    family: plan.family || undefined,
    method: t.method,
    path: t.path,
    headers,
    setHost: false,
    agent: agent ?? (false as const),
    signal,
  };
  return new Promise((resolve, reject) => {
    const req = t.https
      ? https1Request({ ...options, ...tls, ...(tls?.servername ? {} : serverNameFor(t)) })
      : http1Request(options);
    let sourceIp = '';
    // A kept-alive socket is connected already; a new one says its address once it connects.
    req.on('socket', (s) => {
      if (s.connecting) s.once('connect', () => (sourceIp = s.localAddress ?? ''));
      else sourceIp = s.localAddress ?? '';
    });
    req.on('error', (e) =>
      reject(new ForwardError(`${t.method} ${t.authority}${t.path}: ${e.message}`)),
    );
    req.on('response', (res) => {
      sourceIp ||= res.socket.localAddress ?? '';
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: pairs(res.rawHeaders),
          body: Buffer.concat(chunks).toString('utf8'),
          sourceIp,
        }),
      );
    });
    req.end();
  });
}

/** Without an explicit server name, TLS names the Host header's host (upstream's SNI rule). */
function serverNameFor(t: Target): ConnectionOptions {
  if (!t.hostHeader) return {};
  return { servername: t.hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') };
}

class H2Sessions {
  private shared: ClientHttp2Session | undefined;
  constructor(
    private plan: ForwardPlan,
    private tls: ConnectionOptions | undefined,
  ) {}

  open(t: Target): { session: ClientHttp2Session; done: () => void } {
    const reuse =
      !this.plan.newConnectionPerRequest &&
      t.host === this.plan.host &&
      t.port === this.plan.port &&
      t.https === (this.plan.scheme === 'https');
    if (reuse && this.shared && !this.shared.closed && !this.shared.destroyed)
      return { session: this.shared, done: () => {} };
    const authority = `${t.https ? 'https' : 'http'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    const session = http2Connect(authority, {
      ...(t.https ? { ...this.tls, ...(this.tls?.servername ? {} : serverNameFor(t)) } : {}),
      family: this.plan.family || undefined,
    } as ConnectionOptions);
    session.on('error', () => {});
    if (reuse) {
      this.shared = session;
      return { session, done: () => {} };
    }
    return { session, done: () => session.close() };
  }

  close(): void {
    this.shared?.close();
  }
}

function sendH2(
  sessions: H2Sessions,
  t: Target,
  plan: ForwardPlan,
  signal: AbortSignal,
): Promise<Answer> {
  const { session, done } = sessions.open(t);
  let fail: (e: Error) => void = () => {};
  return new Promise<Answer>((resolve, reject) => {
    fail = (e: Error) =>
      reject(new ForwardError(`${t.method} ${t.authority}${t.path}: ${e.message}`));
    const headers: OutgoingHttpHeaders = {
      ':method': t.method,
      ':path': t.path,
      ':authority': t.hostHeader || t.authority,
      ':scheme': t.https ? 'https' : 'http',
    };
    for (const [k, v] of plan.headers) {
      const key = k.toLowerCase();
      const prev = headers[key];
      headers[key] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [String(prev)]), v];
    }
    session.once('error', fail);
    const stream = session.request(headers, { signal, endStream: true });
    stream.on('error', fail);
    stream.on('response', (h: IncomingHttpHeaders & { ':status'?: number }) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        resolve({
          status: Number(h[':status']),
          headers: Object.entries(h).flatMap(([k, v]) =>
            k.startsWith(':') || v === undefined
              ? []
              : (Array.isArray(v) ? v : [String(v)]).map((x) => [k, x] as [string, string]),
          ),
          body: Buffer.concat(chunks).toString('utf8'),
          sourceIp: session.socket?.localAddress ?? '',
        }),
      );
    });
  }).finally(() => {
    session.off('error', fail);
    done();
  });
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

// Helpers shared by this package's tests (not exported from index.ts): a small mesh PKI, an HBONE
// server on 127.0.0.1 with its own TCP listener, plain TCP "applications", and stream utilities.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import {
  createRootCa,
  generateKeyPair,
  issueWorkloadCertificate,
  parseTrustBundle,
  type CaCredentials,
  type TrustBundle,
} from '@trellis/pki';
import { HboneClient, type HboneClientOptions } from '../client.js';
import type { ClientCredentials } from '../connection.js';
import type { ConnectRequest, TunnelStats } from '../server-stream.js';
import { HboneServer, type HboneServerOptions } from '../server.js';
import { STREAM_WINDOW_BYTES } from '../settings.js';

const DAY = 86_400_000;

export function spiffe(serviceAccount: string, trustDomain = 'cluster.local'): string {
  return `spiffe://${trustDomain}/ns/default/sa/${serviceAccount}`;
}

export interface Pki {
  readonly root: CaCredentials;
  /** The root, bound to trust domain cluster.local. */
  readonly trustBundle: TrustBundle;
  /** A workload key and chain for `identity`, with this PKI's trust bundle. */
  workload(identity: string): Promise<ClientCredentials>;
}

export async function makePki(commonName = 'Test Root CA'): Promise<Pki> {
  const root = await createRootCa({ commonName, ttlMs: 10 * DAY });
  const trustBundle = parseTrustBundle(root.cert, { trustDomain: 'cluster.local' });
  return {
    root,
    trustBundle,
    async workload(identity) {
      const keys = await generateKeyPair();
      const issued = await issueWorkloadCertificate({
        publicKey: keys.publicKey,
        identity,
        issuer: root,
        ttlMs: DAY,
      });
      return { key: keys.privateKey, certChain: issued.chain, trustBundle };
    },
  };
}

export interface RunningServer {
  readonly server: HboneServer;
  readonly port: number;
  /** Every CONNECT the owner was asked about, in order. */
  readonly requests: ConnectRequest[];
  /** Every tunnel that ended, in order. */
  readonly closed: Array<{ request: ConnectRequest; stats: TunnelStats }>;
  /** Every connection refused before serving a stream. */
  readonly refused: Error[];
  /** TCP connections accepted so far. */
  accepted(): number;
  /** Resolves when the n-th accepted TCP connection has closed (1-based). */
  connectionClosed(n: number): Promise<void>;
}

/**
 * An HBONE server fed by a TCP listener on 127.0.0.1 (so the test sees each TCP connection); it
 * presents `certificate`'s identity for every destination unless options.certificateFor says else.
 */
export async function startServer(
  t: TestContext,
  pki: Pki,
  identity: string,
  options: Partial<HboneServerOptions> = {},
): Promise<RunningServer> {
  const certificate = await pki.workload(identity);
  const requests: ConnectRequest[] = [];
  const closed: Array<{ request: ConnectRequest; stats: TunnelStats }> = [];
  const refused: Error[] = [];
  const server = new HboneServer({
    trustBundle: pki.trustBundle,
    certificateFor: () => certificate,
    ...options,
    onConnect: (request) => {
      requests.push(request);
      return options.onConnect ? options.onConnect(request) : { allow: true };
    },
    onStreamClosed: (request, stats) => closed.push({ request, stats }),
  });
  server.on('clientError', (err) => refused.push(err));
  const sockets: net.Socket[] = [];
  const listener = net.createServer((socket) => {
    sockets.push(socket);
    server.handle(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    listener.close();
    await server.close({ drainMs: 0 });
  });
  return {
    server,
    port: (listener.address() as net.AddressInfo).port,
    requests,
    closed,
    refused,
    accepted: () => sockets.length,
    connectionClosed: async (n) => {
      while (sockets.length < n) await once(listener, 'connection');
      const socket = sockets[n - 1] as net.Socket;
      if (!socket.destroyed) await once(socket, 'close');
    },
  };
}

export function startClient(t: TestContext, options: HboneClientOptions = {}): HboneClient {
  const client = new HboneClient(options);
  t.after(() => client.close());
  return client;
}

export interface App {
  readonly port: number;
  /** Accepted connections, in order. */
  readonly sockets: net.Socket[];
  /** Resolves with the n-th accepted socket (1-based). */
  socket(n?: number): Promise<net.Socket>;
}

/** A TCP server on 127.0.0.1 allowing half-open connections; `onSocket` runs for each one. */
export async function startApp(
  t: TestContext,
  onSocket: (socket: net.Socket) => void = () => undefined,
): Promise<App> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    async socket(n = 1) {
      while (sockets.length < n) await once(server, 'connection');
      return sockets[n - 1] as net.Socket;
    },
  };
}

/** Writes `data` in 64 KiB chunks, waiting for 'drain' when asked to, then ends the stream. */
export async function writeAll(stream: Writable, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 65536) {
    if (!stream.write(data.subarray(at, at + 65536))) await once(stream, 'drain');
  }
  stream.end();
}

/**
 * Reads `stream` to its end: the SHA-256 and length of what arrived. Event based: async iteration
 * would destroy a Duplex at the end of its readable side, cutting its other direction.
 */
export function digest(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    stream.once('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
    stream.once('error', reject);
  });
}

/** Reads `stream` to its end as UTF-8 (event based, see digest). */
export function readText(stream: Readable): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    stream.once('end', () => resolve(text));
    stream.once('error', reject);
  });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Waits for the first 'error' of `stream` and returns it. */
export function errorOf(
  stream: NodeJS.EventEmitter,
): Promise<Error & { code?: string; rstCode?: number }> {
  return new Promise((resolve) => stream.once('error', resolve));
}

const MiB = 1024 * 1024;

/** The kernel's largest TCP send / receive buffer (third field of tcp_wmem / tcp_rmem). */
function tcpBufferMax(which: 'tcp_wmem' | 'tcp_rmem', fallback: number): number {
  try {
    return Number(readFileSync(`/proc/sys/net/ipv4/${which}`, 'utf8').trim().split(/\s+/)[2]);
  } catch {
    return fallback;
  }
}

/**
 * What may be in flight from a writer to a paused reader: one HTTP/2 stream window (it covers the
 * HBONE connection and the receiving side's buffer), the plain TCP hop's send and receive buffers,
 * and 1 MiB for the 16-64 KiB buffers of the streams along the way.
 */
export const IN_FLIGHT_BOUND =
  STREAM_WINDOW_BYTES +
  tcpBufferMax('tcp_wmem', 4 * MiB) +
  tcpBufferMax('tcp_rmem', 6 * MiB) +
  1 * MiB;

/**
 * Writes up to `limit` bytes (of `data` when given) as fast as `stream` accepts them. `produced()` says how many were
 * handed over; `stalled()` resolves once the writer waits for 'drain' and nothing moved for a while,
 * or when it wrote everything (nothing held it back).
 */
export function flood(stream: Writable, limit: number, data?: Buffer) {
  const filler = Buffer.alloc(64 * 1024, 0x5a);
  let produced = 0;
  let waiting = false;
  let finished = false;
  const done = (async () => {
    while (produced < limit) {
      const chunk = data ? data.subarray(produced, produced + filler.length) : filler;
      produced += chunk.length;
      if (!stream.write(chunk)) {
        waiting = true;
        await once(stream, 'drain');
        waiting = false;
      }
    }
    stream.end();
    finished = true;
  })();
  return {
    done,
    produced: () => produced,
    async stalled(): Promise<void> {
      let last = -1;
      let still = 0;
      while (still < 10 && !finished) {
        await new Promise((r) => setTimeout(r, 50));
        still = waiting && produced === last ? still + 1 : 0;
        last = produced;
      }
    },
  };
}

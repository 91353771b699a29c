// Shared setup for the proxy tests: a real CA (trellis-ca in process, static tokens) over gRPC +
// TLS, "ztunnels" in shared mode on loopback addresses, apps, and a metrics scrape.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateAuthority,
  createCaClient,
  createCaServer,
  dirStore,
  loadOrCreateCa,
  SecretManager,
  staticIdentities,
  type StaticTokenEntry,
} from '@trellis/ca';
import { createLogger, createMetrics } from '@trellis/core';
import type { AccessLogEntry } from '../../access-log/connection-record.js';
import { createCaIdentityManager } from '../../identity/identity-manager.js';
import { createTrafficMetrics } from '../../metrics.js';
import { StateStore } from '../../state/store.js';
import { createZtunnelContext, type ZtunnelContext } from '../context.js';
import { startSharedProxySet, type ProxySet } from '../proxy-set.js';
import { mappedDestinationOpsForTest } from '../socket-ops.js';

export const TD = 'cluster.local';
type After = { after(fn: () => void | Promise<void>): void };

export const TOKENS: StaticTokenEntry[] = [
  { token: 'tok-zt1', namespace: 'trellis-system', serviceAccount: 'ztunnel', node: 'node-1' },
  { token: 'tok-zt2', namespace: 'trellis-system', serviceAccount: 'ztunnel', node: 'node-2' },
  { token: 'tok-zt3', namespace: 'trellis-system', serviceAccount: 'ztunnel', node: 'node-3' },
  { token: 'tok-a', namespace: 'default', serviceAccount: 'a', node: 'node-1' },
  { token: 'tok-b', namespace: 'default', serviceAccount: 'b', node: 'node-2' },
  { token: 'tok-b3', namespace: 'default', serviceAccount: 'b', node: 'node-3' },
  { token: 'tok-waypoint', namespace: 'default', serviceAccount: 'waypoint' },
];
export const ZTUNNEL_ID = `spiffe://${TD}/ns/trellis-system/sa/ztunnel`;

export interface TestCa {
  readonly address: string;
  readonly rootPem: string;
  /** A certificate for `identity` fetched with `token` (the identity's own token). */
  certificate(identity: string, token: string): Promise<{ key: string; chain: readonly string[] }>;
}

export async function startTestCa(t: After): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const material = await loadOrCreateCa(dirStore(dir), { trustDomain: TD });
  const ca = new CertificateAuthority({
    ...material,
    ...staticIdentities(TOKENS),
    trustDomain: TD,
  });
  const server = await createCaServer({ ca, host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  const address = `127.0.0.1:${server.port}`;
  return {
    address,
    rootPem: material.rootPem,
    async certificate(identity, token) {
      const client = createCaClient({ address, rootPem: material.rootPem, token: () => token });
      const secrets = new SecretManager({
        request: (csr, o) => client.createCertificate(csr, o),
        rootPem: material.rootPem,
      });
      try {
        const c = await secrets.fetch(identity);
        return { key: c.key, chain: c.chain };
      } finally {
        secrets.close();
        client.close();
      }
    },
  };
}

export interface TestZtunnel {
  readonly ctx: ZtunnelContext;
  readonly proxies: ProxySet;
  readonly store: StateStore;
  readonly accessLog: AccessLogEntry[];
  /** The original destination the next redirected connection is given (no iptables here). */
  destination: { address: string; port: number } | undefined;
  /** The Prometheus text of this ztunnel's metrics. */
  scrape(): Promise<string>;
}

export async function startTestZtunnel(
  t: After,
  ca: TestCa,
  o: {
    token: string;
    inboundHost: string;
    inboundPort?: number;
    hbonePort?: number;
    store?: StateStore;
  },
): Promise<TestZtunnel> {
  const store = o.store ?? new StateStore();
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  t.after(() => metrics.stop());
  const log = createLogger({ level: 'silent' });
  const identity = createCaIdentityManager({
    caAddress: ca.address,
    rootPem: ca.rootPem,
    trustDomain: TD,
    token: () => o.token,
    ownIdentity: ZTUNNEL_ID,
  });
  t.after(() => identity.close());
  const accessLog: AccessLogEntry[] = [];
  const ctx = createZtunnelContext({
    store,
    identity,
    traffic: createTrafficMetrics(metrics.meter('proxy')),
    accessLog: (e) => accessLog.push(e),
    logger: log.scope('proxy'),
    settings: { hbonePort: o.hbonePort ?? 15008 },
  });
  t.after(() => ctx.close());
  const z: TestZtunnel = {
    ctx,
    store,
    accessLog,
    destination: undefined,
    proxies: undefined as unknown as ProxySet,
    scrape: async () => (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text(),
  };
  const ops = mappedDestinationOpsForTest(() => z.destination);
  const proxies = await startSharedProxySet(ctx, ops, {
    outbound: { host: '127.0.0.1', port: 0 },
    inbound: { host: o.inboundHost, port: o.inboundPort ?? 0 },
    inboundPlaintext: { host: '127.0.0.1', port: 0 },
  });
  t.after(() => proxies.close(0));
  (z as { proxies: ProxySet }).proxies = proxies;
  return z;
}

/** A TCP app that answers every connection with the SHA-256 of what it read, then `tag`. */
export async function startHashApp(t: After, host: string, tag = ''): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    socket.on('data', (d: Buffer) => hash.update(d));
    socket.on('end', () => socket.end(`${hash.digest('hex')}${tag}`));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

/**
 * Connects from `from` to `port` on 127.0.0.1, sends `payload`, half-closes and returns what came
 * back, or the error that ended the connection.
 */
export function exchange(
  port: number,
  payload: Buffer,
  from?: string,
): Promise<{ reply: string } | { error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      allowHalfOpen: true,
      ...(from ? { localAddress: from } : {}),
    });
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    socket.on('close', () => {
      if (!socket.errored) resolve({ reply: Buffer.concat(chunks).toString() });
    });
  });
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The value of a Prometheus sample whose labels include every given one (sum over matches). */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

// A waypoint in-process between real HBONE peers on loopback, for component tests and the
// benchmark: a throwaway mesh root and identities, an in-process xDS server with Envoy resources,
// "destination ztunnels" (HBONE servers on 127.0.0.x that dial the apps, checking who called),
// the waypoint itself (startWaypoint), and "source ztunnels" (a local TCP port whose connections
// are tunneled to the waypoint with a VIP:port target), so any real client library can be used.
import net from 'node:net';
import type { TestContext } from 'node:test';
import { Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import { createLogger, type Log } from '@trellis/core';
import {
  HboneClient,
  HboneServer,
  splice,
  type ClientCredentials,
  type TunnelStats,
} from '@trellis/hbone';
import {
  createRootCa,
  generateKeyPair,
  issueWorkloadCertificate,
  parseTrustBundle,
  type CaCredentials,
} from '@trellis/pki';
import {
  addAdsService,
  createXdsServer,
  resourceSnapshotGenerator,
  type ResourceSnapshot,
  type XdsServer,
} from '@trellis/xds';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';
import { loadWaypointConfig } from '../config.js';
import { staticIdentity } from '../waypoint/identity.js';
import { startWaypoint, type Waypoint } from '../waypoint/start.js';
import { snapshotOf, type EnvoySet } from './envoy-builders.js';

const DAY = 86_400_000;
export const TRUST_DOMAIN = 'cluster.local';
export const spiffe = (ns: string, sa: string): string =>
  `spiffe://${TRUST_DOMAIN}/ns/${ns}/sa/${sa}`;
export const WAYPOINT_ID = spiffe('default', 'waypoint');

export interface Mesh {
  readonly root: CaCredentials;
  creds(identity: string): Promise<ClientCredentials>;
}

export async function makeMesh(): Promise<Mesh> {
  const root = await createRootCa({ commonName: 'waypoint test root', ttlMs: 10 * DAY });
  const trustBundle = parseTrustBundle(root.cert, { trustDomain: TRUST_DOMAIN });
  return {
    root,
    async creds(identity) {
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

/** The in-process control plane stand-in: an xDS server with a replaceable snapshot. */
export async function startXds(initial: EnvoySet): Promise<{
  address: string;
  server: XdsServer<ResourceSnapshot>;
  set(s: EnvoySet): void;
  close(): Promise<void>;
}> {
  const gen = resourceSnapshotGenerator;
  const server = createXdsServer<ResourceSnapshot>({
    generators: {
      [LISTENER_TYPE_URL]: gen,
      [ROUTE_CONFIGURATION_TYPE_URL]: gen,
      [CLUSTER_TYPE_URL]: gen,
      [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: gen,
      [SECRET_TYPE_URL]: gen,
    },
    snapshot: snapshotOf(initial),
    debounce: { quietMs: 1, maxDelayMs: 10 },
  });
  const grpc = new Server();
  addAdsService(grpc, server);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    server,
    set: (s) => server.update({ snapshot: snapshotOf(s) }),
    async close() {
      await server.close(0);
      grpc.forceShutdown();
    },
  };
}

/** A destination ztunnel: HBONE on ip:port with `identity`, dialling the target; records callers. */
export async function startDestination(
  mesh: Mesh,
  ip: string,
  port: number,
  identity: string,
): Promise<{ server: HboneServer; peers: string[]; closed: TunnelStats[] }> {
  const creds = await mesh.creds(identity);
  const peers: string[] = [];
  const closed: TunnelStats[] = [];
  const server = new HboneServer({
    trustBundle: creds.trustBundle,
    certificateFor: () => ({ key: creds.key, certChain: creds.certChain }),
    onConnect(req) {
      peers.push(req.peer.uri);
      return { allow: true };
    },
    onStreamClosed: (_req, stats) => closed.push(stats),
  });
  await server.listen({ host: ip, port });
  return { server, peers, closed };
}

export interface FixtureOptions {
  readonly envoy: EnvoySet;
  /** Port the destination HBONE servers listen on (the waypoint's --hbone-port). */
  readonly hbonePort: number;
  readonly extraArgs?: readonly string[];
  readonly accessLog?: string[];
  readonly log?: Log;
  /** The proxy's own SPIFFE ID (default WAYPOINT_ID); its namespace and account become its settings. */
  readonly identity?: string;
}

export interface Fixture {
  readonly mesh: Mesh;
  readonly xds: Awaited<ReturnType<typeof startXds>>;
  readonly waypoint: Waypoint;
  /** A local port whose TCP connections reach `vip:port` through the waypoint, as `identity`. */
  sourcePort(vip: string, port: number, identity?: string): Promise<number>;
  admin(path: string, method?: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startFixture(o: FixtureOptions, mesh?: Mesh): Promise<Fixture> {
  const m = mesh ?? (await makeMesh());
  const xds = await startXds(o.envoy);
  const ownId = o.identity ?? WAYPOINT_ID;
  const [, ownNs, ownSa] = /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(ownId)!;
  const waypointCreds = await m.creds(ownId);
  const config = loadWaypointConfig({
    argv: [
      '--xds-address',
      xds.address,
      '--xds-plaintext',
      '--hbone-address',
      '127.0.0.1:0',
      '--hbone-port',
      String(o.hbonePort),
      '--admin-address',
      '127.0.0.1:0',
      '--metrics-address',
      '127.0.0.1:0',
      '--readiness-address',
      '127.0.0.1:0',
      '--pod-namespace',
      ownNs!,
      '--service-account',
      ownSa!,
      '--drain-timeout',
      '2s',
      ...(o.extraArgs ?? []),
    ],
    env: {},
  });
  const log =
    o.log ??
    createLogger({
      name: 'waypoint-test',
      level: (process.env['WAYPOINT_TEST_LOG'] as 'info') ?? 'silent',
    });
  const identity = staticIdentity(ownId, m.root.cert, TRUST_DOMAIN, {
    identity: ownId,
    key: waypointCreds.key,
    chain: [...(waypointCreds.certChain as string[])],
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY),
  });
  const lines = o.accessLog;
  const waypoint = await startWaypoint(config, {
    log,
    identity,
    ...(lines
      ? { accessLogSink: { write: (t: string) => void lines.push(...t.trim().split('\n')) } }
      : {}),
    xdsCredentials: credentials.createInsecure(),
  });
  await waypoint.ready;
  const clients = new Map<string, HboneClient>();
  const listeners: net.Server[] = [];
  return {
    mesh: m,
    xds,
    waypoint,
    async sourcePort(vip, port, identity = spiffe('default', 'client')) {
      let client = clients.get(identity);
      if (!client) {
        client = new HboneClient();
        clients.set(identity, client);
      }
      const source = await m.creds(identity);
      const c = client;
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        socket.pause();
        c.connect({
          source,
          destinationIdentity: WAYPOINT_ID,
          destinationIp: '127.0.0.1',
          hbonePort: waypoint.ports.hbone,
          target: `${vip}:${port}`,
          headers: { forwarded: `for="${socket.remoteAddress}:${socket.remotePort}"` },
        }).then(
          (tunnel) => {
            socket.resume();
            void splice(socket, tunnel);
          },
          () => socket.resetAndDestroy(),
        );
      });
      listeners.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return (server.address() as net.AddressInfo).port;
    },
    async admin(path, method = 'GET') {
      const res = await fetch(`http://127.0.0.1:${waypoint.ports.admin}${path}`, { method });
      return { status: res.status, body: await res.text() };
    },
    async close() {
      for (const l of listeners) l.close();
      await waypoint.shutdown(100);
      for (const c of clients.values()) await c.close();
      await xds.close();
    },
  };
}

/** Registers cleanup on the test. */
export function cleanup(t: TestContext, ...things: { close(): unknown }[]): void {
  t.after(async () => {
    for (const x of things.reverse()) await x.close();
  });
}

/** The last NACK reason config_dump reports for the xDS type whose URL ends with `typeSuffix`. */
export async function lastNack(f: Fixture, typeSuffix: string): Promise<string | undefined> {
  const dump = JSON.parse((await f.admin('/config_dump')).body) as {
    xds: { typeUrl: string; lastNack?: string }[];
  };
  return dump.xds.find((x) => x.typeUrl.endsWith(typeSuffix))?.lastNack;
}

// A mesh on network-namespace nodes for the waypoint's end-to-end scenarios, built from the real
// binaries and the same manifests a cluster would hold: trellis-control-plane (config dir,
// embedded CA, WDS and Envoy xDS on 15012), one trellis-ztunnel per node in in-pod mode fed by
// WDS and a ZDS server, trellis-waypoint in its own pod namespace, the in-pod redirection rules
// of @trellis/testing. Apps and clients are real node:http / node:http2 servers and clients whose
// sockets live in the pods' namespaces (netsys), and an OTLP receiver runs in node 1's namespace.
//
// Scenarios written against this harness use only pod names, service VIPs and HTTP, so they lift
// into an e2e suite on a real cluster: replace the harness with `kubectl apply` of the same
// manifests (manifests()) and run the clients in the client pod.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectInNetns, listenInNetns } from '@trellis/netsys';
import {
  httpInNetns,
  NetnsCluster,
  Spawned,
  ZdsServer,
  ZtunnelProcess,
  type Pod,
} from '@trellis/testing';
import { eventually, START_TIMEOUT_MS } from '@trellis/core/test-support';
import { decodeTraceExport, type ReceivedSpan } from './otlp-receiver.js';

const sibling = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const CONTROL_PLANE_MAIN = sibling('../../../control-plane/dist/trellis-control-plane.mjs');
const WAYPOINT_MAIN = sibling('../trellis-waypoint.mjs');

export const MESH_NS = 'demo';
const TRUST_DOMAIN = 'cluster.local';
const CLUSTER_ID = 'Kubernetes';
const ZTUNNEL_NS = 'trellis-system';

export interface PodSpec {
  readonly name: string;
  readonly node: number;
  readonly sa: string;
  readonly ns?: string;
  readonly labels?: Record<string, string>;
  /** Not redirected (the waypoint itself, or a pod outside the mesh). */
  readonly outsideMesh?: boolean;
}

export interface ServiceSpec {
  readonly name: string;
  readonly vip: string;
  readonly selector: Record<string, string>;
  readonly port?: number;
  readonly targetPort?: number;
  readonly labels?: Record<string, string>;
  readonly portName?: string;
}

export interface MeshSpec {
  readonly pods: readonly PodSpec[];
  readonly services: readonly ServiceSpec[];
  /** More manifests (routes, policies, ...). */
  readonly extra: readonly object[];
  /** The waypoint's istio.io/waypoint-for (default service). */
  readonly waypointFor?: string;
}

export interface NetnsMesh {
  readonly cluster: NetnsCluster;
  readonly pods: ReadonlyMap<string, Pod>;
  readonly spans: ReceivedSpan[];
  readonly waypoint: Spawned;
  readonly controlPlane: Spawned;
  readonly ztunnels: ZtunnelProcess[];
  readonly dir: string;
  /** An HTTP app inside a pod's namespace on pod-ip:port. */
  serve(
    pod: string,
    port: number,
    handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
  ): Promise<void>;
  /** A raw TCP server inside a pod's namespace on pod-ip:port. */
  serveTcp(pod: string, port: number, onConnection: (s: net.Socket) => void): Promise<void>;
  /** A TCP connection from a pod (redirected to its ztunnel like any outbound connection). */
  connect(from: string, host: string, port: number): Promise<net.Socket>;
  /** One HTTP/1.1 request from a pod (its outbound traffic is redirected to its ztunnel). */
  request(
    from: string,
    url: string,
    o?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>;
  /** GET from inside the waypoint pod (its metrics, readiness, admin). */
  waypointGet(port: number, path: string): Promise<{ status: number; body: string }>;
  /** Rewrites the extra manifests (the control plane picks them up live). */
  applyExtra(extra: readonly object[]): void;
  close(): Promise<void>;
}

const meta = (name: string, ns: string, labels?: Record<string, string>) => ({
  name,
  namespace: ns,
  ...(labels ? { labels } : {}),
});

/** The manifests of the mesh (what `kubectl apply` would get on a real cluster). */
export function manifests(spec: MeshSpec, pods: ReadonlyMap<string, Pod>): object[] {
  const out: object[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: MESH_NS,
        labels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' },
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: {
        ...meta('waypoint', MESH_NS),
        labels: { 'istio.io/waypoint-for': spec.waypointFor ?? 'service' },
      },
      spec: {
        gatewayClassName: 'trellis-waypoint',
        listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('waypoint', MESH_NS),
      spec: {
        selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' },
        clusterIP: '10.96.99.1',
        ports: [{ name: 'mesh', port: 15008 }],
      },
    },
  ];
  const namespaces = new Set(spec.pods.map((p) => p.ns ?? MESH_NS));
  for (const ns of namespaces)
    if (ns !== MESH_NS)
      out.push({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'istio.io/dataplane-mode': 'ambient' } },
      });
  for (const p of spec.pods) {
    const pod = pods.get(p.name)!;
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(p.name, p.ns ?? MESH_NS, {
        ...(p.labels ?? {}),
        ...(p.outsideMesh ? { 'istio.io/dataplane-mode': 'none' } : {}),
      }),
      spec: {
        serviceAccountName: p.sa,
        nodeName: pod.node.name,
        containers: [{ name: 'c', image: p.name }],
      },
      status: { phase: 'Running', podIP: pod.ip, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  for (const s of spec.services)
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(s.name, MESH_NS, s.labels),
      spec: {
        selector: s.selector,
        clusterIP: s.vip,
        ports: [
          { name: s.portName ?? 'http', port: s.port ?? 80, targetPort: s.targetPort ?? 8080 },
        ],
      },
    });
  return [...out, ...spec.extra];
}

export async function startNetnsMesh(spec: MeshSpec): Promise<NetnsMesh> {
  const cluster = await NetnsCluster.create(2);
  const dir = mkdtempSync(join(tmpdir(), `trellis-wp-netns-${cluster.runId}-`));
  const procs: Spawned[] = [];
  const servers: net.Server[] = [];
  const zds: ZdsServer[] = [];
  const ztunnels: ZtunnelProcess[] = [];
  const close = async () => {
    for (const s of servers) s.close();
    await Promise.all(ztunnels.map((z) => z.stop('SIGKILL')));
    for (const z of zds) z.close();
    for (const p of procs.reverse()) await p.stop('SIGKILL');
    cluster.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pods = new Map<string, Pod>();
    for (const p of spec.pods) {
      const node = cluster.nodes[p.node - 1]!;
      pods.set(
        p.name,
        await cluster.addPod(node, {
          name: p.name,
          ns: p.ns ?? MESH_NS,
          sa: p.sa,
          redirect: !p.outsideMesh,
        }),
      );
    }
    const node1 = cluster.nodes[0]!;
    const cp = `${node1.ip}:15012`;
    const cfg = join(dir, 'config');
    mkdirSync(cfg);
    const writeManifests = (extra: readonly object[]) =>
      writeFileSync(
        join(cfg, 'mesh.json'),
        JSON.stringify(
          { apiVersion: 'v1', kind: 'List', items: manifests({ ...spec, extra }, pods) },
          null,
          1,
        ),
      );
    writeManifests(spec.extra);
    const tokens = [
      ...cluster.nodes.map((n) => ({
        token: `zt-${n.name}`,
        namespace: ZTUNNEL_NS,
        serviceAccount: 'ztunnel',
        node: n.name,
      })),
      ...spec.pods.map((p) => ({
        token: `pod-${p.name}`,
        namespace: p.ns ?? MESH_NS,
        serviceAccount: p.sa,
        node: pods.get(p.name)!.node.name,
      })),
    ];
    writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens));
    for (const t of tokens) writeFileSync(join(dir, t.token), t.token);

    // OTLP receiver (gRPC over node:http2) in node 1's namespace.
    const spans: ReceivedSpan[] = [];
    const otlp = http2.createServer();
    otlp.on('stream', (stream, headers) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const msg = Buffer.concat(parts);
        if (
          headers[':path'] === '/opentelemetry.proto.collector.trace.v1.TraceService/Export' &&
          msg.length >= 5
        )
          spans.push(...decodeTraceExport(msg.subarray(5, 5 + msg.readUInt32BE(1))));
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc' },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    await listenInNetns(otlp, `/run/netns/${node1.netns}`, { host: node1.ip, port: 4317 });
    servers.push(otlp);

    const controlPlane = new Spawned('trellis-control-plane', 'ip', [
      'netns',
      'exec',
      node1.netns,
      process.execPath,
      CONTROL_PLANE_MAIN,
      '--config-dir',
      cfg,
      '--ca-dir',
      join(dir, 'ca'),
      '--static-tokens',
      join(dir, 'tokens.json'),
      '--secure-xds-address',
      cp,
      '--xds-address',
      '127.0.0.1:15010',
      '--debug-address',
      `${node1.ip}:15014`,
      '--trusted-node-proxies',
      `${ZTUNNEL_NS}/ztunnel`,
      '--trust-domain',
      TRUST_DOMAIN,
      '--cluster-id',
      CLUSTER_ID,
      '--debounce-quiet',
      '20ms',
    ]);
    procs.push(controlPlane);
    await eventually(
      'control plane /ready',
      async () =>
        (await httpInNetns(`/run/netns/${node1.netns}`, node1.ip, 15014, '/ready')).status === 200,
      startedBy(controlPlane),
    );
    const rootPath = join(dir, 'ca', 'root-cert.pem');
    readFileSync(rootPath);

    for (const node of cluster.nodes) {
      const server = new ZdsServer(join(dir, `zds-${node.name}.sock`));
      zds.push(server);
      const snapshot = server.nextSnapshot();
      const z = new ZtunnelProcess(node, {
        ca: { address: cp, rootPath },
        tokenPath: join(dir, `zt-${node.name}`),
        podNamespace: ZTUNNEL_NS, // its token's
        xdsAddress: cp,
        zdsSocket: server.path,
        workers: 1,
        logLevel: process.env['WAYPOINT_NETNS_ZTUNNEL_LOG'] ?? 'warn',
      });
      ztunnels.push(z);
      await z.ready();
      await snapshot;
      // Pods are handed over once ztunnel holds the workloads from WDS (an in-pod proxy set takes
      // its pod's addresses from the store when it starts), as a CNI agent adds them later on.
      for (const p of spec.pods) {
        const pod = pods.get(p.name)!;
        if (pod.node !== node || p.outsideMesh) continue;
        // ztunnel keys its in-pod proxies by the workload uid the control plane serves.
        const error = await server.addPod({
          ...pod,
          uid: `${CLUSTER_ID}//Pod/${pod.namespace}/${pod.name}`,
        });
        if (error) throw new Error(`ZDS add of ${pod.name} on ${node.name}: ${error}`);
      }
    }

    const wpPod = pods.get('waypoint-0')!;
    const waypoint = new Spawned('trellis-waypoint', 'ip', [
      'netns',
      'exec',
      wpPod.netns,
      process.execPath,
      WAYPOINT_MAIN,
      '--xds-address',
      cp,
      '--ca-address',
      cp,
      '--ca-root-cert',
      rootPath,
      '--token-path',
      join(dir, 'pod-waypoint-0'),
      '--pod-ip',
      wpPod.ip,
      '--pod-name',
      'waypoint-0',
      '--pod-namespace',
      MESH_NS,
      '--service-account',
      'waypoint',
      '--gateway-name',
      'waypoint',
      '--trust-domain',
      TRUST_DOMAIN,
      '--cluster-id',
      CLUSTER_ID,
      '--hbone-address',
      `${wpPod.ip}:15008`,
      '--admin-address',
      '127.0.0.1:15000',
      '--metrics-address',
      `${wpPod.ip}:15020`,
      '--readiness-address',
      `${wpPod.ip}:15021`,
      '--otlp-endpoint',
      `http://${node1.ip}:4317`,
      '--trace-sampling',
      '100',
      '--drain-timeout',
      '2s',
    ]);
    procs.push(waypoint);
    const waypointGet = (port: number, path: string) =>
      httpInNetns(wpPod.netnsPath, port === 15000 ? '127.0.0.1' : wpPod.ip, port, path);
    await eventually(
      'waypoint /healthz/ready',
      async () => (await waypointGet(15021, '/healthz/ready')).status === 200,
      startedBy(waypoint),
    );

    return {
      cluster,
      pods,
      spans,
      waypoint,
      controlPlane,
      ztunnels,
      dir,
      async serve(name, port, handler) {
        const pod = pods.get(name)!;
        const server = http.createServer((req, res) => {
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => handler(req, body, res));
        });
        await listenInNetns(server, pod.netnsPath, { host: pod.ip, port });
        servers.push(server);
      },
      async serveTcp(name, port, onConnection) {
        const pod = pods.get(name)!;
        const server = net.createServer(onConnection);
        await listenInNetns(server, pod.netnsPath, { host: pod.ip, port });
        servers.push(server);
      },
      connect: (from, host, port) => connectInNetns(pods.get(from)!.netnsPath, { host, port }),
      request(from, url, o = {}) {
        const pod = pods.get(from)!;
        const u = new URL(url);
        return new Promise((resolve, reject) => {
          const req = http.request(
            {
              method: o.method ?? 'GET',
              path: `${u.pathname}${u.search}`,
              headers: { host: u.host, ...o.headers },
              createConnection: (_opts, cb) => {
                connectInNetns(pod.netnsPath, {
                  host: u.hostname,
                  port: Number(u.port || 80),
                }).then(
                  (s) => cb(null, s),
                  (e: Error) => cb(e, undefined as unknown as net.Socket),
                );
                return undefined;
              },
            },
            (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
            },
          );
          req.on('error', reject);
          req.end(o.body);
        });
      },
      waypointGet,
      applyExtra: (extra) => writeManifests(extra),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waiting for a process to start: its start-up deadline, and stop at once if it exits. */
function startedBy(proc: Spawned) {
  return {
    timeoutMs: START_TIMEOUT_MS,
    failFast: () => (proc.running ? undefined : proc.describe()),
    detail: () => proc.describe(),
  };
}

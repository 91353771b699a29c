// The control plane's soak benchmark (`npm run bench:soak -w @trellis/control-plane`, after a
// build): the real pipeline and xDS server (production debounce) on 127.0.0.1 under 100 clients
// (90 ztunnel-like WDS clients and 10 Envoy clients: proxyless and waypoint replicas) in two child
// processes, with one configuration change every second for 10 minutes (pods, a route, a policy,
// a Service label, a namespace annotation, in turn), sampling the server's RSS and heap every
// 10 s. Reports RSS over time (flat is the goal), the growth over the run, apply times, and that
// every client converged on the final version; writes the "soak" section of bench-results.txt.
// Arguments: --minutes N (default 10), --pods N (default 1000). A benchmark, not a test.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, CLUSTER_TYPE_URL } from '@trellis/api';
import { createLogger } from '@trellis/core';
import { addAdsService, createXdsServer } from '@trellis/xds';
import { toGateway, toHTTPRoute } from '../ingest/convert/gateway-api.js';
import { toAuthorizationPolicy } from '../ingest/convert/istio-security.js';
import type { ClusterSnapshot } from '../model/kube.js';
import { controlPlaneGenerators } from '../server/generators.js';
import { createPipeline } from '../server/pipeline.js';
import type { ServedSnapshot } from '../server/served-snapshot.js';
import type { ClientCommand, ClientReport } from './bench-clients.js';
import { percentile } from './format-results.js';
import { writeSection } from './results-file.js';
import { syntheticCluster, withPodChange } from './synthetic-cluster.js';

const CHILDREN = 2;
const WDS_PER_CHILD = 45;
const ENVOY_PER_CHILD = 5;
const CLIENTS = CHILDREN * (WDS_PER_CHILD + ENVOY_PER_CHILD);
const CHANGE_EVERY_MS = 1000;
const SAMPLE_EVERY_MS = 10_000;
const NS = 'team-000';

interface Sample {
  readonly atS: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly changes: number;
  /** Once a minute: heap used right after a forced collection (the leak signal). */
  readonly heapAfterGcMiB?: number;
}

/** What change `k` is (see `change`). */
const KINDS = ['pod', 'pod', 'pod', 'pod', 'pod', 'pod', 'route', 'policy', 'service', 'namespace'];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`${name} takes a positive number`);
  return v;
}

/** The synthetic cluster plus a waypoint for the first namespace and a route with a split. */
function soakCluster(pods: number): ClusterSnapshot {
  const base = syntheticCluster({ pods, services: Math.max(2, Math.round(pods / 10)) });
  return {
    ...base,
    namespaces: base.namespaces.map((n) =>
      n.metadata?.name === NS
        ? {
            ...n,
            metadata: {
              ...n.metadata,
              labels: { ...n.metadata.labels, 'istio.io/use-waypoint': 'waypoint' },
            },
          }
        : n,
    ),
    gateways: [
      toGateway({
        metadata: { name: 'waypoint', namespace: NS },
        spec: {
          gatewayClassName: 'trellis-waypoint',
          listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
        },
      }),
    ],
    httpRoutes: [route(90)],
  };
}

function route(weight: number) {
  return toHTTPRoute({
    metadata: { name: 'split', namespace: NS },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'svc-0000', port: 80 }],
      rules: [
        {
          backendRefs: [
            { name: 'svc-0000', port: 80, weight },
            { name: 'svc-0001', port: 80, weight: 100 - weight },
          ],
        },
      ],
    },
  });
}

/** The change of second `k`: six pod changes, then a route, a policy, a Service, a namespace. */
function change(cluster: ClusterSnapshot, k: number, services: number): ClusterSnapshot {
  const flip = Math.floor(k / 10) % 2 === 0;
  switch (k % 10) {
    case 6:
      return { ...cluster, httpRoutes: [route(flip ? 80 : 90)] };
    case 7:
      return {
        ...cluster,
        authorizationPolicies: cluster.authorizationPolicies.map((p, i) =>
          i === 1
            ? toAuthorizationPolicy({
                metadata: p.metadata,
                spec: {
                  rules: [
                    {
                      from: [
                        { source: { principals: [`cluster.local/ns/x/sa/${flip ? 'a' : 'b'}`] } },
                      ],
                    },
                  ],
                },
              })
            : p,
        ),
      };
    case 8:
      return {
        ...cluster,
        services: cluster.services.map((s, i) =>
          i === 1 ? { ...s, metadata: { ...s.metadata, labels: { tier: flip ? 'a' : 'b' } } } : s,
        ),
      };
    case 9:
      return {
        ...cluster,
        namespaces: cluster.namespaces.map((n, i) =>
          i === 1 ? { ...n, metadata: { ...n.metadata, annotations: { note: String(k) } } } : n,
        ),
      };
    default:
      return withPodChange(cluster, k, services).cluster;
  }
}

async function main() {
  const minutes = arg('--minutes', 10);
  const pods = arg('--pods', 1000);
  const services = Math.max(2, Math.round(pods / 10));
  const log = createLogger({ level: 'warn' });
  const xds = createXdsServer<ServedSnapshot>({
    generators: controlPlaneGenerators(),
    debounce: { quietMs: 100, maxDelayMs: 1000 },
    logger: log.scope('xds'),
  });
  const applyMs: number[] = [];
  const applyByKind = new Map<string, number[]>();
  const pipeline = createPipeline({ xds, mesh: {}, logger: log.scope('pipeline') });
  let cluster = soakCluster(pods);
  if (!pipeline.apply(cluster)) throw new Error('the first snapshot failed to build');
  const grpc = new Server();
  addAdsService(grpc, xds);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const children = await startChildren(`127.0.0.1:${port}`);
  const reports: ClientReport[] = [];
  const counts = new Map<string, number>();
  for (const c of children)
    c.on('message', (r: ClientReport) => {
      if (r.kind === 'change') counts.set(r.typeUrl, (counts.get(r.typeUrl) ?? 0) + 1);
      else reports.push(r);
    });
  try {
    for (const c of children) c.send({ kind: 'connect' } satisfies ClientCommand);
    const syncStart = performance.now();
    await until(
      () => reports.filter((r) => r.kind === 'synced').length === CLIENTS,
      300_000,
      'initial sync',
    );
    const syncMs = performance.now() - syncStart;

    const samples: Sample[] = [];
    const start = performance.now();
    const gc = (globalThis as { gc?: () => void }).gc;
    const sample = (changes: number) => {
      const m = process.memoryUsage();
      const atS = (performance.now() - start) / 1000;
      let heapAfterGcMiB: number | undefined;
      if (gc && changes % 60 === 0) {
        gc();
        heapAfterGcMiB = process.memoryUsage().heapUsed / 2 ** 20;
      }
      samples.push({
        atS,
        rssMiB: m.rss / 2 ** 20,
        heapUsedMiB: m.heapUsed / 2 ** 20,
        changes,
        ...(heapAfterGcMiB !== undefined ? { heapAfterGcMiB } : {}),
      });
    };
    sample(0);
    const total = Math.round((minutes * 60_000) / CHANGE_EVERY_MS);
    for (let k = 0; k < total; k++) {
      const due = start + (k + 1) * CHANGE_EVERY_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      cluster = change(cluster, k, services);
      const t = performance.now();
      pipeline.apply(cluster);
      const took = performance.now() - t;
      applyMs.push(took);
      const kind = KINDS[k % 10]!;
      applyByKind.set(kind, [...(applyByKind.get(kind) ?? []), took]);
      if (((k + 1) * CHANGE_EVERY_MS) % SAMPLE_EVERY_MS === 0) sample(k + 1);
    }
    // Every stream converges on the final version.
    const convergeStart = performance.now();
    xds.flush();
    const final = xds.version;
    await until(
      () => {
        const conns = xds.debug();
        return (
          conns.length === CLIENTS &&
          conns.every((c) =>
            c.types.every((t) => t.ackedVersion === final || t.sentVersion !== final),
          ) &&
          conns.every((c) => c.types.every((t) => !t.pending && !t.awaitingAck))
        );
      },
      120_000,
      'convergence',
    );
    const convergeMs = performance.now() - convergeStart;
    const clientMemory = await Promise.all(
      children.map(async (c) => {
        const reply = once(c, 'message') as Promise<[ClientReport]>;
        c.send({ kind: 'memory' } satisfies ClientCommand);
        const [r] = await reply;
        return r.kind === 'memory' ? r.rss / 2 ** 20 : NaN;
      }),
    );
    const text = format({
      minutes,
      pods,
      services,
      syncMs,
      samples,
      applyMs,
      applyByKind,
      convergeMs,
      counts,
      clientMemory,
      served: pipeline.current!,
    });
    process.stdout.write(text);
    const file = fileURLToPath(new URL('../../bench-results.txt', import.meta.url));
    await writeSection(file, 'soak', text);
    console.error(`written to ${file}`);
  } finally {
    for (const c of children) if (c.connected) c.send({ kind: 'close' } satisfies ClientCommand);
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    await xds.close(1000);
    await new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
  }
}

async function startChildren(address: string): Promise<ChildProcess[]> {
  const script = new URL('./bench-clients.js', import.meta.url);
  const children = Array.from({ length: CHILDREN }, (_, i) =>
    fork(
      script,
      [
        address,
        String(i * (WDS_PER_CHILD + ENVOY_PER_CHILD)),
        String(WDS_PER_CHILD),
        String(ENVOY_PER_CHILD),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  await Promise.all(children.map((c) => once(c, 'message')));
  return children;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline)
      throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function format(r: {
  minutes: number;
  pods: number;
  services: number;
  syncMs: number;
  samples: readonly Sample[];
  applyMs: readonly number[];
  applyByKind: ReadonlyMap<string, readonly number[]>;
  convergeMs: number;
  counts: ReadonlyMap<string, number>;
  clientMemory: readonly number[];
  served: ServedSnapshot;
}): string {
  const mib = (v: number) => `${v.toFixed(0)} MiB`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  // The heap is a sawtooth (garbage piles up between collections): the leak signal is the heap
  // right after the collection forced once a minute; RSS is reported as it is.
  const gcd = r.samples.filter((x) => x.heapAfterGcMiB !== undefined && x.atS >= 60);
  const trend = (pick: (x: Sample) => number) =>
    slope(gcd.map((x) => [x.atS / 60, pick(x)] as [number, number]));
  const rss = r.samples.map((s) => s.rssMiB);
  const lines = [
    '@trellis/control-plane soak benchmark (npm run bench:soak -w @trellis/control-plane)',
    `date: ${new Date().toISOString()}`,
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores available; a shared machine, expect noise; node ${process.version}`,
    `setup: real pipeline and xDS server (debounce 100 ms quiet / 1 s max) on 127.0.0.1; ${CLIENTS} delta clients in ${CHILDREN}`,
    `  child processes: ${CHILDREN * WDS_PER_CHILD} ztunnel-like (Address + Authorization) and ${CHILDREN * ENVOY_PER_CHILD} Envoy clients (LDS/RDS/CDS/EDS:`,
    '  proxyless gRPC and replicas of a waypoint); a synthetic cluster with a waypoint and a split route.',
    `change: one per second for ${r.minutes} min (${r.applyMs.length} in all), in turn: six pod changes (readiness, IP),`,
    '  a route weight, an AuthorizationPolicy rule, a Service label, a namespace annotation (recomputes all).',
    'memory: the server process, sampled every 10 s (RSS and heap as they are), and once a minute the heap',
    '  right after a forced GC (node --expose-gc), whose trend shows a leak.',
    '',
    `== ${r.pods} pods, ${r.services} services, ${CLIENTS} clients, ${r.minutes} min`,
    `  served: ${r.served.state.workloads.size} workloads, ${r.served.wds.get(ADDRESS_TYPE_URL)!.size} Addresses, ${r.served.wds.get(AUTHORIZATION_TYPE_URL)!.size} Authorizations`,
    `  initial sync of ${CLIENTS} clients: ${ms(r.syncMs)}`,
    `  pipeline.apply per change: p50 ${ms(percentile(r.applyMs, 50))}, p99 ${ms(percentile(r.applyMs, 99))}, max ${ms(Math.max(...r.applyMs))}`,
    ...[...r.applyByKind].map(
      ([kind, v]) =>
        `    ${kind.padEnd(10)} p50 ${ms(percentile(v, 50))}, p99 ${ms(percentile(v, 99))}, max ${ms(Math.max(...v))} (${v.length})`,
    ),
    `  responses received by all clients: ${[...r.counts].map(([t, n]) => `${t.slice(t.lastIndexOf('.') + 1)} ${n}`).join(', ')}`,
    `  after the last change every client held the final version within ${ms(r.convergeMs)}`,
    `  server RSS: start ${mib(rss[0]!)}, min ${mib(Math.min(...rss))}, max ${mib(Math.max(...rss))}, end ${mib(rss.at(-1)!)};`,
    `  heap used after the GC forced each minute (MiB): ${r.samples
      .filter((x) => x.heapAfterGcMiB !== undefined)
      .map((x) => x.heapAfterGcMiB!.toFixed(1))
      .join(' ')}`,
    `    trend from the second minute: ${trend((x) => x.heapAfterGcMiB!).toFixed(2)} MiB/min (heap after GC), ${trend((x) => x.rssMiB).toFixed(2)} MiB/min (RSS at those moments)`,
    `  client processes at the end: ${r.clientMemory.map(mib).join(', ')} RSS`,
    '  over time (s: RSS / heap used, changes applied):',
    ...chunk(r.samples, 6).map(
      (row) =>
        '    ' +
        row
          .map(
            (s) =>
              `${s.atS.toFixed(0).padStart(4)}s ${s.rssMiB.toFixed(0)}/${s.heapUsedMiB.toFixed(0)}`,
          )
          .join('  '),
    ),
    `  (${CLUSTER_TYPE_URL.slice(CLUSTER_TYPE_URL.lastIndexOf('.') + 1)} etc.: Envoy types; Address/Authorization: WDS)`,
    '',
  ];
  return lines.join('\n');
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exitCode = 1;
});

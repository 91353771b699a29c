// One benchmark scenario, in this process: the real pipeline and xDS server (with the control
// plane's generators) on 127.0.0.1, the clients in two child processes (bench-clients.js) so that
// process.cpuUsage() here is the control plane's alone. Debouncing is bypassed with xds.flush()
// after each apply, so latencies are the work itself; production adds its quiet period
// (--debounce-quiet, 100 ms by default) in front of every push.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@trellis/api';
import { createLogger } from '@trellis/core';
import { addAdsService, createXdsServer } from '@trellis/xds';
import { deriveMeshState } from '../collections/mesh-state.js';
import { admitSnapshot } from '../ingest/convert/admit.js';
import { emptySnapshot, type ClusterSnapshot, type RawClusterSnapshot } from '../model/kube.js';
import { controlPlaneGenerators } from '../server/generators.js';
import { createPipeline, type PipelineTimings } from '../server/pipeline.js';
import type { ServedSnapshot } from '../server/served-snapshot.js';
import type { ClientCommand, ClientReport } from './bench-clients.js';
import { syntheticCluster, withPodChange, type PodChange } from './synthetic-cluster.js';

export interface ScenarioOptions {
  readonly pods: number;
  readonly services: number;
  readonly clients: number;
  readonly steps: number;
}

export interface Memory {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

export interface StepResult {
  readonly pod: string;
  readonly change: PodChange;
  /** pipeline.apply + flush, wall ms. */
  readonly applyMs: number;
  /** apply to the last client's report of the change (IPC), ms. */
  readonly lastClientMs: number;
  /** apply to the server seeing every stream's ACK of the new version, ms. */
  readonly allAckedMs: number;
  /** Server process CPU (user + system) from apply to all ACKed, ms. */
  readonly cpuMs: number;
  /** Address resources (updated + removed) each client received, min and max over clients. */
  readonly addressesMin: number;
  readonly addressesMax: number;
  /** Authorization responses received by all clients (0 for a pod change). */
  readonly authorizationResponses: number;
  /** The pipeline's stages during apply (incremental derivation), ms. */
  readonly deriveMs: number;
  readonly translateMs: number;
  readonly packMs: number;
  readonly envoyStateMs: number;
  /** Ingest's checks of the snapshot's core objects (admitSnapshot; unchanged objects cached). */
  readonly admitMs: number;
}

export interface ScenarioResult {
  readonly options: ScenarioOptions;
  readonly workloads: number;
  readonly addresses: number;
  readonly authorizations: number;
  readonly buildClusterMs: number;
  readonly firstApplyMs: number;
  /** 'connect' sent to every client holding both types and the server seeing all ACKs. */
  readonly initialSyncMs: number;
  readonly initialSyncCpuMs: number;
  readonly serverAfterSync: Memory;
  readonly serverAfterSteps: Memory;
  readonly clientProcesses: readonly Memory[];
  readonly steps: readonly StepResult[];
  /** deriveMeshState of the final snapshot, once per step, after the steps, ms. */
  readonly fullDeriveMs: readonly number[];
}

const CHILDREN = 2;
// Generous: on a loaded machine 100 clients decoding the 10k-pod mesh take minutes.
const STEP_TIMEOUT_MS = 900_000;

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = createLogger({ level: 'warn' });
  let t = performance.now();
  let cluster = syntheticCluster(o);
  const buildClusterMs = performance.now() - t;

  const xds = createXdsServer<ServedSnapshot>({
    generators: controlPlaneGenerators(),
    debounce: { quietMs: 100, maxDelayMs: 1000 },
    logger: log.scope('xds'),
  });
  let timings: PipelineTimings | undefined;
  const pipeline = createPipeline({
    xds,
    mesh: {},
    logger: log.scope('pipeline'),
    onTimings: (x) => (timings = x),
  });
  t = performance.now();
  const first = pipeline.apply(admitCore(cluster));
  const firstApplyMs = performance.now() - t;
  if (!first) throw new Error('the first snapshot failed to build (see the log above)');

  const grpc = new Server();
  addAdsService(grpc, xds);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  const children = await startChildren(`127.0.0.1:${port}`, o.clients);
  try {
    // Initial sync.
    const synced = children.waitFor((r) => r.kind === 'synced', o.clients);
    let cpu = process.cpuUsage();
    t = performance.now();
    children.send({ kind: 'connect' });
    const syncReports = await synced;
    await allAcked(xds, [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL], xds.version, o.clients);
    const initialSyncMs = performance.now() - t;
    const initialSyncCpuMs = cpuMs(process.cpuUsage(cpu));
    const held = syncReports.filter((r) => r.kind === 'synced');
    if (held.some((r) => r.addresses !== first.wds.get(ADDRESS_TYPE_URL)!.size))
      throw new Error('a client did not receive every Address in its first response');
    const serverAfterSync = memory();

    const steps: StepResult[] = [];
    for (let k = 0; k < o.steps; k++) {
      const next = withPodChange(cluster, k, o.services);
      cluster = next.cluster;
      const version = String(Number(xds.version) + 1);
      const reports = children.waitFor(
        (r) => r.kind === 'change' && r.typeUrl === ADDRESS_TYPE_URL && r.version === version,
        o.clients,
      );
      const authz = children.count(
        (r) => r.kind === 'change' && r.typeUrl === AUTHORIZATION_TYPE_URL,
      );
      const a = performance.now();
      const admitted = admitCore(cluster);
      const admitMs = performance.now() - a;
      cpu = process.cpuUsage();
      t = performance.now();
      pipeline.apply(admitted);
      xds.flush();
      const applyMs = performance.now() - t;
      if (xds.version !== version)
        throw new Error(`step ${k}: expected snapshot version ${version}, serving ${xds.version}`);
      const got = await reports;
      const lastClientMs = performance.now() - t;
      await allAcked(xds, [ADDRESS_TYPE_URL], version, o.clients);
      const allAckedMs = performance.now() - t;
      const stepCpuMs = cpuMs(process.cpuUsage(cpu));
      const counts = got.map((r) => (r.kind === 'change' ? r.updated + r.removed : 0));

      const stages = timings!;

      steps.push({
        pod: next.pod,
        change: next.change,
        applyMs,
        lastClientMs,
        allAckedMs,
        cpuMs: stepCpuMs,
        addressesMin: Math.min(...counts),
        addressesMax: Math.max(...counts),
        authorizationResponses: authz.stop(),
        admitMs,
        ...stages,
      });
    }
    const serverAfterSteps = memory();
    // A full derivation of the final snapshot, as many times as there were changes, for comparison;
    // after the steps, so that its garbage is not collected inside their timings.
    const fullDeriveMs: number[] = [];
    for (let k = 0; k < o.steps; k++) {
      const s = performance.now();
      deriveMeshState(cluster, {});
      fullDeriveMs.push(performance.now() - s);
    }
    const clientProcesses = await children.memory();
    const served = pipeline.current!;
    return {
      options: o,
      workloads: served.state.workloads.size,
      addresses: served.wds.get(ADDRESS_TYPE_URL)!.size,
      authorizations: served.wds.get(AUTHORIZATION_TYPE_URL)!.size,
      buildClusterMs,
      firstApplyMs,
      initialSyncMs,
      initialSyncCpuMs,
      serverAfterSync,
      serverAfterSteps,
      clientProcesses,
      steps,
      fullDeriveMs,
    };
  } finally {
    await children.close();
    await xds.close(1000);
    await new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
  }
}

interface Children {
  send(c: ClientCommand): void;
  /** Resolves with the first `n` reports matching `match` from now on. */
  waitFor(match: (r: ClientReport) => boolean, n: number): Promise<ClientReport[]>;
  /** Counts matching reports until stop(). */
  count(match: (r: ClientReport) => boolean): { stop(): number };
  memory(): Promise<Memory[]>;
  close(): Promise<void>;
}

async function startChildren(address: string, clients: number): Promise<Children> {
  const script = new URL('./bench-clients.js', import.meta.url);
  const procs: ChildProcess[] = [];
  const listeners = new Set<(r: ClientReport) => void>();
  for (let i = 0; i < CHILDREN; i++) {
    const first = Math.floor((clients * i) / CHILDREN);
    const count = Math.floor((clients * (i + 1)) / CHILDREN) - first;
    const child = fork(script, [address, String(first), String(count)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (r: ClientReport) => {
      for (const l of [...listeners]) l(r);
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`bench-clients exited with ${code}`);
    });
    procs.push(child);
  }
  await Promise.all(procs.map((p) => once(p, 'message')));

  const waitFor = (match: (r: ClientReport) => boolean, n: number) =>
    new Promise<ClientReport[]>((resolve, reject) => {
      const got: ClientReport[] = [];
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(
          new Error(
            `timed out after ${STEP_TIMEOUT_MS} ms with ${got.length} of ${n} client reports`,
          ),
        );
      }, STEP_TIMEOUT_MS);
      const listener = (r: ClientReport) => {
        if (!match(r)) return;
        got.push(r);
        if (got.length === n) {
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(got);
        }
      };
      listeners.add(listener);
    });
  return {
    send: (c) => procs.forEach((p) => p.send(c)),
    waitFor,
    count(match) {
      let n = 0;
      const listener = (r: ClientReport) => void (match(r) && n++);
      listeners.add(listener);
      return { stop: () => (listeners.delete(listener), n) };
    },
    async memory() {
      const out: Memory[] = [];
      for (const p of procs) {
        const reply = waitFor((r) => r.kind === 'memory', 1);
        p.send({ kind: 'memory' } satisfies ClientCommand);
        const [r] = await reply;
        if (r?.kind === 'memory') out.push({ rssMiB: mib(r.rss), heapUsedMiB: mib(r.heapUsed) });
      }
      return out;
    },
    async close() {
      await Promise.all(
        procs.map(async (p) => {
          if (p.exitCode !== null || !p.connected) return;
          const exited = once(p, 'exit');
          p.send({ kind: 'close' } satisfies ClientCommand);
          await exited;
        }),
      );
    },
  };
}

/** Polls xds.debug() (every ms) until every stream ACKed `version` for each of `types`. */
async function allAcked(
  xds: { debug(): ReturnType<import('@trellis/xds').XdsServer<unknown>['debug']> },
  types: readonly string[],
  version: string,
  streams: number,
) {
  const deadline = performance.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const conns = xds.debug();
    const done =
      conns.length === streams &&
      conns.every((c) =>
        types.every((t) => c.types.find((d) => d.typeUrl === t)?.ackedVersion === version),
      );
    if (done) return;
    if (performance.now() > deadline)
      throw new Error(`streams did not all ACK version ${version} within ${STEP_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const CORE_KINDS = [
  'namespaces',
  'pods',
  'services',
  'endpointSlices',
  'nodes',
  'serviceAccounts',
] as const;

/**
 * What the Kubernetes ingest does with each snapshot: the core objects pass admitSnapshot (cached
 * per object, so only changed ones are checked); the synthetic CRDs are typed records already.
 */
function admitCore(cluster: ClusterSnapshot): ClusterSnapshot {
  const raw = { ...emptySnapshot() } as unknown as Record<string, readonly unknown[]>;
  for (const k of CORE_KINDS) raw[k] = cluster[k];
  const { snapshot, rejected } = admitSnapshot(raw as unknown as RawClusterSnapshot);
  if (rejected.length > 0) throw new Error(`synthetic objects rejected: ${rejected[0]!.message}`);
  const out = { ...cluster } as Record<string, unknown>;
  for (const k of CORE_KINDS) out[k] = snapshot[k];
  return out as unknown as ClusterSnapshot;
}

function memory(): Memory {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed) };
}

const mib = (bytes: number) => bytes / 1024 / 1024;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

#!/usr/bin/env node
// Benchmark (root; not a test; needs tools/kube/build.sh): on a one-node local cluster with the
// agent DaemonSet, the real control plane and ztunnel (CniCluster from @trellis/testing, resolved
// from the workspace: it is not a declared dependency since it depends on this package),
//  1. pod start-up time, from the create request to the container running, for pods created one
//     after another (BENCH_START_PODS, 5, per phase) with no plugin in the chain (the baseline),
//     with trellis-cni chained and the pod outside the mesh, and with the pod enrolled (redirected
//     at CNI ADD). The phases alternate over BENCH_CYCLES (2) install/uninstall cycles — baseline,
//     [install] chained, enrolled, [uninstall], ..., baseline — so a change of load on the shared
//     machine falls on both sides; figures as ratios to the baseline of the same run;
//  2. time from labelling a namespace with BENCH_PODS (30) running pods to each pod redirected
//     (the agent's ambient.istio.io/redirection annotation, written after ztunnel took the netns
//     and the rules are in), p50 and max over the pods, in BENCH_REPEATS (3) label/unlabel rounds.
// Times come from one watch on the API in this process. Writes ../bench-results.txt.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { KubeClient } from '@trellis/local-cluster';
import { CniCluster, cniAgentManifests, waitFor } from '@trellis/testing';

const int = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`${name}: "${process.env[name]}" is not a count`);
  return v;
};
const START_PODS = int('BENCH_START_PODS', 5);
const PODS = int('BENCH_PODS', 30);
const REPEATS = int('BENCH_REPEATS', 3);
const CYCLES = int('BENCH_CYCLES', 2);
const OUT = fileURLToPath(new URL('../bench-results.txt', import.meta.url));
const ANNOTATION = 'ambient.istio.io/redirection';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${Math.round(x)} ms`;

/** Per pod ("<ns>/<name>"): when this process saw it running / annotated / not annotated. */
const seen = new Map();
const waiters = new Set();
function onPod(type, pod) {
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const now = performance.now();
  const s = seen.get(key) ?? {};
  if (type === 'DELETED') {
    seen.delete(key);
    return;
  }
  if (
    s.running === undefined &&
    pod.status?.containerStatuses?.[0]?.state?.running &&
    pod.status.podIP
  )
    s.running = now;
  const annotated = pod.metadata.annotations?.[ANNOTATION] === 'enabled';
  if (annotated && s.annotated === undefined) s.annotated = now;
  if (!annotated) s.annotated = undefined;
  seen.set(key, s);
  for (const w of [...waiters]) w();
}
function until(what, check, timeoutMs = 180_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(test);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const test = () => {
      const v = check();
      if (v === undefined) return;
      clearTimeout(timer);
      waiters.delete(test);
      resolve(v);
    };
    waiters.add(test);
    test();
  });
}

const busybox = (ns, name) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: 'bench' } },
  spec: {
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'main', image: 'busybox', args: ['-c', 'exec sleep 36000'] }],
  },
});

async function namespace(cluster, name, labels = {}) {
  cluster.kc.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }]);
  await waitFor(`the default service account of ${name}`, () =>
    cluster.kc.tryGet('serviceaccount', '-n', name, 'default') ? true : undefined,
  );
}

/** Creates `n` pods one after another; returns each one's create -> running time. */
async function startups(api, cluster, ns, n, labels = {}) {
  await namespace(cluster, ns, labels);
  const times = [];
  for (let i = 0; i < n; i++) {
    const key = `${ns}/p${i}`;
    const t0 = performance.now();
    await api.req('POST', `/api/v1/namespaces/${ns}/pods`, busybox(ns, `p${i}`));
    const t1 = await until(`${key} to run`, () => seen.get(key)?.running);
    times.push(t1 - t0);
  }
  cluster.kc.run(['delete', 'namespace', ns, '--wait=false']);
  return times;
}

/** Labels and unlabels a namespace of PODS running pods; per round, each pod's time to redirected. */
async function labelling(api, cluster) {
  console.log(`${PODS} running pods, labelled and unlabelled ${REPEATS} times`);
  await namespace(cluster, 'bench');
  await Promise.all(
    Array.from({ length: PODS }, (_, i) =>
      api.req('POST', '/api/v1/namespaces/bench/pods', busybox('bench', `p${i}`)),
    ),
  );
  const keys = Array.from({ length: PODS }, (_, i) => `bench/p${i}`);
  await until(`${PODS} pods to run`, () =>
    keys.every((k) => seen.get(k)?.running !== undefined) ? true : undefined,
  );
  const rounds = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    cluster.kc.run(['label', 'namespace', 'bench', 'istio.io/dataplane-mode=ambient']);
    const done = await until('every pod redirected', () =>
      keys.every((k) => seen.get(k)?.annotated !== undefined)
        ? keys.map((k) => seen.get(k).annotated - t0)
        : undefined,
    );
    rounds.push(done);
    console.log(`  round ${r + 1}: p50 ${ms(pct(done, 50))}, all ${ms(Math.max(...done))}`);
    cluster.kc.run(['label', 'namespace', 'bench', 'istio.io/dataplane-mode-']);
    await until('every pod back out', () =>
      keys.every((k) => seen.get(k)?.annotated === undefined) ? true : undefined,
    );
  }
  cluster.kc.run(['delete', 'namespace', 'bench', '--wait=false']);
  return rounds;
}

/** Restarts the agent with UNINSTALL=true, then deletes it: the plugin leaves the chain. */
async function uninstall(cluster) {
  cluster.kc.apply(cniAgentManifests(cluster.nodesDir, [{ name: 'UNINSTALL', value: 'true' }]));
  await waitFor(
    'the agent with UNINSTALL to be ready',
    () =>
      cluster
        .agentPods()
        .some(
          (p) =>
            p.spec.containers[0].env.some((e) => e.name === 'UNINSTALL') &&
            p.status?.containerStatuses?.[0]?.ready === true,
        )
        ? true
        : undefined,
    { attempts: 600 },
  );
  cluster.kc.run([
    'delete',
    'daemonset',
    '-n',
    'trellis-system',
    'trellis-cni-node',
    '--wait=true',
  ]);
  await waitFor(
    'the agent to be gone',
    () => (cluster.agentPods().length === 0 ? true : undefined),
    { attempts: 600 },
  );
  await waitFor('the plugin to leave the chain', () =>
    JSON.parse(readFileSync(cluster.conflistPath, 'utf8')).plugins.at(-1).type !== 'trellis-cni'
      ? true
      : undefined,
  );
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (a local cluster)');
  const load = os.loadavg()[0];
  const cluster = await CniCluster.create(`cnib${process.pid % 10000}`);
  const abort = new AbortController();
  const stop = async () => {
    abort.abort();
    await cluster.delete();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  try {
    const pki = `${cluster.info.stateDir}/pki`;
    const api = KubeClient.fromFiles(
      cluster.info.apiServer,
      `${pki}/ca.crt`,
      `${pki}/admin.crt`,
      `${pki}/admin.key`,
    );
    void api.listWatch('/api/v1/pods', (e) => onPod(e.type, e.object), abort.signal);
    await startups(api, cluster, 'warm', 2);
    // Start-up phases alternate with the plugin out and in, so a change of load on this shared
    // machine hits both sides: baseline, [install] chained, enrolled, [uninstall] baseline, ...
    const plain = [];
    const chained = [];
    const enrolled = [];
    let rounds = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      console.log(`cycle ${cycle + 1}: pod start-up without the plugin`);
      plain.push(...(await startups(api, cluster, `plain${cycle}`, START_PODS)));
      console.log(`cycle ${cycle + 1}: installing the agent`);
      await cluster.deployAgent();
      if (cycle === 0) await cluster.startMesh([{ namespace: 'bench', serviceAccount: 'default' }]);
      console.log(`cycle ${cycle + 1}: pod start-up with the plugin: outside the mesh, enrolled`);
      chained.push(...(await startups(api, cluster, `chained${cycle}`, START_PODS)));
      enrolled.push(
        ...(await startups(api, cluster, `enrolled${cycle}`, START_PODS, {
          'istio.io/dataplane-mode': 'ambient',
        })),
      );
      if (cycle === 0) rounds = await labelling(api, cluster);
      console.log(`cycle ${cycle + 1}: uninstalling the agent`);
      await uninstall(cluster);
    }
    console.log('pod start-up without the plugin, last');
    plain.push(...(await startups(api, cluster, 'plain-last', START_PODS)));

    const row = (label, xs, base) =>
      `  ${label.padEnd(66)} p50 ${ms(pct(xs, 50)).padStart(8)}  max ${ms(Math.max(...xs)).padStart(8)}` +
      (base ? `  (p50 x${(pct(xs, 50) / pct(base, 50)).toFixed(2)} of the baseline)` : '');
    const all = rounds.flat();
    const lines = [
      `trellis-cni benchmark, ${new Date().toISOString().slice(0, 10)}: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, shared machine (load average ${load.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at the end); one-node local cluster`,
      `(npm run bench -w @trellis/cni; BENCH_START_PODS=${START_PODS} BENCH_CYCLES=${CYCLES} BENCH_PODS=${PODS} BENCH_REPEATS=${REPEATS})`,
      '',
      `Pod start-up, create request -> container running, pods one after another, ${START_PODS} per phase:`,
      row(`no plugin in the chain = baseline (${CYCLES + 1} phases)`, plain),
      row(`trellis-cni chained, pod outside the mesh (${CYCLES} phases)`, chained, plain),
      row(
        `trellis-cni chained, pod enrolled, redirected at ADD (${CYCLES} phases)`,
        enrolled,
        plain,
      ),
      '',
      `Labelling a namespace with ${PODS} running pods -> each pod redirected (annotated), after the label:`,
      ...rounds.map(
        (d, i) =>
          `  round ${i + 1}: p50 ${ms(pct(d, 50))}, max (all redirected) ${ms(Math.max(...d))}`,
      ),
      `  all rounds: p50 ${ms(pct(all, 50))}, max ${ms(Math.max(...all))}`,
      '',
    ];
    writeFileSync(OUT, lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    await stop();
  }
}

main().catch((err) => {
  console.error(`redirect-bench: ${err.stack ?? err.message}`);
  process.exit(1);
});

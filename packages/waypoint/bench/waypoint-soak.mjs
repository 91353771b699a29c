#!/usr/bin/env node
// Soak benchmark (root; not a test): does the waypoint keep its memory flat and lose no request
// under hours-like use? The benchmark's mesh (mesh-setup.mjs: client -> ztunnel A -> HBONE ->
// waypoint -> HBONE -> ztunnel B -> nginx) for SOAK_SECONDS (600) under three kinds of work at once:
//   - steady keep-alive load: 16 h2load --h1 -c1 at SOAK_RPS/16 (1000 req/s in all), 1 KiB answers;
//   - new connections: a curl loop, one connection per request (~SOAK_CONN_RATE, 20 a second);
//   - configuration churn: every SOAK_CONFIG_SECONDS (20) the control plane's config directory gets
//     a new Service (churn-N, the echo pods) and the HTTPRoute of `echo` moves its traffic to it,
//     the previous one removed: the waypoint takes a Listener/Route/Cluster/ClusterLoadAssignment
//     push, opens a new pool and retires the old cluster while requests flow.
// Every SOAK_SAMPLE_SECONDS (15) the RSS of the waypoint, both ztunnels and the control plane is
// sampled. Reports, per process: RSS after a warm-up, at the end and after the load stopped, and
// the slope of RSS over the second half of the run (least squares, MiB per hour; flat is the
// goal), the waypoint's CPU; and every request that did not get its 200. Writes
// ../soak-results.txt (SOAK_OUT: elsewhere).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ADDR,
  NODE_OPTIONS,
  cpuSeconds,
  curlIn,
  rssMiB,
  runIn,
  startMesh,
  waitUntil,
} from './mesh-setup.mjs';

const env = (name, fallback) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`${name}: "${process.env[name]}" is not a positive number`);
  return v;
};
const SECONDS = env('SOAK_SECONDS', 600);
const RPS = env('SOAK_RPS', 1000);
const CONN_RATE = env('SOAK_CONN_RATE', 20);
const CONFIG_SECONDS = env('SOAK_CONFIG_SECONDS', 20);
const SAMPLE_SECONDS = env('SOAK_SAMPLE_SECONDS', 15);
const WARMUP_SECONDS = 30;
const PROXY_CPUS = process.env.BENCH_PROXY_CPUS ?? '1';
const SIDE_CPUS = process.env.BENCH_SIDE_CPUS ?? '0';
const OUT = process.env.SOAK_OUT ?? fileURLToPath(new URL('../soak-results.txt', import.meta.url));
const NS = 'bench';
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The churned objects of step n: Service churn-n (the echo pods) and echo's route to it. */
function churnManifests(n) {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `churn-${n}`, namespace: NS },
        spec: {
          selector: { app: 'echo' },
          clusterIP: `127.0.101.${(n % 250) + 1}`,
          ports: [{ name: 'http', port: 80, targetPort: ADDR.backendPort }],
        },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'echo', namespace: NS },
        spec: {
          parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 80 }],
          rules: [{ backendRefs: [{ name: `churn-${n}`, port: 80 }] }],
        },
      },
    ],
  };
}

/** RSS (MiB) of a bare Node.js process with the mesh's NODE_OPTIONS: the runtime's own floor. */
async function bareNodeRss() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    env: { ...process.env, NODE_OPTIONS },
    stdio: 'ignore',
  });
  await sleep(1000);
  const rss = rssMiB(child.pid);
  child.kill();
  return rss;
}

/** Least-squares slope of [t seconds, v] points, per hour. */
function slopePerHour(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mt = points.reduce((s, [t]) => s + t, 0) / n;
  const mv = points.reduce((s, [, v]) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - mt) * (v - mv);
    den += (t - mt) ** 2;
  }
  return (num / den) * 3600;
}

/** h2load's summary: requests done, answers by status class, and requests that got none. */
function parseH2load(out) {
  const done =
    /requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!done || !codes) throw new Error(`h2load: no summary in ${out.slice(-300)}`);
  const [, d, failed, errored, timeout] = done.map(Number);
  const [, ok, c3, c4, c5] = codes.map(Number);
  return { done: d, ok, c3, c4, c5, failed, errored, timeout };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('the soak needs root (network namespaces)');
  const load0 = os.loadavg()[0];
  const mesh = await startMesh({ proxyCpus: PROXY_CPUS, sideCpus: SIDE_CPUS });
  const url = `http://${ADDR.viaWaypointVip}/`;
  try {
    const cfg = join(mesh.dir, 'config');
    let step = 0;
    const churnStep = () => {
      step++;
      writeFileSync(join(cfg, 'churn.json'), JSON.stringify(churnManifests(step)));
    };
    churnStep();
    await waitUntil('the first churn route', () => curlIn(mesh.netns, url) === 200);
    const watched = ['waypoint', 'ztA', 'ztB', 'cp'];
    const pids = Object.fromEntries(watched.map((p) => [p, mesh.procs[p].pid]));
    const started = Date.now();
    const elapsed = () => (Date.now() - started) / 1000;

    // Steady keep-alive load for the warm-up and the soak.
    const n = 16;
    const total = WARMUP_SECONDS + SECONDS;
    const loads = [];
    for (let i = 0; i < n; i++) {
      loads.push(
        runIn(mesh.netns, SIDE_CPUS, 'h2load', [
          '--h1',
          '-c1',
          `--rps=${RPS / n}`,
          '-D',
          String(total),
          url,
        ]),
      );
      await sleep(1000 / RPS);
    }
    // A new connection per request, paced; each line is one answer's status code.
    const conns = spawn('ip', [
      'netns',
      'exec',
      mesh.netns,
      'taskset',
      '-c',
      SIDE_CPUS,
      'sh',
      '-c',
      `end=$(( $(date +%s) + ${total} )); while [ $(date +%s) -lt $end ]; do curl -s -o /dev/null --max-time 5 -w '%{http_code}\\n' ${url}; sleep ${fmt(1 / CONN_RATE, 3)}; done`,
    ]);
    const connCodes = new Map();
    let partial = '';
    conns.stdout.on('data', (d) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const code of lines) connCodes.set(code, (connCodes.get(code) ?? 0) + 1);
    });
    const connsDone = new Promise((r) => conns.on('exit', r));

    const samples = [];
    const sample = () => {
      const s = { t: elapsed() };
      for (const p of watched) s[p] = rssMiB(pids[p]);
      samples.push(s);
    };
    await sleep(WARMUP_SECONDS * 1000);
    sample();
    const cpu0 = cpuSeconds(pids.waypoint);
    const t0 = elapsed();
    const sampler = setInterval(sample, SAMPLE_SECONDS * 1000);
    const churner = setInterval(churnStep, CONFIG_SECONDS * 1000);
    const progress = setInterval(() => {
      const last = samples.at(-1);
      process.stderr.write(
        `${fmt(elapsed(), 0)} s: config step ${step}; RSS ${watched.map((p) => `${p} ${fmt(last[p], 0)}`).join(', ')} MiB\n`,
      );
    }, 60_000);
    const results = (await Promise.all(loads)).map(parseH2load);
    clearInterval(sampler);
    clearInterval(churner);
    clearInterval(progress);
    sample();
    const cpu = cpuSeconds(pids.waypoint) - cpu0;
    const held = elapsed() - t0;
    await connsDone;
    await sleep(30_000);
    const after = Object.fromEntries(watched.map((p) => [p, rssMiB(pids[p])]));
    const load1 = os.loadavg()[0];
    const bare = await bareNodeRss();

    const sum = (k) => results.reduce((s, r) => s + r[k], 0);
    const done = sum('done');
    const ok = sum('ok');
    const connTotal = [...connCodes.values()].reduce((s, v) => s + v, 0);
    const connFailed = [...connCodes].filter(([c]) => c !== '200');
    const first = samples[0];
    const last = samples.at(-1);
    const secondHalf = samples.filter((s) => s.t >= t0 + held / 2);
    const names = { waypoint: 'waypoint', ztA: 'ztunnel A', ztB: 'ztunnel B', cp: 'control plane' };
    const lines = [
      `# trellis-waypoint soak (npm run bench:soak -w @trellis/waypoint), ${new Date().toISOString()}`,
      `# host: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version} (mesh processes: NODE_OPTIONS=${NODE_OPTIONS}); proxies on CPU ${PROXY_CPUS}, load generators, the backend and the control plane on CPU ${SIDE_CPUS}; load average (1 min) ${fmt(load0, 2)} at start, ${fmt(load1, 2)} at end`,
      `# path: client -> ztunnel A -> HBONE -> waypoint -> HBONE -> ztunnel B -> nginx (1 KiB); ${WARMUP_SECONDS} s warm-up, then ${fmt(held, 0)} s of: ${RPS} req/s keep-alive (16 h2load --h1 -c1), a new connection per request (curl loop, ~${CONN_RATE}/s), a new Service and HTTPRoute backend every ${CONFIG_SECONDS} s (${step} configuration steps in all); RSS sampled every ${SAMPLE_SECONDS} s`,
      `keep-alive requests: ${done} done, ${ok} answered 2xx, ${done - ok} not (3xx ${sum('c3')}, 4xx ${sum('c4')}, 5xx ${sum('c5')}; h2load's failed ${sum('failed')}, errored ${sum('errored')}, timeout ${sum('timeout')})`,
      `new-connection requests: ${connTotal}, ${connTotal - connFailed.reduce((s, [, v]) => s + v, 0)} answered 200${connFailed.length ? `; others: ${connFailed.map(([c, v]) => `${c || 'none'} x${v}`).join(', ')}` : ''}`,
      `waypoint CPU over the soak: ${fmt((cpu / held) * 100, 1)}% of one core (${fmt(cpu / held, 3)} vCPU)`,
      'RSS MiB       after warm-up  min    max    end    30 s after  slope, 2nd half (MiB/hour)',
    ];
    for (const p of watched) {
      const v = samples.map((s) => s[p]);
      lines.push(
        `${names[p].padEnd(14)}${fmt(first[p]).padStart(8)}  ${fmt(Math.min(...v)).padStart(6)} ${fmt(Math.max(...v)).padStart(6)} ${fmt(last[p]).padStart(6)} ${fmt(after[p]).padStart(9)}   ${fmt(slopePerHour(secondHalf.map((s) => [s.t, s[p]])), 1).padStart(8)}`,
      );
    }
    lines.push(`a bare Node.js process (same NODE_OPTIONS), for scale: ${fmt(bare)} MiB`);
    lines.push(`waypoint RSS samples (MiB): ${samples.map((s) => fmt(s.waypoint, 0)).join(' ')}`);
    const text = `${lines.join('\n')}\n`;
    process.stdout.write(text);
    writeFileSync(OUT, text);
  } finally {
    await mesh.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});

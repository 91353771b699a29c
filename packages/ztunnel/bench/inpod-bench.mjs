#!/usr/bin/env node
// Benchmark (root; not a test): throughput and added latency of the in-pod ztunnel pair against
// the direct path and against mTLS relay pairs, all in the same topology and the same run. Two
// netns nodes; pods A/B in the mesh (redirected, a real trellis-ca and one trellis-ztunnel per
// node), pods A0/B0 beside them outside the mesh (the baseline). The relay pairs (relay-pairs.mjs:
// Node.js tls, nginx stream, haproxy; the anchors' mTLS pairs) sit like the two ztunnels: A0 ->
// client relay in node 1's netns -> TLS 1.3 mTLS over the bridge -> server relay in node 2's netns
// -> B0. iperf3 with 1 and 4 streams, with the CPU of the relays / ztunnels; h2load --h1 at a fixed
// request rate against a Node HTTP server in B / B0, percentiles from its per-request log.
// BENCH_WORKERS (default "1,2"): the ztunnel --workers values to run, each with a fresh mesh and
// its own direct and relay-pair figures. iperf3 runs BENCH_SECONDS (5) each, in BENCH_REPEATS (3)
// rounds over all paths; medians are reported. Writes its section of ../bench-results.txt.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { listenInNetns } from '@trellis/netsys';
import { Mesh, NetnsCluster } from '@trellis/testing';
import { startRelayPairs, treeCpuSeconds } from './relay-pairs.mjs';
import { INPOD, writeSection } from './results-file.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RPS = Number(process.env.BENCH_RPS ?? 1000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
if (!Number.isInteger(REPEATS) || REPEATS < 1)
  throw new Error(`BENCH_REPEATS: "${process.env.BENCH_REPEATS}" is not a repeat count`);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map((w) => {
  const n = Number(w.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_WORKERS: "${w}" is not a worker count`);
  return n;
});
const REQUESTS = RPS * Math.max(3, Math.min(SECONDS, 10));
const ANCHORS = '/work/shared/anchors/figures-2026-11-27.txt';

/** Set by SIGINT / SIGTERM: no further step starts, the running clients are killed. */
let aborted = false;
const running = new Set();

function checkAborted() {
  if (aborted) throw new Error('aborted by a signal');
}

/**
 * Runs `cmd` in `netns` and resolves with its stdout. Async, so the HTTP server answering h2load
 * (in this process) keeps serving and a signal is handled at once.
 */
function inNetns(netns, cmd, args) {
  checkAborted();
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')} in ${netns} failed (${code ?? signal}): ${err || out}`,
          ),
        );
    });
  });
}

function iperfServer(pod) {
  const child = spawn('ip', ['netns', 'exec', pod.netns, 'iperf3', '-s', '-p', '5201'], {
    stdio: 'ignore',
  });
  return child;
}

async function iperf(from, host, port, streams) {
  const json = JSON.parse(
    await inNetns(from.netns, 'iperf3', [
      '-c',
      host,
      '-p',
      String(port),
      '-t',
      String(SECONDS),
      '-P',
      String(streams),
      '-J',
    ]),
  );
  return json.end.sum_received.bits_per_second / 1e9;
}

/**
 * One iperf3 run from `from` to host:port; cpu = CPU time of the process trees rooted at `pids`
 * (relays or ztunnels: client side first) over the run's wall time, in % of one core, in all and each.
 */
async function measure(name, from, host, port, streams, pids = []) {
  const cpu0 = pids.map((p) => treeCpuSeconds([p]));
  const t0 = performance.now();
  const gbps = await iperf(from, host, port, streams);
  const wall = (performance.now() - t0) / 1000;
  const each = pids.map((p, i) => ((treeCpuSeconds([p]) - cpu0[i]) / wall) * 100);
  const cpu = each.reduce((a, b) => a + b, 0);
  console.log(`  P${streams} ${name}: ${gbps.toFixed(2)} Gbit/s, cpu ${cpu.toFixed(0)}%`);
  return { name, gbps, cpu, each };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Medians (and the Gbit/s range) of one path's repeated measure() results. */
function combine(samples) {
  const g = samples.map((x) => x.gbps);
  return {
    name: samples[0].name,
    gbps: median(g),
    min: Math.min(...g),
    max: Math.max(...g),
    cpu: median(samples.map((x) => x.cpu)),
    each: samples[0].each.map((_, i) => median(samples.map((x) => x.each[i]))),
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latency(from, to, dir, label) {
  const log = join(dir, `h2load-${label}.log`);
  const out = await inNetns(from.netns, 'h2load', [
    '--h1',
    '-n',
    String(REQUESTS),
    '-c',
    '1',
    '--rps',
    String(RPS),
    '--log-file',
    log,
    `http://${to.ip}:8080/`,
  ]);
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const ok = lines.filter((l) => l[1] === '200').length;
  const us = lines.map((l) => Number(l[2])).sort((a, b) => a - b);
  const m = /finished in ([\d.]+\w+), ([\d.]+) req\/s/.exec(out);
  return {
    n: lines.length,
    ok,
    p50: percentile(us, 50) / 1000,
    p90: percentile(us, 90) / 1000,
    p99: percentile(us, 99) / 1000,
    rate: m ? Number(m[2]) : NaN,
  };
}

const load0 = os.loadavg()[0];
const cluster = NetnsCluster.create(2);
const children = [];
const servers = [];
let mesh;
let meshStarting;
let relays;
let relaysStarting;
let cleaning;
/** Stops everything this bench started (also on SIGINT / SIGTERM); runs once. */
function cleanup() {
  const steps = [
    () => [...running, ...children].forEach((c) => c.kill('SIGTERM')),
    async () => (relays ?? (await relaysStarting?.catch(() => undefined)))?.stop(),
    () => Promise.all(servers.map((s) => new Promise((r) => s.close(() => r())))),
    async () => (mesh ?? (await meshStarting?.catch(() => undefined)))?.close(),
    () => cluster.cleanup(),
  ];
  cleaning ??= (async () => {
    // Each step even if an earlier one failed: the netns go last, once nothing runs in them.
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((err) => console.error(`cleanup: ${err.message}`));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    aborted = true;
    void cleanup().finally(() => process.exit(130));
  });
try {
  const [n1, n2] = cluster.nodes;
  const A = cluster.addPod(n1, { name: 'a', sa: 'a' });
  const A0 = cluster.addPod(n1, { name: 'a0', sa: 'a0', redirect: false });
  const B = cluster.addPod(n2, { name: 'b', sa: 'b' });
  const B0 = cluster.addPod(n2, { name: 'b0', sa: 'b0', redirect: false });
  for (const pod of [B, B0]) {
    children.push(iperfServer(pod));
    const server = http.createServer((_req, res) => res.end('ok\n'));
    await listenInNetns(server, pod.netnsPath, { host: '0.0.0.0', port: 8080 });
    servers.push(server);
  }
  checkAborted();
  relaysStarting = startRelayPairs(n1, n2, `${B0.ip}:5201`);
  relays = await relaysStarting;
  await new Promise((r) => setTimeout(r, 500)); // iperf3 servers bind

  const runs = [];
  for (const workers of WORKERS) {
    checkAborted();
    meshStarting = Mesh.start(cluster, { logLevel: 'warn', workers });
    mesh = await meshStarting;
    const ztunnels = mesh.nodes.map((n) => n.ztunnel.proc.child.pid);
    const rows = [];
    for (const streams of [1, 4]) {
      console.log(`workers ${workers} P${streams}`);
      // Rounds of every path in turn, so a burst of other load on the host hits all paths alike.
      const rounds = [];
      for (let i = 0; i < REPEATS; i++) {
        const round = [await measure('direct', A0, B0.ip, 5201, streams)];
        for (const p of relays.pairs)
          round.push(await measure(p.name, A0, p.host, p.port, streams, p.pids));
        round.push(await measure('mesh', A, B.ip, 5201, streams, ztunnels));
        rounds.push(round);
      }
      const [direct, ...rest] = rounds[0].map((_, i) => combine(rounds.map((r) => r[i])));
      rows.push({ streams, direct, pairs: rest.slice(0, -1), meshed: rest.at(-1) });
    }
    const lDirect = await latency(A0, B0, mesh.dir, `direct-w${workers}`);
    const lMesh = await latency(A, B, mesh.dir, `mesh-w${workers}`);
    console.log(`workers ${workers} latency direct`, lDirect, 'mesh', lMesh);
    runs.push({ workers, rows, lDirect, lMesh });
    meshStarting = undefined;
    await mesh.close();
    mesh = undefined;
  }

  const anchor = (() => {
    try {
      return readFileSync(ANCHORS, 'utf8')
        .split('\n')
        .filter((l) => /^P[14] (direct|\w+_mtls_pair)/.test(l))
        .join('\n');
    } catch {
      return '(anchors file not found)';
    }
  })();
  const f = (x) => x.toFixed(2);
  const r3 = (x) => x.toFixed(3);
  const pad = (s, n) => String(s).padEnd(n);
  const names = relays.pairs.map((p) => p.name);
  const ms = (l) =>
    `p50 ${l.p50.toFixed(3)}  p90 ${l.p90.toFixed(3)}  p99 ${l.p99.toFixed(3)}  ok ${l.ok}/${l.n}  rate ${l.rate}`;
  const pathLine = (streams, m, direct) =>
    `P${streams}  ${pad(m.name, 14)} ${f(m.gbps).padStart(6)} [${f(m.min)}–${f(m.max)}]` +
    (m === direct
      ? ''
      : `  /direct ${r3(m.gbps / direct.gbps)}  cpu ${m.cpu.toFixed(0).padStart(3)}% (${m.each.map((c) => c.toFixed(0)).join(' + ')})  ${(m.cpu / m.gbps).toFixed(1)}%/Gbps`);
  const section = ({ workers, rows, lDirect, lMesh }) => [
    `== ztunnel --workers ${workers}`,
    `iperf3, ${SECONDS} s each, ${REPEATS} rounds over all paths: median Gbit/s received [min–max]; /direct = path / direct; cpu = median CPU time of the path's relay (or ztunnel) processes / iperf3 wall time, % of one core (client side + server side), and per Gbit/s`,
    ...rows.flatMap((r) => [
      ...[r.direct, ...r.pairs, r.meshed].map((m) => pathLine(r.streams, m, r.direct)),
      `P${r.streams}  ` +
        r.pairs.map((p) => `mesh/${p.name} ${r3(r.meshed.gbps / p.gbps)}`).join('  '),
    ]),
    `h2load --h1 -c1 --rps ${RPS}, ${REQUESTS} requests (ms; added = mesh - direct)`,
    `direct  ${ms(lDirect)}`,
    `mesh    ${ms(lMesh)}`,
    `added   p50 +${(lMesh.p50 - lDirect.p50).toFixed(3)}  p90 +${(lMesh.p90 - lDirect.p90).toFixed(3)}  p99 +${(lMesh.p99 - lDirect.p99).toFixed(3)}  ratio p50 ${(lMesh.p50 / lDirect.p50).toFixed(2)}  p99 ${(lMesh.p99 / lDirect.p99).toFixed(2)}`,
    '',
  ];
  const summary = [
    '== summary: median Gbit/s, same topology and run (mesh/X = mesh Gbit/s over X Gbit/s)',
    [
      'workers  P   ',
      pad('direct', 7),
      ...names.map((n) => pad(n, 14)),
      pad('mesh', 6),
      ...names.map((n) => pad(`mesh/${n}`, 8 + n.length)),
    ].join(' '),
    ...runs.flatMap(({ workers, rows }) =>
      rows.map((r) =>
        [
          `${pad(workers, 8)} P${r.streams}  `,
          pad(f(r.direct.gbps), 7),
          ...r.pairs.map((p) => pad(f(p.gbps), 14)),
          pad(f(r.meshed.gbps), 6),
          ...r.pairs.map((p) => pad(r3(r.meshed.gbps / p.gbps), 8 + p.name.length)),
        ].join(' '),
      ),
    ),
    '',
  ];
  const base = runs[0];
  const compare = runs.slice(1).flatMap((r) => [
    `== --workers ${r.workers} vs --workers ${base.workers} (each mesh/direct ratio over the other's)`,
    ...r.rows.map((row, i) => {
      const b = base.rows[i];
      return `P${row.streams}  ${(row.meshed.gbps / row.direct.gbps / (b.meshed.gbps / b.direct.gbps)).toFixed(2)}x`;
    }),
    `latency p50 added ${(r.lMesh.p50 - r.lDirect.p50).toFixed(3)} vs ${(base.lMesh.p50 - base.lDirect.p50).toFixed(3)} ms, p99 added ${(r.lMesh.p99 - r.lDirect.p99).toFixed(3)} vs ${(base.lMesh.p99 - base.lDirect.p99).toFixed(3)} ms`,
    '',
  ]);
  const text = [
    `# trellis-ztunnel in-pod benchmark, ${new Date().toISOString()}`,
    `# host: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}; everything (iperf3 client/server, ztunnels or relays, h2load, the HTTP server) shares these CPUs`,
    `# mesh: pod A (node 1) -> in-pod rules -> ztunnel 1 -> HBONE/mTLS over the bridge -> ztunnel 2 -> pod B`,
    `# direct: pod A0 -> B0 (no redirection), same nodes and bridge`,
    `# load average (1 min) at start ${load0.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)}: other work on the host skews every figure, compare within a run`,
    `# relay pairs: pod A0 -> client relay (node 1 netns) -> TLS 1.3 mTLS, ECDSA P-256, over the bridge -> server relay (node 2 netns) -> B0; one process / worker / thread each`,
    ...(relays.skipped.length ? [`# pairs not run: ${relays.skipped.join('; ')}`] : []),
    '',
    ...summary,
    ...runs.flatMap(section),
    ...compare,
    `== reference only, NOT comparable: ${ANCHORS} (loopback relays, another day, another load)`,
    anchor,
    '',
  ]
    .join('\n')
    .replace(/ +$/gm, '');
  writeSection(INPOD, text);
  console.log(text);
} finally {
  await cleanup();
}

#!/usr/bin/env node
// Benchmark (root; not a test): throughput and added latency of the in-pod ztunnel pair against
// the direct path in the same run. Two netns nodes; pods A/B in the mesh (redirected, a real
// trellis-ca and one trellis-ztunnel per node), pods A0/B0 beside them outside the mesh (the
// baseline). iperf3 with 1 and 4 streams; h2load --h1 at a fixed request rate against a Node HTTP
// server in B / B0, percentiles from its per-request log. BENCH_WORKERS (default "1,2"): the
// ztunnel --workers values to run, each with a fresh mesh and its own direct baseline. Writes
// ../bench-results.txt.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenInNetns } from '@trellis/netsys';
import { Mesh, NetnsCluster } from '@trellis/testing';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RPS = Number(process.env.BENCH_RPS ?? 1000);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map((w) => {
  const n = Number(w.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_WORKERS: "${w}" is not a worker count`);
  return n;
});
const REQUESTS = RPS * Math.max(3, Math.min(SECONDS, 10));
const OUT = fileURLToPath(new URL('../bench-results.txt', import.meta.url));
const ANCHORS = '/work/shared/anchors/figures-2026-11-27.txt';

function inNetns(netns, cmd, args) {
  const r = spawnSync('ip', ['netns', 'exec', netns, cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} in ${netns} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function iperfServer(pod) {
  const child = spawn('ip', ['netns', 'exec', pod.netns, 'iperf3', '-s', '-p', '5201'], {
    stdio: 'ignore',
  });
  return child;
}

function iperf(from, to, streams) {
  const json = JSON.parse(
    inNetns(from.netns, 'iperf3', [
      '-c',
      to.ip,
      '-p',
      '5201',
      '-t',
      String(SECONDS),
      '-P',
      String(streams),
      '-J',
    ]),
  );
  return json.end.sum_received.bits_per_second / 1e9;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Async: the HTTP server answering h2load lives in this process, so the event loop must run. */
function inNetnsAsync(netns, cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} in ${netns} failed: ${err || out}`)),
    );
  });
}

async function latency(from, to, dir, label) {
  const log = join(dir, `h2load-${label}.log`);
  const out = await inNetnsAsync(from.netns, 'h2load', [
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

const cluster = NetnsCluster.create(2);
const children = [];
const servers = [];
let mesh;
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
  await new Promise((r) => setTimeout(r, 500)); // iperf3 servers bind

  const runs = [];
  for (const workers of WORKERS) {
    mesh = await Mesh.start(cluster, { logLevel: 'warn', workers });
    const rows = [];
    for (const streams of [1, 4]) {
      const direct = iperf(A0, B0, streams);
      const meshed = iperf(A, B, streams);
      rows.push({ streams, direct, meshed });
      console.log(
        `workers ${workers} P${streams}: direct ${direct.toFixed(2)} Gbit/s, mesh ${meshed.toFixed(2)} Gbit/s`,
      );
    }
    const lDirect = await latency(A0, B0, mesh.dir, `direct-w${workers}`);
    const lMesh = await latency(A, B, mesh.dir, `mesh-w${workers}`);
    console.log(`workers ${workers} latency direct`, lDirect, 'mesh', lMesh);
    runs.push({ workers, rows, lDirect, lMesh });
    await mesh.close();
    mesh = undefined;
  }

  const anchor = (() => {
    try {
      return readFileSync(ANCHORS, 'utf8')
        .split('\n')
        .filter((l) => /node_mtls_pair|P1 direct|P4 direct/.test(l))
        .join('\n');
    } catch {
      return '(anchors file not found)';
    }
  })();
  const f = (x) => x.toFixed(2);
  const ms = (l) =>
    `p50 ${l.p50.toFixed(3)}  p90 ${l.p90.toFixed(3)}  p99 ${l.p99.toFixed(3)}  ok ${l.ok}/${l.n}  rate ${l.rate}`;
  const section = ({ workers, rows, lDirect, lMesh }) => [
    `== ztunnel --workers ${workers}`,
    `iperf3 throughput, ${SECONDS} s each (Gbit/s received; ratio = mesh / direct)`,
    ...rows.map(
      (r) =>
        `P${r.streams}  direct ${f(r.direct)}  mesh ${f(r.meshed)}  ratio ${(r.meshed / r.direct).toFixed(3)}`,
    ),
    `h2load --h1 -c1 --rps ${RPS}, ${REQUESTS} requests (ms; added = mesh - direct)`,
    `direct  ${ms(lDirect)}`,
    `mesh    ${ms(lMesh)}`,
    `added   p50 +${(lMesh.p50 - lDirect.p50).toFixed(3)}  p90 +${(lMesh.p90 - lDirect.p90).toFixed(3)}  p99 +${(lMesh.p99 - lDirect.p99).toFixed(3)}  ratio p50 ${(lMesh.p50 / lDirect.p50).toFixed(2)}  p99 ${(lMesh.p99 / lDirect.p99).toFixed(2)}`,
    '',
  ];
  const base = runs[0];
  const compare = runs.slice(1).flatMap((r) => [
    `== --workers ${r.workers} vs --workers ${base.workers} (each mesh/direct ratio over the other's)`,
    ...r.rows.map((row, i) => {
      const b = base.rows[i];
      return `P${row.streams}  ${(row.meshed / row.direct / (b.meshed / b.direct)).toFixed(2)}x`;
    }),
    `latency p50 added ${(r.lMesh.p50 - r.lDirect.p50).toFixed(3)} vs ${(base.lMesh.p50 - base.lDirect.p50).toFixed(3)} ms, p99 added ${(r.lMesh.p99 - r.lDirect.p99).toFixed(3)} vs ${(base.lMesh.p99 - base.lDirect.p99).toFixed(3)} ms`,
    '',
  ]);
  const text = [
    `# trellis-ztunnel in-pod benchmark, ${new Date().toISOString()}`,
    `# host: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}; everything (iperf3 client/server, both ztunnels and their workers, h2load, the HTTP server) shares these CPUs`,
    `# path: pod A (node 1) -> in-pod rules -> ztunnel 1 -> HBONE/mTLS over the bridge -> ztunnel 2 -> pod B; direct: pods A0 -> B0 (no redirection), same nodes and bridge`,
    '',
    ...runs.flatMap(section),
    ...compare,
    `== anchors (${ANCHORS}; a different setup: loopback relays, not netns pods)`,
    anchor,
    ...runs.flatMap((r) =>
      r.rows.map(
        (row) =>
          `workers ${r.workers} P${row.streams} mesh vs anchor node_mtls_pair ~6.6 Gbit/s: ${(row.meshed / 6.6).toFixed(2)}x; anchor ratio node_mtls_pair/direct ${(row.streams === 1 ? 6.62 / 28.62 : 6.76 / 30.12).toFixed(3)} vs ours ${(row.meshed / row.direct).toFixed(3)}`,
      ),
    ),
    '',
  ].join('\n');
  writeFileSync(OUT, text);
  console.log(text);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r()))));
  await mesh?.close();
  cluster.cleanup();
}

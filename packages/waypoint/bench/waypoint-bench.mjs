#!/usr/bin/env node
// Benchmark (root; not a test) of the waypoint against nginx as a reverse proxy, in one run on the
// same cores (see mesh-setup.mjs for the set-up):
//   direct     wrk -> nginx backend (1 KiB static body)
//   nginx      wrk -> nginx reverse proxy (1 worker, upstream keep-alive) -> backend
//   mesh_l4    wrk -> ztunnel A -> HBONE -> ztunnel B -> backend            (a service without waypoint)
//   nginx_l4   wrk -> nginx stream (mTLS origination) -> nginx stream (mTLS termination) -> backend
//              (the shared anchors' pair: what two ztunnels do without HBONE, in native code)
//   mesh_wp    wrk -> ztunnel A -> HBONE -> waypoint -> HBONE -> ztunnel B -> backend
//   nginx_tls  wrk -> nginx terminating TLS (1.3, ECDSA P-256) -> backend
//   gateway    wrk -> ingress gateway (--role gateway, TLS) -> HBONE -> ztunnel B -> backend
// (the gateway's "x" columns are against nginx_tls, the others' against nginx)
// Proxies (nginx, the ztunnels, the waypoint) are pinned to BENCH_PROXY_CPUS (default "1"); wrk and
// the backend to BENCH_SIDE_CPUS ("0"). Saturation: wrk -t1 -cBENCH_CONNS(50), BENCH_SECONDS (10) per
// candidate, BENCH_ROUNDS (3) interleaved rounds (order reversed every other round), medians.
// CPU us/request = utime+stime of the proxy processes of the path / requests (and the two apart:
// the proxy's own code and the kernel working for it). Then a steady
// BENCH_RPS (1000) req/s: 16 h2load --h1 -c1 processes at RPS/16 each, evenly started, 1 KiB, per
// request latency from their logs -> p50/p90/p99, and the waypoint's CPU and RSS while it runs.
// Between the two, a new connection per request (BENCH_CHURN=0 skips it): conn/s and CPU per connection.
// Writes ../bench-results.txt (BENCH_OUT: elsewhere). Ratios are against nginx measured in the same run.
// The mesh's Node.js processes run with the NODE_OPTIONS their pods get (BENCH_NODE_OPTIONS: others;
// BENCH_NODE_ARGS: more node flags, e.g. V8 flags that NODE_OPTIONS refuses).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientCert, hostCert, ingressRoot } from '../dist/test-support/gateway-clients.js';
import {
  ADDR,
  ANCHOR_L4_HOST,
  INGRESS_HOST,
  NODE_OPTIONS,
  cpuSeconds,
  cpuTimes,
  rssMiB,
  runIn,
  runQueueMs,
  startMesh,
} from './mesh-setup.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = Number(process.env.BENCH_CONNS ?? 50);
const RPS = Number(process.env.BENCH_RPS ?? 1000);
const LAT_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const CHURN = process.env.BENCH_CHURN !== '0';
const PROXY_CPUS = process.env.BENCH_PROXY_CPUS ?? '1';
const SIDE_CPUS = process.env.BENCH_SIDE_CPUS ?? '0';
const ONLY = process.env.BENCH_CANDIDATES?.split(',');
const OUT =
  process.env.BENCH_OUT ?? fileURLToPath(new URL('../bench-results.txt', import.meta.url));

// base: the candidate whose req/s and CPU the "x" columns divide by (the same work without Trellis).
const CANDIDATES = [
  { name: 'direct', url: `http://${ADDR.backend}:${ADDR.backendPort}/`, procs: [] },
  { name: 'nginx', url: `http://${ADDR.nginxProxy}/`, procs: ['nginx'] },
  { name: 'mesh_l4', url: `http://${ADDR.directVip}/`, procs: ['ztA2', 'ztB'] },
  { name: 'nginx_l4', url: `http://${ADDR.nginxL4}/`, procs: ['nginxL4', 'nginxL4Server'] },
  { name: 'mesh_wp', url: `http://${ADDR.viaWaypointVip}/`, procs: ['ztA', 'waypoint', 'ztB'] },
  { name: 'nginx_tls', url: `https://nginx.${INGRESS_HOST}/`, procs: ['nginxTls'] },
  {
    name: 'gateway',
    url: `https://${INGRESS_HOST}/`,
    procs: ['gateway', 'ztB'],
    base: 'nginx_tls',
  },
]
  .map((c) => ({ base: 'nginx', ...c }))
  .filter((c) => !ONLY || ONLY.includes(c.name));
const INGRESS = CANDIDATES.some((c) => c.name === 'gateway' || c.name === 'nginx_tls');
const ANCHOR_L4 = CANDIDATES.some((c) => c.name === 'nginx_l4');

function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const unit = (v, u) => (u === 'us' ? v / 1000 : u === 's' ? v * 1000 : v);
  const lat = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? unit(Number(m[1]), m[2]) : NaN;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  const sock = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  return { rps, requests, p50: lat('50'), p99: lat('99'), errors: Number(errors), sock };
}

const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function saturation(mesh) {
  const results = Object.fromEntries(CANDIDATES.map((c) => [c.name, []]));
  for (const c of CANDIDATES)
    await runIn(mesh.netns, SIDE_CPUS, 'wrk', ['-t1', `-c${CONNS}`, '-d3s', c.url]); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? CANDIDATES : [...CANDIDATES].reverse();
    for (const c of order) {
      const pids = c.procs.map((p) => mesh.procs[p].pid);
      const times0 = pids.map(cpuTimes);
      const out = await runIn(mesh.netns, SIDE_CPUS, 'wrk', [
        '-t1',
        `-c${CONNS}`,
        `-d${SECONDS}s`,
        '--latency',
        c.url,
      ]);
      const times1 = pids.map(cpuTimes);
      const w = parseWrk(out);
      const us = (s) => (s / w.requests) * 1e6;
      const sys = times1.map((t, i) => t.system - times0[i].system);
      const all = times1.map((t, i) => t.user - times0[i].user + sys[i]);
      const cpu = all.reduce((sum, v) => sum + v, 0);
      results[c.name].push({
        ...w,
        usPerReq: us(cpu),
        perProc: all.map(us),
        perProcSys: sys.map(us),
        cpuPct: (cpu / SECONDS) * 100,
      });
      process.stderr.write(
        `round ${round + 1} ${c.name}: ${fmt(w.rps, 0)} req/s, ${fmt(us(cpu))} us/req${w.errors ? `, ${w.errors} non-2xx` : ''}\n`,
      );
    }
  }
  return results;
}

// A new connection per request (wrk -H 'Connection: close', 16 connections): what a client without
// keep-alive costs each proxy (accept, routing, HBONE stream or TLS handshake). ROUNDS interleaved
// rounds as for saturation (one pass swung by ±20 % on this shared host), medians.
async function churn(mesh) {
  const runs = Object.fromEntries(CANDIDATES.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 ? [...CANDIDATES].reverse() : CANDIDATES) {
      const pids = c.procs.map((p) => mesh.procs[p].pid);
      const cpu0 = pids.map(cpuSeconds);
      const args = ['-t1', '-c16', `-d${SECONDS}s`, '-H', 'Connection: close', c.url];
      const w = parseWrk(await runIn(mesh.netns, SIDE_CPUS, 'wrk', args));
      const perProc = pids.map((pid, i) => ((cpuSeconds(pid) - cpu0[i]) / w.requests) * 1e6);
      runs[c.name].push({ ...w, perProc });
      process.stderr.write(`churn round ${round + 1} ${c.name}: ${fmt(w.rps, 0)} conn/s\n`);
    }
  }
  const results = {};
  for (const c of CANDIDATES) {
    const rs = runs[c.name];
    const perProc = c.procs.map((_, i) => median(rs.map((r) => r.perProc[i])));
    results[c.name] = {
      rps: median(rs.map((r) => r.rps)),
      usPerConn: perProc.reduce((sum, us) => sum + us, 0),
      perProc,
      errors: rs.reduce((sum, r) => sum + r.errors, 0),
      sock: rs
        .map((r) => r.sock)
        .filter(Boolean)
        .join('; '),
    };
  }
  return results;
}

async function steady(mesh, c) {
  const dir = mkdtempSync(join(os.tmpdir(), 'wpbench-lat-'));
  const n = 16;
  const per = RPS / n;
  const wp = mesh.procs[c.name === 'gateway' ? 'gateway' : 'waypoint'].pid;
  const cpu0 = cpuSeconds(wp);
  // The path's proxies: CPU and time spent waiting for it (they share BENCH_PROXY_CPUS).
  const path = c.procs.map((p) => mesh.procs[p].pid);
  const path0 = path.map((pid) => [cpuSeconds(pid), runQueueMs(pid)]);
  const rss = [];
  const sampler = setInterval(() => rss.push(rssMiB(wp)), 500);
  const runs = [];
  for (let i = 0; i < n; i++) {
    runs.push(
      runIn(mesh.netns, SIDE_CPUS, 'h2load', [
        '--h1',
        '-c1',
        `--rps=${per}`,
        '-D',
        String(LAT_SECONDS),
        `--log-file=${join(dir, `c${i}.tsv`)}`,
        c.url,
      ]),
    );
    await new Promise((r) => setTimeout(r, 1000 / per / n));
  }
  await Promise.all(runs);
  clearInterval(sampler);
  const cpu = cpuSeconds(wp) - cpu0;
  const procs = c.procs.map((name, i) => ({
    name,
    cpuPct: ((cpuSeconds(path[i]) - path0[i][0]) / LAT_SECONDS) * 100,
    waitedMsPerS: (runQueueMs(path[i]) - path0[i][1]) / LAT_SECONDS,
  }));
  const lat = [];
  let failed = 0;
  for (const f of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [, status, micros] = line.split('\t');
      if (micros === undefined) continue;
      if (status !== '200') failed++;
      lat.push(Number(micros) / 1000);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return {
    n: lat.length,
    failed,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    waypointCpuPct: (cpu / LAT_SECONDS) * 100,
    waypointRss: median(rss),
    procs,
  };
}

/** A CA, a server certificate for ANCHOR_L4_HOST and a client certificate, for nginx_l4. */
async function anchorL4Certs() {
  const root = await ingressRoot();
  return {
    ca: root.cert,
    server: await hostCert(root, ANCHOR_L4_HOST),
    client: await clientCert(root, 'spiffe://cluster.local/ns/bench/sa/anchor'),
  };
}

async function main() {
  if (process.getuid?.() !== 0)
    throw new Error('the benchmark needs root (network namespace, taskset)');
  const load0 = os.loadavg()[0];
  const mesh = await startMesh({
    proxyCpus: PROXY_CPUS,
    sideCpus: SIDE_CPUS,
    waypointArgs: ['--access-log=false'],
    ingress: INGRESS ? await hostCert(await ingressRoot(), INGRESS_HOST) : undefined,
    anchorL4: ANCHOR_L4 ? await anchorL4Certs() : undefined,
  });
  const stop = () => void mesh.close().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const sat = await saturation(mesh);
    const conns = CHURN ? await churn(mesh) : undefined;
    const lat = {};
    for (const c of CANDIDATES) lat[c.name] = await steady(mesh, c);
    const load1 = os.loadavg()[0];
    const baseRps = (c) => median(sat[c.base]?.map((r) => r.rps) ?? []);
    const baseUs = (c) => median(sat[c.base]?.map((r) => r.usPerReq) ?? []);
    const lines = [];
    lines.push(`# trellis-waypoint benchmark, ${new Date().toISOString()}`);
    lines.push(
      `# host: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version} (mesh processes: NODE_OPTIONS=${NODE_OPTIONS}); proxies on CPU ${PROXY_CPUS}, wrk/h2load and the backend on CPU ${SIDE_CPUS}; load average (1 min) ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end (other work on the host skews absolute figures; compare within the run)`,
    );
    lines.push(
      '# direct: wrk -> nginx backend (1 KiB); nginx: -> nginx reverse proxy (1 worker, keep-alive upstream) -> backend;',
    );
    lines.push(
      '# mesh_l4: -> ztunnel A -> HBONE (mTLS, HTTP/2 CONNECT) -> ztunnel B -> backend; mesh_wp: -> ztunnel A -> HBONE -> waypoint -> HBONE -> ztunnel B -> backend',
      '# nginx_l4: -> nginx stream, mTLS origination -> nginx stream, mTLS termination (client certificate verified) -> backend: two L4 hops with mTLS between, as mesh_l4, in native code (a TLS connection per client connection, no HBONE)',
    );
    if (INGRESS)
      lines.push(
        '# nginx_tls: HTTPS (TLS 1.3, ECDSA P-256, keep-alive) -> nginx -> backend; gateway: HTTPS -> the ingress gateway -> HBONE -> ztunnel B -> backend (x columns against nginx_tls)',
      );
    lines.push(
      `# saturation: wrk -t1 -c${CONNS}, ${SECONDS} s, ${ROUNDS} interleaved rounds, medians [min-max]; us/req = CPU of the path's proxy processes per request; x base = req/s / the baseline's req/s (nginx; nginx_tls for the gateway)`,
    );
    lines.push(
      'candidate   req/s median [min-max]      p50 ms  p99 ms  CPU%   us/req  (per process)            x base  us base/x',
    );
    for (const c of CANDIDATES) {
      const rs = sat[c.name];
      const rps = median(rs.map((r) => r.rps));
      const us = median(rs.map((r) => r.usPerReq));
      const per = c.procs
        .map((p, i) => `${p} ${fmt(median(rs.map((r) => r.perProc[i])))}`)
        .join(', ');
      lines.push(
        `${c.name.padEnd(11)} ${fmt(rps, 0).padStart(6)} [${fmt(Math.min(...rs.map((r) => r.rps)), 0)}-${fmt(Math.max(...rs.map((r) => r.rps)), 0)}]`.padEnd(
          40,
        ) +
          `${fmt(median(rs.map((r) => r.p50)), 2).padStart(6)}  ${fmt(median(rs.map((r) => r.p99)), 2).padStart(6)}  ${fmt(median(rs.map((r) => r.cpuPct)), 0).padStart(4)}  ${fmt(us).padStart(7)}  ${(per ? `(${per})` : '').padEnd(24)} ${fmt(rps / baseRps(c), 2).padStart(6)}  ${us > 0 ? fmt(baseUs(c) / us, 2) : '-'}` +
          (rs.some((r) => r.errors > 0 || r.sock)
            ? `  errors: ${rs.map((r) => `${r.errors} ${r.sock}`).join('; ')}`
            : ''),
      );
    }
    lines.push('');
    lines.push(
      "# where each us/req goes: user = the proxy's own code (utime), sys = the kernel working for it (stime: system calls, loopback TCP); medians per process, the sum per candidate",
    );
    for (const c of CANDIDATES.filter((x) => x.procs.length > 0)) {
      const rs = sat[c.name];
      const sys = c.procs.map((_, i) => median(rs.map((r) => r.perProcSys[i])));
      const all = c.procs.map((_, i) => median(rs.map((r) => r.perProc[i])));
      const sum = (xs) => xs.reduce((a, b) => a + b, 0);
      lines.push(
        `${c.name.padEnd(11)} user ${fmt(sum(all) - sum(sys)).padStart(6)}  sys ${fmt(sum(sys)).padStart(6)}  (${c.procs.map((p, i) => `${p} ${fmt(all[i] - sys[i])}+${fmt(sys[i])}`).join(', ')})`,
      );
    }
    if (conns) {
      lines.push('');
      lines.push(
        `# new connection per request: wrk -t1 -c16 -H 'Connection: close', ${SECONDS} s, ${ROUNDS} interleaved rounds, medians; us/conn = CPU of the path's proxy processes per connection (the sum of each one's median); x base as above`,
      );
      for (const c of CANDIDATES) {
        const r = conns[c.name];
        const base = conns[c.base];
        lines.push(
          `${c.name.padEnd(11)} ${fmt(r.rps, 0).padStart(6)} conn/s  us/conn ${fmt(r.usPerConn).padStart(7)}  x base ${base ? fmt(r.rps / base.rps, 2) : '-'}` +
            (c.procs.length > 1
              ? `  (${c.procs.map((p, i) => `${p} ${fmt(r.perProc[i])}`).join(', ')})`
              : '') +
            (r.errors > 0 || r.sock ? `  errors: ${r.errors} ${r.sock}` : ''),
        );
      }
    }
    lines.push('');
    lines.push(
      `# steady ${RPS} req/s: 16 h2load --h1 -c1 at ${RPS / 16} req/s each, ${LAT_SECONDS} s, 1 KiB; per-request latency (ms); added = candidate - direct`,
      '# cpu%/waited: each proxy of the path, its CPU (% of one core) and how long its threads were runnable but waiting for a CPU (ms per second; the proxies share BENCH_PROXY_CPUS)',
    );
    const d = lat.direct;
    for (const c of CANDIDATES) {
      const l = lat[c.name];
      lines.push(
        `${c.name.padEnd(11)} p50 ${fmt(l.p50, 3)}  p90 ${fmt(l.p90, 3)}  p99 ${fmt(l.p99, 3)}  ok ${l.n - l.failed}/${l.n}` +
          (d && c.name !== 'direct'
            ? `  added p50 +${fmt(l.p50 - d.p50, 3)} p90 +${fmt(l.p90 - d.p90, 3)} p99 +${fmt(l.p99 - d.p99, 3)}`
            : '') +
          (l.procs.length
            ? `  cpu%/waited ${l.procs.map((p) => `${p.name} ${fmt(p.cpuPct, 0)}/${fmt(p.waitedMsPerS, 0)}`).join(', ')}`
            : ''),
      );
    }
    const gw = lat.gateway;
    if (gw && lat.nginx_tls)
      lines.push(
        `gateway hop over nginx_tls (gateway - nginx_tls): p50 +${fmt(gw.p50 - lat.nginx_tls.p50, 3)}  p90 +${fmt(gw.p90 - lat.nginx_tls.p90, 3)}  p99 +${fmt(gw.p99 - lat.nginx_tls.p99, 3)} ms; gateway CPU ${fmt(gw.waypointCpuPct, 1)}% of one core, RSS ${fmt(gw.waypointRss, 0)} MiB`,
      );
    const wp = lat.mesh_wp;
    if (wp) {
      const l4 = lat.mesh_l4;
      if (l4)
        lines.push(
          `waypoint hop alone (mesh_wp - mesh_l4): p50 +${fmt(wp.p50 - l4.p50, 3)}  p90 +${fmt(wp.p90 - l4.p90, 3)}  p99 +${fmt(wp.p99 - l4.p99, 3)} ms`,
        );
      lines.push(
        `waypoint at ${RPS} req/s: CPU ${fmt(wp.waypointCpuPct, 1)}% of one core (${fmt(wp.waypointCpuPct / 100, 3)} vCPU), RSS ${fmt(wp.waypointRss, 0)} MiB (Istio 1.24 waypoint: 0.25 vCPU, 60 MB)`,
      );
    }
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

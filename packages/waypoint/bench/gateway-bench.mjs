#!/usr/bin/env node
// Benchmark (not a test) of the ingress gateway role against nginx terminating TLS, in one run on
// the same cores, on loopback:
//   nginx     wrk -> nginx (1 worker, TLS 1.3, ECDSA P-256, upstream keep-alive) -> backend
//   gateway   wrk -> trellis gateway (--role gateway, SDS certificate) -> backend (plain TCP)
// The backend is nginx returning a 1 KiB body. Proxies are pinned to BENCH_PROXY_CPUS (default
// "1"), wrk and the backend to BENCH_SIDE_CPUS ("0"). Two measures, BENCH_ROUNDS (3) interleaved
// rounds of BENCH_SECONDS (10) each, medians: keep-alive HTTPS (wrk -t1 -cBENCH_CONNS(50)
// --latency: req/s, p50, p99, proxy CPU us per request) and new TLS handshakes per second (wrk with
// "Connection: close": one handshake per request). Ratios against nginx of the same run; writes
// ../gateway-bench-results.txt. The backend is outside the mesh: the HBONE hop is measured by the
// waypoint benchmark, this one isolates TLS termination and the L7 path.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostCert, ingressRoot } from '../dist/test-support/gateway-clients.js';
import { cpuSeconds } from './mesh-setup.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNS = Number(process.env.BENCH_CONNS ?? 50);
const PROXY_CPUS = process.env.BENCH_PROXY_CPUS ?? '1';
const SIDE_CPUS = process.env.BENCH_SIDE_CPUS ?? '0';
const OUT = fileURLToPath(new URL('../gateway-bench-results.txt', import.meta.url));
const base = 20000 + ((process.pid * 13) % 20000);
const PORT = { backend: base, nginx: base + 1, gateway: base + 2 };

const dir = mkdtempSync(join(os.tmpdir(), 'trellis-gw-bench-'));
const children = [];

function start(cpus, cmd, args, ready) {
  const child = spawn('taskset', ['-c', cpus, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    if (!ready) return resolve(child);
    const timer = setInterval(() => {
      if (ready(out)) {
        clearInterval(timer);
        resolve(child);
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${cmd} exited ${code}: ${out}`));
    });
  });
}

function run(cpus, cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', cpus, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd}: ${out}`))));
  });
}

function parseWrk(out) {
  const unit = (v, u) => (u === 'us' ? v / 1000 : u === 's' ? v * 1000 : v);
  const lat = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? unit(Number(m[1]), m[2]) : NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    p50: lat('50'),
    p99: lat('99'),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    sock: /Socket errors: (.*)/.exec(out)?.[1] ?? '',
  };
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  const root = await ingressRoot();
  const cert = await hostCert(root, 'bench.example.com');
  writeFileSync(join(dir, 'cert.pem'), cert.certChain);
  writeFileSync(join(dir, 'key.pem'), cert.privateKey);
  const body = 'x'.repeat(1024);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream be { server 127.0.0.1:${PORT.backend}; keepalive 64; keepalive_requests 10000000; }
  server { listen 127.0.0.1:${PORT.nginx} ssl; ssl_protocols TLSv1.3;
    ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}`,
  );
  writeFileSync(
    join(dir, 'backend.conf'),
    `worker_processes 1; daemon off; error_log ${dir}/backend-error.log; pid ${dir}/backend.pid;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${PORT.backend}; location / { return 200 "${body}"; } } }`,
  );
  await start(SIDE_CPUS, 'nginx', ['-c', join(dir, 'backend.conf')]);
  await start(PROXY_CPUS, 'nginx', ['-c', join(dir, 'nginx.conf')]);
  const gw = await start(
    PROXY_CPUS,
    process.execPath,
    [
      fileURLToPath(new URL('./gateway-proc.mjs', import.meta.url)),
      String(PORT.gateway),
      String(PORT.backend),
      join(dir, 'cert.pem'),
      join(dir, 'key.pem'),
    ],
    (out) => out.includes('ready'),
  );
  await new Promise((r) => setTimeout(r, 500));
  // nginx's worker is the child of its master: find it by the pid file's master.
  const nginxWorker = async () => {
    const master = (await import('node:fs')).readFileSync(join(dir, 'nginx.pid'), 'utf8').trim();
    const kids = (await import('node:fs'))
      .readFileSync(`/proc/${master}/task/${master}/children`, 'utf8')
      .trim()
      .split(/\s+/);
    return Number(kids[0]);
  };
  const pids = { nginx: await nginxWorker(), gateway: gw.pid };
  const url = (p) => `https://127.0.0.1:${p}/`;
  const cands = [
    { name: 'nginx', port: PORT.nginx },
    { name: 'gateway', port: PORT.gateway },
  ];
  // Warm-up (JIT, pools).
  for (const c of cands) await run(SIDE_CPUS, 'wrk', ['-t1', `-c${CONNS}`, '-d2s', url(c.port)]);
  const res = { keepalive: {}, handshake: {} };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...cands].reverse() : cands;
    for (const kind of ['keepalive', 'handshake']) {
      for (const c of order) {
        const args = [
          '-t1',
          `-c${kind === 'keepalive' ? CONNS : 16}`,
          `-d${SECONDS}s`,
          '--latency',
        ];
        if (kind === 'handshake') args.push('-H', 'Connection: close');
        const cpu0 = cpuSeconds(pids[c.name]);
        const r = parseWrk(await run(SIDE_CPUS, 'wrk', [...args, url(c.port)]));
        const cpu = cpuSeconds(pids[c.name]) - cpu0;
        (res[kind][c.name] ??= []).push({ ...r, usPerReq: (cpu * 1e6) / r.requests });
        process.stderr.write(
          `round ${round + 1} ${kind} ${c.name}: ${fmt(r.rps, 0)} req/s p99 ${fmt(r.p99, 2)} ms${r.errors ? ` non-2xx ${r.errors}` : ''}${r.sock ? ` socket errors ${r.sock}` : ''}\n`,
        );
      }
    }
  }
  const lines = [
    `# gateway benchmark ${new Date().toISOString()} (${os.cpus().length} cores, node ${process.version})`,
    `# proxies on CPU ${PROXY_CPUS}, wrk and backend (nginx, 1 KiB) on ${SIDE_CPUS}; ${ROUNDS} interleaved rounds of ${SECONDS} s, medians [min-max]`,
    `# keepalive: wrk -t1 -c${CONNS} over HTTPS (TLS 1.3, ECDSA P-256); handshake: -c16 with Connection: close (one TLS handshake per request)`,
    'measure    candidate  req/s median [min-max]      p50 ms  p99 ms  us/req  x nginx',
  ];
  for (const kind of ['keepalive', 'handshake']) {
    const nginx = median(res[kind].nginx.map((r) => r.rps));
    for (const c of cands) {
      const rs = res[kind][c.name];
      const rps = median(rs.map((r) => r.rps));
      const min = Math.min(...rs.map((r) => r.rps));
      const max = Math.max(...rs.map((r) => r.rps));
      lines.push(
        `${kind.padEnd(10)} ${c.name.padEnd(10)} ${`${fmt(rps, 0)} [${fmt(min, 0)}-${fmt(max, 0)}]`.padEnd(26)}` +
          `${fmt(median(rs.map((r) => r.p50)), 2).padStart(6)}  ${fmt(median(rs.map((r) => r.p99)), 2).padStart(6)}  ` +
          `${fmt(median(rs.map((r) => r.usPerReq)), 0).padStart(6)}  ${fmt(rps / nginx, 2).padStart(7)}`,
      );
    }
  }
  writeFileSync(OUT, lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

try {
  await main();
} finally {
  for (const c of children.reverse()) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}

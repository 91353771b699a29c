#!/usr/bin/env node
// Micro-benchmark (not a test): the state-store lookups of one new connection, before and after
// the per-service indexes, in the same run. "Before" is the store of BENCH_BASELINE (default
// a148c3e, the tree before the indexes), taken from git and transpiled with esbuild; "after" is
// this tree's dist. Per case: ns per operation (median of BENCH_ROUNDS rounds) and the speed-up.
//   to a service VIP: serviceByVip(vip) + pickEndpoint(service, 80)
//   to a pod IP: serviceByVip(ip) (a miss: the VIP-range fallback) + workloadByAddr(ip)
//   endpoints of a service: endpointsOf(service) (the inbound waypoint check)
// Usage: node bench/hot-path.mjs (after npm run build); writes its section of ../bench-results.txt.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeSection } from './results-file.mjs';

const BASELINE = process.env.BENCH_BASELINE ?? 'a148c3e';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SIZES = (process.env.BENCH_SIZES ?? '100x20,1000x20,2000x50').split(',').map((s) => {
  const [services, endpoints] = s.split('x').map(Number);
  return { services, endpoints };
});
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = execFileSync('git', ['-C', here, 'rev-parse', '--show-toplevel'], {
  encoding: 'utf8',
}).trim();
const esbuild = join(repo, 'node_modules', '.bin', 'esbuild');

/** The baseline StateStore: its four source files from git, transpiled to a temp dir. */
async function baselineStore() {
  const dir = mkdtempSync(join(os.tmpdir(), 'ztunnel-hot-path-'));
  try {
    const files = ['state/store.ts', 'state/load-balance.ts', 'state/model.ts', 'net/ip.ts'];
    for (const f of files) {
      mkdirSync(join(dir, 'src', f, '..'), { recursive: true });
      const text = execFileSync(
        'git',
        ['-C', repo, 'show', `${BASELINE}:packages/ztunnel/src/${f}`],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      writeFileSync(join(dir, 'src', f), text);
    }
    execFileSync(
      esbuild,
      [
        ...files.map((f) => join(dir, 'src', f)),
        `--outdir=${join(dir, 'out')}`,
        '--format=esm',
        '--log-level=warning',
      ],
      {
        cwd: join(dir, 'src'),
      },
    );
    return (await import(pathToFileURL(join(dir, 'out', 'state', 'store.js')).href)).StateStore;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { StateStore } = await import(new URL('../dist/state/store.js', import.meta.url).href);
const Baseline = await baselineStore();

const { workload: workloadOf, service: serviceOf } = await import(
  new URL('../dist/test-support/fixtures.js', import.meta.url).href
);
const workload = (uid, ip, services) => workloadOf({ uid, addresses: [ip], services });
const service = (i) =>
  serviceOf({
    hostname: `svc-${i}.default.svc.cluster.local`,
    vips: [{ network: '', address: `10.96.${i >> 8}.${i & 255}` }],
    ports: [{ servicePort: 80, targetPort: 8080, appProtocol: 'TCP' }],
  });

/** A cluster of `services` services with `endpoints` pods each. */
function fill(Store, { services, endpoints }) {
  const store = new Store();
  const svcs = [];
  const workloads = [];
  const podIps = [];
  for (let i = 0; i < services; i++) {
    const s = service(i);
    svcs.push(s);
    const key = `default/${s.hostname}`;
    for (let j = 0; j < endpoints; j++) {
      const n = i * endpoints + j;
      const ip = `10.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      podIps.push(ip);
      workloads.push(workload(`Kubernetes//Pod/default/p-${n}`, ip, { [key]: [] }));
    }
  }
  store.apply({ upsertWorkloads: workloads, upsertServices: svcs });
  return { store, svcs, podIps };
}

const cases = {
  'to a service VIP': ({ store, svcs }, i) => {
    const s = svcs[i % svcs.length];
    const found = store.serviceByVip(s.vips[0].address);
    return store.pickEndpoint(found, 80).kind;
  },
  'to a pod IP': ({ store, podIps }, i) => {
    const ip = podIps[(i * 7919) % podIps.length];
    return store.serviceByVip(ip) ?? store.workloadByAddr(ip)?.uid;
  },
  'endpoints of a service': ({ store, svcs }, i) => store.endpointsOf(svcs[i % svcs.length]).length,
};

/** ns per call of `fn`, median of ROUNDS rounds of ~0.2 s each. */
function measure(env, fn) {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(env, i);
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns > 50e6) break;
    n *= 4;
  }
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(env, i);
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return rounds.sort((a, b) => a - b)[ROUNDS >> 1];
}

const rows = [];
for (const size of SIZES) {
  const before = fill(Baseline, size);
  const after = fill(StateStore, size);
  for (const [name, fn] of Object.entries(cases)) {
    // Same answers from both, then alternate the measurements so load hits them alike.
    for (let i = 0; i < 50; i++)
      if (typeof fn(before, i) !== typeof fn(after, i)) throw new Error(`${name}: answers differ`);
    const b = [];
    const a = [];
    for (let k = 0; k < 3; k++) {
      b.push(measure(before, fn));
      a.push(measure(after, fn));
    }
    const nsBefore = b.sort((x, y) => x - y)[1];
    const nsAfter = a.sort((x, y) => x - y)[1];
    rows.push({ size: `${size.services}x${size.endpoints}`, name, nsBefore, nsAfter });
    console.log(
      `${size.services} services x ${size.endpoints} pods  ${name}: ${nsBefore.toFixed(0)} ns -> ${nsAfter.toFixed(0)} ns`,
    );
  }
}

const text = [
  `# ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)} (figures from one run; compare the ratio)`,
  `# before: ${BASELINE} (endpointsOf sorts on every pick, a VIP miss scans every service); after: this tree (plans per service and port, ranges by prefix length)`,
  `services x pods  case                      before ns/op  after ns/op  speed-up`,
  ...rows.map(
    (r) =>
      `${r.size.padEnd(16)} ${r.name.padEnd(25)} ${r.nsBefore.toFixed(0).padStart(12)}  ${r.nsAfter.toFixed(0).padStart(11)}  ${(r.nsBefore / r.nsAfter).toFixed(1)}x`,
  ),
].join('\n');
writeSection('state-store lookups per connection (node bench/hot-path.mjs)', text);
console.log(text);

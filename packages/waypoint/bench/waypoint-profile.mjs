#!/usr/bin/env node
// Profiling aid (root; not a test): the benchmark's mesh with the waypoint under `node --cpu-prof`,
// wrk -t1 -cBENCH_CONNS (50) for BENCH_SECONDS (10) through ztunnel -> waypoint -> ztunnel, then a
// summary of the profile's self time by function (top 40) and the .cpuprofile path (kept under
// PROFILE_DIR, default a temporary directory) for Chrome DevTools.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ADDR, cpuSeconds, startMesh } from './mesh-setup.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNS = Number(process.env.BENCH_CONNS ?? 50);
const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(os.tmpdir(), 'wpprof-'));

function wrk(netns, url, seconds) {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', [
      'netns',
      'exec',
      netns,
      'taskset',
      '-c',
      '0',
      'wrk',
      '-t1',
      `-c${CONNS}`,
      `-d${seconds}s`,
      url,
    ]);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk ${code}`))));
  });
}

function summarise(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (t < window.from || t > window.to) continue;
    const n = byId.get(p.samples[i]);
    if (n.callFrame.functionName === '(idle)') continue;
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/packages\//, '').replace(/^node:/, '')}:${cf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
  for (const [k, v] of rows)
    process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
}

// V8 profile timestamps and hrtime are both CLOCK_MONOTONIC (us): only samples taken under load.
const window = { from: 0, to: Infinity };
const mesh = await startMesh({
  proxyCpus: '1',
  sideCpus: '0',
  waypointArgs: ['--access-log=false'],
  waypointNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
});
const wpPid = mesh.procs.waypoint.pid;
try {
  const url = `http://${ADDR.viaWaypointVip}/`;
  await wrk(mesh.netns, url, 2);
  const pid = mesh.procs.waypoint.pid;
  const c0 = cpuSeconds(pid);
  window.from = Number(process.hrtime.bigint() / 1000n);
  const out = await wrk(mesh.netns, url, SECONDS);
  window.to = Number(process.hrtime.bigint() / 1000n);
  const c1 = cpuSeconds(pid);
  const n = Number(/(\d+) requests in/.exec(out)?.[1]);
  process.stdout.write(
    `${/Requests\/sec:.*/.exec(out)?.[0]}; waypoint ${(((c1 - c0) / n) * 1e6).toFixed(1)} us/req\n`,
  );
} finally {
  await mesh.close();
}
const f = readdirSync(dir).filter((x) => x.endsWith('.cpuprofile') && x.includes(`.${wpPid}.`));
if (f.length) {
  process.stdout.write(`${join(dir, f[0])} window ${window.from} ${window.to}\n`);
  summarise(join(dir, f[0]));
}

#!/usr/bin/env node
// Soak benchmark (root; not a test): SOAK_CONNECTIONS (10,000) concurrent TCP connections held for
// SOAK_SECONDS (600) through the in-pod mesh of two netns nodes: pod A -> in-pod rules -> ztunnel 1
// (outbound) -> HBONE/mTLS -> ztunnel 2 (inbound) -> pod B, each connection sending a line every
// SOAK_PING_SECONDS (30) and reading its echo; they are opened at SOAK_RAMP_PER_SECOND (250) a
// second. Each ztunnel is one process (--workers
// SOAK_WORKERS, 1). Every SOAK_SAMPLE_SECONDS (15) the RSS of each ztunnel (process tree) is
// sampled with the client's counts. Reports memory per connection (RSS with the connections held
// minus RSS before, over the count), RSS over time and its slope while the connections are held
// (flat is the goal), what is given back after they close, and connections lost. Writes its
// section of ../bench-results.txt.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Mesh, NetnsCluster } from '@trellis/testing';
import { treePids } from './relay-pairs.mjs';
import { writeSection } from './results-file.mjs';

const env = (name, fallback) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`${name}: "${process.env[name]}" is not a positive number`);
  return v;
};
const CONNECTIONS = env('SOAK_CONNECTIONS', 10_000);
const SECONDS = env('SOAK_SECONDS', 600);
const PING_SECONDS = env('SOAK_PING_SECONDS', 30);
const SAMPLE_SECONDS = env('SOAK_SAMPLE_SECONDS', 15);
const RAMP_PER_SECOND = env('SOAK_RAMP_PER_SECOND', 250);
const WORKERS = env('SOAK_WORKERS', 1);
/** ztunnel's log level; at info the access log says why each failed connection failed. */
const LOG_LEVEL = process.env.SOAK_LOG_LEVEL ?? 'warn';
const PEER = fileURLToPath(new URL('./soak-peer.mjs', import.meta.url));
const PORT = 7070;

/** RSS in KiB of the process tree rooted at `pid` (ztunnel and any workers). */
function treeRssKib(pid) {
  let sum = 0;
  for (const p of treePids([pid])) {
    try {
      sum += Number(
        /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0,
      );
    } catch {
      // exited while reading
    }
  }
  return sum;
}

function peer(netns, args) {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, PEER, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  let wake;
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(JSON.parse(l));
    wake?.();
  });
  const until = async (pred) => {
    for (;;) {
      const found = lines.find(pred);
      if (found) return found;
      if (child.exitCode !== null)
        throw new Error(`soak-peer ${args[0]} exited (${child.exitCode})`);
      await new Promise((r) => ((wake = r), setTimeout(r, 500)));
    }
  };
  return { child, lines, until, last: () => lines.at(-1) };
}

const load0 = os.loadavg()[0];
const cluster = NetnsCluster.create(2);
const children = [];
let mesh;
let meshStarting;
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await (mesh ?? (await meshStarting?.catch(() => undefined)))
      ?.close()
      .catch((e) => console.error(e.message));
    cluster.cleanup();
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });

try {
  const [n1, n2] = cluster.nodes;
  const A = cluster.addPod(n1, { name: 'a', sa: 'a' });
  const B = cluster.addPod(n2, { name: 'b', sa: 'b' });
  meshStarting = Mesh.start(cluster, { logLevel: LOG_LEVEL, workers: WORKERS });
  mesh = await meshStarting;
  const ztunnels = mesh.nodes.map((n) => n.ztunnel.proc.child.pid);
  const server = peer(B.netns, ['server', String(PORT)]);
  children.push(server.child);
  await server.until((l) => l.listening);

  const t0 = Date.now();
  const samples = [];
  const sample = (client, phase) => {
    const s = {
      t: (Date.now() - t0) / 1000,
      phase,
      rss: ztunnels.map(treeRssKib),
      open: client?.last()?.open ?? 0,
      lost: client?.last()?.lost ?? 0,
    };
    samples.push(s);
    console.log(
      `${s.t.toFixed(0).padStart(5)} s  ${phase.padEnd(8)} open ${String(s.open).padStart(6)}  rss ztunnel1 ${(s.rss[0] / 1024).toFixed(1)} MiB  ztunnel2 ${(s.rss[1] / 1024).toFixed(1)} MiB`,
    );
    return s;
  };
  // Idle: the mesh up with its pods, no connection yet (after a short settle).
  await new Promise((r) => setTimeout(r, 5000));
  const idle = sample(undefined, 'idle');

  const client = peer(A.netns, [
    'client',
    B.ip,
    String(PORT),
    String(CONNECTIONS),
    String(SECONDS),
    String(PING_SECONDS),
    String(RAMP_PER_SECOND),
  ]);
  children.push(client.child);
  const ticker = setInterval(() => {
    const l = client.last();
    sample(
      client,
      l?.done ? 'closed' : l?.ramped || client.lines.some((x) => x.ramped) ? 'held' : 'ramp',
    );
  }, SAMPLE_SECONDS * 1000);
  await client.until((l) => l.ramped);
  const rampSeconds = (Date.now() - t0) / 1000 - idle.t;
  const done = await client.until((l) => l.done);
  clearInterval(ticker);
  await new Promise((r) => setTimeout(r, 10_000)); // let the ztunnels release what they held
  const after = sample(client, 'after');

  // Connections a listener's accept queue had no room for (SYN cookies: the client thinks it is
  // connected; its first data then meets a reset).
  const overflows = Object.fromEntries(
    [
      ['pod A', A.netns],
      ['pod B', B.netns],
    ].map(([name, netns]) => {
      const out = spawnSync(
        'ip',
        ['netns', 'exec', netns, 'nstat', '-az', 'TcpExtListenOverflows'],
        {
          encoding: 'utf8',
        },
      ).stdout;
      return [name, Number(/TcpExtListenOverflows\s+(\d+)/.exec(out ?? '')?.[1] ?? NaN)];
    }),
  );
  const held = samples.filter((s) => s.phase === 'held');
  // Past the first minute (the heap grows to its working size); all of it on short runs.
  const late = held.filter((s) => s.t >= held[0].t + 60);
  const settled = late.length >= 2 ? late : held;
  const slope = (i, xs) => {
    // Least squares, KiB per minute.
    const n = xs.length;
    if (n < 2) return NaN;
    const mx = xs.reduce((a, s) => a + s.t, 0) / n;
    const my = xs.reduce((a, s) => a + s.rss[i], 0) / n;
    const num = xs.reduce((a, s) => a + (s.t - mx) * (s.rss[i] - my), 0);
    const den = xs.reduce((a, s) => a + (s.t - mx) ** 2, 0);
    return (num / den) * 60;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const mib = (kib) => (kib / 1024).toFixed(1);
  const lines = [
    `# ${new Date().toISOString()}; host ${os.cpus().length} CPUs, node ${process.version}; load average ${load0.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`,
    `# ${CONNECTIONS} connections pod A -> ztunnel 1 (outbound, in-pod) -> HBONE mTLS -> ztunnel 2 (inbound) -> pod B, opened at ${RAMP_PER_SECOND}/s, held ${SECONDS} s, a line each way every ${PING_SECONDS} s per connection; --workers ${WORKERS}; RSS of each ztunnel process tree every ${SAMPLE_SECONDS} s`,
    `connections: opened ${done.opened}, failed ${done.failed}, lost while held ${done.lost} ${JSON.stringify(done.why)}; pings ${done.pings}, echoes ${done.echoes}, pings sent before the previous echo ${done.late}; ramp ${rampSeconds.toFixed(0)} s`,
    `ztunnel      idle MiB  held MiB (median)  per connection  slope while held (after 1 min)  after close MiB`,
    ...[0, 1].map((i) => {
      const m = median(settled.map((s) => s.rss[i]));
      return `ztunnel ${i + 1}    ${mib(idle.rss[i]).padStart(8)}  ${mib(m).padStart(17)}  ${((m - idle.rss[i]) / CONNECTIONS).toFixed(1).padStart(11)} KiB  ${(slope(i, settled) / 1024).toFixed(2).padStart(10)} MiB/min (${((slope(i, settled) / median(settled.map((s) => s.rss[i]))) * 100).toFixed(2)}%/min)  ${mib(after.rss[i]).padStart(14)}`;
    }),
    `echo server in pod B: ${JSON.stringify(server.last())}; listen queue overflows: ${JSON.stringify(overflows)}`,
    `ztunnel warnings and errors (count, message, first one's details):`,
    ...mesh.nodes.flatMap((n, i) => {
      const counts = new Map();
      for (const l of n.ztunnel.proc.lines)
        if (
          l.level === 'warn' ||
          l.level === 'error' ||
          (l.scope === 'access' && l.decision !== 'allow')
        ) {
          const key =
            l.scope === 'access' ? `access ${l.direction} ${l.decision}: ${l.reason}` : l.msg;
          const c = counts.get(key) ?? { n: 0, first: l };
          c.n++;
          counts.set(key, c);
        }
      if (counts.size === 0) return [`  ztunnel ${i + 1}: none`];
      return [...counts].map(
        ([msg, c]) =>
          `  ztunnel ${i + 1}: ${c.n} x ${msg} ${JSON.stringify({ ...c.first, time: undefined, msg: undefined, level: undefined, name: undefined }).slice(0, 300)}`,
      );
    }),
    `RSS over time (MiB): t s, phase, open connections, ztunnel 1, ztunnel 2`,
    ...samples.map(
      (s) =>
        `${s.t.toFixed(0).padStart(5)}  ${s.phase.padEnd(6)}  ${String(s.open).padStart(6)}  ${mib(s.rss[0]).padStart(7)}  ${mib(s.rss[1]).padStart(7)}`,
    ),
  ];
  const text = lines.join('\n');
  writeSection('soak: 10,000 connections held through the mesh (bench/soak.mjs)', text);
  console.log(text);
} finally {
  await cleanup();
}

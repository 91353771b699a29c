// Benchmark (not a test): how fast HBONE carries TCP compared with simpler relays, measured in one
// run on loopback. Each variant is a pair of relay processes (client side, server side) between an
// iperf3 client and server, as ztunnel-to-ztunnel would be:
//   tcp_pair       plain TCP relays (the baseline every ratio is against)
//   tls_pair       mutual TLS 1.3 relays, one TLS connection per TCP connection (node_mtls_pair)
//   h2node_pair    a bare HTTP/2 CONNECT tunnel over mTLS made with node:http2 in this file
//   hbone_pair     this package's HboneClient and HboneServer (also on node:http2)
// Throughput with iperf3 (1 and 4 streams), CPU of the relay processes, and the round-trip time of
// small messages at a fixed rate through one tunneled connection. Then small HTTP requests (what a
// mesh mostly carries): wrk through each pair to an nginx serving 1 KiB, relays pinned to the last
// CPU and wrk and nginx to the first, with keep-alive and with a new connection per request: CPU
// of the pair per request and per connection, the figure a proxy's speed is made of. Prints and
// writes bench-results.txt. Run: npm run bench -w @trellis/hbone  (BENCH_SECONDS, BENCH_ROUNDS to
// change; BENCH_REQUESTS=0 skips the requests, which need nginx and wrk).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import {
  createRootCa,
  generateKeyPair,
  issueWorkloadCertificate,
  mtlsClientOptions,
  mtlsServerOptions,
  parseTrustBundle,
} from '@trellis/pki';
import { HboneClient } from '../client.js';
import { HboneServer } from '../server.js';
import {
  CONNECTION_WINDOW_BYTES,
  H2_SETTINGS,
  MAX_SESSION_MEMORY_MB,
  SERVER_MAX_CONCURRENT_STREAMS,
} from '../settings.js';
import { splice } from '../splice.js';

const ALL_VARIANTS = ['tcp_pair', 'tls_pair', 'h2node_pair', 'hbone_pair'] as const;
type Variant = (typeof ALL_VARIANTS)[number];
/** BENCH_VARIANTS=hbone_pair,... runs a subset (e.g. to profile one with --cpu-prof). */
const VARIANTS = ALL_VARIANTS.filter((v) =>
  (process.env['BENCH_VARIANTS'] ?? ALL_VARIANTS.join(',')).split(',').includes(v),
);
const STREAMS = (process.env['BENCH_STREAMS'] ?? '1,4').split(',').map(Number);
const BASELINE: Variant = 'tcp_pair';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const REQUESTS = process.env['BENCH_REQUESTS'] !== '0';
const LATENCY_RATE = 1000;
const LATENCY_COUNT = 3000;
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';

interface Credentials {
  readonly key: string;
  readonly certChain: string[];
}
interface RelayConfig {
  readonly variant: Variant;
  readonly side: 'client' | 'server';
  /** Server side: where the tunnel goes. Client side: the server-side relay's port. */
  readonly upstreamPort: number;
  /** Client side: the final target (iperf3 or echo server) the server side should dial. */
  readonly targetPort: number;
  readonly rootPem: string;
  readonly client: Credentials;
  readonly server: Credentials;
}

// ----- relay processes -------------------------------------------------------------------------

async function runRelay(config: RelayConfig): Promise<number> {
  const trustBundle = parseTrustBundle(config.rootPem, { trustDomain: 'cluster.local' });
  const target = `127.0.0.1:${config.targetPort}`;
  const listenTcp = async (onSocket: (s: net.Socket) => void): Promise<number> => {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  };
  const dial = (port: number): net.Socket =>
    net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
  const quiet = (s: net.Socket): void => void s.on('error', () => undefined);

  if (config.variant === 'tcp_pair') {
    return listenTcp((socket) => {
      quiet(socket);
      const up = dial(config.side === 'client' ? config.upstreamPort : config.targetPort);
      quiet(up);
      void splice(socket, up);
    });
  }
  if (config.variant === 'tls_pair' && config.side === 'server') {
    const server = tls.createServer(
      { ...mtlsServerOptions({ ...config.server, trustBundle }), allowHalfOpen: true },
      (socket) => {
        quiet(socket);
        const up = dial(config.targetPort);
        quiet(up);
        void splice(socket, up);
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  }
  if (config.variant === 'tls_pair') {
    // One secure context for all connections, as a server has (made per connection, its key and
    // certificates parsed again, it cost milliseconds of CPU per connection).
    const options = mtlsClientOptions({
      ...config.client,
      trustBundle,
      expectedIdentity: SERVER_ID,
    });
    const secureContext = tls.createSecureContext(options);
    return listenTcp((socket) => {
      quiet(socket);
      const up = tls.connect({
        host: '127.0.0.1',
        port: config.upstreamPort,
        ...options,
        secureContext,
      });
      quiet(up);
      void splice(socket, up);
    });
  }
  if (config.variant === 'h2node_pair' && config.side === 'server') {
    const server = http2.createSecureServer({
      ...mtlsServerOptions({ ...config.server, trustBundle }),
      ALPNProtocols: ['h2'],
      settings: { ...H2_SETTINGS, maxConcurrentStreams: SERVER_MAX_CONCURRENT_STREAMS },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    server.on('session', (session) => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      const [, port] = /:(\d+)$/.exec(String(headers[':authority'])) ?? [];
      const up = dial(Number(port));
      quiet(up);
      up.once('connect', () => {
        stream.respond({ ':status': 200 });
        void splice(stream, up);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  }
  if (config.variant === 'h2node_pair') {
    const session = http2.connect(`https://127.0.0.1:${config.upstreamPort}`, {
      ...mtlsClientOptions({ ...config.client, trustBundle, expectedIdentity: SERVER_ID }),
      ALPNProtocols: ['h2'],
      settings: H2_SETTINGS,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    session.on('error', () => undefined);
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
    return listenTcp((socket) => {
      quiet(socket);
      const stream = session.request({ ':method': 'CONNECT', ':authority': target });
      stream.on('error', () => undefined);
      stream.once('response', () => void splice(socket, stream));
    });
  }
  if (config.side === 'server') {
    const server = new HboneServer({ trustBundle, certificateFor: () => config.server });
    return (await server.listen({ host: '127.0.0.1', port: 0 })).port;
  }
  const client = new HboneClient();
  const source = { ...config.client, trustBundle };
  return listenTcp((socket) => {
    quiet(socket);
    socket.pause();
    client
      .connect({
        source,
        destinationIdentity: SERVER_ID,
        destinationIp: '127.0.0.1',
        hbonePort: config.upstreamPort,
        target,
      })
      .then(
        (tunnel) => void splice(socket, tunnel),
        () => socket.destroy(),
      );
  });
}

// ----- driver ----------------------------------------------------------------------------------

interface Relay {
  readonly port: number;
  readonly children: ChildProcess[];
}

async function startChild(config: RelayConfig): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['relay'], { stdio: 'inherit' });
  child.send(config);
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: message.port };
}

async function startPair(
  variant: Variant,
  targetPort: number,
  pki: Omit<RelayConfig, 'variant' | 'side' | 'upstreamPort' | 'targetPort'>,
): Promise<Relay> {
  const server = await startChild({ ...pki, variant, side: 'server', upstreamPort: 0, targetPort });
  const client = await startChild({
    ...pki,
    variant,
    side: 'client',
    upstreamPort: server.port,
    targetPort,
  });
  return { port: client.port, children: [client.child, server.child] };
}

async function stopPair(relay: Relay): Promise<void> {
  await Promise.all(
    relay.children.map(async (child) => {
      const exited = once(child, 'exit');
      child.send('stop'); // exits on its own, so that --cpu-prof profiles get written
      await exited;
    }),
  );
}

/** The CPUs of the requests section: relays on the last one, wrk and nginx on the first. */
const RELAY_CPU = String(Math.max(0, cpus().length - 1));
const SIDE_CPU = '0';

function pin(pid: number | undefined, cpu: string): void {
  if (pid === undefined) return;
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -p ${cpu} ${pid}: ${r.stderr || r.error?.message}`);
}

/** nginx serving 1 KiB on 127.0.0.1:port (one worker, keep-alive), on SIDE_CPU; returns stop. */
async function startNginx(port: number): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'hbone-bench-'));
  writeFileSync(join(dir, 'body.txt'), 'x'.repeat(1024));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${dir};`)
    .join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; sendfile on; ${temp}
  server { listen 127.0.0.1:${port}; root ${dir}; location / { default_type text/plain; try_files /body.txt =404; } } }\n`,
  );
  const nginx = spawn('taskset', ['-c', SIDE_CPU, 'nginx', '-c', join(dir, 'nginx.conf')], {
    stdio: 'inherit',
  });
  for (let i = 0; ; i++) {
    const probe = spawnSync('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
    if (probe.status === 0) break;
    if (i === 50 || nginx.exitCode !== null) throw new Error('nginx (the backend) did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return () => {
    nginx.kill();
    rmSync(dir, { recursive: true, force: true });
  };
}

/** wrk -t1 through `port` for SECONDS on SIDE_CPU: requests completed (throws on any error). */
function wrk(port: number, seconds: number, newConnectionEach: boolean): number {
  const args = newConnectionEach ? ['-c16', '-H', 'Connection: close'] : ['-c50'];
  const url = `http://127.0.0.1:${port}/`;
  const r = spawnSync('taskset', ['-c', SIDE_CPU, 'wrk', '-t1', ...args, `-d${seconds}s`, url], {
    encoding: 'utf8',
  });
  const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1];
  if (r.status !== 0 || !requests || bad) {
    throw new Error(`wrk through port ${port}: ${bad ? `${bad} non-2xx` : r.stderr || r.stdout}`);
  }
  return requests;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** utime and stime in seconds: the process's own code, and the kernel working for it. */
function cpuTimes(pid: number | undefined): { user: number; system: number } {
  if (pid === undefined) return { user: 0, system: 0 };
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

async function iperf(port: number, streams: number): Promise<number> {
  const child = spawn(
    'iperf3',
    ['-c', '127.0.0.1', '-p', String(port), '-t', String(SECONDS), '-P', String(streams), '-J'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  const report = JSON.parse(out) as {
    error?: string;
    end?: { sum_received?: { bits_per_second: number } };
  };
  if (code !== 0 || !report.end?.sum_received) {
    throw new Error(`iperf3 through port ${port} failed: ${report.error ?? `exit ${code}`}`);
  }
  return report.end.sum_received.bits_per_second / 1e9;
}

/** Round-trip times (ms) of 64-byte messages sent at LATENCY_RATE per second on one connection. */
async function latency(port: number): Promise<number[]> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  const message = Buffer.alloc(64, 7);
  const rtts: number[] = [];
  const start = performance.now();
  for (let i = 0; i < LATENCY_COUNT; i++) {
    const due = start + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    let got = 0;
    const echoed = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        got += chunk.length;
        if (got >= message.length) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
    });
    socket.write(message);
    await echoed;
    rtts.push(performance.now() - sent);
  }
  socket.destroy();
  return rtts.slice(LATENCY_COUNT / 10); // The first tenth warms up.
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function summary(values: number[], digits = 2): string {
  return `${quantile(values, 0.5).toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;
}

async function main(): Promise<void> {
  const root = await createRootCa({ commonName: 'bench root', ttlMs: 86_400_000 });
  const issue = async (identity: string): Promise<Credentials> => {
    const keys = await generateKeyPair();
    const issued = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity,
      issuer: root,
      ttlMs: 86_400_000,
    });
    return { key: keys.privateKey, certChain: [...issued.chain] };
  };
  const pki = {
    rootPem: root.cert,
    client: await issue(CLIENT_ID),
    server: await issue(SERVER_ID),
  };

  const iperfPort = 15_201 + Math.floor(Math.random() * 1000);
  const iperfServer = spawn('iperf3', ['-s', '-p', String(iperfPort)], { stdio: 'ignore' });
  const echo = net.createServer({ noDelay: true }, (s) => s.on('error', () => undefined).pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const echoPort = (echo.address() as net.AddressInfo).port;
  await new Promise((r) => setTimeout(r, 300)); // iperf3 -s binding

  const results = new Map<string, { gbps: number[]; cpu: number[] }>();
  const record = (key: string, gbps: number, cpu: number): void => {
    const entry = results.get(key) ?? { gbps: [], cpu: [] };
    entry.gbps.push(gbps);
    entry.cpu.push(cpu);
    results.set(key, entry);
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const streams of STREAMS) {
      record(`P${streams} direct`, await iperf(iperfPort, streams), 0);
      for (const variant of VARIANTS) {
        const relay = await startPair(variant, iperfPort, pki);
        const before = relay.children.map((c) => cpuSeconds(c.pid));
        const t0 = performance.now();
        const gbps = await iperf(relay.port, streams);
        const wall = (performance.now() - t0) / 1000;
        const cpu = relay.children.reduce(
          (sum, c, i) => sum + cpuSeconds(c.pid) - (before[i] ?? 0),
          0,
        );
        record(`P${streams} ${variant}`, gbps, (100 * cpu) / wall);
        await stopPair(relay);
        console.error(`round ${round} P${streams} ${variant}: ${gbps.toFixed(2)} Gbit/s`);
      }
    }
  }

  const rtts = new Map<string, number[]>();
  rtts.set('direct', await latency(echoPort));
  for (const variant of VARIANTS) {
    const relay = await startPair(variant, echoPort, pki);
    rtts.set(variant, await latency(relay.port));
    await stopPair(relay);
  }
  iperfServer.kill();
  echo.close();
  const requestLines = REQUESTS ? await requests(pki) : [];

  const lines = [
    `trellis-hbone relay benchmark, ${new Date().toISOString()}`,
    `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}; each relay side its own process; loopback`,
    `iperf3 -t ${SECONDS}, ${ROUNDS} rounds interleaved; Gbit/s median [min–max]; ratio = median / median of ${BASELINE} with the same streams;`,
    'cpu = relay processes together, % of one core, median; %core per Gbit/s = cpu / Gbit/s',
    '',
  ];
  for (const streams of STREAMS) {
    const base = quantile(results.get(`P${streams} ${BASELINE}`)?.gbps ?? [1], 0.5);
    for (const name of ['direct', ...VARIANTS]) {
      const entry = results.get(`P${streams} ${name}`);
      if (!entry) continue;
      const median = quantile(entry.gbps, 0.5);
      const cpu = quantile(entry.cpu, 0.5);
      lines.push(
        `P${streams} ${name.padEnd(12)} ${summary(entry.gbps).padEnd(20)} ratio ${(median / base).toFixed(2)}  cpu ${cpu.toFixed(0)}%  ${name === 'direct' ? '' : `${(cpu / median).toFixed(1)}%core/Gbps`}`,
      );
    }
  }
  lines.push(
    '',
    `round trip of 64 B at ${LATENCY_RATE}/s on one connection (${LATENCY_COUNT} messages, first tenth dropped): ms, added = minus direct`,
  );
  const direct = rtts.get('direct') ?? [0];
  for (const [name, values] of rtts) {
    const added = (q: number): string => (quantile(values, q) - quantile(direct, q)).toFixed(3);
    lines.push(
      `${name.padEnd(12)} p50 ${quantile(values, 0.5).toFixed(3)} p90 ${quantile(values, 0.9).toFixed(3)} p99 ${quantile(values, 0.99).toFixed(3)} | added p50 +${added(0.5)} p90 +${added(0.9)} p99 +${added(0.99)}`,
    );
  }
  lines.push(...requestLines);
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  writeFileSync(new URL('../../bench-results.txt', import.meta.url), text);
}

/**
 * Small requests through each pair, keep-alive and a new connection each, ROUNDS interleaved
 * rounds: req/s and the pair's CPU per request (client side + server side), medians.
 */
async function requests(
  pki: Omit<RelayConfig, 'variant' | 'side' | 'upstreamPort' | 'targetPort'>,
): Promise<string[]> {
  const port = 18_081 + Math.floor(Math.random() * 1000);
  const stopNginx = await startNginx(port);
  const pairs = new Map<Variant, Relay>();
  for (const variant of VARIANTS) {
    const relay = await startPair(variant, port, pki);
    for (const c of relay.children) pin(c.pid, RELAY_CPU);
    pairs.set(variant, relay);
    wrk(relay.port, 1, false); // warm-up
  }
  type Run = { rate: number; client: number; server: number; system: number };
  const runs = new Map<string, Run[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? VARIANTS : [...VARIANTS].reverse();
    for (const closeEach of [false, true]) {
      for (const variant of order) {
        const relay = pairs.get(variant) as Relay;
        const [client, server] = relay.children;
        const before = [cpuTimes(client?.pid), cpuTimes(server?.pid)];
        const n = wrk(relay.port, SECONDS, closeEach);
        const after = [cpuTimes(client?.pid), cpuTimes(server?.pid)];
        const us = (seconds: number): number => (seconds / n) * 1e6;
        const perRequest = (i: number): number =>
          us(after[i]!.user + after[i]!.system - before[i]!.user - before[i]!.system);
        const key = `${closeEach ? 'close' : 'keep'} ${variant}`;
        runs.set(key, [
          ...(runs.get(key) ?? []),
          {
            rate: n / SECONDS,
            client: perRequest(0),
            server: perRequest(1),
            system: us(after[0]!.system - before[0]!.system + after[1]!.system - before[1]!.system),
          },
        ]);
        console.error(`round ${round} ${key}: ${(n / SECONDS).toFixed(0)}/s`);
      }
    }
  }
  for (const relay of pairs.values()) await stopPair(relay);
  stopNginx();
  const median = (xs: number[]): number => quantile(xs, 0.5);
  const out = [
    '',
    `small requests: wrk -t1 to nginx (1 KiB) through each pair; relays on CPU ${RELAY_CPU}, wrk and nginx on CPU ${SIDE_CPU}; ${SECONDS} s, ${ROUNDS} rounds interleaved, medians`,
    'us = CPU of the pair (client side + server side) per request or connection, and of it the kernel working for the pair (stime: system calls, loopback TCP); x = rate / the rate of tcp_pair',
  ];
  for (const [closeEach, title] of [
    [false, 'keep-alive, 50 connections: req/s'],
    [true, 'a new connection per request (Connection: close, 16 at a time): conn/s'],
  ] as const) {
    out.push(title);
    const base = median(
      (runs.get(`${closeEach ? 'close' : 'keep'} ${BASELINE}`) ?? []).map((r) => r.rate),
    );
    for (const variant of VARIANTS) {
      const r = runs.get(`${closeEach ? 'close' : 'keep'} ${variant}`) ?? [];
      const rate = median(r.map((x) => x.rate));
      const client = median(r.map((x) => x.client));
      const server = median(r.map((x) => x.server));
      const system = median(r.map((x) => x.system));
      out.push(
        `${variant.padEnd(12)} ${rate.toFixed(0).padStart(6)}/s  x ${base ? (rate / base).toFixed(2) : '-'}  us ${(client + server).toFixed(1).padStart(6)} (${client.toFixed(1)} + ${server.toFixed(1)}; kernel ${system.toFixed(1)})`,
      );
    }
  }
  return out;
}

if (process.argv[2] === 'relay') {
  process.on('message', (message: RelayConfig | 'stop') => {
    if (message === 'stop') process.exit(0);
    runRelay(message).then(
      (port) => process.send?.({ port }),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
} else {
  await main();
}

// The real trellis-ztunnel binary, spawned with flags.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, START_TIMEOUT_MS } from '@trellis/core/test-support';
import type { ConfigDump } from './admin/config-dump.js';
import { ztunnelSettings } from './config.js';

const MAIN = fileURLToPath(new URL('./trellis-ztunnel.mjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/local.yaml', import.meta.url));
// In-pod mode (the default) builds the identity manager at start-up, so it needs a mesh root; no
// ZDS agent listens at the socket, so no pod (and no certificate request) ever arrives.
const INPOD = [
  '--ca-root-cert',
  fileURLToPath(new URL('../testdata/root-cert.pem', import.meta.url)),
  '--zds-socket',
  '/nonexistent/ztunnel.sock',
];
const LOCAL_PORTS = [
  '--admin-address',
  '127.0.0.1:0',
  '--metrics-address',
  '127.0.0.1:0',
  '--readiness-address',
  '127.0.0.1:0',
];

interface LogLine {
  msg: string;
  level: string;
  scope?: string;
  adminPort: number;
  metricsPort: number;
  readinessPort: number;
  running: string[];
}

/** Starts trellis-ztunnel; `next(msg)` waits for the next log line with that message. */
function start(t: { after(fn: () => void): void }, args: string[]) {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [MAIN, ...INPOD, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  async function next(msg: string): Promise<LogLine> {
    for (;;) {
      const r = await lines.next();
      if (r.done) assert.fail(`trellis-ztunnel ended before logging "${msg}"; stderr: ${stderr}`);
      const line = JSON.parse(r.value) as LogLine;
      if (line.msg === msg) return line;
    }
  }
  return { child, exited, next };
}

const STARTED = 'trellis-ztunnel started';

test('--help lists every flag and exits 0', () => {
  const r = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const s of Object.values(ztunnelSettings))
    assert.ok(r.stdout.includes(s.flag!), `--help mentions ${s.flag}`);
  for (const flag of [
    '--local-config',
    '--xds-address',
    '--ca-address',
    '--zds-socket',
    '--admin-address',
    '--workers',
    '--drain-timeout',
    '--log-level',
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('a bad flag value exits non-zero naming the flag', () => {
  const r = spawnSync(
    process.execPath,
    [MAIN, '--workers', 'many', '--readiness-address', '127.0.0.1:99999'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /trellis-ztunnel: --workers: invalid value "many"/);
  assert.match(
    r.stderr,
    /trellis-ztunnel: --readiness-address: invalid value "127.0.0.1:99999" \(port 99999 is above 65535\)/,
  );
});

test('an invalid local config exits non-zero naming the file, entry and field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-main-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'workloads:\n  - uid: a\n    namespace: x\n    workloadIps: [10.0.0.300]\n');
  const r = spawnSync(process.execPath, [MAIN, ...INPOD, '--local-config', path, ...LOCAL_PORTS], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    `trellis-ztunnel: ${path}: workloads[0] (uid "a").workloadIps[0]: "10.0.0.300" is not an IP address\n`,
  );
});

for (const workers of [1, 2])
  test(`--workers ${workers}, with a local config: config dump, readiness, metrics, runtime log levels, SIGHUP reload, /quitquitquit`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ztunnel-main-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'local.yaml');
    copyFileSync(EXAMPLE, path);

    const z = start(t, [
      '--local-config',
      path,
      ...LOCAL_PORTS,
      '--drain-timeout',
      '2s',
      '--workers',
      String(workers),
    ]);
    const started = await z.next(STARTED);
    assert.deepEqual(started.running, [
      'state-store',
      'admin',
      'metrics',
      'readiness',
      'local-config',
      ...(workers > 1 ? [`workers(${workers})`] : []),
      'identity-manager',
      'zds-client',
      'proxies(shared)',
      'dns-proxy',
    ]);
    const admin = `http://127.0.0.1:${started.adminPort}`;

    const dump = (await (await fetch(`${admin}/config_dump`)).json()) as ConfigDump & {
      config: { localConfig: string };
    };
    assert.deepEqual(
      dump.workloads.map((w) => w.uid),
      [
        'Kubernetes//Pod/default/client-7d4b9',
        'Kubernetes//Pod/default/echo-v1-a1',
        'Kubernetes//Pod/default/echo-v1-b2',
        'Kubernetes//Pod/default/reviews-v1-x9',
        'Kubernetes//Pod/default/waypoint-5c6f',
      ],
    );
    assert.equal(dump.services.length, 3);
    assert.equal(dump.policies.length, 3);
    assert.deepEqual(dump.certificates, []);
    assert.equal(dump.config.localConfig, path);

    // Ready once the config is loaded and (--workers > 1) every worker has its copy of it.
    const ready = await eventually(
      '/healthz/ready to answer 200',
      async () => {
        const r = await fetch(`http://127.0.0.1:${started.readinessPort}/healthz/ready`);
        if (r.status === 200) return r;
        assert.match(await r.text(), /not ready: waiting for worker/);
        return undefined;
      },
      START_TIMEOUT_MS,
    );
    assert.equal(ready.status, 200);
    const metrics = await fetch(`http://127.0.0.1:${started.metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    await metrics.text();

    const levels = await fetch(`${admin}/logging?level=debug&local-config=warn`, {
      method: 'POST',
    });
    assert.deepEqual(await levels.json(), {
      level: 'debug',
      scopes: {
        'local-config': 'warn',
        access: 'debug',
        dns: 'debug',
        identity: 'debug',
        inpod: 'debug',
        proxy: 'debug',
        ztunnel: 'debug',
        ...(workers > 1 ? { workers: 'debug' } : {}),
      },
    });
    await fetch(`${admin}/logging?local-config=info`, { method: 'POST' }).then((r) => r.text());

    // Drop the client workload from the file and ask for a reload.
    writeFileSync(
      path,
      readFileSync(EXAMPLE, 'utf8').replace(
        / {2}- uid: Kubernetes\/\/Pod\/default\/client-7d4b9[\s\S]*?canonicalRevision: v1\n\n/,
        '',
      ),
    );
    z.child.kill('SIGHUP');
    const reloaded = await z.next('local config reloaded');
    assert.deepEqual((reloaded as unknown as { change: { workloads: unknown } }).change.workloads, {
      upserted: [],
      removed: ['Kubernetes//Pod/default/client-7d4b9'],
    });
    const after = (await (await fetch(`${admin}/config_dump`)).json()) as ConfigDump;
    assert.equal(after.workloads.length, 4);

    const quit = await fetch(`${admin}/quitquitquit`, { method: 'POST' });
    assert.equal(await quit.text(), 'shutting down\n');
    assert.equal(await z.exited, 0);
  });

test('SIGTERM while the control plane never answers: it exits 0 at the drain deadline, nothing left open holds it', async (t) => {
  // Accepts TCP and then says nothing: the xDS stream's TLS handshake never finishes, as when the
  // control plane's pod went away while being dialled (a connect in flight kept the process alive
  // until the kubelet's SIGKILL, 30 s later).
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as net.AddressInfo;
  const z = start(t, [
    ...LOCAL_PORTS,
    ...['--xds-address', `127.0.0.1:${port}`, '--drain-timeout', '300ms'],
  ]);
  await z.next(STARTED);
  await eventually('the xDS connection to the silent server', () => sockets.size > 0);
  z.child.kill('SIGTERM');
  await z.next('shutdown complete');
  const code = await Promise.race([
    z.exited,
    new Promise<string>((r) =>
      setTimeout(() => r('still running 5 s after shutdown complete'), 5_000),
    ),
  ]);
  assert.equal(code, 0);
});

test('without a local config it needs the mesh root for WDS and says which file is missing', () => {
  const r = spawnSync(
    process.execPath,
    [MAIN, ...LOCAL_PORTS, '--ca-root-cert', '/nonexistent/root-cert.pem'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^trellis-ztunnel: --ca-root-cert \/nonexistent\/root-cert.pem: ENOENT/);
});

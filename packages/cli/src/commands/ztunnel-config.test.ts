// `trellis ztunnel-config` against a real trellis-ztunnel (all-workloads mode, workloads from its example
// local config, every port ephemeral), reached with --admin-address: the CLI runs as a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(REPO, 'packages/cli/dist/main.js');
const dir = mkdtempSync(join(tmpdir(), `trellis-zc-${process.pid}-`));
let ztunnel: ChildProcess;
let admin = '';

test.before(async () => {
  // ztunnel needs a root certificate file and a token file to start; the CA is never called here.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'root.pem'),
      '-days',
      '1',
      '-subj',
      '/O=test',
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'token'), 'unused');
  const zero = '127.0.0.1:0';
  ztunnel = spawn(
    process.execPath,
    [
      join(REPO, 'packages/ztunnel/dist/trellis-ztunnel.mjs'),
      ...[
        '--local-config',
        join(REPO, 'packages/ztunnel/examples/local.yaml'),
        '--proxy-mode',
        'all-workloads',
        '--workers',
        '1',
      ],
      ...[
        '--ca-address',
        '127.0.0.1:9',
        '--ca-root-cert',
        join(dir, 'root.pem'),
        '--token-path',
        join(dir, 'token'),
      ],
      ...['--admin-address', zero, '--metrics-address', zero, '--readiness-address', zero],
      ...[
        '--outbound-address',
        zero,
        '--inbound-address',
        zero,
        '--inbound-plaintext-address',
        zero,
      ],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  admin = await new Promise<string>((resolve, reject) => {
    let out = '';
    ztunnel.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"adminPort":(\d+),"metricsPort":(\d+)/.exec(out);
      if (m) resolve(`127.0.0.1:${m[1]},127.0.0.1:${m[2]}`);
    });
    ztunnel.on('exit', (code) => reject(new Error(`ztunnel exited ${code}: ${out}`)));
  });
});

test.after(() => {
  ztunnel?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const trellis = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('workloads: a table of what the ztunnel holds, and the same as JSON', () => {
  const r = trellis('ztunnel-config', 'workloads', '--admin-address', admin);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+ADDRESS\s+NODE\s+WAYPOINT\s+PROTOCOL$/);
  assert.match(r.stdout, /default\s+echo-v1-a1\s+127\.0\.20\.1\s+local\s+None\s+HBONE/);
  const json = JSON.parse(
    trellis('ztunnel-config', 'workloads', '--admin-address', admin, '-o', 'json').stdout,
  );
  const echo = json.find((w: { name: string }) => w.name === 'echo-v1-a1');
  assert.equal(echo.identity, 'spiffe://cluster.local/ns/default/sa/echo');
  assert.equal(lines.length - 1, json.length);
});

test('services, policies (filtered by namespace), certificates', () => {
  const services = trellis('ztunnel-config', 'services', '--admin-address', admin);
  assert.equal(services.status, 0, services.stderr);
  assert.match(services.stdout, /default\s+echo\s+\S+\s+80->8080\s+2\s/);
  const policies = trellis(
    'ztunnel-config',
    'policies',
    '--admin-address',
    admin,
    '-n',
    'default',
    '-o',
    'yaml',
  );
  assert.equal(policies.status, 0, policies.stderr);
  assert.match(policies.stdout, /name: echo-allow-client/);
  const none = trellis('ztunnel-config', 'policies', '--admin-address', admin, '-n', 'nowhere');
  assert.equal(none.stdout, 'no policies\n');
  const certs = trellis('ztunnel-config', 'certificates', '--admin-address', admin);
  assert.equal(certs.status, 0, certs.stderr);
  assert.match(certs.stdout, /no certificates yet/);
});

test('connections: read from the metrics port (no traffic yet)', () => {
  const r = trellis('ztunnel-config', 'connections', '--admin-address', admin);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'no connections recorded\n');
});

test('an admin address where no ztunnel listens fails with what was tried', () => {
  const r = trellis('ztunnel-config', 'workloads', '--admin-address', '127.0.0.1:1');
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /trellis ztunnel-config workloads: ztunnel at 127\.0\.0\.1:1: connect ECONNREFUSED/,
  );
  assert.equal(trellis('ztunnel-config', 'workloads', '--admin-address', 'nonsense').status, 1);
});

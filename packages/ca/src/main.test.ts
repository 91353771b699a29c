// The real trellis-ca binary, spawned with flags, serving without a cluster.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCaClient } from './client/ca-client.js';
import { csrFor, opensslVerify, tempDir, TOKENS, WEB } from './test-support/static-token-ca.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

test('trellis-ca --help documents every flag', () => {
  const r = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const flag of [
    '--listen',
    '--ca-dir',
    '--static-tokens',
    '--trust-domain',
    '--max-ttl',
    '--default-ttl',
    '--trusted-node-proxies',
    '--metrics-port',
  ]) {
    assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
  }
});

test('trellis-ca refuses a bad static token file at start-up with the reason', (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'tokens.yaml'),
    '- {token: a, namespace: default, serviceAccount: web}\n- {token: a, namespace: default, serviceAccount: api}\n',
  );
  const r = spawnSync(
    process.execPath,
    [
      MAIN,
      '--listen',
      '127.0.0.1:0',
      '--ca-dir',
      join(dir, 'ca'),
      '--static-tokens',
      join(dir, 'tokens.yaml'),
      '--metrics-port',
      '-1',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /entry #2: duplicate token \(same as entry #1\)/);
});

test('trellis-ca serves CreateCertificate with static tokens and a CA dir, and exports metrics', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(TOKENS));
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--listen',
      '127.0.0.1:0',
      '--ca-dir',
      join(dir, 'ca'),
      '--static-tokens',
      join(dir, 'tokens.json'),
      '--trust-domain',
      'cluster.local',
      '--metrics-port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  let ready: { port: number; metricsPort: number } | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const rec = JSON.parse(line) as { msg: string; port: number; metricsPort: number };
    if (rec.msg === 'trellis-ca serving') {
      ready = rec;
      break;
    }
  }
  assert.ok(ready, 'trellis-ca reported that it serves');
  child.stdout.resume();
  const rootPem = readFileSync(join(dir, 'ca', 'root-cert.pem'), 'utf8');
  const client = createCaClient({
    address: `127.0.0.1:${ready.port}`,
    rootPem,
    token: () => 'tok-web',
  });
  const chain = await client.createCertificate(await csrFor(WEB));
  client.close();
  assert.match(opensslVerify(dir, chain), /OK/);

  const text = await (await fetch(`http://127.0.0.1:${ready.metricsPort}/metrics`)).text();
  assert.match(text, /^citadel_server_csr_count 1$/m);
  assert.match(text, /^citadel_server_success_cert_issuance_count 1$/m);
  assert.match(text, /^citadel_server_csr_sign_seconds_count 1$/m);
  const expiry = Number(/^citadel_server_root_cert_expiry_timestamp (\S+)$/m.exec(text)?.[1]);
  assert.ok(expiry > Date.now() / 1000 + 9 * 365 * 24 * 3600, 'root expiry about ten years away');

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

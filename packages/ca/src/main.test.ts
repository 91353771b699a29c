// The real trellis-ca binary, spawned with flags, serving without a cluster.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
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
  // Istio's counters, scraped as counters under their exact names (no "_total" appended).
  for (const counter of ['citadel_server_csr_count', 'citadel_server_success_cert_issuance_count'])
    assert.match(text, new RegExp(`^# TYPE ${counter} counter\n(?:.*\n)*?${counter} 1$`, 'm'));
  assert.match(text, /^citadel_server_csr_sign_seconds_count 1$/m);
  // The signing time is in seconds, and so are its buckets: from a millisecond up to ten seconds.
  const bounds = [...text.matchAll(/^citadel_server_csr_sign_seconds_bucket\{le="([^"]+)"\}/gm)]
    .map((m) => m[1]!)
    .filter((le) => le !== '+Inf')
    .map(Number);
  assert.equal(bounds[0], 0.001, `buckets ${bounds.join(', ')}`);
  assert.equal(bounds.at(-1), 10, `buckets ${bounds.join(', ')}`);
  const expiry = Number(/^citadel_server_root_cert_expiry_timestamp (\S+)$/m.exec(text)?.[1]);
  assert.ok(expiry > Date.now() / 1000 + 9 * 365 * 24 * 3600, 'root expiry about ten years away');

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('SIGTERM with a client that opened TCP and never sent a TLS hello: exit at the drain deadline, and a restart binds the same ports', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(TOKENS));
  const start = (listen: string, metricsPort: string) => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        ...['--listen', listen, '--ca-dir', join(dir, 'ca'), '--drain', '300ms'],
        ...['--static-tokens', join(dir, 'tokens.json'), '--metrics-port', metricsPort],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const serving = (async () => {
      for await (const line of createInterface({ input: child.stdout })) {
        const rec = JSON.parse(line) as { msg: string; port: number; metricsPort: number };
        if (rec.msg === 'trellis-ca serving') return rec;
      }
      throw new Error('trellis-ca exited before serving');
    })();
    return { child, exited, serving };
  };

  const first = start('127.0.0.1:0', '0');
  const { port, metricsPort } = await first.serving;
  first.child.stdout.resume();
  const silent = net.connect(port, '127.0.0.1');
  await once(silent, 'connect');
  silent.on('error', () => {});
  const silentClosed = once(silent, 'close');

  first.child.kill('SIGTERM');
  const code = await Promise.race([
    first.exited,
    new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000)),
  ]);
  assert.equal(code, 0);
  await silentClosed;

  const second = start(`127.0.0.1:${port}`, String(metricsPort));
  const again = await second.serving;
  assert.equal(again.port, port);
  assert.equal(again.metricsPort, metricsPort);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

// The client-side secret manager against a real CA over gRPC + TLS, with an injected clock.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createCaClient } from './ca-client.js';
import { FakeClock } from './fake-clock.js';
import { SecretManager } from './secret-manager.js';
import { startCa, tempDir, WEB } from '../test-support.js';

const HOUR = 3600_000;

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(20);
}

async function setup(
  t: Parameters<typeof tempDir>[0] & { after(fn: () => void | Promise<void>): void },
  token = 'tok-web',
  ownIdentity?: string,
) {
  const dir = tempDir(t);
  const ca = await startCa(t, dir);
  const clock = new FakeClock();
  const client = createCaClient({
    address: ca.address,
    rootPem: ca.ca.rootPem,
    token: () => token,
  });
  t.after(() => client.close());
  let requests = 0;
  const errors: Error[] = [];
  const manager = new SecretManager({
    request: (csr, o) => {
      requests++;
      return client.createCertificate(csr, o);
    },
    rootPem: ca.ca.rootPem,
    ...(ownIdentity ? { ownIdentity } : {}),
    clock,
    random: () => 0.5,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 'none' },
    onError: (_id, err) => errors.push(err),
  });
  t.after(() => manager.close());
  return { dir, ca, clock, manager, errors, requests: () => requests };
}

test('concurrent fetches of one identity share one request, and the cached certificate is reused', async (t) => {
  const s = await setup(t);
  const [a, b] = await Promise.all([s.manager.fetch(WEB), s.manager.fetch(WEB)]);
  assert.equal(a, b);
  assert.equal(s.requests(), 1);
  assert.equal(await s.manager.fetch(WEB), a);
  assert.equal(s.requests(), 1);
  assert.equal(a.chain.length, 2);
});

test('the certificate is rotated at about half its lifetime, not before', async (t) => {
  const s = await setup(t);
  const first = await s.manager.fetch(WEB);
  s.clock.advance(11 * HOUR);
  await sleep(50);
  assert.equal(s.manager.current(WEB), first, 'no rotation at 11h of 24h');
  s.clock.advance(2 * HOUR);
  await until(() => s.manager.current(WEB) !== first);
  assert.notEqual(s.manager.current(WEB)!.key, first.key, 'a new key with the new certificate');
  assert.equal(s.requests(), 2);
});

test('ztunnel asks for a pod identity on its node with ImpersonatedIdentity', async (t) => {
  const s = await setup(t, 'tok-ztunnel-a', 'spiffe://cluster.local/ns/istio-system/sa/ztunnel');
  const cert = await s.manager.fetch('spiffe://cluster.local/ns/prod/sa/db');
  assert.equal(cert.identity, 'spiffe://cluster.local/ns/prod/sa/db');
  await assert.rejects(
    s.manager.fetch('spiffe://cluster.local/ns/prod/sa/api'),
    /PERMISSION_DENIED.*no pod with service account prod\/api/,
  );
});

test('while the CA is down the client keeps its certificate and retries; when it is back, it gets a new one', async (t) => {
  const s = await setup(t);
  const first = await s.manager.fetch(WEB);
  const port = s.ca.server.port;
  await s.ca.server.close();

  s.clock.advance(13 * HOUR); // past the rotation point
  await until(() => s.errors.length >= 1);
  assert.equal(await s.manager.fetch(WEB), first, 'still served from the cache');
  s.clock.advance(1000); // the backoff delay: another attempt, still failing
  await until(() => s.errors.length >= 2);
  assert.equal(s.manager.current(WEB), first);

  const again = await startCa(t, s.dir, { port });
  assert.equal(again.server.port, port);
  while (s.manager.current(WEB) === first) {
    s.clock.advance(1000);
    await sleep(100);
  }
  assert.notEqual(s.manager.current(WEB)!.chain[0], first.chain[0]);
});

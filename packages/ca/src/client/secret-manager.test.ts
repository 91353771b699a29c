// The client-side secret manager against a real CA over gRPC + TLS, with an injected clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { createCaClient } from './ca-client.js';
import { FakeClock } from '../test-support/fake-clock.js';
import { SecretManager } from './secret-manager.js';
import { startCa, tempDir, WEB } from '../test-support/static-token-ca.js';

const HOUR = 3600_000;

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
  // Rotation is the one timer on the fake clock: it fires inside advance() or not at all.
  s.clock.advance(11 * HOUR);
  assert.equal(s.clock.pending, 1, 'the rotation timer has not fired at 11h of 24h');
  assert.equal(s.requests(), 1, 'no second request at 11h');
  assert.equal(s.manager.current(WEB), first);
  s.clock.advance(2 * HOUR);
  assert.equal(s.clock.pending, 0, 'the rotation timer fired by 13h');
  await eventually('the rotated certificate', () => s.manager.current(WEB) !== first);
  assert.notEqual(s.manager.current(WEB)!.key, first.key, 'a new key with the new certificate');
  assert.equal(s.requests(), 2);
  assert.equal(s.clock.pending, 1, 'the next rotation is scheduled');
});

test('ztunnel asks for a pod identity on its node with ImpersonatedIdentity', async (t) => {
  const s = await setup(t, 'tok-ztunnel-a', 'spiffe://cluster.local/ns/trellis-system/sa/ztunnel');
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
  await eventually('the failed rotation to be reported', () => s.errors.length === 1);
  assert.equal(s.requests(), 2);
  assert.equal(await s.manager.fetch(WEB), first, 'still served from the cache');
  assert.equal(s.requests(), 2, 'a cached certificate needs no request');
  s.clock.advance(1000); // the backoff delay: another attempt, still failing
  await eventually('the failed retry to be reported', () => s.errors.length === 2);
  assert.equal(s.requests(), 3);
  assert.equal(s.manager.current(WEB), first);

  const again = await startCa(t, s.dir, { port });
  assert.equal(again.server.port, port);
  // Retries run on the fake clock; the gRPC channel reconnects in real time, so an attempt may
  // still fail before one succeeds. Each attempt is one request, and each failure is reported.
  const renewed = await eventually('a certificate from the restarted CA', () => {
    const c = s.manager.current(WEB);
    if (c !== first) return c;
    if (s.clock.pending > 0) s.clock.advance(1000);
    return undefined;
  });
  assert.notEqual(renewed!.chain[0], first.chain[0]);
  assert.equal(s.requests(), s.errors.length + 2, 'one request per attempt');
});

// A worker's certificates: fetched from the primary once, reused until the primary has rotated
// them, served stale (never expired) while a fresh copy is fetched, dropped on forget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrustBundle } from '@trellis/pki';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkloadCertificate } from '../identity/identity-manager.js';
import { refreshAt, remoteIdentityManager } from './remote-identity.js';

const ROOT = readFileSync(
  fileURLToPath(new URL('../../testdata/root-cert.pem', import.meta.url)),
  'utf8',
);
const ID = 'spiffe://cluster.local/ns/default/sa/a';
const HOUR = 3600_000;

function cert(serial: number, notBefore: number, lifetime = 10 * HOUR): WorkloadCertificate {
  return {
    identity: ID,
    key: `key-${serial}`,
    chain: [`leaf-${serial}`],
    notBefore: new Date(notBefore),
    notAfter: new Date(notBefore + lifetime),
  };
}

test('refreshAt: 60% into the lifetime, but never sooner than 5 s from now', () => {
  assert.equal(refreshAt(cert(1, 0), 0), 6 * HOUR);
  assert.equal(refreshAt(cert(1, 0), 7 * HOUR), 7 * HOUR + 5000);
});

test('one request per identity; stale copies are served while refreshing; expired ones never', async () => {
  let now = 0;
  const requests: string[] = [];
  let issued = 0;
  const ids = remoteIdentityManager({
    trustBundle: parseTrustBundle(ROOT, { trustDomain: 'cluster.local' }),
    now: () => now,
    request: async (identity) => {
      requests.push(identity);
      return cert(++issued, now);
    },
  });
  const [c1, c1again] = await Promise.all([ids.fetch(ID), ids.fetch(ID)]);
  assert.equal(c1.key, 'key-1');
  assert.equal(c1again, c1);
  assert.equal(requests.length, 1, 'concurrent fetches share one request');

  now = 5 * HOUR;
  assert.equal((await ids.fetch(ID)).key, 'key-1', 'fresh: no request');
  assert.equal(requests.length, 1);

  now = 7 * HOUR;
  assert.equal((await ids.fetch(ID)).key, 'key-1', 'past 60%: the cached copy is served...');
  await new Promise((r) => setImmediate(r));
  assert.equal(requests.length, 2, '...while a fresh one is fetched');
  assert.equal((await ids.fetch(ID)).key, 'key-2');

  now = 7 * HOUR + 20 * HOUR;
  assert.equal((await ids.fetch(ID)).key, 'key-3', 'an expired copy is never served');

  ids.forget(ID);
  await ids.fetch(ID);
  assert.equal(requests.length, 4, 'forgotten: fetched again');
});

// The CA's root: created once and kept across restarts; plug-in CA directories validated and used.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createIntermediateCa, createRootCa, inspectCertificate } from '@trellis/pki';
import { dirStore } from './dir-store.js';
import { loadOrCreateCa } from './roots.js';
import { csrFor, opensslVerify, startCa, tempDir, WEB } from './test-support/static-token-ca.js';

test('a restarted CA on the same directory keeps the same root, and the key file is private', async (t) => {
  const dir = tempDir(t);
  const first = await startCa(t, dir);
  const chain1 = await first.client('tok-web').createCertificate(await csrFor(WEB));
  await first.server.close();
  const second = await startCa(t, dir);
  const chain2 = await second.client('tok-web').createCertificate(await csrFor(WEB));
  assert.equal(chain2[chain2.length - 1], chain1[chain1.length - 1]);
  assert.equal(statSync(join(dir, 'ca-key.pem')).mode & 0o777, 0o600);
  const root = inspectCertificate(second.ca.rootPem);
  assert.equal(root.publicKey.kind === 'ecdsa' && root.publicKey.curve, 'P-256');
  assert.ok(
    root.notAfter.getTime() - Date.now() > 9.9 * 365 * 24 * 3600_000,
    'root lives ~10 years',
  );
});

async function writePlugin(dir: string) {
  const root = await createRootCa({ commonName: 'Plug-in root', ttlMs: 365 * 24 * 3600_000 });
  const inter = await createIntermediateCa({
    issuer: root,
    commonName: 'Plug-in intermediate',
    ttlMs: 30 * 24 * 3600_000,
  });
  writeFileSync(join(dir, 'ca-cert.pem'), inter.cert);
  writeFileSync(join(dir, 'ca-key.pem'), inter.key);
  writeFileSync(join(dir, 'root-cert.pem'), root.cert);
  writeFileSync(join(dir, 'cert-chain.pem'), inter.cert + root.cert);
  return { root, inter };
}

test('a plug-in CA directory is used: chains carry the intermediate and verify to the plug-in root', async (t) => {
  const dir = tempDir(t);
  const { root, inter } = await writePlugin(dir);
  const ca = await startCa(t, dir);
  const chain = await ca.client('tok-web').createCertificate(await csrFor(WEB));
  assert.equal(chain.length, 3);
  assert.equal(chain[1]!.trim(), inter.cert.trim());
  assert.equal(chain[2]!.trim(), root.cert.trim());
  assert.match(opensslVerify(dir, chain), /OK/);
});

test('an invalid plug-in CA directory is refused with what is wrong', async (t) => {
  const dir = tempDir(t);
  const { inter } = await writePlugin(dir);
  const other = await createRootCa({ commonName: 'Other root', ttlMs: 3600_000 });
  writeFileSync(join(dir, 'ca-key.pem'), other.key);
  await assert.rejects(
    loadOrCreateCa(dirStore(dir), { trustDomain: 'cluster.local' }),
    /ca-key.pem does not match the public key of ca-cert.pem/,
  );
  writeFileSync(join(dir, 'ca-key.pem'), inter.key);
  writeFileSync(join(dir, 'root-cert.pem'), other.cert);
  writeFileSync(join(dir, 'cert-chain.pem'), inter.cert);
  await assert.rejects(
    loadOrCreateCa(dirStore(dir), { trustDomain: 'cluster.local' }),
    /does not chain to root-cert.pem/,
  );
  const partial = tempDir(t);
  writeFileSync(join(partial, 'ca-cert.pem'), inter.cert);
  await assert.rejects(
    loadOrCreateCa(dirStore(partial), { trustDomain: 'cluster.local' }),
    /lacks ca-key.pem, root-cert.pem, cert-chain.pem/,
  );
});

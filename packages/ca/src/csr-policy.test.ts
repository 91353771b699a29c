// Lifetimes granted for requested validity_duration values, and the CSR rules on parsed CSRs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCsr, generateKeyPair, parseCsr } from '@trellis/pki';
import { csrProblem, grantedTtl } from './csr-policy.js';

const policy = { defaultTtlMs: 24 * 3600_000, maxTtlMs: 12 * 3600_000 };

test('validity: 0 gets the default (never above the maximum), long requests are capped, negative is refused', () => {
  assert.deepEqual(grantedTtl(0n, policy), { ok: true, ttlMs: 12 * 3600_000 });
  assert.deepEqual(grantedTtl(600n, policy), { ok: true, ttlMs: 600_000 });
  assert.deepEqual(grantedTtl(10n ** 15n, policy), { ok: true, ttlMs: 12 * 3600_000 });
  assert.deepEqual(grantedTtl(-1n, policy), {
    ok: false,
    reason: 'validity_duration must not be negative, got -1',
  });
});

test('a P-384 CSR for the right identity passes; another identity is an identity problem', async () => {
  const { privateKey } = await generateKeyPair('ecdsa-p384');
  const csr = await parseCsr(await createCsr({ identity: 'spiffe://td/ns/a/sa/b', privateKey }));
  assert.equal(csrProblem(csr, 'spiffe://td/ns/a/sa/b'), undefined);
  assert.equal(csrProblem(csr, 'spiffe://td/ns/a/sa/c')?.kind, 'identity');
  assert.match(
    csrProblem(
      { ...csr, keyAlgorithm: { kind: 'ecdsa', curve: 'P-521' } },
      'spiffe://td/ns/a/sa/b',
    )!.reason,
    /curve P-521 is not allowed/,
  );
});

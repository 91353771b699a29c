import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrustBundle } from './bundle.js';
import { createCsr } from './csr.js';
import { generateKeyPair } from './keys.js';
import { meshPki, workload } from './test-support/mesh-pki.js';
import { verifyChain } from './verify.js';

describe('parseTrustBundle', () => {
  it('reads several roots from one PEM text and trusts chains to any of them', async () => {
    const a = await meshPki();
    const b = await meshPki();
    const bundle = parseTrustBundle(`${a.root.cert}\n${b.root.cert}`, {
      trustDomain: 'cluster.local',
    });
    assert.equal(bundle.roots.length, 2);
    assert.equal(bundle.trustDomain, 'cluster.local');
    assert.equal(bundle.pem, a.root.cert + b.root.cert);
    for (const pki of [a, b]) {
      const w = await workload(pki.intermediate, 'spiffe://cluster.local/ns/x/sa/y');
      assert.equal(
        verifyChain({ leaf: w.cert, intermediates: [pki.intermediate.cert], trustBundle: bundle })
          .ok,
        true,
      );
    }
    assert.equal(parseTrustBundle(a.root.cert).trustDomain, undefined);
  });

  it('says what is wrong with bad input', async () => {
    const { root, intermediate } = await meshPki();
    const leaf = await workload(intermediate, 'spiffe://cluster.local/ns/x/sa/y');
    assert.throws(
      () => parseTrustBundle('nothing here'),
      /^Error: trust bundle: no PEM block found/,
    );
    assert.throws(
      () => parseTrustBundle(root.cert + leaf.cert),
      /^Error: trust bundle: certificate #2 "spiffe:\/\/cluster.local\/ns\/x\/sa\/y" is not a CA certificate$/,
    );
    const csr = await createCsr({
      identity: 'spiffe://td/x',
      privateKey: (await generateKeyPair()).privateKey,
    });
    assert.throws(
      () => parseTrustBundle(csr),
      /trust bundle: expected a CERTIFICATE PEM block, found CERTIFICATE REQUEST/,
    );
    assert.throws(
      () => parseTrustBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      /trust bundle: not a valid X.509 certificate/,
    );
    assert.throws(
      () => parseTrustBundle(root.cert, { trustDomain: 'Cluster.Local' }),
      /invalid trust domain "Cluster.Local"/,
    );
  });
});

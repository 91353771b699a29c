import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrustBundle } from './bundle.js';
import { inspectCertificate } from './certificate.js';
import { createRootCa } from './issue.js';
import { decodePem, encodePem } from './pem.js';
import { craftedCa, craftedLeaf, DAY, meshPki, workload } from './test-support/mesh-pki.js';
import { verifyChain, type VerifyChainResult } from './verify.js';
import { x509 } from './x509.js';

const ID = 'spiffe://cluster.local/ns/default/sa/web';

function reasonOf(result: VerifyChainResult): string {
  assert.equal(result.ok, false, 'expected the chain to be rejected');
  return result.ok ? '' : result.reason;
}

describe('verifyChain', () => {
  it('accepts leaf -> intermediate -> trusted root and returns the SPIFFE ID', async () => {
    const { root, intermediate } = await meshPki();
    const w = await workload(intermediate, ID);
    const trustBundle = parseTrustBundle(root.cert, { trustDomain: 'cluster.local' });
    assert.deepEqual(
      verifyChain({ leaf: w.cert, intermediates: [intermediate.cert], trustBundle }),
      {
        ok: true,
        spiffeId: { uri: ID, trustDomain: 'cluster.local', path: '/ns/default/sa/web' },
      },
    );
    // Istio's cert_chain (leaf first, root last) works as is.
    assert.equal(
      verifyChain({ leaf: w.chain[0]!, intermediates: w.chain.slice(1), trustBundle }).ok,
      true,
    );
    // A leaf signed by the root directly needs no intermediates.
    assert.equal(verifyChain({ leaf: (await workload(root, ID)).cert, trustBundle }).ok, true);
  });

  it('rejects an expired certificate and one not yet valid, saying when', async () => {
    const { root, intermediate } = await meshPki();
    const w = await workload(intermediate, ID);
    const trustBundle = parseTrustBundle(root.cert);
    const { notAfter, notBefore } = inspectCertificate(w.cert);
    const later = new Date(notAfter.getTime() + 1000);
    assert.equal(
      reasonOf(
        verifyChain({ leaf: w.cert, intermediates: [intermediate.cert], trustBundle, now: later }),
      ),
      `certificate "${ID}" expired at ${notAfter.toISOString()}`,
    );
    const earlier = new Date(notBefore.getTime() - 1000);
    assert.equal(
      reasonOf(
        verifyChain({
          leaf: w.cert,
          intermediates: [intermediate.cert],
          trustBundle,
          now: earlier,
        }),
      ),
      `certificate "${ID}" is not yet valid: valid from ${notBefore.toISOString()}`,
    );
  });

  it('rejects chains to an untrusted root or with a missing intermediate', async () => {
    const trusted = await meshPki();
    const other = await meshPki(); // same names, different keys
    const trustBundle = parseTrustBundle(trusted.root.cert);
    const w = await workload(other.intermediate, ID);
    assert.match(
      reasonOf(
        verifyChain({ leaf: w.cert, intermediates: [other.intermediate.cert], trustBundle }),
      ),
      /^no trusted root for certificate "CN=Trellis Intermediate CA": it names "O=cluster.local, CN=Trellis Root CA" as its issuer but is not signed by that certificate's key$/,
    );
    assert.equal(
      reasonOf(verifyChain({ leaf: w.cert, intermediates: w.chain.slice(1), trustBundle })),
      'no trusted root for "O=cluster.local, CN=Trellis Root CA": it is a self-signed certificate that is not in the trust bundle',
    );
    const mine = await workload(trusted.intermediate, ID);
    assert.equal(
      reasonOf(verifyChain({ leaf: mine.cert, trustBundle })),
      `no trusted root for certificate "${ID}": its issuer "CN=Trellis Intermediate CA" is neither in the trust bundle nor among the intermediates`,
    );
  });

  it('rejects a tampered signature', async () => {
    const { root, intermediate } = await meshPki();
    const w = await workload(intermediate, ID);
    const der = Buffer.from(decodePem(w.cert, 'leaf')[0]!.der);
    der[der.length - 1] ^= 0x01;
    assert.match(
      reasonOf(
        verifyChain({
          leaf: encodePem('CERTIFICATE', der),
          intermediates: [intermediate.cert],
          trustBundle: parseTrustBundle(root.cert),
        }),
      ),
      /it names "CN=Trellis Intermediate CA" as its issuer but is not signed by that certificate's key/,
    );
  });

  it('rejects issuers that are not CAs, lack keyCertSign or exceed pathLen', async () => {
    const { root, intermediate } = await meshPki();
    const trustBundle = parseTrustBundle(root.cert);

    const notCa = await craftedLeaf(root, ['spiffe://cluster.local/ns/a/sa/signer']);
    const underNotCa = await craftedLeaf(notCa, [ID]);
    assert.equal(
      reasonOf(verifyChain({ leaf: underNotCa.cert, intermediates: [notCa.cert], trustBundle })),
      'issuer "spiffe://cluster.local/ns/a/sa/signer" is not a CA (basicConstraints CA:false)',
    );

    const noCertSign = await craftedCa(root, 'No CertSign', {
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    });
    const underNoCertSign = await craftedLeaf(noCertSign, [ID]);
    assert.equal(
      reasonOf(
        verifyChain({ leaf: underNoCertSign.cert, intermediates: [noCertSign.cert], trustBundle }),
      ),
      'issuer "CN=No CertSign" may not sign certificates (keyUsage lacks keyCertSign)',
    );

    const tooDeep = await craftedCa(intermediate, 'Too Deep'); // intermediate has pathLen 0
    const underTooDeep = await workload(tooDeep, ID);
    assert.equal(
      reasonOf(
        verifyChain({
          leaf: underTooDeep.cert,
          intermediates: [tooDeep.cert, intermediate.cert],
          trustBundle,
        }),
      ),
      'issuer "CN=Trellis Intermediate CA" allows 0 intermediate CA(s) below it (pathLen 0) but the chain has 1',
    );
    // The same depth is fine under a root without a path length limit.
    const two = await craftedCa(root, 'Level 1');
    const three = await craftedCa(two, 'Level 2');
    const deep = await workload(three, ID);
    assert.equal(
      verifyChain({ leaf: deep.cert, intermediates: [three.cert, two.cert], trustBundle }).ok,
      true,
    );
  });

  it('requires exactly one URI SAN holding a valid SPIFFE ID on a non-CA leaf', async () => {
    const { root } = await meshPki();
    const trustBundle = parseTrustBundle(root.cert);
    const check = async (uris: string[], ca = false) =>
      verifyChain({ leaf: (await craftedLeaf(root, uris, { ca })).cert, trustBundle });
    const two = ['spiffe://cluster.local/ns/a/sa/one', 'spiffe://cluster.local/ns/a/sa/two'];
    assert.equal(
      reasonOf(await check(two)),
      'certificate "spiffe://cluster.local/ns/a/sa/one, spiffe://cluster.local/ns/a/sa/two" has 2 URI SANs, expected exactly one',
    );
    assert.match(reasonOf(await check([])), /has no URI SAN, expected exactly one SPIFFE ID/);
    assert.equal(
      reasonOf(await check(['spiffe://Cluster.local/x'])),
      'certificate URI SAN: invalid SPIFFE ID "spiffe://Cluster.local/x": trust domain "Cluster.local" must be lowercase',
    );
    assert.match(reasonOf(await check(['https://example.com/x'])), /must start with 'spiffe:\/\/'/);
    assert.match(
      reasonOf(await check([ID], true)),
      /is a CA certificate; a workload certificate must have CA:false/,
    );
  });

  it('enforces the trust domain of the bundle', async () => {
    const { root } = await meshPki();
    const foreign = await workload(root, 'spiffe://other.example/ns/default/sa/web');
    const bound = parseTrustBundle(root.cert, { trustDomain: 'cluster.local' });
    assert.equal(
      reasonOf(verifyChain({ leaf: foreign.cert, trustBundle: bound })),
      'spiffe://other.example/ns/default/sa/web is in trust domain "other.example", expected "cluster.local"',
    );
    assert.equal(
      verifyChain({ leaf: foreign.cert, trustBundle: parseTrustBundle(root.cert) }).ok,
      true,
    );
  });

  it('reports unreadable input instead of throwing', async () => {
    const root = await createRootCa({ commonName: 'r', ttlMs: DAY });
    const trustBundle = parseTrustBundle(root.cert);
    assert.match(
      reasonOf(verifyChain({ leaf: 'garbage', trustBundle })),
      /^leaf certificate: no PEM block found/,
    );
    assert.match(
      reasonOf(
        verifyChain({
          leaf: root.cert,
          intermediates: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'],
          trustBundle,
        }),
      ),
      /^intermediate #1: not a valid X.509 certificate/,
    );
  });
});
